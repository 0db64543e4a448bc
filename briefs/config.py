"""Typed, validated settings from one TOML file.

Settings are merged defaults <- file <- environment <- command line and validated once. Every
section is a frozen dataclass; unknown keys and wrong types are errors that name the key and the
file. Secrets (the SMTP password) come from the environment, never from the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import re
import tomllib
import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from briefs.address import check_address
from briefs.errors import ConfigError, DeliveryError
from briefs.ingest.readers import READERS
from briefs.models import Source

__all__ = [
    "SLOT_NAME",
    "SUMMARY_METHODS",
    "BriefSettings",
    "Config",
    "EmailSettings",
    "FetchSettings",
    "GroupSettings",
    "NewSource",
    "ScheduleSettings",
    "ServeSettings",
    "SummarySettings",
    "add_sources",
    "cron_trigger",
    "find_config",
    "load_config",
    "remove_source",
    "set_source_enabled",
    "split_edition",
]

CONFIG_ENV = "BRIEFS_CONFIG"
DEFAULT_CONFIG_NAMES = ("briefs.toml", "seeds/briefs.toml")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# An edition slot names files and URLs: lowercase letters, digits and "-".
SLOT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def _cores() -> int:
    """The CPUs this process may run on (a container's or taskset's limit, where known)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How sources and article pages are fetched over HTTP (see README, "[fetch]")."""

    user_agent: str = "briefs/0.1 (+https://github.com/briefs-news/briefs)"
    contact_url: str = ""
    # seconds: connect, and each read/write; ``total_timeout`` bounds one whole request (a
    # server that drips a byte a second never hits the read timeout).
    timeout: float = 20.0
    connect_timeout: float = 10.0
    total_timeout: float = 60.0
    max_bytes: int = 10_000_000
    # a feed with more entries than this keeps only its newest ones (with a warning)
    max_entries: int = 2000
    max_redirects: int = 5
    concurrency: int = 16
    per_host: int = 2
    # a failing source waits interval * 2**(failures - 1) (with jitter), at most this long
    max_backoff_hours: float = 24.0
    # article pages: refuse private/loopback/link-local/multicast addresses unless this is true
    allow_private: bool = False
    fetch_full_text: bool = True
    # a feed text shorter than this many words is a teaser: fetch the page for the full text
    teaser_words: int = 120
    # at most this many article pages are fetched per run (the rest wait for the next run)
    max_pages: int = 300
    # processes extracting article text (0: none, a thread of briefs itself); by default one
    # per core, none on a single core
    extract_workers: int = field(default_factory=lambda: _cores() if _cores() > 1 else 0)
    # processes parsing (and sketching) a poll of 100 feeds or more; the same default; 0 or 1:
    # one thread of briefs itself
    parse_workers: int = field(default_factory=lambda: _cores() if _cores() > 1 else 0)
    # seconds one feed document may take to parse in a worker process before it is stopped
    # (the feed's failure); see docs/reliability.md, "Bounded parsing"
    parse_timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """How articles are grouped into stories (README "Grouping" explains each key).

    ``threshold`` is the cosine similarity that unrelated articles exceed about once in 10,000
    pairs (measured on articles of different subjects); ``prior_docs`` is how many articles the
    background word statistics count as; ``half_life_hours`` (0: off) damps the similarity of
    articles published far apart; ``lead_words`` is how much of the teaser or body is read.
    ``semantic`` adds the embedding model's evidence when it is installed (briefs.embed);
    ``embed_seconds`` is the most a run spends embedding (the rest waits for a later run);
    ``recluster`` clusters the part of the window a run touched again offline (briefs.group).
    """

    window_hours: float = 72.0
    threshold: float = 0.25
    linkage: str = "average"
    half_life_hours: float = 0.0
    entity_weight: float = 1.5
    title_weight: float = 2.0
    lead_words: int = 100
    prior_docs: float = 100.0
    semantic: bool = False
    embed_seconds: float = 30.0
    recluster: bool = False


# sumy's algorithms by name (briefs.summarize.score implements each of them).
SUMMARY_METHODS = ("textrank", "lexrank", "lsa", "luhn", "sumbasic", "edmundson")


@dataclass(frozen=True, slots=True)
class SummarySettings:
    """How stories are summarized: sumy method, and the budget in sentences and words."""

    method: str = "textrank"
    sentences: int = 3
    words: int = 120


@dataclass(frozen=True, slots=True)
class BriefSettings:
    """What goes into an edition and how it is published."""

    title: str = "The Brief"
    description: str = "The day's news in brief: every sentence printed by the outlet it cites."
    timezone: str = "UTC"
    date: str = "today"
    window_hours: float = 36.0
    max_stories: int = 15
    max_per_outlet: int = 4
    sections: tuple[str, ...] = ()
    mute: tuple[str, ...] = ()
    boost: tuple[str, ...] = ()
    images: bool = True
    feed_items: int = 30
    story_feed_items: int = 50
    site_url: str = "http://localhost:8080/"
    language: str = "en"
    # Editions per day, each "name" or "name@HH:MM" (local cut-off time); empty: one a day.
    slots: tuple[str, ...] = ()
    slot: str = ""
    email_max_bytes: int = 100_000
    # A story with no report since the previous edition: "drop" it, or "mark" it "no new
    # reports" and rank it below every story with news.
    nothing_new: str = "drop"

    def slot_times(self) -> dict[str, dt.time | None]:
        """Configured slots in order, each with its local cut-off time (None: end of day)."""
        out: dict[str, dt.time | None] = {}
        for spec in self.slots:
            name, _, when = spec.partition("@")
            out[name.strip()] = dt.time.fromisoformat(when.strip()) if when.strip() else None
        return out


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When the daemon polls sources and builds editions."""

    timezone: str = ""  # the zone of the cron expressions; default: brief.timezone
    # cron expressions, each optionally named by a slot: "30 6 * * *" or "morning: 30 6 * * *"
    editions: tuple[str, ...] = ("30 6 * * *",)
    grace_minutes: float = 180.0  # a missed edition is built at start-up if this recent
    poll_tick: float = 60.0  # seconds between checks for sources that are due
    jitter: float = 300.0  # seconds: each source's polls are offset by up to this much
    deliver: bool = True  # email each scheduled edition when [email] is configured


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """How the email edition is sent. The password comes from the environment only."""

    host: str = ""  # empty: email is off
    port: int = 0  # 0: 587 for starttls, 465 for tls, 25 for none
    security: str = "starttls"  # "starttls", "tls" (implicit TLS) or "none"
    username: str = ""
    password_env: str = "BRIEFS_SMTP_PASSWORD"
    sender: str = ""
    recipients: tuple[str, ...] = ()
    list_unsubscribe: str = ""
    cafile: str = ""  # extra CA certificates (PEM) to trust, e.g. a private mail server's
    timeout: float = 30.0
    max_attempts: int = 5  # per recipient, for temporary (4xx, connection) failures
    retry_delay: float = 60.0  # seconds before the first retry; doubles after each failure

    @property
    def enabled(self) -> bool:
        """Whether email delivery is configured at all."""
        return bool(self.host)

    @property
    def smtp_port(self) -> int:
        """The configured port, or the usual one for the security mode."""
        return self.port or {"tls": 465, "none": 25}.get(self.security, 587)


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """How ``briefs serve`` (and ``briefs daemon --serve``) serves the output folder."""

    host: str = "127.0.0.1"
    port: int = 8080
    max_age: int = 300  # seconds clients and proxies may cache a response


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration: where things live, how each stage behaves, the sources."""

    path: Path
    database: str
    output: Path
    templates: Path | None
    fetch: FetchSettings = field(default_factory=FetchSettings)
    group: GroupSettings = field(default_factory=GroupSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    brief: BriefSettings = field(default_factory=BriefSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    sources: tuple[Source, ...] = ()

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the file are resolved against."""
        return self.path.parent

    def source(self, source_id: str) -> Source:
        """The configured source with this id."""
        for src in self.sources:
            if src.id == source_id:
                return src
        raise ConfigError(f"{self.path}: no source with id {source_id!r}")


