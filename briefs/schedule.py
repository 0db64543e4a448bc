"""The daemon: poll sources when they are due, build editions at their times, deliver them.

A thin shell around the pipeline, driven by APScheduler 3 (``BackgroundScheduler``, in-memory
jobs). Our database, not APScheduler, remembers what was built and delivered, so a restart never
builds or sends twice and never skips an edition:

- every edition job (a cron expression in ``schedule.timezone``; the trigger always gets the zone,
  never the system's) asks "what was the latest scheduled time up to now?" and builds that edition
  only if the database has no build of it from that time on. At start-up the same question, within
  ``schedule.grace_minutes``, catches up a missed edition, once;
- when clocks go back and a time occurs twice, the second pass is skipped (like cron);
- one instance per job, runs coalesced; the ``build`` lock serializes polls and builds with any
  ``briefs run``, the ``mail`` lock serializes senders, the ``daemon`` lock allows one daemon;
- the notifications of an edition it builds ([[notify]], :mod:`briefs.notify`) are released
  before the edition is marked as the daemon's, and sent with the deliveries; those of an
  edition built by hand stay held for ``briefs notify``;
- SIGTERM or SIGINT: no new job starts, the running one finishes its current write (delivery
  stops between recipients), the daemon exits 0.

A daemon has a role (``briefs daemon --role``): ``all`` polls, groups, builds and delivers;
``poller`` only polls and stores (any number of them, on any hosts, share the sources through
claims: :mod:`briefs.poller`); ``builder`` groups what the pollers stored, builds and delivers
(one per database: it holds the daemon lock, an advisory lock on PostgreSQL).

The clock is a parameter so the scheduling decisions are tested with any time.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
import zoneinfo
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy.exc
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from briefs.config import Config
from briefs.deliver import MailPause, deliver_due, plan_delivery
from briefs.desk import write_desk_index
from briefs.edition import build_edition
from briefs.errors import BriefsError
from briefs.ingest.due import select_sources
from briefs.lock import named_lock
from briefs.models import (
    DEFAULT_BRIEF,
    DeliveryReport,
    Edition,
    NotifyReport,
    Source,
)
from briefs.notify import check_targets, notify_due, release
from briefs.notify.send import ChannelFor
from briefs.pipeline import process_stored
from briefs.poller import poll_shared, poller_name
from briefs.store import Store, open_store
from briefs.timetable import (
    EditionJob,
    edition_jobs,
    last_fire_time,
    local_time,
    next_fire_time,
    scheduled_edition,
)
from briefs.timing import Timings
from briefs.transport import Transport, smtp_password

__all__ = ["ROLES", "Daemon"]

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
# How long a scheduled job waits for a `briefs run` (or another job) to finish with the database.
_LOCK_WAIT = 1800.0
_MIN_WINDOW = dt.timedelta(minutes=5)
# What a daemon does: everything, polling only (several may run), or all but polling (one).
ROLES = ("all", "poller", "builder")


def _daemon_built_key(brief: str, edition: Edition) -> str:
    """The meta key marking a brief's edition as built by the daemon (so it delivers it)."""
    if brief == DEFAULT_BRIEF:
        return f"daemon-built:{edition.id}"
    return f"daemon-built:{brief}:{edition.id}"


