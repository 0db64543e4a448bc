"""The ``[[sources]]`` tables: each one checked (its kind and location by the reader of its
kind, :mod:`briefs.ingest.readers`) and made a Source."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from briefs.config.bounds import coerce, expect, unknown_key
from briefs.errors import ConfigError
from briefs.ingest.readers import READERS
from briefs.models import Source

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# The keys of every kind; a reader adds its location keys and its own (``options``).
SOURCE_KEYS = {"id", "kind", "url", "path", "title", "tags", "interval", "enabled"}


def build_sources(path: Path, raw: Any) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: sources must be an array of tables ([[sources]])")
    seen: set[str] = set()
    out: list[Source] = []
    for i, item in enumerate(raw):
        where = f"sources[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        kind = item.get("kind", "feed")
        reader = READERS.get(kind) if isinstance(kind, str) else None
        if reader is None:
            known = " or ".join(READERS)
            raise ConfigError(f"{path}: {where}.kind: unknown source kind {kind!r} ({known})")
        allowed = SOURCE_KEYS | set(reader.keys) | {key for key, _ in reader.options}
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise unknown_key(path, f"{where}.{unknown[0]!r}", unknown[0], allowed)
        need = reader.keys[0]
        location = next((item[k] for k in reader.keys if item.get(k) is not None), None)
        if not location:
            raise ConfigError(f"{path}: {where} needs a {need!r}")
        location = expect(path, f"{where}.{need}", location, str)
        given = {
            key: coerce(path, f"{where}.{key}", item[key], kind_of)
            for key, kind_of in reader.options
            if key in item
        }
        try:
            location, options = reader.locate(location, given, path.parent)
        except ValueError as exc:
            raise ConfigError(f"{path}: {where}.{exc}") from None
        # Caught here, a typo ("htp://", a wrong file name) names its key and the file at
        # once instead of becoming a failed source at every run.
        problem = reader.check(location)
        if problem:
            raise ConfigError(f"{path}: {where}.{need}: {problem}")
        title = expect(path, f"{where}.title", item.get("title", ""), str)
        sid = item.get("id") or slug(title or location)
        sid = expect(path, f"{where}.id", sid, str)
        if not ID_RE.match(sid):
            raise ConfigError(
                f"{path}: {where}.id {sid!r} must be letters, digits, '-', '_' or '.'"
            )
        if sid in seen:
            raise ConfigError(f"{path}: {where}.id {sid!r} is used twice")
        seen.add(sid)
        tags = coerce(path, f"{where}.tags", item.get("tags", []), tuple[str, ...])
        interval = expect(path, f"{where}.interval", item.get("interval", 60), int)
        enabled = expect(path, f"{where}.enabled", item.get("enabled", True), bool)
        source = Source(sid, kind, location, title, tags, max(interval, 1), enabled)
        out.append(replace(source, options=tuple(options.items())))
    return tuple(out)


def slug(text: str) -> str:
    text = re.sub(r"^[a-z]+://", "", text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return (slug or "source")[:64]