_SECTIONS: dict[str, type[Any]] = {
    "fetch": FetchSettings,
    "group": GroupSettings,
    "summary": SummarySettings,
    "brief": BriefSettings,
    "schedule": ScheduleSettings,
    "email": EmailSettings,
    "serve": ServeSettings,
}
_TOP_KEYS = {"database", "output", "templates", "sources", *_SECTIONS}

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
    "summary.sentences": (1, 100),
    "summary.words": (1, 10_000),
    "brief.window_hours": (1, 8760),
    "brief.max_stories": (1, 1000),
    "brief.max_per_outlet": (1, 1000),
    "brief.feed_items": (1, 10_000),
    "brief.story_feed_items": (1, 10_000),
    "brief.email_max_bytes": (10_000, 50_000_000),
    "schedule.grace_minutes": (0, 10_080),
    "schedule.poll_tick": (1, 3600),
    "schedule.jitter": (0, 86_400),
    "email.port": (0, 65_535),
    "email.timeout": (1, 3600),
    "email.max_attempts": (1, 100),
    "email.retry_delay": (0, 86_400),
    "serve.port": (0, 65_535),
    "serve.max_age": (0, 31_536_000),
    "sources.interval": (1, 525_600),
}
_SOURCE_INDEX = re.compile(r"^sources\[\d+\]\.")
_SOURCE_KEYS = {"id", "kind", "url", "path", "title", "tags", "interval", "enabled"}


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
        return _build_config(cfg_path.resolve(), raw, overrides or {})
    except ConfigError as exc:
        raise _blame_environment(exc, cfg_path.resolve()) from None