class Daemon:
    """The scheduled jobs of one configuration. :meth:`run` blocks until SIGTERM/SIGINT."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        mail_transport: Transport | None = None,
        role: str = "all",
        notify_channel: ChannelFor | None = None,
    ) -> None:
        if role not in ROLES:
            raise BriefsError(f"unknown daemon role {role!r} (known: {', '.join(ROLES)})")
        self.role = role
        self.owner = poller_name()  # this process, in the claims it takes on sources
        self.config = config
        self.clock: Clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.transport = transport
        self.transport_for_mail = mail_transport
        self.notify_channel = notify_channel
        self.zone = zoneinfo.ZoneInfo(config.schedule.timezone)
        self.jobs = edition_jobs(config)
        self.grace = dt.timedelta(minutes=config.schedule.grace_minutes)
        # A scheduled run may start a little late (a busy machine, a suspended laptop): it builds
        # the latest time within this window, which is never shorter than a few minutes even
        # when catching up at start-up is switched off (grace_minutes = 0).
        self.window = max(self.grace, _MIN_WINDOW)
        self.stop_event = threading.Event()
        self.started = self.clock()
        self._store: Store | None = None
        self._store_lock = threading.Lock()
        self.mail_pause = MailPause()

    # -- state -----------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The database, opened (and migrated) on first use."""
        with self._store_lock:
            if self._store is None:
                self._store = open_store(self.config.database)
            return self._store

    def close(self) -> None:
        """Release the database."""
        with self._store_lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    @property
    def delivers(self) -> bool:
        """Whether scheduled editions are emailed."""
        return self.config.email.enabled and self.config.schedule.deliver

    @property
    def notifies(self) -> bool:
        """Whether scheduled editions are notified ([[notify]] targets)."""
        return bool(self.config.notify) and self.config.schedule.deliver

    def due_sources(self, now: dt.datetime) -> list[Source]:
        """The sources a poll at ``now`` polls (:func:`briefs.ingest.due.select_sources`)."""
        config = self.config
        due, _skipped = select_sources(
            config.sources, self.store.feed_states(), now, due=True, jitter=config.schedule.jitter
        )
        return due

    # -- jobs ------------------------------------------------------------------------------
    def poll_due(self) -> int:
        """Poll the sources that are due (claiming them, so pollers elsewhere share them) and,
        unless a poller, group what is new; return how many were polled. A builder polls
        nothing: it groups what pollers stored (:meth:`process_due`)."""
        if self.role == "builder":
            self.process_due()
            return 0
        now = self.clock()
        if not self.due_sources(now):
            return 0
        start = time.perf_counter()
        if self.role == "poller":  # no build lock: pollers run side by side, and with builds
            polled, new, failed = self._poll(now, Timings())
        else:
            with named_lock(self.config, "build").hold(
                _LOCK_WAIT, self.stop_event, "briefs daemon: polling"
            ):
                polled, new, failed = self._poll(self.clock(), Timings())
        log.info(
            "poll: %d of %d sources polled, %d failed, %d new articles, %.2f s",
            polled,
            len(self.config.sources),
            len(failed),
            new,
            time.perf_counter() - start,
        )
        return polled

    def process_due(self) -> bool:
        """A builder's tick: if pollers stored articles not grouped yet, fetch their full
        texts, link copies and group them (under the build lock); return whether it did."""
        if not self.store.ungrouped_ids():
            return False
        start = time.perf_counter()
        with named_lock(self.config, "build").hold(
            _LOCK_WAIT, self.stop_event, "briefs daemon: grouping"
        ):
            process_stored(self.config, self.store, self.clock(), Timings(), self.transport)
        log.info("grouped what the pollers stored, %.2f s", time.perf_counter() - start)
        return True

    def _poll(
        self, now: dt.datetime, timings: Timings
    ) -> tuple[int, int, tuple[tuple[str, str], ...]]:
        """Poll what is due (not as a builder), then (not as a poller) process what is new."""
        if self.role == "builder":
            process_stored(self.config, self.store, now, timings, self.transport)
            return 0, 0, ()
        if not self.due_sources(now):
            return 0, 0, ()
        result = poll_shared(
            self.config,
            self.store,
            self.clock,
            timings,
            self.transport,
            owner=self.owner,
            stop=self.stop_event,
        )
        if self.role == "all":
            process_stored(self.config, self.store, now, timings, self.transport)
        return result

    def build_due(self, job: EditionJob, within: dt.timedelta | None = None) -> Edition | None:
        """Build the job's edition if its latest scheduled time (at most ``within`` ago, default
        the scheduling window) has no build from that time on; plan its delivery. Returns the
        edition built, or None."""
        now = self.clock()
        fire = last_fire_time(job.trigger, now, now - (self.window if within is None else within))
        if fire is None:
            return None
        edition = scheduled_edition(self.config, self.store, job, fire)
        view = self.config.for_brief(job.brief)
        built: Edition | None = None
        start = time.perf_counter()
        lock = named_lock(self.config, "build")
        by_hand = False
        with lock.hold(_LOCK_WAIT, self.stop_event, f"briefs daemon: building {edition.id}"):
            built_at = self.store.edition_built_at(edition.id, job.brief)
            if built_at is not None and built_at >= fire:
                log.debug("edition %s: already built at %s", edition.id, built_at)
                by_hand = self.store.get_meta(_daemon_built_key(job.brief, edition)) is None
            else:
                timings = Timings()
                now = self.clock()
                polled, new, failed = self._poll(now, timings)
                # failed=None: the edition lists every source failing at its last poll
                brief, _files = build_edition(view, self.store, edition, now, timings)
                if self.config.several:
                    write_desk_index(self.config, self.store)
                if self.notifies:
                    # before the daemon's mark: a crash in between leaves an edition that
                    # counts as built by hand, whose held notifications are not sent unasked
                    release(view, self.store, edition.id)
                self.store.set_meta(_daemon_built_key(job.brief, edition), fire.isoformat())
                built = edition
                log.info(
                    "build %s%s (scheduled %s): %d stories, %d sources polled, %d failed, "
                    "%d new articles, %.2f s",
                    "" if job.brief == DEFAULT_BRIEF else f"{job.brief} ",
                    edition.id,
                    local_time(fire, self.zone),
                    len(brief.stories),
                    polled,
                    len(failed),
                    new,
                    time.perf_counter() - start,
                )
        if self.delivers and by_hand:
            # An edition someone built with `briefs run`/`build` after its time is theirs to
            # send: starting the daemon must not email it unasked.
            log.info(
                "deliver %s: skipped: built by hand at %s, not by the daemon (briefs send "
                "emails it)",
                edition.id,
                local_time(built_at or fire, self.zone),
            )
        elif self.delivers:
            # Planned after the build is committed; if we die in between, the next start sees
            # the build (marked as the daemon's) and plans the delivery then.
            plan_delivery(view, self.store, edition.id, self.clock())
        return built

    def catch_up(self) -> list[Edition]:
        """At start-up: build every edition whose time passed within the grace period unbuilt."""
        return [e for job in self.jobs if (e := self.build_due(job, self.grace)) is not None]

    def deliver_due(self) -> list[DeliveryReport]:
        """Send every planned delivery whose (next) attempt is due (:func:`deliver_due`)."""
        return deliver_due(
            self.config,
            self.store,
            self.mail_pause,
            clock=self.clock,
            stop=self.stop_event,
            transport=self.transport_for_mail,
        )

    def notify_due(self) -> NotifyReport:
        """Send every released notification whose (next) attempt is due."""
        return notify_due(
            self.config,
            self.store,
            clock=self.clock,
            stop=self.stop_event,
            channel_for=self.notify_channel,
        )

    # -- the APScheduler side --------------------------------------------------------------
    def _guarded(self, name: str, func: Callable[[], object]) -> None:
        """Run one job: skip it when stopping, log a BriefsError (or a database failure: a
        server restarting) as one line and carry on; the next run of the job starts afresh."""
        if self.stop_event.is_set():
            return
        try:
            func()
        except BriefsError as exc:
            log.error("%s: %s", name, exc)
        except sqlalchemy.exc.SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            log.error("%s: database error: %s", name, detail[0] if detail else repr(exc))

    def _job_poll(self) -> None:
        self._guarded("poll", self.poll_due)

    def _job_build(self, job: EditionJob) -> None:
        self._guarded(f"build {job.label}", lambda: self.build_due(job))
        if self.delivers:
            self._guarded("deliver", self.deliver_due)
        if self.notifies:
            self._guarded("notify", self.notify_due)

    def _job_catch_up(self) -> None:
        self._guarded("catch-up", self.catch_up)
        if self.delivers:
            self._guarded("deliver", self.deliver_due)
        if self.notifies:
            self._guarded("notify", self.notify_due)

    def _job_deliver(self) -> None:
        self._guarded("deliver", self.deliver_due)

    def _job_notify(self) -> None:
        self._guarded("notify", self.notify_due)

    def scheduler(self) -> BackgroundScheduler:
        """A scheduler with the jobs added, not started. Jobs live in memory only: every start
        adds them afresh, and catch-up decisions come from the database."""
        tick = self.config.schedule.poll_tick
        sched = BackgroundScheduler(
            timezone=self.zone,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.window.total_seconds()),
            },
        )
        now = dt.datetime.now(self.zone)
        sched.add_job(
            self._job_poll,
            IntervalTrigger(seconds=tick, timezone=self.zone),
            id="poll",
            next_run_time=now + dt.timedelta(seconds=1),
        )
        if self.role == "poller":
            return sched
        sched.add_job(
            self._job_catch_up, DateTrigger(run_date=now, timezone=self.zone), id="catch-up"
        )
        for job in self.jobs:
            sched.add_job(self._job_build, job.trigger, args=[job], id=job.job_id)
        if self.config.email.enabled:
            sched.add_job(
                self._job_deliver, IntervalTrigger(seconds=tick, timezone=self.zone), id="deliver"
            )
        if self.config.notify:
            sched.add_job(
                self._job_notify, IntervalTrigger(seconds=tick, timezone=self.zone), id="notify"
            )
        return sched

    def stop(self, reason: str = "asked to stop") -> None:
        """Ask the daemon to stop after the job in progress."""
        if self.stop_event.is_set():
            log.info("%s: already stopping", reason)
            return
        log.info("%s: stopping after the current job", reason)
        self.stop_event.set()

    def run(self, serve: bool = False, host: str | None = None, port: int | None = None) -> None:
        """Run until SIGTERM/SIGINT: take the daemon lock (not as a poller: several run at
        once), check the setup, start the jobs (and the HTTP server with ``serve``), then stop
        gracefully."""
        lock = named_lock(self.config, "daemon")
        if self.role != "poller":
            lock.acquire(0, doing="briefs daemon" + ("" if self.role == "all" else " (builder)"))
        previous: dict[int, Any] = {}
        server = None
        try:
            self.store.schema_version()  # open and migrate now: fail at start, not at 06:30
            if self.config.email.enabled and self.role != "poller":
                smtp_password(self.config.email)  # the password must be in the environment
            if self.notifies and self.notify_channel is None and self.role != "poller":
                check_targets(self.config)  # every target's URL is in the environment
            if serve:
                from briefs.search import search_pages
                from briefs.serve import make_server

                settings = self.config.serve
                self.config.root.mkdir(parents=True, exist_ok=True)
                server = make_server(
                    self.config.root,
                    host or settings.host,
                    settings.port if port is None else port,
                    settings.max_age,
                    search_pages(self.config, self.store),
                )
            sched = self.scheduler()

            def on_signal(signum: int, _frame: Any) -> None:
                self.stop(signal.Signals(signum).name)

            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, on_signal)
            sched.start()
            if server is not None:
                threading.Thread(
                    target=server.serve_forever, name="briefs-serve", daemon=True
                ).start()
                log.info("serving %s at %s", self.config.root, server.url)
            if self.role == "poller":
                tick = self.config.schedule.poll_tick
                log.info("poller %s: polling due sources every %.0f s", self.owner, tick)
            else:
                self._log_plan()
            while not self.stop_event.wait(1.0):
                pass
            sched.shutdown(wait=True)
            log.info("stopped")
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.close()
            lock.release()

    def _log_plan(self) -> None:
        now = self.clock()
        for job in self.jobs:
            nxt = next_fire_time(job.trigger, now)
            log.info(
                "edition %s (%s): next at %s",
                job.label,
                job.expr,
                local_time(nxt, self.zone) if nxt else "never",
            )
