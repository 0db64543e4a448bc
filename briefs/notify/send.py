"""Notifications of an edition: composed with the build, recorded, sent once each.

The state machine is the email deliveries' (:mod:`briefs.deliver`), row by row in the store
(:mod:`briefs.store.notifications`), with one step before it:

    build --hold--> held --release--> pending --claim--> sending --> sent | failed
                                        ^                    |
                                        +--- temporary ------+ (retry_delay * 2**(n-1))
    (a crash while "sending" leaves the row "uncertain": never sent twice)

:func:`hold_notifications` composes every target's notifications when an edition is built and
holds them. The daemon releases those of the editions it builds at once (:func:`release`),
then sends what is due (:func:`notify_due`); an edition built by hand is released by ``briefs
notify`` (:func:`notify_edition`), as ``briefs send`` emails it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence

from briefs.config import Config, NotifySettings
from briefs.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from briefs.lock import named_lock
from briefs.models import Brief, Notification, NotifyReport
from briefs.notify.channel import AppriseChannel, Channel
from briefs.notify.compose import Failing, compose_notifications, targets_of
from briefs.render import Renderer
from briefs.slots import ARCHIVE_LIMIT, edition_cutoff, ordered_editions
from briefs.store import Store

__all__ = ["check_targets", "hold_notifications", "notify_due", "notify_edition", "release"]

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
ChannelFor = Callable[[NotifySettings], Channel]
_FAILING_KEY = "notify-failing:"


def hold_notifications(
    config: Config,
    store: Store,
    brief: Brief,
    renderer: Renderer,
    now: dt.datetime,
) -> int:
    """Compose the edition's notifications for every target and hold them; how many.

    A rebuilt edition's held notifications are composed again; those already released are
    kept as they were. The sources failing now are remembered with the edition, so the next
    edition tells only of those that started failing after it.
    """
    if not targets_of(config):
        return 0
    failing = _started_failing(config, store, brief)
    items = compose_notifications(config, brief, failing, renderer, now)
    return store.hold_notifications(brief.edition.id, items)


def _failing_now(config: Config, store: Store) -> list[Failing]:
    states = store.feed_states()
    out: list[Failing] = []
    for src in config.sources:
        state = states.get(src.id)
        if src.enabled and state and state.consecutive_failures and state.last_error:
            out.append(Failing(src.id, src.name, state.last_error, state.last_success))
    return out


def _started_failing(config: Config, store: Store, brief: Brief) -> list[Failing]:
    """The sources failing now that were not failing at the edition before (by cut-off)."""
    edition = brief.edition
    now = _failing_now(config, store)
    key = f"{_FAILING_KEY}{config.brief_id}:"
    store.set_meta(f"{key}{edition.id}", json.dumps(sorted(f.source_id for f in now)))
    cutoff = edition_cutoff(config, edition)
    before: set[str] = set()
    for rec in ordered_editions(config, store.recent_editions(ARCHIVE_LIMIT, config.brief_id)):
        if rec.edition == edition or edition_cutoff(config, rec.edition) >= cutoff:
            continue
        remembered = store.get_meta(f"{key}{rec.edition.id}")
        if remembered is not None:
            before = set(json.loads(remembered))
            break
    return [f for f in now if f.source_id not in before]


def check_targets(config: Config) -> None:
    """Every target's URL is in the environment and one Apprise knows (the daemon checks at
    start: fail then, not at the first edition)."""
    for target in config.notify:
        channel = AppriseChannel(target)
        try:
            channel.connect()
        finally:
            channel.close()


def release(config: Config, store: Store, edition_id: str) -> int:
    """Let the held notifications of the edition (of the brief ``config`` is for) be sent:
    the daemon's own editions."""
    return store.release_notifications(edition_id, [t.name for t in targets_of(config)])


def notify_edition(
    config: Config,
    store: Store,
    edition_id: str,
    *,
    targets: Sequence[str] | None = None,
    resend: bool = False,
    wait: bool = True,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    channel_for: ChannelFor | None = None,
    lock_timeout: float = 60.0,
) -> NotifyReport:
    """Send an edition's notifications (of ``targets``, default every one) and record each.

    Held ones are released; those already sent are skipped (unless ``resend``). Temporary
    failures are retried after the target's ``retry_delay``, doubling, up to its
    ``max_attempts`` (waiting here when ``wait``, else left for the next call).
    """
    clock = clock or (lambda: dt.datetime.now(dt.UTC))
    known = {t.name for t in targets_of(config)}
    unknown = [t for t in targets or () if t not in known]
    if unknown:
        raise DeliveryError(
            f"no [[notify]] target named {unknown[0]!r} follows brief {config.brief_id!r} "
            f"(its targets: {', '.join(sorted(known)) or 'none'})"
        )
    if store.edition_built_at(edition_id, config.brief_id) is None:
        raise DeliveryError(f"edition {edition_id} is not in the database; build it first")
    wanted = set(targets) if targets else known
    before = {n.key for n in store.notifications(edition_id, "sent")}
    run = _Run(config, store, channel_for or AppriseChannel, clock, stop)
    with named_lock(config, "notify").hold(
        lock_timeout, stop, doing=f"briefs: notifying {edition_id}"
    ):
        run.mark_interrupted()
        store.release_notifications(edition_id, sorted(wanted), resend=resend)
        run.until_done(edition_id, wanted, wait)
    return _report(store, edition_id, wanted, before, run.sent)