def _unknown_key(path: Path, shown: str, key: str, known: set[str]) -> ConfigError:
    """An unknown key's error: the closest known key first ("did you mean"), then all of them."""
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{path}: unknown key {shown}{hint} (known: {', '.join(sorted(known))})")


def _blame_environment(exc: ConfigError, path: Path) -> ConfigError:
    """The error, blaming the environment variable when the bad value came from one.

    Every key's error reads "<file>: <section>.<key>..."; when $BRIEFS_<SECTION>_<KEY> is set,
    the value was the variable's, not the file's.
    """
    message, prefix = str(exc), f"{path}: "
    if not message.startswith(prefix):
        return exc
    rest = message[len(prefix) :]
    for section, cls in _SECTIONS.items():
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


def _build_config(path: Path, raw: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> Config:
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise _unknown_key(path, repr(unknown[0]), unknown[0], _TOP_KEYS)
    base = path.parent
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{name}] must be a table, not {type(table).__name__}")
        merged = {**table, **_env_overrides(name, cls, path), **overrides.get(name, {})}
        sections[name] = _build_section(path, name, cls, merged)
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
    database = _expect(path, "database", raw.get("database", "briefs.db"), str)
    if "://" not in database:
        database = str((base / database).resolve())
    output = base / _expect(path, "output", raw.get("output", "output"), str)
    templates_raw = raw.get("templates")
    templates = base / _expect(path, "templates", templates_raw, str) if templates_raw else None
    sources = _build_sources(path, raw.get("sources", []))
    return Config(
        path=path,
        database=database,
        output=output.resolve(),
        templates=templates.resolve() if templates else None,
        sources=sources,
        **sections,
    )


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


def _env_overrides(section: str, cls: type[Any], path: Path) -> dict[str, Any]:
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


