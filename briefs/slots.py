"""Which edition, and its time: slots, the cut-off, the window, the edition before.

The one definition of an edition's window (:func:`edition_window`), read by the build
(:mod:`briefs.edition`), the freshness stamp (:mod:`briefs.freshness`) and the daemon's
timetable (:mod:`briefs.timetable`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from briefs.config import SLOT_NAME, Config, split_edition
from briefs.errors import ConfigError
from briefs.models import Edition, EditionRecord
from briefs.store import Store

__all__ = [
    "ARCHIVE_LIMIT",
    "edition_cutoff",
    "edition_for",
    "edition_window",
    "known_slots",
    "ordered_editions",
    "previous_counts",
    "previous_cutoff",
]

# Editions listed in the archive (every one a desk will ever build; read without their HTML).
ARCHIVE_LIMIT = 100_000


def edition_for(
    config: Config,
    store: Store,
    date: dt.date | None,
    now: dt.datetime,
    slot: str | None = None,
) -> Edition:
    """The edition to build: the given date, else today (or the newest article's day) locally;
    the given slot, else the configured default, else the first slot whose cut-off is still
    ahead of ``now`` on that day (the last slot once all have passed)."""
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    if date is None:
        latest = store.latest_published() if config.brief.date == "latest" else None
        date = (latest or now).astimezone(zone).date()
    slots = config.brief.slot_times()
    chosen = config.brief.slot if slot is None else slot
    known = known_slots(config)
    if chosen and chosen not in known:
        if not known:
            raise ConfigError(
                f"{config.path}: no slot {chosen!r}: no slots are configured (set brief.slots, "
                'e.g. ["morning@07:00", "evening@18:00"], or leave out --slot)'
            )
        where = "brief.slots" if slots else "brief.slot and schedule.editions"
        raise ConfigError(f"{config.path}: no slot {chosen!r} in {where} ({', '.join(known)})")
    if chosen and not SLOT_NAME.match(chosen):
        raise ConfigError(f"slot {chosen!r}: a slot name is lowercase letters, digits and '-'")
    if not chosen and slots:
        chosen = list(slots)[-1]
        for name in slots:
            if edition_cutoff(config, Edition(date, name)) > now:
                chosen = name
                break
    return Edition(date, chosen)


def known_slots(config: Config) -> list[str]:
    """The slot names an edition may have: brief.slots, else brief.slot and the names given to
    schedule.editions (a daemon may name its editions without brief.slots)."""
    if config.brief.slots:
        return list(config.brief.slot_times())
    named = [config.brief.slot] + [split_edition(e)[0] for e in config.schedule.editions]
    return list(dict.fromkeys(n for n in named if n))


def edition_cutoff(config: Config, edition: Edition) -> dt.datetime:
    """The moment (UTC) an edition closes: its slot's local cut-off, else the end of its day."""
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    when = config.brief.slot_times().get(edition.slot) if edition.slot else None
    if when is None:
        end = dt.datetime.combine(edition.date + dt.timedelta(days=1), dt.time(0, 0), zone)
    else:
        end = dt.datetime.combine(edition.date, when, zone)
    return end.astimezone(dt.UTC)


def edition_window(config: Config, edition: Edition) -> tuple[dt.datetime, dt.datetime]:
    """The stories an edition is built from: those updated in ``brief.window_hours`` before its
    cut-off. The one definition both the build and the freshness stamp read."""
    cutoff = edition_cutoff(config, edition)
    return cutoff - dt.timedelta(hours=config.brief.window_hours), cutoff


def ordered_editions(config: Config, records: list[EditionRecord]) -> list[EditionRecord]:
    """Editions newest first by when they close (slots of one day in their configured order)."""
    return sorted(
        records, key=lambda r: (edition_cutoff(config, r.edition), r.edition.id), reverse=True
    )


def _previous_edition(config: Config, store: Store, edition: Edition) -> EditionRecord | None:
    """The edition before this one (by cut-off), if one was built."""
    cutoff = edition_cutoff(config, edition)
    recent = store.recent_editions(ARCHIVE_LIMIT, config.brief_id, html=False)
    built = ordered_editions(config, recent)
    earlier = [
        r for r in built if r.edition != edition and edition_cutoff(config, r.edition) < cutoff
    ]
    return earlier[0] if earlier else None


def previous_counts(config: Config, store: Store, edition: Edition) -> dict[str, int]:
    """Story sizes in the edition before this one (by cut-off; empty if there is none)."""
    record = _previous_edition(config, store, edition)
    return dict(record.story_counts) if record else {}


def previous_cutoff(config: Config, store: Store, edition: Edition) -> dt.datetime | None:
    """When the edition before this one closed (None if there is none): where its news ends."""
    record = _previous_edition(config, store, edition)
    return edition_cutoff(config, record.edition) if record else None
