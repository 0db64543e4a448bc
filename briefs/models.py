"""Typed, frozen data passed between the pipeline stages.

Every stage takes and returns these; nothing raw from a parser or the database travels past the
module that produced it. All datetimes are timezone-aware and stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

__all__ = [
    "DEFAULT_BRIEF",
    "Article",
    "Brief",
    "BriefStory",
    "Delivery",
    "DeliveryReport",
    "DeliveryStatus",
    "Edition",
    "EditionRecord",
    "FeedState",
    "ImapSettings",
    "MailboxMemory",
    "Notification",
    "NotificationStatus",
    "NotifyReport",
    "PageRecord",
    "PollResult",
    "Printing",
    "RunReport",
    "SearchHit",
    "SeenMessage",
    "Sentence",
    "Sketch",
    "Source",
    "SourceKind",
    "Story",
    "StoryChange",
    "StoryLink",
    "Summary",
    "TimelineEntry",
]

# The id of the one brief of a configuration without [[briefs]] tables; the editions and
# deliveries stored before there were several briefs are this brief's.
DEFAULT_BRIEF = "default"

# A kind of source: a key of the reader registry (briefs.ingest.readers.READERS), checked
# when the configuration is loaded.
SourceKind = str
# "mail": a newsletter's own text (briefs.ingest.letters), never completed by fetching a page
BodyOrigin = Literal["feed", "extracted", "file", "mail", "none"]
# A reader's own setting of a source (``[[sources]]`` keys beyond the common ones, such as an
# IMAP source's host and folder), as the configuration checked it.
SourceOption = str | int | float | bool
# pending: to send (again); sending: handed to the SMTP server, outcome not yet recorded;
# sent; failed: refused for good or gave up; uncertain: a crash while sending (not resent).
DeliveryStatus = Literal["pending", "sending", "sent", "failed", "uncertain"]
# A notification is "held" until it is to be sent: composed when its edition was built by hand,
# released by `briefs notify` (the daemon releases its own editions' at once).
NotificationStatus = Literal["held", "pending", "sending", "sent", "failed", "uncertain"]


@dataclass(frozen=True, slots=True)
class Source:
    """A configured place articles come from: a feed URL/file or a folder of seed documents."""

    id: str
    kind: SourceKind
    location: str
    title: str = ""
    tags: tuple[str, ...] = ()
    interval_minutes: int = 60
    enabled: bool = True
    # the reader's own keys (briefs.ingest.readers: ``options``), in the order it declares them
    options: tuple[tuple[str, SourceOption], ...] = ()

    @property
    def name(self) -> str:
        """The name shown to people: the configured title, else the id."""
        return self.title or self.id

    def option(self, key: str, default: SourceOption) -> SourceOption:
        """The value of one of the reader's own keys, else ``default``."""
        return next((value for k, value in self.options if k == key), default)


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """How one IMAP source is reached (its ``[[sources]]`` keys; the password is in the
    environment variable ``password_env``, never in the file)."""

    host: str
    username: str
    folder: str = "INBOX"
    security: str = "tls"
    port: int = 0
    password_env: str = "BRIEFS_IMAP_PASSWORD"
    cafile: str = ""
    timeout: float = 30.0

    @property
    def imap_port(self) -> int:
        """The configured port, or the usual one for the security mode."""
        return self.port or (993 if self.security == "tls" else 143)

    @property
    def url(self) -> str:
        """The folder as a URL (the source's location): ``imaps://user@host:993/INBOX``."""
        scheme = "imaps" if self.security == "tls" else "imap"
        tail = ";security=none" if self.security == "none" else ""
        user = quote(self.username, safe="")
        return f"{scheme}://{user}@{self.host}:{self.imap_port}/{quote(self.folder)}{tail}"

    @classmethod
    def of(cls, source: Source) -> ImapSettings:
        """The settings of an IMAP source (checked when the configuration was loaded)."""
        return cls(
            host=str(source.option("host", "")),
            username=str(source.option("username", "")),
            folder=str(source.option("folder", "INBOX")),
            security=str(source.option("security", "tls")),
            port=int(source.option("port", 0)),
            password_env=str(source.option("password_env", "BRIEFS_IMAP_PASSWORD")),
            cafile=str(source.option("cafile", "")),
            timeout=float(source.option("timeout", 30.0)),
        )


