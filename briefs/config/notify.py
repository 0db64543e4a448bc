"""The ``[[notify]]`` tables: each one checked and made a :class:`NotifySettings`.

A target's Apprise URL carries its secrets (a token, a password, a private topic), so it never
sits in the file as written: ``url_env`` names an environment variable holding the whole URL,
or ``url`` holds it with ``${VAR}`` placeholders for the secret parts (a URL with nothing
secret in it, a webhook on loopback, may be written out). A literal ``user:password@`` in
``url`` is refused. The URL is read from the environment when a notification is sent
(:func:`briefs.notify.channel.target_url`), as the SMTP password is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from briefs.config.bounds import coerce, expect, shown, unknown_key
from briefs.config.settings import NOTIFY_KINDS, BriefSpec, NotifySettings
from briefs.errors import ConfigError
from briefs.models import DEFAULT_BRIEF

__all__ = ["NOTIFY_BOUNDS", "NOTIFY_KEYS", "PLACEHOLDER", "build_notify"]

NOTIFY_KEYS = {
    "name",
    "url",
    "url_env",
    "send",
    "brief",
    "headlines",
    "min_outlets",
    "format",
    "timeout",
    "max_attempts",
    "retry_delay",
}
# Ranges of the numeric keys (inclusive), as briefs.config.bounds.BOUNDS for the sections.
NOTIFY_BOUNDS: dict[str, tuple[float, float]] = {
    "headlines": (1, 50),
    "min_outlets": (1, 1000),
    "timeout": (1, 3600),
    "max_attempts": (1, 100),
    "retry_delay": (0, 86_400),
}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMATS = ("auto", "markdown", "text")
_KINDS: dict[str, type[Any]] = {
    "send": tuple,
    "headlines": int,
    "min_outlets": int,
    "max_attempts": int,
    "timeout": float,
    "retry_delay": float,
}


def build_notify(path: Path, raw: Any, briefs: Sequence[BriefSpec]) -> tuple[NotifySettings, ...]:
    """The targets of the ``[[notify]]`` tables, in file order (names unique; ``brief`` one of
    ``briefs``, the [[briefs]] of the file)."""
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: notify must be an array of tables ([[notify]])")
    seen: set[str] = set()
    out: list[NotifySettings] = []
    for i, item in enumerate(raw):
        target = _target(path, f"notify[{i}]", i, item)
        ids = [b.id for b in briefs] or [DEFAULT_BRIEF]
        if target.brief and target.brief not in ids:
            raise ConfigError(
                f"{path}: notify[{i}].brief {target.brief!r} is not a brief ({', '.join(ids)})"
            )
        if target.name in seen:
            raise ConfigError(f"{path}: notify[{i}].name {target.name!r} is used twice")
        seen.add(target.name)
        out.append(target)
    return tuple(out)


def _target(path: Path, where: str, index: int, item: Any) -> NotifySettings:
    if not isinstance(item, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    unknown = sorted(set(item) - NOTIFY_KEYS)
    if unknown:
        raise unknown_key(path, f"{where}.{unknown[0]!r}", unknown[0], NOTIFY_KEYS)
    values: dict[str, Any] = {}
    for key, value in item.items():
        kind = _KINDS.get(key, str)
        values[key] = (
            coerce(path, f"{where}.{key}", value, tuple[str, ...])
            if kind is tuple
            else expect(path, f"{where}.{key}", value, kind)
        )
        if key in NOTIFY_BOUNDS:
            low, high = NOTIFY_BOUNDS[key]
            if not low <= values[key] <= high:
                raise ConfigError(
                    f"{path}: {where}.{key} must be between {low:g} and {high:g} "
                    f"({shown(values[key])})"
                )
    target = NotifySettings(**{"name": f"notify-{index + 1}", **values})
    _check(path, where, target)
    return target


def _check(path: Path, where: str, target: NotifySettings) -> None:
    if not _NAME.match(target.name):
        raise ConfigError(
            f"{path}: {where}.name {target.name!r}: lowercase letters, digits, '-' and '_'"
        )
    if bool(target.url) == bool(target.url_env):
        raise ConfigError(
            f"{path}: {where} needs one of 'url_env' (the environment variable holding the "
            "Apprise URL) or 'url' (with ${VAR} for its secret parts)"
        )
    if target.url_env and not _ENV_NAME.match(target.url_env):
        raise ConfigError(f"{path}: {where}.url_env {target.url_env!r} is not a variable name")
    if target.url:
        _check_url(path, where, target.url)
    bad = [k for k in target.send if k not in NOTIFY_KINDS]
    if bad or not target.send:
        raise ConfigError(
            f"{path}: {where}.send: each of {', '.join(NOTIFY_KINDS)} (not {bad[0]!r})"
            if bad
            else f"{path}: {where}.send is empty: name at least one of {', '.join(NOTIFY_KINDS)}"
        )
    if target.format not in _FORMATS:
        raise ConfigError(
            f'{path}: {where}.format must be "auto", "markdown" or "text", not {target.format!r}'
        )


def _check_url(path: Path, where: str, url: str) -> None:
    """The URL's shape; its secrets are placeholders (never written out in the file)."""
    scheme, sep, _rest = url.partition("://")
    if not sep or not re.match(r"^[a-z][a-z0-9+.-]*$", scheme.lower()):
        raise ConfigError(
            f"{path}: {where}.url is not an Apprise URL (service://...), e.g. "
            '"ntfy://ntfy.sh/${BRIEFS_NTFY_TOPIC}"'
        )
    try:
        literal = urlsplit(url).password
    except ValueError:
        return  # Apprise's own parsing judges the rest when the URL is used
    if literal and not PLACEHOLDER.search(literal):
        raise ConfigError(
            f"{path}: {where}.url has a password written in the file: put it in the "
            "environment and write ${VAR} in its place (or use url_env)"
        )
