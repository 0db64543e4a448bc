"""The ``[[briefs]]`` tables: several briefs over one poll, each made a :class:`BriefSpec`.

A table has an ``id``, the sources it draws from (``tags`` and/or ``sources``), any key of
[brief] (its own title, sections, mute, boost, max_stories, language, slots ...: the [brief]
table gives every brief's defaults), its own ``schedule`` (cron entries, as
schedule.editions) and ``recipients`` (as email.recipients), and ``output``: its folder under
the output folder (default: its id when there are several briefs, the output folder itself for
one). Without tables the desk is one brief, ``default``, made of [brief] as before.

Each brief's settings are checked as [brief] is (the same bounds and cross-key checks), with
errors naming ``briefs[i].key``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from briefs.config.bounds import build_section, coerce, expect, unknown_key
from briefs.config.checks import check_sections
from briefs.config.settings import (
    BRIEF_ID,
    BriefSettings,
    BriefSpec,
    EmailSettings,
    ScheduleSettings,
)
from briefs.errors import ConfigError
from briefs.models import Source

__all__ = ["BRIEF_KEYS", "build_briefs"]

_OWN_KEYS = {"id", "tags", "sources", "schedule", "recipients", "output"}
BRIEF_KEYS = _OWN_KEYS | {f.name for f in dataclasses.fields(BriefSettings)}
_FOLDER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def build_briefs(
    path: Path,
    raw: Any,
    layers: tuple[dict[str, Any], dict[str, Any]],
    sections: dict[str, Any],
    sources: tuple[Source, ...],
) -> tuple[BriefSpec, ...]:
    """The briefs of the ``[[briefs]]`` array (empty when there is none).

    ``layers``: the [brief] table of the file, and what the environment and the command line
    set over it (they override every brief's own keys too). ``sections``: the checked sections.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(f"{path}: briefs must be an array of tables ([[briefs]])")
    several = len(raw) > 1
    specs: list[BriefSpec] = []
    for i, table in enumerate(raw):
        spec = _build_one(path, i, table, layers, sections, sources, several)
        for other in specs:
            if other.id == spec.id:
                raise ConfigError(f"{path}: briefs[{i}].id {spec.id!r} is used twice")
            if other.output == spec.output:
                raise ConfigError(
                    f"{path}: briefs[{i}].output {spec.output!r}: brief {other.id!r} writes "
                    "there too; give each brief its own folder"
                )
        specs.append(spec)
    return tuple(specs)


def _build_one(
    path: Path,
    i: int,
    table: dict[str, Any],
    layers: tuple[dict[str, Any], dict[str, Any]],
    sections: dict[str, Any],
    sources: tuple[Source, ...],
    several: bool,
) -> BriefSpec:
    where = f"briefs[{i}]"
    unknown = sorted(set(table) - BRIEF_KEYS)
    if unknown:
        raise unknown_key(path, f"{where}.{unknown[0]!r}", unknown[0], BRIEF_KEYS)
    if "id" not in table:
        raise ConfigError(f"{path}: {where} needs an 'id' (lowercase letters, digits and '-')")
    brief_id = expect(path, f"{where}.id", table["id"], str)
    if not BRIEF_ID.match(brief_id):
        raise ConfigError(
            f"{path}: {where}.id {brief_id!r}: a brief id is lowercase letters, digits and '-'"
        )
    tags = coerce(path, f"{where}.tags", table.get("tags", []), tuple[str, ...])
    chosen = coerce(path, f"{where}.sources", table.get("sources", []), tuple[str, ...])
    _check_sources(path, where, tags, chosen, sources)
    folder = _folder(path, where, table, brief_id if several else "", several)
    own = {k: v for k, v in table.items() if k not in _OWN_KEYS}
    file_table, above = layers
    merged = {**file_table, **own, **above}
    if "site_url" not in own and folder:
        base = str(merged.get("site_url", BriefSettings().site_url))
        merged["site_url"] = f"{base.rstrip('/')}/{folder}/"
    schedule: ScheduleSettings = sections["schedule"]
    email: EmailSettings = sections["email"]
    editions = coerce(
        path, f"{where}.schedule", table.get("schedule", list(schedule.editions)), tuple[str, ...]
    )
    recipients = coerce(
        path,
        f"{where}.recipients",
        table.get("recipients", list(email.recipients)),
        tuple[str, ...],
    )
    settings = _checked(path, where, merged, sections, editions, recipients)
    return BriefSpec(
        id=brief_id,
        settings=settings,
        tags=tags,
        sources=chosen,
        schedule=editions,
        recipients=recipients,
        output=folder,
    )


def _folder(path: Path, where: str, table: dict[str, Any], default: str, several: bool) -> str:
    """The brief's ``output`` folder below the output folder ("" for the folder itself)."""
    folder: str = expect(path, f"{where}.output", table.get("output", default), str)
    folder = folder.strip("/")
    if several and not folder:
        raise ConfigError(
            f"{path}: {where}.output: with several briefs each needs a folder of its own "
            "(the output folder itself holds the index of the briefs)"
        )
    if folder and not _FOLDER.match(folder):
        raise ConfigError(
            f"{path}: {where}.output {folder!r}: a brief's folder is one name of lowercase "
            "letters, digits, '-' and '_'"
        )
    return folder


def _check_sources(
    path: Path,
    where: str,
    tags: tuple[str, ...],
    chosen: tuple[str, ...],
    sources: tuple[Source, ...],
) -> None:
    """Every source named exists and every tag is some source's: a typo would otherwise make
    a brief that is silently empty."""
    ids = {s.id for s in sources}
    for j, sid in enumerate(chosen):
        if sid not in ids:
            raise ConfigError(f"{path}: {where}.sources[{j}]: no source with id {sid!r}")
    known = {t for s in sources for t in s.tags}
    for j, tag in enumerate(tags):
        if tag not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"{path}: {where}.tags[{j}]: no source has the tag {tag!r} (tags: {shown})"
            )


def _checked(
    path: Path,
    where: str,
    merged: dict[str, Any],
    sections: dict[str, Any],
    editions: tuple[str, ...],
    recipients: tuple[str, ...],
) -> BriefSettings:
    """The brief's settings, with the checks [brief], its schedule and its readers get."""
    prefix = f"{path}: "
    renames = (
        ("brief.", f"{where}."),
        ("schedule.editions", f"{where}.schedule"),
        ("email.recipients", f"{where}.recipients"),
    )
    try:
        settings: BriefSettings = build_section(path, "brief", BriefSettings, merged)
        check_sections(
            path,
            {
                **sections,
                "brief": settings,
                "schedule": dataclasses.replace(sections["schedule"], editions=editions),
                "email": dataclasses.replace(sections["email"], recipients=recipients),
            },
        )
    except ConfigError as exc:
        message = str(exc)
        if message.startswith(prefix):
            body = message[len(prefix) :]
            for old, new in renames:
                if body.startswith(old):
                    body = new + body[len(old) :]
                    break
            raise ConfigError(prefix + body) from None
        raise
    return settings
