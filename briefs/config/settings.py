"""The settings: one frozen dataclass per section of the file, and the whole Config."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefs.errors import ConfigError
from briefs.models import DEFAULT_BRIEF, Source

# An edition slot names files and URLs: lowercase letters, digits and "-".
SLOT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# A brief's id names its rows in the store and (by default) its folder: the same form.
BRIEF_ID = SLOT_NAME


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
    ``embed_seconds`` is the most a run spends embedding (the rest waits for a later run); a
    run with more than ``embed_max_new`` new articles (a first poll, a catch-up) groups them
    by their terms and leaves their embeddings to later runs;
    ``recluster`` clusters the part of the window a run touched again offline (briefs.group);
    ``consensus_orders`` > 1 places a run's articles in that many orders and keeps what most
    of them agree on (briefs.group.consensus; 0 or 1: once, in time order).
    """

    window_hours: float = 72.0
    threshold: float = 0.25
    linkage: str = "average"
    half_life_hours: float = 0.0
    entity_weight: float = 1.5
    title_weight: float = 2.0
    lead_words: int = 100
    prior_docs: float = 100.0
    semantic: bool = True
    embed_seconds: float = 30.0
    embed_max_new: int = 2000
    recluster: bool = False
    consensus_orders: int = 32


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
    section_feed_items: int = 50  # each section's own story feeds (stories-<section>.xml)
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
    # several pollers (briefs daemon --role poller): a poller claims this many due sources at a
    # time, for this long (a killed poller's sources are polled by another after it)
    claim_batch: int = 50
    lease_seconds: float = 900.0


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


# What a [[notify]] target can be sent: the edition, each breaking story, sources that failed.
NOTIFY_KINDS = ("edition", "story", "failures")


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """One ``[[notify]]`` target: an Apprise URL (from the environment) and what it is sent.

    ``url_env`` names the environment variable holding the URL; or ``url`` has ``${VAR}``
    placeholders for its secret parts. ``send``: any of NOTIFY_KINDS. ``brief``: the id of
    the brief whose editions it follows ("": the only brief, or the first of [[briefs]]).
    ``headlines``: how many an edition's notification lists; ``min_outlets``: how many
    outlets a new story needs to be pushed on its own; ``format``: "auto" (what the service
    takes), "markdown" or "text".
    """

    name: str
    url: str = ""
    url_env: str = ""
    send: tuple[str, ...] = ("edition",)
    brief: str = ""
    headlines: int = 5
    min_outlets: int = 3
    format: str = "auto"
    timeout: float = 30.0
    max_attempts: int = 5  # for temporary failures (5xx, timeouts, connection refused)
    retry_delay: float = 60.0  # seconds before the first retry; doubles after each failure


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """How ``briefs serve`` (and ``briefs daemon --serve``) serves the output folder."""

    host: str = "127.0.0.1"
    port: int = 8080
    max_age: int = 300  # seconds clients and proxies may cache a response


