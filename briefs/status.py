"""What ``briefs status`` shows of the daemon: whether one runs, the schedule's next and last
times, the last edition and its deliveries, the next poll and the sources in trouble.

Read from the configuration, the store and the daemon lock, without starting anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from briefs.config import Config
from briefs.lock import named_lock
from briefs.models import EditionRecord, FeedState
from briefs.store import Store
from briefs.timetable import edition_jobs, last_fire_time, next_fire_time, scheduled_edition

__all__ = ["DaemonStatus", "daemon_status"]


@dataclass(frozen=True)
class DaemonStatus:
    """What ``briefs status`` prints."""

    daemon: str | None  # who holds the daemon lock ("briefs daemon (pid 12, since ...)")
    timezone: str
    editions: tuple[tuple[str, str, dt.datetime | None, dt.datetime | None, bool], ...]
    # (slot, cron, next time, last time within grace, built since that time)
    last_edition: EditionRecord | None
    deliveries: dict[str, int]  # status -> count, for the last edition
    problems: tuple[tuple[str, str, str], ...]  # (recipient, status, error), any edition
    next_poll: tuple[str, dt.datetime] | None
    troubled: tuple[FeedState, ...]


def daemon_status(config: Config, store: Store, now: dt.datetime) -> DaemonStatus:
    """The schedule's next times, the last edition and its deliveries, sources in trouble."""
    lock = named_lock(config, "daemon")
    running = (lock.holder() or "briefs daemon") if lock.is_locked() else None
    grace = dt.timedelta(minutes=config.schedule.grace_minutes)
    rows = []
    for job in edition_jobs(config):
        last = last_fire_time(job.trigger, now, now - grace)
        built = False
        if last is not None:
            edition = scheduled_edition(config, store, job, last)
            built_at = store.edition_built_at(edition.id, job.brief)
            built = built_at is not None and built_at >= last
        rows.append((job.label, job.expr, next_fire_time(job.trigger, now), last, built))
    recent = store.recent_editions(1, None if config.several else config.brief_id, html=False)
    last_edition = recent[0] if recent else None
    counts: dict[str, int] = {}
    if last_edition is not None:
        for d in store.deliveries(last_edition.edition.id, brief=last_edition.brief):
            counts[d.status] = counts.get(d.status, 0) + 1
    problems = tuple(
        (f"{d.edition_id} {d.recipient}", d.status, d.error or "")
        for d in store.deliveries()
        if d.status in ("failed", "uncertain") or (d.status == "pending" and d.attempts)
    )[-20:]
    states = store.feed_states()
    sources = {s.id: s for s in config.sources if s.enabled}
    upcoming = [
        (sid, st.next_poll)
        for sid, st in states.items()
        if sid in sources and st.next_poll is not None and not st.disabled
    ]
    never = [sid for sid in sources if sid not in states]
    next_poll = (never[0], now) if never else min(upcoming, key=lambda x: x[1], default=None)
    troubled = tuple(
        st
        for sid, st in sorted(states.items())
        if sid in sources and (st.consecutive_failures > 0 or st.disabled)
    )
    return DaemonStatus(
        daemon=running,
        timezone=config.schedule.timezone,
        editions=tuple(rows),
        last_edition=last_edition,
        deliveries=counts,
        problems=problems,
        next_poll=next_poll,
        troubled=troubled,
    )
