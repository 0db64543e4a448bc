"""Values checked against their key's type and range: errors that name the key and the file."""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path
from typing import Any

from briefs.errors import ConfigError

# Every numeric setting and its range (inclusive): a value outside it, NaN or infinity is an
# error naming the key, so no stage ever sees a timeout of 1e308 or a count of -1. README
# ("Bounds of numeric settings") lists them; tests/test_config.py checks that every numeric
# field has one and that the README agrees.
BOUNDS: dict[str, tuple[float, float]] = {
    "fetch.timeout": (0.1, 3600),
    "fetch.connect_timeout": (0.1, 3600),
    "fetch.total_timeout": (0.1, 86_400),
    "fetch.max_bytes": (1000, 2_000_000_000),
    "fetch.max_entries": (1, 1_000_000),
    "fetch.max_redirects": (0, 50),
    "fetch.concurrency": (1, 1024),
    "fetch.per_host": (1, 256),
    "fetch.max_backoff_hours": (0.01, 8760),
    "fetch.teaser_words": (0, 100_000),
    "fetch.max_pages": (0, 1_000_000),
    "fetch.extract_workers": (0, 256),
    "fetch.parse_workers": (0, 256),
    "fetch.parse_timeout": (0.1, 86_400),
    "group.window_hours": (1, 8760),
    "group.threshold": (0.0001, 1),
    "group.half_life_hours": (0, 87_600),
    "group.entity_weight": (0, 100),
    "group.title_weight": (0, 100),
    "group.lead_words": (1, 100_000),
    "group.prior_docs": (0, 1_000_000_000),
    "group.embed_seconds": (0, 86_400),
    "group.embed_max_new": (0, 100_000_000),
    "group.consensus_orders": (0, 32),
    "summary.sentences": (1, 100),
    "summary.words": (1, 10_000),
    "brief.window_hours": (1, 8760),
    "brief.max_stories": (1, 1000),
    "brief.max_per_outlet": (1, 1000),
    "brief.feed_items": (1, 10_000),
    "brief.story_feed_items": (1, 10_000),
    "brief.section_feed_items": (1, 10_000),
    "brief.email_max_bytes": (10_000, 50_000_000),
    "schedule.grace_minutes": (0, 10_080),
    "schedule.poll_tick": (1, 3600),
    "schedule.jitter": (0, 86_400),
    "schedule.claim_batch": (1, 100_000),
    "schedule.lease_seconds": (1, 86_400),
    "email.port": (0, 65_535),
    "email.timeout": (1, 3600),
    "email.max_attempts": (1, 100),
    "email.retry_delay": (0, 86_400),
    "serve.port": (0, 65_535),
    "serve.max_age": (0, 31_536_000),
    "sources.interval": (1, 525_600),
}
_SOURCE_INDEX = re.compile(r"^sources\[\d+\]\.")


def unknown_key(path: Path, shown: str, key: str, known: set[str]) -> ConfigError:
    """An unknown key's error: the closest known key first ("did you mean"), then all of them."""
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{path}: unknown key {shown}{hint} (known: {', '.join(sorted(known))})")


def coerce(path: Path, key: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {key} must be a list of strings, not {value!r}")
        return tuple(value)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return coerce(path, key, value, inner[0])
    return expect(path, key, value, hint)


def expect(path: Path, key: str, value: Any, kind: type[Any]) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value) if abs(value) < 2**63 else math.inf
    if kind is int and isinstance(value, bool):
        raise ConfigError(f"{path}: {key} must be an integer, not a boolean")
    if not isinstance(value, kind):
        raise ConfigError(
            f"{path}: {key} must be {_kind_name(kind)}, not {type(value).__name__} ({shown(value)})"
        )
    if kind in (int, float):
        in_bounds(path, key, value)
    return value


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def in_bounds(path: Path, key: str, value: float) -> None:
    """NaN, infinities and values outside the key's range are errors (see :data:`BOUNDS`)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}: {key} must be a finite number, not {value!r}")
    if value < 0:
        raise ConfigError(f"{path}: {key} must not be negative ({shown(value)})")
    bounds = BOUNDS.get(_SOURCE_INDEX.sub("sources.", key))
    if bounds is None:
        return
    low, high = bounds
    if value < low:
        raise ConfigError(f"{path}: {key} must be at least {low:g} ({shown(value)})")
    if value > high:
        raise ConfigError(f"{path}: {key} must be at most {high:g} ({shown(value)})")


def _kind_name(kind: type[Any]) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, kind.__name__
    )


def build_section(path: Path, name: str, cls: type[Any], table: dict[str, Any]) -> Any:
    """A section's dataclass from its table: unknown keys and wrong types name the key."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise unknown_key(path, f"{name}.{unknown[0]!r}", unknown[0], known)
    values = {key: coerce(path, f"{name}.{key}", value, hints[key]) for key, value in table.items()}
    return cls(**values)