@dataclass(frozen=True, slots=True)
class FeedState:
    """What we remember about polling one source (health, caching validators, backoff).

    ``source_url`` is the configured location this state belongs to: when the configuration
    points the source elsewhere, the old state (moved URL, validators, disabled flag) is dropped.
    ``url`` is where the feed lives now (after a permanent redirect). ``retry_until`` is a time
    the server asked us not to come back before (Retry-After); ``floor_minutes`` the feed's own
    minimum interval (``<ttl>`` or Cache-Control max-age).
    """

    source_id: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None
    last_polled: dt.datetime | None = None
    next_poll: dt.datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    disabled: bool = False
    source_url: str | None = None
    last_success: dt.datetime | None = None
    retry_until: dt.datetime | None = None
    floor_minutes: int | None = None
    site_url: str | None = None
    feed_title: str | None = None
    # which parser read the last document ("fastfeedparser", "feedparser", "jsonfeed") and, with
    # feedparser, why the fast path was not taken or not trusted
    parser: str | None = None
    parser_fallback: str | None = None


@dataclass(frozen=True, slots=True)
class PageRecord:
    """The remembered outcome of fetching one article page for its full text (cached per URL).

    ``status`` is "ok" (``text`` holds the extracted text), "failed" or "refused" (an unsafe or
    unfetchable URL). ``next_try`` is when a transient failure may be retried; None means never.
    """

    url: str
    status: Literal["ok", "failed", "refused"]
    fetched: dt.datetime
    text: str = ""
    error: str | None = None
    http_status: int | None = None
    attempts: int = 1
    next_try: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One news article as stored: normalized, plain text, UTC times."""

    id: str
    source_id: str
    url: str
    title: str
    published: dt.datetime
    fetched: dt.datetime
    outlet: str
    guid: str = ""
    author: str = ""
    language: str = ""
    summary: str = ""
    body: str = ""
    body_origin: BodyOrigin = "none"
    image_url: str | None = None
    content_hash: str = ""
    duplicate_of: str | None = None
    # the item's own categories as printed (RSS/Atom <category>, JSON Feed tags, a seed
    # document's tags: line): a category that names a configured section places the article
    tags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The best text we have: the body, else the feed summary."""
        return self.body or self.summary


