"""``BRIEFS_<SECTION>_<KEY>`` environment overrides, and errors that blame them."""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import typing
from pathlib import Path
from typing import Any

from briefs.config.settings import SECTIONS
from briefs.errors import ConfigError


def blame_environment(exc: ConfigError, path: Path) -> ConfigError:
    """The error, blaming the environment variable when the bad value came from one.

    Every key's error reads "<file>: <section>.<key>..."; when $BRIEFS_<SECTION>_<KEY> is set,
    the value was the variable's, not the file's.
    """
    message, prefix = str(exc), f"{path}: "
    if not message.startswith(prefix):
        return exc
    rest = message[len(prefix) :]
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            key, var = f"{section}.{f.name}", f"BRIEFS_{section.upper()}_{f.name.upper()}"
            if var not in os.environ or not rest.startswith(key):
                continue
            if rest[len(key) : len(key) + 1] not in ("", " ", ":", "["):
                continue
            hint = ""
            if typing.get_origin(typing.get_type_hints(cls)[f.name]) is tuple:
                hint = f' (a TOML list: {var}=\'["first", "second"]\')'
            return ConfigError(f"${var} (environment variable; config {path}): {rest}{hint}")
    return exc


def env_overrides(section: str, cls: type[Any], path: Path) -> dict[str, Any]:
    """BRIEFS_<SECTION>_<KEY> environment variables, parsed as TOML values when they can be."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        value = os.environ.get(f"BRIEFS_{section.upper()}_{f.name.upper()}")
        if value is None:
            continue
        try:
            out[f.name] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            out[f.name] = value
    return out


def check_environment(path: Path, password_env: str) -> None:
    """A ``BRIEFS_<SECTION>_...`` variable that names no setting is refused, as an unknown key
    in the file is: a misspelt override (``BRIEFS_EMAIL_RECIPIENT``) would otherwise be
    ignored without a word. The error names the closest variable that is a setting.

    Only names that begin with a section's prefix are judged (``BRIEFS_CONFIG`` and
    ``BRIEFS_SMTP_PASSWORD`` do not), and the variable ``email.password_env`` names is allowed.
    """
    for var in sorted(os.environ):
        section = next((s for s in SECTIONS if var.startswith(f"BRIEFS_{s.upper()}_")), None)
        if section is None or var == password_env:
            continue
        keys = sorted(f.name.upper() for f in dataclasses.fields(SECTIONS[section]))
        key = var.removeprefix(f"BRIEFS_{section.upper()}_")
        if key in keys:
            continue
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
        hint = f"; did you mean $BRIEFS_{section.upper()}_{close[0]}?" if close else ""
        raise ConfigError(
            f"${var} (environment variable; config {path}): no such setting in [{section}]"
            f"{hint} (unset it, or see BRIEFS_<SECTION>_<KEY> in the README)"
        )