def _build_section(path: Path, name: str, cls: type[Any], table: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise _unknown_key(path, f"{name}.{unknown[0]!r}", unknown[0], known)
    values = {
        key: _coerce(path, f"{name}.{key}", value, hints[key]) for key, value in table.items()
    }
    return cls(**values)


def _coerce(path: Path, key: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {key} must be a list of strings, not {value!r}")
        return tuple(value)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(path, key, value, inner[0])
    return _expect(path, key, value, hint)


def _expect(path: Path, key: str, value: Any, kind: type[Any]) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value) if abs(value) < 2**63 else math.inf
    if kind is int and isinstance(value, bool):
        raise ConfigError(f"{path}: {key} must be an integer, not a boolean")
    if not isinstance(value, kind):
        raise ConfigError(
            f"{path}: {key} must be {_kind_name(kind)}, not {type(value).__name__} "
            f"({_shown(value)})"
        )
    if kind in (int, float):
        _in_bounds(path, key, value)
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _in_bounds(path: Path, key: str, value: float) -> None:
    """NaN, infinities and values outside the key's range are errors (see :data:`BOUNDS`)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}: {key} must be a finite number, not {value!r}")
    if value < 0:
        raise ConfigError(f"{path}: {key} must not be negative ({_shown(value)})")
    bounds = BOUNDS.get(_SOURCE_INDEX.sub("sources.", key))
    if bounds is None:
        return
    low, high = bounds
    if value < low:
        raise ConfigError(f"{path}: {key} must be at least {low:g} ({_shown(value)})")
    if value > high:
        raise ConfigError(f"{path}: {key} must be at most {high:g} ({_shown(value)})")


def _kind_name(kind: type[Any]) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, kind.__name__
    )


def _build_sources(path: Path, raw: Any) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: sources must be an array of tables ([[sources]])")
    seen: set[str] = set()
    out: list[Source] = []
    for i, item in enumerate(raw):
        where = f"sources[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        unknown = sorted(set(item) - _SOURCE_KEYS)
        if unknown:
            raise _unknown_key(path, f"{where}.{unknown[0]!r}", unknown[0], _SOURCE_KEYS)
        kind = item.get("kind", "feed")
        reader = READERS.get(kind) if isinstance(kind, str) else None
        if reader is None:
            known = " or ".join(READERS)
            raise ConfigError(f"{path}: {where}.kind: unknown source kind {kind!r} ({known})")
        need = reader.keys[0]
        location = next((item[k] for k in reader.keys if item.get(k) is not None), None)
        if not location:
            raise ConfigError(f"{path}: {where} needs a {need!r}")
        location = _expect(path, f"{where}.{need}", location, str)
        if "://" not in location:
            location = str((path.parent / location).resolve())
        problem = reader.check(location)
        if problem:
            raise ConfigError(f"{path}: {where}.{need}: {problem}")
        title = _expect(path, f"{where}.title", item.get("title", ""), str)
        sid = item.get("id") or _slug(title or location)
        sid = _expect(path, f"{where}.id", sid, str)
        if not _ID_RE.match(sid):
            raise ConfigError(
                f"{path}: {where}.id {sid!r} must be letters, digits, '-', '_' or '.'"
            )
        if sid in seen:
            raise ConfigError(f"{path}: {where}.id {sid!r} is used twice")
        seen.add(sid)
        tags = _coerce(path, f"{where}.tags", item.get("tags", []), tuple[str, ...])
        interval = _expect(path, f"{where}.interval", item.get("interval", 60), int)
        enabled = _expect(path, f"{where}.enabled", item.get("enabled", True), bool)
        out.append(Source(sid, kind, location, title, tags, max(interval, 1), enabled))
    return tuple(out)


def _slug(text: str) -> str:
    text = re.sub(r"^[a-z]+://", "", text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return (slug or "source")[:64]


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
        sid = _unique_id(item.id or _slug(item.title or item.url), taken)
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
    updated = text.rstrip("\n") + "\n" + "".join(blocks)
    try:
        raw = tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot add sources: {exc}") from exc
    result = _build_config(path, raw, {})
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(updated, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {exc}") from exc
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
    try:
        raw = tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot edit source {source_id!r}: {exc}") from exc
    _build_config(path, raw, {})
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(updated, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {exc}") from exc


def _unique_id(base: str, taken: set[str]) -> str:
    base = base if _ID_RE.match(base) else _slug(base)
    candidate, n = base[:64], 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate = base[: 64 - len(suffix)] + suffix
        n += 1
    return candidate


def _toml_str(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