@dataclass(frozen=True, slots=True)
class BriefSpec:
    """One brief of the desk: what it draws from, its own settings, its readers, its folder.

    Every brief shares the poll, the store and the grouping; each ranks, summarizes and
    renders its own edition from the stories of the sources it draws from. ``settings`` are
    the [brief] table with the brief's own keys over it (its ``site_url`` already ends in its
    folder). ``tags`` and ``sources`` choose the sources (either matches; neither: every
    source). ``schedule`` (cron entries, as schedule.editions) and ``recipients`` are its own
    or the shared ones. ``output`` is its folder under the output folder ("": the folder
    itself). Built by :mod:`briefs.config.briefs`; ``Config.briefs`` lists them in file order.
    """

    id: str
    settings: BriefSettings
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    schedule: tuple[str, ...] = ("30 6 * * *",)
    recipients: tuple[str, ...] = ()
    output: str = ""

    @property
    def title(self) -> str:
        """The brief's title (its masthead)."""
        return self.settings.title

    @property
    def language(self) -> str:
        """The language of the brief's own text ("en", "fr", ...)."""
        return self.settings.language

    @property
    def selective(self) -> bool:
        """Whether the brief draws from some sources only (``tags`` or ``sources`` given)."""
        return bool(self.tags or self.sources)

    def draws_from(self, source: Source) -> bool:
        """Whether articles of this source feed the brief."""
        if not self.selective:
            return True
        return source.id in self.sources or bool(set(source.tags) & set(self.tags))


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
    notify: tuple[NotifySettings, ...] = ()
    # The briefs of the desk ([[briefs]]; empty: the one brief the sections above describe)
    # and the one this Config is for: ``brief``, ``output`` (the brief's folder: the output
    # folder, or a folder in it), ``schedule.editions`` and ``email.recipients`` are that
    # brief's (see :meth:`for_brief`).
    briefs: tuple[BriefSpec, ...] = ()
    brief_id: str = DEFAULT_BRIEF

    @property
    def desk(self) -> tuple[BriefSpec, ...]:
        """Every brief of this configuration, in file order (at least one)."""
        if self.briefs:
            return self.briefs
        return (
            BriefSpec(
                DEFAULT_BRIEF,
                self.brief,
                schedule=self.schedule.editions,
                recipients=self.email.recipients,
            ),
        )

    @property
    def current(self) -> BriefSpec:
        """The brief this Config is for."""
        for spec in self.desk:
            if spec.id == self.brief_id:
                return spec
        return self.desk[0]

    @property
    def root(self) -> Path:
        """The output folder every brief's folder is in (what ``briefs serve`` serves)."""
        return self.output.parent if self.current.output else self.output

    def with_root(self, root: Path) -> Config:
        """This configuration writing under another output folder (``--out``)."""
        folder = self.current.output
        return dataclasses.replace(self, output=root / folder if folder else root)

    @property
    def several(self) -> bool:
        """Whether the desk has more than one brief."""
        return len(self.desk) > 1

    def for_brief(self, brief_id: str) -> Config:
        """This configuration as one brief sees it: its settings, folder, schedule, readers."""
        spec = next((b for b in self.desk if b.id == brief_id), None)
        if spec is None:
            known = ", ".join(b.id for b in self.desk)
            raise ConfigError(f"{self.path}: no brief {brief_id!r} (briefs: {known})")
        if not self.briefs:
            return self
        root = self.root
        return dataclasses.replace(
            self,
            brief=spec.settings,
            output=root / spec.output if spec.output else root,
            schedule=dataclasses.replace(self.schedule, editions=spec.schedule),
            email=dataclasses.replace(self.email, recipients=spec.recipients),
            brief_id=spec.id,
        )

    def brief_ids(self, asked: Sequence[str] | None = None) -> tuple[str, ...]:
        """The briefs asked for, checked, duplicates dropped (every brief of the desk when none
        is named); an unknown id is a ConfigError naming the known ones."""
        if asked is None:
            return tuple(b.id for b in self.desk)
        for brief_id in asked:
            self.for_brief(brief_id)
        return tuple(dict.fromkeys(asked))

    def failures_in_brief(self, failed: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        """The failed sources (``(Source.name, error)``) the current brief draws from: its
        edition lists those."""
        if not self.current.selective:
            return failed
        mine = {s.name for s in self.sources if self.current.draws_from(s)}
        return tuple((name, error) for name, error in failed if name in mine)

    def brief_sources(self) -> frozenset[str] | None:
        """The ids of the sources the current brief draws from (None: every source, also
        those no longer configured)."""
        spec = self.current
        if not spec.selective:
            return None
        return frozenset(s.id for s in self.sources if spec.draws_from(s))

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


SECTIONS: dict[str, type[Any]] = {
    "fetch": FetchSettings,
    "group": GroupSettings,
    "summary": SummarySettings,
    "brief": BriefSettings,
    "schedule": ScheduleSettings,
    "email": EmailSettings,
    "serve": ServeSettings,
}
TOP_KEYS = {"database", "output", "templates", "sources", "briefs", "notify", *SECTIONS}
