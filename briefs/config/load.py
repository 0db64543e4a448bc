"""Finding, reading and validating the config file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from briefs.config.bounds import build_section, expect, unknown_key
from briefs.config.briefs import build_briefs
from briefs.config.checks import check_sections
from briefs.config.environment import blame_environment, check_environment, env_overrides
from briefs.config.notify import build_notify
from briefs.config.settings import (
    SECTIONS,
    TOP_KEYS,
    Config,
)
from briefs.config.sources import build_sources
from briefs.errors import ConfigError
from briefs.models import DEFAULT_BRIEF

CONFIG_ENV = "BRIEFS_CONFIG"
DEFAULT_CONFIG_NAMES = ("briefs.toml", "seeds/briefs.toml")


def find_config(explicit: str | Path | None = None, cwd: Path | None = None) -> Path:
    """The config file: the explicit path, $BRIEFS_CONFIG, ./briefs.toml, ./seeds/briefs.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    here = cwd or Path.cwd()
    for name in DEFAULT_CONFIG_NAMES:
        candidate = here / name
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no configuration found in {here}: run `briefs init` to write a starter briefs.toml "
        "here (with the demo's sources), or pass --config FILE or set $BRIEFS_CONFIG"
    )


def load_config(path: str | Path, overrides: dict[str, dict[str, Any]] | None = None) -> Config:
    """Read and validate a TOML config file; ``overrides`` are section -> key -> value."""
    cfg_path = Path(path).expanduser()
    try:
        raw = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{cfg_path}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{cfg_path}: is a folder, not a configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: cannot read configuration: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: invalid TOML: {exc}") from exc
    try:
        return build_config(cfg_path.resolve(), raw, overrides or {})
    except ConfigError as exc:
        raise blame_environment(exc, cfg_path.resolve()) from None


def build_config(path: Path, raw: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> Config:
    """The Config of a parsed file: defaults <- ``raw`` <- environment <- ``overrides``."""
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise unknown_key(path, repr(unknown[0]), unknown[0], TOP_KEYS)
    base = path.parent
    sections: dict[str, Any] = {}
    layers: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for name, cls in SECTIONS.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{name}] must be a table, not {type(table).__name__}")
        layers[name] = (table, {**env_overrides(name, cls, path), **overrides.get(name, {})})
        sections[name] = build_section(path, name, cls, {**table, **layers[name][1]})
    sections = check_sections(path, sections)
    check_environment(path, sections["email"].password_env)
    database = expect(path, "database", raw.get("database", "briefs.db"), str)
    if "://" not in database:
        database = str((base / database).resolve())
    output = base / expect(path, "output", raw.get("output", "output"), str)
    templates_raw = raw.get("templates")
    templates = base / expect(path, "templates", templates_raw, str) if templates_raw else None
    sources = build_sources(path, raw.get("sources", []))
    briefs = build_briefs(path, raw.get("briefs"), layers["brief"], sections, sources)
    notify = build_notify(path, raw.get("notify", []), briefs)
    config = Config(
        path=path,
        database=database,
        output=output.resolve(),
        templates=templates.resolve() if templates else None,
        sources=sources,
        notify=notify,
        briefs=briefs,
        brief_id=briefs[0].id if briefs else DEFAULT_BRIEF,
        **sections,
    )
    if not briefs:
        return config
    # With [[briefs]] the Config is the first brief's; Config.for_brief gives the others.
    return config.with_root(config.output).for_brief(briefs[0].id)
