"""Editing the config file in place: sources added, removed, enabled (comments kept)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefs.config.load import build_config, load_config
from briefs.config.settings import Config
from briefs.config.sources import ID_RE, slug
from briefs.errors import ConfigError
from briefs.models import Source
from briefs.publish import replace_file


@dataclass(frozen=True, slots=True)
class NewSource:
    """A feed source to append to a config file (``briefs sources add`` / ``import``)."""

    url: str
    title: str = ""
    tags: tuple[str, ...] = ()
    id: str = ""
    interval: int | None = None


def add_sources(path: Path, new: list[NewSource]) -> list[Source]:
    """Append feed sources to the config file at ``path``; return the sources added.

    Ids are made unique; the file's existing text and comments are kept, the new
    ``[[sources]]`` tables go at the end, and the result is validated before it atomically
    replaces the file (a failure leaves the file as it was).
    """
    path = Path(path).resolve()
    config = load_config(path)
    taken = {s.id for s in config.sources}
    blocks: list[str] = []
    for item in new:
        sid = _unique_id(item.id or slug(item.title or item.url), taken)
        taken.add(sid)
        lines = ["", "[[sources]]", f"id = {_toml_str(sid)}"]
        if item.title:
            lines.append(f"title = {_toml_str(item.title)}")
        lines.append(f"url = {_toml_str(item.url)}")
        if item.tags:
            lines.append(f"tags = [{', '.join(_toml_str(t) for t in item.tags)}]")
        if item.interval is not None:
            lines.append(f"interval = {int(item.interval)}")
        blocks.append("\n".join(lines) + "\n")
    text = path.read_text(encoding="utf-8")
    result = _replace(path, text.rstrip("\n") + "\n" + "".join(blocks), "cannot add sources")
    return list(result.sources[len(config.sources) :])


def remove_source(path: Path, source_id: str) -> None:
    """Remove the [[sources]] table of ``source_id`` from the config file (comments kept)."""
    _edit_source(path, source_id, lambda block: [])


def set_source_enabled(path: Path, source_id: str, enabled: bool) -> None:
    """Set ``enabled`` in the [[sources]] table of ``source_id`` (true: the line is removed)."""

    def edit(block: list[str]) -> list[str]:
        kept = [line for line in block if not re.match(r"\s*enabled\s*=", line)]
        return kept if enabled else [kept[0], "enabled = false", *kept[1:]]

    _edit_source(path, source_id, edit)


def _edit_source(path: Path, source_id: str, edit: Any) -> None:
    """Replace the lines of one source's [[sources]] table by ``edit(lines)``, validate the
    result and atomically replace the file (a failure leaves it as it was).

    The i-th ``[[sources]]`` header is the i-th configured source; a table runs to the next
    header, less the comments and blank lines just before it (they belong to what follows).
    """
    path = Path(path).resolve()
    config = load_config(path)
    index = [s.id for s in config.sources].index(config.source(source_id).id)
    lines = path.read_text(encoding="utf-8").split("\n")
    headers = [i for i, line in enumerate(lines) if re.match(r"\s*\[", line)]
    starts = [i for i in headers if re.match(r"\s*\[\[\s*sources\s*\]\]", lines[i])]
    if len(starts) != len(config.sources):
        raise ConfigError(f"{path}: cannot find the [[sources]] table of {source_id!r} to edit")
    start = starts[index]
    end = next((i for i in headers if i > start), len(lines))
    while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].lstrip()[:1] == "#"):
        end -= 1
    updated = "\n".join([*lines[:start], *edit(lines[start:end]), *lines[end:]])
    _replace(path, updated, f"cannot edit source {source_id!r}")


def _replace(path: Path, updated: str, doing: str) -> Config:
    """Validate the new text of the config file, then atomically replace the file with it (a
    failure leaves the file as it was); the new text's Config."""
    try:
        raw = tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {doing}: {exc}") from exc
    result = build_config(path, raw, {})
    try:
        replace_file(path, updated.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc}") from exc
    return result


def _unique_id(base: str, taken: set[str]) -> str:
    base = base if ID_RE.match(base) else slug(base)
    candidate, n = base[:64], 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate = base[: 64 - len(suffix)] + suffix
        n += 1
    return candidate


def _toml_str(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
