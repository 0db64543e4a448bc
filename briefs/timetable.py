"""When editions are due: the cron triggers of ``schedule.editions`` in the schedule's zone, and
the times they fire, a repeated local time (clocks going back) counted once, like cron.

Read by the daemon (:mod:`briefs.schedule`) and by ``briefs status``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from briefs.config import Config, cron_trigger, split_edition
from briefs.models import DEFAULT_BRIEF, Edition
from briefs.slots import edition_for
from briefs.store import Store

__all__ = [
    "EditionJob",
    "edition_jobs",
    "fire_times",
    "last_fire_time",
    "local_time",
    "next_fire_time",
    "scheduled_edition",
]

_TINY = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class EditionJob:
    """One entry of a brief's schedule (``schedule.editions``, or the brief's ``schedule``):
    its brief, its slot name (if named) and its cron trigger."""

    slot: str  # "": brief.slot, else the slot of brief.slots open at the scheduled time
    expr: str
    trigger: Any  # apscheduler.triggers.cron.CronTrigger, built with timezone=
    index: int = 0
    brief: str = DEFAULT_BRIEF

    @property
    def job_id(self) -> str:
        """The APScheduler job id."""
        own = f"edition:{self.slot}" if self.slot else f"edition:#{self.index}"
        return own if self.brief == DEFAULT_BRIEF else f"{self.brief}/{own}"

    @property
    def label(self) -> str:
        """How logs and ``briefs status`` name it."""
        own = self.slot or "daily"
        return own if self.brief == DEFAULT_BRIEF else f"{self.brief} {own}"


def edition_jobs(config: Config) -> list[EditionJob]:
    """Every brief's editions, each with a trigger in the schedule's time zone."""
    zone = zoneinfo.ZoneInfo(config.schedule.timezone)
    jobs = []
    for spec in config.desk:
        for i, entry in enumerate(config.for_brief(spec.id).schedule.editions):
            slot, expr = split_edition(entry)
            jobs.append(EditionJob(slot, expr, cron_trigger(expr, zone), i, spec.id))
    return jobs


def scheduled_edition(config: Config, store: Store, job: EditionJob, fire: dt.datetime) -> Edition:
    """The edition a scheduled time builds: that day in brief.timezone, the job's slot (or the
    slot open at that time, as ``briefs run`` would choose it then), of the job's brief."""
    config = config.for_brief(job.brief)
    day = fire.astimezone(zoneinfo.ZoneInfo(config.brief.timezone)).date()
    return edition_for(config, store, day, fire.astimezone(dt.UTC), job.slot or None)


def _repeated(when: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    """True for the second occurrence of a local time that happens twice (clocks went back)."""
    local = when.astimezone(zone)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def local_time(when: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    local = when.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if local.second else "%Y-%m-%d %H:%M %Z")


def _after(when: dt.datetime) -> dt.datetime:
    """A microsecond later, counted in UTC: local arithmetic would drop ``fold`` and go back an
    hour from the second pass through a repeated hour."""
    return when.astimezone(dt.UTC) + _TINY


def fire_times(trigger: Any, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every time in [start, end] at which the trigger builds an edition (repeats skipped)."""
    zone = trigger.timezone
    out: list[dt.datetime] = []
    when = trigger.get_next_fire_time(None, start)
    while when is not None and when <= end:
        if not _repeated(when, zone):
            out.append(when)
        when = trigger.get_next_fire_time(when, _after(when))
    return out


def last_fire_time(trigger: Any, now: dt.datetime, since: dt.datetime) -> dt.datetime | None:
    """The latest time in [since, now] at which the trigger builds an edition, if any."""
    times = fire_times(trigger, since, now)
    return times[-1] if times else None


def next_fire_time(trigger: Any, now: dt.datetime) -> dt.datetime | None:
    """The next time after ``now`` at which the trigger builds an edition."""
    when = trigger.get_next_fire_time(None, _after(now))
    while when is not None and _repeated(when, trigger.timezone):
        when = trigger.get_next_fire_time(when, _after(when))
    return when  # type: ignore[no-any-return]
