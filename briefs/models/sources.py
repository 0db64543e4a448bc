"""What is read: sources, their polling state, and the articles they give."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

__all__ = [
    "Article",
    "BodyOrigin",
    "FeedState",
    "ImapSettings",
    "MailboxMemory",
    "PageRecord",
    "PollResult",
    "SeenMessage",
    "Sketch",
    "Source",
    "SourceKind",
    "SourceOption",
    "word_count",
]


# A kind of source: a key of the reader registry (briefs.ingest.readers.READERS), checked
# when the configuration is loaded.
SourceKind = str
# "mail": a newsletter's own text (briefs.ingest.letters), never completed by fetching a page
BodyOrigin = Literal["feed", "extracted", "file", "mail", "none"]
# A reader's own setting of a source (``[[sources]]`` keys beyond the common ones, such as an
# IMAP source's host and folder), as the configuration checked it.
SourceOption = str | int | float | bool


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
class Sketch:
    """The MinHash signature of an article's text and its LSH band keys (near-duplicates)."""

    signature: bytes
    band_keys: tuple[int, ...]


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


_WORD = re.compile(r"\w+")


def word_count(text: str) -> int:
    """Words in a text (runs of letters and digits): what a teaser is measured in."""
    return len(_WORD.findall(text))