@dataclass(frozen=True, slots=True)
class StoryLink:
    """Why one article is in its story: what it matched when it joined, and how well.

    ``via`` is the member it was most similar to (None when it started the story);
    ``similarity`` is the linkage score it joined with (0 for a story's first article, 1 for a
    duplicate copy); ``shared`` are the terms it shares with ``via``, strongest first.
    """

    article_id: str
    similarity: float
    via: str | None = None
    shared: tuple[str, ...] = ()
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class StoryChange:
    """A re-clustering of the window that split or merged stories (see briefs.group).

    ``kind``: "split_from" (this story came off ``other``, which kept its id as the larger
    part), "split_off" (part of this story became ``other``), "absorbed" (``other`` joined this
    story, which kept its id as the larger part) or "merged_into" (this story joined ``other``
    and has no members of its own any more).
    """

    kind: str
    other: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Story:
    """A group of articles about one event, with a stable id across days.

    ``terms`` are the terms its members share most (why they are together); ``links`` explain
    individual members (the stage that changes a story returns links for the articles it added);
    ``changes`` are the splits and merges that happened to it in this grouping run.
    """

    id: str
    article_ids: tuple[str, ...]
    first_seen: dt.datetime
    last_updated: dt.datetime
    title: str = ""
    terms: tuple[str, ...] = ()
    links: tuple[StoryLink, ...] = ()
    changes: tuple[StoryChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence printed by a source, with where it came from."""

    text: str
    article_id: str
    outlet: str
    url: str
    position: int = 0


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One earlier day of a developing story, told by one sentence a report of that day printed."""

    day: dt.date
    sentence: Sentence


@dataclass(frozen=True, slots=True)
class Summary:
    """The extractive summary of one story.

    For a developing story the sentences lead with what is new since ``since`` (the previous
    edition), and ``timeline`` tells its earlier days, newest first. ``headline_id`` is the
    article whose title (or first sentence) the headline is; empty for a label ("From ...").
    """

    story_id: str
    headline: str
    sentences: tuple[Sentence, ...]
    outlets: tuple[str, ...]
    timeline: tuple[TimelineEntry, ...] = ()
    headline_id: str = ""


@dataclass(frozen=True, slots=True)
class Edition:
    """One brief's identity: a local date plus an optional slot (e.g. "morning")."""

    date: dt.date
    slot: str = ""

    @property
    def id(self) -> str:
        """A stable identifier used in file names, guids and the database."""
        return f"{self.date.isoformat()}-{self.slot}" if self.slot else self.date.isoformat()


@dataclass(frozen=True, slots=True)
class BriefStory:
    """A story as it appears in one edition.

    ``since`` is when the news of this edition starts for it (the previous edition's cut-off,
    else the start of the edition's day): reports from then on are its new reports, ``added``
    counts them; ``told``: the story was in the previous edition. ``status`` "quiet" marks a
    story with no new report (kept only when ``brief.nothing_new = "mark"``).
    """

    story: Story
    summary: Summary
    articles: tuple[Article, ...]
    status: Literal["new", "developing", "quiet"] = "new"
    day: int = 1
    added: int = 0
    section: str = ""
    score: float = 0.0
    since: dt.datetime | None = None
    told: bool = False  # it was in the previous edition: its earlier reports were told

    @property
    def outlets(self) -> tuple[str, ...]:
        """Distinct outlets that reported the story, in order of first report."""
        return self.summary.outlets

    @property
    def image_url(self) -> str | None:
        """The lead image of the first member article that has one."""
        for article in self.articles:
            if article.image_url:
                return article.image_url
        return None


@dataclass(frozen=True, slots=True)
class Brief:
    """One edition's ranked stories, ready to render."""

    edition: Edition
    generated_at: dt.datetime
    title: str
    stories: tuple[BriefStory, ...]
    failed_sources: tuple[tuple[str, str], ...] = ()
    timezone: str = "UTC"

    @property
    def newest_report(self) -> dt.datetime | None:
        """When the newest report in the edition was published (None for an empty edition).

        The edition shows this, not the build time: an old edition built today is not news
        of today.
        """
        return max((a.published for s in self.stories for a in s.articles), default=None)


@dataclass(frozen=True, slots=True)
class EditionRecord:
    """A built edition as remembered by the store (for archives and feeds)."""

    edition: Edition
    built_at: dt.datetime
    title: str
    content_html: str
    summary: str
    story_count: int
    # (story id, member articles when built) for each story in the edition: growth between
    # editions and the per-story feed.
    story_counts: tuple[tuple[str, int], ...] = ()
    brief: str = DEFAULT_BRIEF  # the id of the brief it is an edition of


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A stored article that matched a search: the article, its story, how well it matched
    (``score``: higher is better, relevance weighed by recency) and a snippet of its text as
    ``(text, matched)`` pieces, raw text that whoever shows it escapes."""

    article_id: str
    story_id: str | None
    source_id: str
    title: str
    outlet: str
    url: str
    published: dt.datetime
    score: float
    snippet: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class Sketch:
    """The MinHash signature of an article's text and its LSH band keys (near-duplicates)."""

    signature: bytes
    band_keys: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Printing:
    """A stored article as near-duplicate linking sees it: who printed it when, its original
    (if it is itself a copy) and its MinHash signature; none of its text."""

    id: str
    source_id: str
    published: dt.datetime
    duplicate_of: str | None
    signature: bytes


@dataclass(frozen=True, slots=True)
class PollResult:
    """The outcome of polling one source once.

    ``sketches`` are the near-duplicate sketches of those articles that have one, made where
    the feed was parsed (see :mod:`briefs.ingest.dedupe`), by article id.
    """

    source: Source
    articles: tuple[Article, ...] = ()
    state: FeedState | None = None
    error: str | None = None
    not_modified: bool = False
    sketches: dict[str, Sketch] = field(default_factory=dict)
    # the messages a mailbox source read in this poll, remembered with its articles
    seen: tuple[SeenMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class SeenMessage:
    """A message a mailbox source has read, remembered so that it is never read again.

    ``message_id`` is its Message-ID (or, without one, a hash of its headers); an IMAP message
    also has its folder's ``uidvalidity`` and its ``uid``, a maildir message its file's unique
    ``name`` (the part before ``:2,``, which survives the message's moves and flag changes).
    """

    source_id: str
    message_id: str
    seen: dt.datetime
    uidvalidity: int | None = None
    uid: int | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class MailboxMemory:
    """What a mailbox source has read before: the Message-IDs, the maildir names, and per IMAP
    UIDVALIDITY the highest UID (a folder whose UIDVALIDITY changed is read by Message-ID)."""

    message_ids: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    last_uid: tuple[tuple[int, int], ...] = ()

    def highest_uid(self, uidvalidity: int) -> int:
        """The highest UID read under this UIDVALIDITY (0: none)."""
        return next((uid for v, uid in self.last_uid if v == uidvalidity), 0)


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run did, for the CLI and the logs."""

    edition: Edition
    sources_polled: int
    sources_failed: tuple[tuple[str, str], ...]
    new_articles: int
    stories: int
    files: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)
    # the part of a stage's seconds spent in worker processes, alongside the rest (CPU time)
    timings_elsewhere: dict[str, float] = field(default_factory=dict)
    unchanged: bool = False  # nothing new: the edition already built was left as it was
    # outputs that could not be made (e.g. the email over its size cap); the others were written
    problems: tuple[str, ...] = ()
    # article pages the address guard refused in this run, and one of them ("URL: reason")
    pages_refused: int = 0
    page_refused_example: str = ""
    brief: str = DEFAULT_BRIEF  # the brief whose edition this is


@dataclass(frozen=True, slots=True)
class Delivery:
    """The email of one edition to one recipient, as recorded in the store."""

    edition_id: str
    recipient: str
    status: DeliveryStatus
    attempts: int = 0
    created: dt.datetime | None = None
    last_attempt: dt.datetime | None = None
    next_attempt: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    message_id: str | None = None
    error: str | None = None
    brief: str = DEFAULT_BRIEF  # the brief whose edition it is


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did for one edition."""

    edition_id: str
    sent: tuple[str, ...] = ()
    already_sent: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    uncertain: tuple[str, ...] = ()
    written: tuple[str, ...] = ()  # .eml files of a dry run

    @property
    def ok(self) -> bool:
        """True when every recipient has the edition (or a dry run wrote every file)."""
        return not (self.failed or self.pending or self.uncertain)


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification of one target about one edition, and its delivery as recorded.

    ``kind`` is "edition", "story" (``item``: the story id) or "failures"; ``markdown`` and
    ``text`` are the same body in both forms (the service's takes one), composed when the
    edition was built, so a retry sends what the first attempt sent.
    """

    edition_id: str
    target: str
    kind: str
    item: str
    title: str
    markdown: str
    text: str
    status: NotificationStatus = "held"
    attempts: int = 0
    created: dt.datetime | None = None
    last_attempt: dt.datetime | None = None
    next_attempt: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    error: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(edition, target, kind, item): what is notified once."""
        return (self.edition_id, self.target, self.kind, self.item)

    @property
    def label(self) -> str:
        """How logs and reports name it: "2024-04-06 to phone (story 3f2a...)"."""
        about = f"{self.kind} {self.item[:12]}" if self.item else self.kind
        return f"{self.edition_id} to {self.target} ({about})"


@dataclass(frozen=True, slots=True)
class NotifyReport:
    """What one notification run did (notifications named by :attr:`Notification.label`)."""

    sent: tuple[str, ...] = ()
    already_sent: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    uncertain: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every notification asked for has been sent."""
        return not (self.failed or self.pending or self.uncertain)


_WORD = re.compile(r"\w+")


def word_count(text: str) -> int:
    """Words in a text (runs of letters and digits): what a teaser is measured in."""
    return len(_WORD.findall(text))