def notify_due(
    config: Config,
    store: Store,
    *,
    clock: Clock,
    stop: threading.Event,
    channel_for: ChannelFor | None = None,
) -> NotifyReport:
    """Send every released notification whose (next) attempt is due (the daemon's job)."""
    if not config.notify or not store.due_notifications(clock()):
        return NotifyReport()
    run = _Run(config, store, channel_for or AppriseChannel, clock, stop)
    start = time.perf_counter()
    with named_lock(config, "notify").hold(0, stop, doing="briefs daemon: notifying"):
        run.mark_interrupted()
        due = store.due_notifications(clock())
        run.send_due(due)
    rows = {n.key: n for n in store.notifications() if n.key in {d.key for d in due}}
    report = NotifyReport(
        sent=tuple(n.label for n in rows.values() if n.key in run.sent),
        failed=tuple((n.label, n.error or "") for n in rows.values() if n.status == "failed"),
        pending=tuple((n.label, n.error or "") for n in rows.values() if n.status == "pending"),
    )
    log.info(
        "notify: %d sent, %d failed, %d to retry, %.2f s",
        len(report.sent),
        len(report.failed),
        len(report.pending),
        time.perf_counter() - start,
    )
    return report


def _report(
    store: Store,
    edition_id: str,
    wanted: set[str],
    before: set[tuple[str, str, str, str]],
    sent_now: set[tuple[str, str, str, str]],
) -> NotifyReport:
    rows = [n for n in store.notifications(edition_id) if n.target in wanted]
    return NotifyReport(
        sent=tuple(n.label for n in rows if n.key in sent_now),
        already_sent=tuple(n.label for n in rows if n.status == "sent" and n.key in before),
        failed=tuple((n.label, n.error or "") for n in rows if n.status == "failed"),
        pending=tuple((n.label, n.error or "") for n in rows if n.status == "pending"),
        uncertain=tuple(n.label for n in rows if n.status == "uncertain"),
    )


class _Run:
    """One run over the due notifications, one channel per target."""

    def __init__(
        self,
        config: Config,
        store: Store,
        channel_for: ChannelFor,
        clock: Clock,
        stop: threading.Event | None,
    ) -> None:
        self.targets = {t.name: t for t in config.notify}
        self.store = store
        self.channel_for = channel_for
        self.clock = clock
        self.stop = stop
        self.sent: set[tuple[str, str, str, str]] = set()
        self.broken: dict[str, str] = {}  # target -> why it cannot be used in this run

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def mark_interrupted(self) -> None:
        for n in self.store.mark_interrupted_notifications():
            log.warning("%s: interrupted while sending; not sent again", n.label)

    def until_done(self, edition_id: str, wanted: set[str], wait: bool) -> None:
        """Send what is due until nothing is pending (or, without ``wait``, once)."""
        while not self.stopping():
            now = self.clock()
            due = [
                n
                for n in self._pending(edition_id, wanted)
                if n.next_attempt is None or n.next_attempt <= now
            ]
            self.send_due(due)
            waiting = self._pending(edition_id, wanted)
            if not waiting or not wait:
                break
            earliest = min(n.next_attempt or now for n in waiting)
            seconds = (earliest - self.clock()).total_seconds()
            if seconds > 0:
                if self.stop is not None:
                    self.stop.wait(seconds)
                else:
                    time.sleep(seconds)

    def _pending(self, edition_id: str, wanted: set[str]) -> list[Notification]:
        return [
            n
            for n in self.store.notifications(edition_id, "pending")
            if n.target in wanted and n.target not in self.broken
        ]

    def send_due(self, due: list[Notification]) -> None:
        """Each target's due notifications over its own channel. A target that cannot be used
        at all (no URL in the environment, a URL Apprise does not know) keeps its
        notifications pending with the reason, is left alone for the rest of the run, and
        the others go on."""
        by_target: dict[str, list[Notification]] = {}
        for n in due:
            if n.target in self.targets and n.target not in self.broken:
                by_target.setdefault(n.target, []).append(n)
        for name, items in by_target.items():
            if self.stopping():
                break
            target = self.targets[name]
            channel = self.channel_for(target)
            try:
                channel.connect()
                for n in items:
                    if self.stopping():
                        break
                    self.send_one(target, channel, n)
            except DeliveryError as exc:
                self.broken[name] = str(exc)
                log.error("notify %s: %s", name, exc)
                for n in items:
                    if n.key not in self.sent:
                        self.store.finish_notification(n.key, "pending", error=str(exc))
            finally:
                channel.close()

    def _claim(self, n: Notification) -> int | None:
        return self.store.claim_notification(n.key, self.clock())

    def send_one(self, target: NotifySettings, channel: Channel, n: Notification) -> None:
        attempt = self._claim(n)
        if attempt is None:
            return
        # From here until finish_notification the row says "sending": a crash now leaves it
        # "uncertain" (not sent again), because the service may already have taken it.
        try:
            channel.send(n)
        except PermanentDeliveryError as exc:
            self.store.finish_notification(n.key, "failed", error=str(exc))
            log.warning("%s: refused: %s", n.label, exc)
            return
        except TransientDeliveryError as exc:
            self.retry_later(target, n, attempt, str(exc))
            return
        self.store.finish_notification(n.key, "sent", sent_at=self.clock())
        self.sent.add(n.key)
        log.debug("%s: sent", n.label)

    def retry_later(
        self, target: NotifySettings, n: Notification, attempt: int, error: str
    ) -> None:
        if attempt >= target.max_attempts:
            error = f"gave up after {attempt} attempts: {error}"
            self.store.finish_notification(n.key, "failed", error=error)
            log.warning("%s: %s", n.label, error)
            return
        delay = dt.timedelta(seconds=target.retry_delay * 2 ** (attempt - 1))
        self.store.finish_notification(
            n.key, "pending", error=error, next_attempt=self.clock() + delay
        )
        log.info("%s: attempt %d failed, retrying in %s: %s", n.label, attempt, delay, error)
