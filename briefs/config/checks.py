"""Checks across the keys of a section: slots, schedules, email addresses, time zones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from briefs.address import check_address
from briefs.config.settings import (
    SLOT_NAME,
    BriefSettings,
    EmailSettings,
    GroupSettings,
    ScheduleSettings,
    SummarySettings,
)
from briefs.errors import ConfigError, DeliveryError
from briefs.summarize.methods import SUMMARY_METHODS


def _check_brief(path: Path, brief: BriefSettings) -> None:
    """site_url is an absolute http(s) URL; slots name files and URLs; cut-offs are HH:MM."""
    site = urlsplit(brief.site_url)
    if site.scheme not in ("http", "https") or not site.hostname:
        raise ConfigError(
            f"{path}: brief.site_url must be an absolute http(s) URL, not {brief.site_url!r}"
        )
    for spec in brief.slots:
        name, _, when = spec.partition("@")
        if not SLOT_NAME.match(name.strip()):
            raise ConfigError(
                f"{path}: brief.slots: {spec!r}: a slot name is lowercase letters, digits and '-'"
            )
        if when.strip():
            try:
                dt.time.fromisoformat(when.strip())
            except ValueError:
                raise ConfigError(
                    f"{path}: brief.slots: {spec!r}: the cut-off must be a time like 07:30"
                ) from None
    names = [spec.partition("@")[0].strip() for spec in brief.slots]
    if len(names) != len(set(names)):
        raise ConfigError(f"{path}: brief.slots: a slot is named twice")
    if brief.slot and not SLOT_NAME.match(brief.slot):
        raise ConfigError(
            f"{path}: brief.slot {brief.slot!r}: a slot name is lowercase letters, digits and '-'"
        )
    if brief.slot and names and brief.slot not in names:
        raise ConfigError(
            f"{path}: brief.slot {brief.slot!r} is not one of brief.slots ({', '.join(names)})"
        )


def split_edition(entry: str) -> tuple[str, str]:
    """An entry of schedule.editions as (slot, cron expression): "morning: 30 6 * * *"."""
    slot, sep, expr = entry.partition(":")
    if not sep:
        return "", entry.strip()
    return slot.strip(), expr.strip()


def cron_trigger(expr: str, zone: zoneinfo.ZoneInfo) -> Any:
    """An APScheduler CronTrigger in ``zone`` for a 5-field cron expression (or 6, seconds first).

    The zone is always passed: a trigger built without one would use the system's zone.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expr, timezone=zone)
    if len(fields) == 6:  # seconds first, as in Quartz: "0 30 6 * * *"
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=zone,
        )
    raise ValueError(f"{len(fields)} fields, not 5 (minute hour day month weekday)")


def _check_schedule(
    path: Path, schedule: ScheduleSettings, brief: BriefSettings
) -> ScheduleSettings:
    zone_name = schedule.timezone or brief.timezone
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: schedule.timezone: unknown time zone {zone_name!r}") from None
    names = list(brief.slot_times())
    seen: set[str] = set()
    for i, entry in enumerate(schedule.editions):
        key = f"schedule.editions[{i}]"
        slot, expr = split_edition(entry)
        if slot and not SLOT_NAME.match(slot):
            raise ConfigError(
                f"{path}: {key}: slot {slot!r}: a slot name is lowercase letters, digits and '-'"
            )
        if slot and names and slot not in names:
            raise ConfigError(
                f"{path}: {key}: slot {slot!r} is not one of brief.slots ({', '.join(names)})"
            )
        try:
            cron_trigger(expr, zone)
        except ValueError as exc:
            raise ConfigError(f"{path}: {key}: not a cron expression {expr!r}: {exc}") from None
        if not slot and names:
            continue  # the slot open at that time is built (brief.slots cut-offs)
        slot = slot or brief.slot
        if slot in seen:
            raise ConfigError(
                f"{path}: {key}: two editions with the slot {slot!r}; name each, e.g. "
                '"morning: 30 6 * * *" and "evening: 0 18 * * *"'
            )
        seen.add(slot)
    if schedule.poll_tick < 1:
        raise ConfigError(f"{path}: schedule.poll_tick must be at least 1 second")
    return dataclasses.replace(schedule, timezone=zone_name)


def _check_email(path: Path, email: EmailSettings) -> EmailSettings:
    if email.security not in ("starttls", "tls", "none"):
        raise ConfigError(
            f'{path}: email.security must be "starttls", "tls" or "none", not {email.security!r}'
        )
    if not email.host:
        return email
    if not email.sender:
        raise ConfigError(f"{path}: email.sender is needed when email.host is set")
    for key, value in [("email.sender", email.sender)] + [
        (f"email.recipients[{i}]", r) for i, r in enumerate(email.recipients)
    ]:
        try:
            check_address(value)
        except DeliveryError as exc:
            raise ConfigError(f"{path}: {key}: {exc}") from None
    if email.max_attempts < 1:
        raise ConfigError(f"{path}: email.max_attempts must be at least 1")
    cafile = email.cafile
    if cafile:
        cafile = str((path.parent / cafile).resolve())
        if not Path(cafile).is_file():
            raise ConfigError(f"{path}: email.cafile: no such file {cafile}")
    return dataclasses.replace(email, cafile=cafile)


def check_sections(path: Path, sections: dict[str, Any]) -> dict[str, Any]:
    """Checks across keys, section by section; the sections with paths and zones resolved."""
    brief: BriefSettings = sections["brief"]
    try:
        zoneinfo.ZoneInfo(brief.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: brief.timezone: unknown time zone {brief.timezone!r}") from None
    summary: SummarySettings = sections["summary"]
    if summary.method not in SUMMARY_METHODS:
        raise ConfigError(
            f"{path}: summary.method must be one of {', '.join(SUMMARY_METHODS)}, "
            f"not {summary.method!r}"
        )
    if summary.sentences < 1 or summary.words < 1:
        raise ConfigError(f"{path}: summary.sentences and summary.words must be at least 1")
    if brief.nothing_new not in ("drop", "mark"):
        raise ConfigError(
            f'{path}: brief.nothing_new must be "drop" or "mark", not {brief.nothing_new!r}'
        )
    if brief.date not in ("today", "latest"):
        raise ConfigError(f'{path}: brief.date must be "today" or "latest", not {brief.date!r}')
    _check_brief(path, brief)
    sections["schedule"] = _check_schedule(path, sections["schedule"], brief)
    sections["email"] = _check_email(path, sections["email"])
    group: GroupSettings = sections["group"]
    if group.linkage not in ("average", "single"):
        raise ConfigError(
            f'{path}: group.linkage must be "average" or "single", not {group.linkage!r}'
        )
    if not 0.0 < group.threshold <= 1.0:
        raise ConfigError(f"{path}: group.threshold must be in (0, 1], not {group.threshold!r}")
    return sections
