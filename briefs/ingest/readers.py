"""The registry of source readers: one per source kind (``[[sources]] kind = ...``).

Polling is one facade over many readers, as feedparser's ``parse`` is one facade over its URL,
file and string handlers: :func:`briefs.ingest.poll.poll_sources` keeps the fault barrier, the
schedule and the state of every source, and hands each source to the reader of its kind
(:data:`READERS`). A reader knows four things about its kind:

- the config keys naming its location (``keys``, the first one named in messages), its own
  further keys and their types (``options``: an IMAP source's folder, port, ...), the location
  they make (``locate``: a path resolved against the config's folder, an IMAP folder's URL)
  and whether a location is valid (``check``: config validation names the key and the file);
- how to read it (``read``), with what the facade offers (:class:`PollIO`: fetching a feed
  over HTTP, parsing a local feed document, running blocking work in a thread);
- whether it belongs in an OPML export (``exportable``) and how the CLI names it (``label``).

This module imports no settings and no parser, so the configuration can validate sources with
it. Adding a kind is a reader class here (its reading code in a module of its own when it is
long) and its entry in :data:`READERS`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from briefs.errors import SourceError
from briefs.models import (
    Article,
    FeedState,
    ImapSettings,
    MailboxMemory,
    PollResult,
    SeenMessage,
    Source,
    SourceOption,
)

__all__ = [
    "READERS",
    "FeedReader",
    "FilesReader",
    "ImapReader",
    "MaildirReader",
    "PollIO",
    "SourceReader",
    "reader_for",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class PollIO(Protocol):
    """What the polling facade gives a reader for one poll."""

    @property
    def now(self) -> dt.datetime:
        """The poll's time (timezone-aware)."""

    async def fetch_feed(self, source: Source, state: FeedState) -> PollResult:
        """Fetch the source's feed over HTTP (conditional GET, redirects, limits) and parse it."""

    async def parse_file(self, source: Source, state: FeedState, path: str) -> PollResult:
        """Read a local feed document (within ``fetch.max_bytes``) and parse it."""

    async def in_thread(self, func: Callable[..., T], /, *args: Any) -> T:
        """Run blocking work off the event loop."""

    def succeeded(
        self, source: Source, state: FeedState, articles: tuple[Article, ...], status: str
    ) -> PollResult:
        """The result of a successful read of ``articles``."""

    def failed(self, source: Source, state: FeedState, error: str) -> PollResult:
        """The result of a failed read (retried with backoff)."""

    def mailbox_memory(self, source: Source) -> MailboxMemory:
        """What a mailbox source has read before (the store's; nothing when there is none)."""


# a reader's own keys: (key, the type its value must have)
Options = tuple[tuple[str, type], ...]


class SourceReader(Protocol):
    """A source kind: its location keys and checks, how it is read, how it is described."""

    kind: str
    keys: tuple[str, ...]
    label: str
    options: Options

    def locate(
        self, value: str, options: Mapping[str, SourceOption], base: Path
    ) -> tuple[str, dict[str, SourceOption]]:
        """The location (from the value of its key, a relative path resolved against ``base``,
        the config's folder) and the options to keep; a bad option raises ``ValueError("key:
        what is wrong")``."""

    def check(self, location: str) -> str | None:
        """What is wrong with ``location`` for this kind (None: nothing)."""

    async def read(self, io: PollIO, source: Source, state: FeedState) -> PollResult:
        """Poll the source once (failures raise; the facade records them)."""

    def exportable(self, source: Source) -> bool:
        """Whether an OPML export lists the source (other readers can use it)."""


def _scheme(location: str) -> str:
    return location.partition("://")[0].lower() if "://" in location else ""


def _is_local(location: str) -> bool:
    return "://" not in location or location.startswith("file://")


def _resolved(value: str, base: Path) -> str:
    """A URL as it is; a path resolved against the config's folder."""
    return value if "://" in value else str((base / value).resolve())


class FeedReader:
    """An RSS, Atom or JSON feed: an http(s) URL, or a local file (a path or ``file://``)."""

    kind: str = "feed"
    keys: tuple[str, ...] = ("url", "path")
    label: str = "feed"
    options: Options = ()

    def locate(
        self, value: str, options: Mapping[str, SourceOption], base: Path
    ) -> tuple[str, dict[str, SourceOption]]:
        """A URL, or a path resolved against the config's folder."""
        return _resolved(value, base), {}

    def check(self, location: str) -> str | None:
        """An http(s) URL with a host, or a local file that exists."""
        scheme = _scheme(location)
        if scheme and scheme not in ("http", "https", "file"):
            return f"{location!r} is not an http(s) URL or a local file"
        if scheme in ("http", "https"):
            return None if urlsplit(location).hostname else f"{location!r} has no host name"
        local = Path(location.removeprefix("file://"))
        return None if local.exists() else f"no such file {local}"

    async def read(self, io: PollIO, source: Source, state: FeedState) -> PollResult:
        """Fetch and parse the feed (a local file is read, never fetched)."""
        if _is_local(source.location):
            return await io.parse_file(source, state, source.location.removeprefix("file://"))
        return await io.fetch_feed(source, state)

    def exportable(self, source: Source) -> bool:
        """Feeds on the web (a local file means nothing to another reader)."""
        return source.location.startswith(("http://", "https://"))


class _LocalFolder:
    """What the readers of a folder on this machine share: its ``path`` key, resolved against
    the config's folder, no options, and never exported (it means nothing elsewhere)."""

    keys: tuple[str, ...] = ("path",)
    options: Options = ()
    folder: str = "folder"  # what the location must be, for the message when it is not

    def locate(
        self, value: str, options: Mapping[str, SourceOption], base: Path
    ) -> tuple[str, dict[str, SourceOption]]:
        """A path resolved against the config's folder."""
        return _resolved(value, base), {}

    def _missing(self, location: str) -> str | None:
        """Why ``location`` is not a local folder that exists, if it is not."""
        if _scheme(location):
            return f"{location!r} is not a local {self.folder}"
        return None if Path(location).is_dir() else f"no such folder {location}"

    def exportable(self, source: Source) -> bool:
        """Never: other readers cannot use a folder on this machine."""
        return False


class FilesReader(_LocalFolder):
    """A folder of seed documents (plain text or Markdown, one article each)."""

    kind: str = "files"
    label: str = "seed-document folder"

    def check(self, location: str) -> str | None:
        """A local folder that exists."""
        return self._missing(location)

    async def read(self, io: PollIO, source: Source, state: FeedState) -> PollResult:
        """Read every document of the folder (an unreadable one is logged and skipped)."""
        # the seed-document reader is imported when a folder is read, not with the settings
        from briefs.ingest.files import read_seed_folder

        articles, errors = await io.in_thread(read_seed_folder, source, io.now)
        for error in errors:
            log.warning("%s: %s", source.id, error)
        return io.succeeded(source, state, tuple(articles), "ok")


def _mailbox_result(io: PollIO, source: Source, state: FeedState, read: Any) -> PollResult:
    """The poll's result from a :class:`briefs.ingest.mailbox.MailboxRead`: its articles and
    read messages kept even when the connection was lost after them (then the source's error)."""
    for skipped in read.skipped:
        log.warning("%s: %s", source.id, skipped)
    seen: tuple[SeenMessage, ...] = read.seen
    if read.lost is not None:
        result = io.failed(source, state, read.lost)
    else:
        result = io.succeeded(source, state, read.articles, read.status)
    return dataclasses.replace(result, articles=read.articles, seen=seen)


class MaildirReader(_LocalFolder):
    """A maildir folder (``cur/``, ``new/``, ``tmp/``) of newsletters, one article or more
    per message (:mod:`briefs.ingest.letters`); the folder is never changed."""

    kind: str = "maildir"
    label: str = "maildir"
    folder: str = "maildir folder"

    def check(self, location: str) -> str | None:
        """A local folder with ``cur/`` and ``new/`` in it."""
        if (problem := self._missing(location)) is not None:
            return problem
        folder = Path(location)
        if not (folder / "cur").is_dir() or not (folder / "new").is_dir():
            return f"{folder} is not a maildir (it has no cur/ and new/ folders)"
        return None

    async def read(self, io: PollIO, source: Source, state: FeedState) -> PollResult:
        """Read the messages not read before."""
        from briefs.ingest.mailbox import read_maildir

        read = await io.in_thread(read_maildir, source, io.mailbox_memory(source), io.now)
        return _mailbox_result(io, source, state, read)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECURITY = ("tls", "starttls", "none")


class ImapReader:
    """A folder of an IMAP mailbox, read for newsletters (:mod:`briefs.ingest.mailbox`): its
    host, port, security (``tls``, ``starttls`` or, for a server on this machine, ``none``),
    folder, username and the environment variable holding the password."""

    kind: str = "imap"
    keys: tuple[str, ...] = ("host",)
    label: str = "IMAP folder"
    options: Options = (
        ("username", str),
        ("folder", str),
        ("security", str),
        ("port", int),
        ("password_env", str),
        ("cafile", str),
        ("timeout", float),
    )

    def locate(
        self, value: str, options: Mapping[str, SourceOption], base: Path
    ) -> tuple[str, dict[str, SourceOption]]:
        """The folder's URL (``imaps://user@host:993/INBOX``); the options checked."""
        kept = dict(options)
        host = kept["host"] = value.strip()
        if not host or any(c in host for c in "/@ :?#"):
            raise ValueError(f"host: {value!r} is not a host name")
        if not str(kept.get("username", "")).strip():
            raise ValueError("username: an IMAP source needs its username")
        if not str(kept.get("folder", "INBOX")).strip():
            raise ValueError("folder: empty folder name")
        security = kept.get("security", "tls")
        if security not in _SECURITY:
            raise ValueError(f"security: {security!r} is not one of {', '.join(_SECURITY)}")
        if security == "none" and not _loopback(host):
            raise ValueError(
                "security: 'none' would send the password in clear; only for a server on "
                "this machine (127.0.0.1, ::1, localhost): use 'tls' or 'starttls'"
            )
        port = kept.get("port", 0)
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port: {port!r} is not a port number")
        if not _ENV_NAME.match(str(kept.get("password_env", "BRIEFS_IMAP_PASSWORD"))):
            raise ValueError("password_env: not an environment variable name")
        timeout = kept.get("timeout", 30.0)
        if not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
            raise ValueError(f"timeout: {timeout!r} is not a number of seconds (0 to 3600)")
        if kept.get("cafile"):
            cafile = Path(_resolved(str(kept["cafile"]), base))
            if not cafile.is_file():
                raise ValueError(f"cafile: no such file {cafile}")
            kept["cafile"] = str(cafile)
        order = ["host", *(key for key, _ in self.options)]
        kept = {key: kept[key] for key in order if key in kept}
        url = ImapSettings.of(Source("", self.kind, "", options=tuple(kept.items()))).url
        return url, kept

    def check(self, location: str) -> str | None:
        """The folder's URL (made by :meth:`locate`)."""
        parts = urlsplit(location)
        ok = parts.scheme in ("imap", "imaps") and parts.hostname
        return None if ok else f"{location!r} is not an IMAP folder"

    async def read(self, io: PollIO, source: Source, state: FeedState) -> PollResult:
        """Read the messages not read before (the folder is opened read-only)."""
        from briefs.ingest.mailbox import read_imap

        settings = ImapSettings.of(source)
        password = os.environ.get(settings.password_env)
        if not password:
            raise SourceError(
                f"${settings.password_env} is not set: it holds the IMAP password of "
                f"{settings.username} at {settings.host} (password_env names the variable)"
            )
        memory = io.mailbox_memory(source)
        read = await io.in_thread(read_imap, source, settings, password, memory, io.now)
        return _mailbox_result(io, source, state, read)

    def exportable(self, source: Source) -> bool:
        """Never: another reader cannot use a mailbox."""
        return False


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_READERS: tuple[SourceReader, ...] = (FeedReader(), FilesReader(), ImapReader(), MaildirReader())
READERS: Mapping[str, SourceReader] = {r.kind: r for r in _READERS}


def reader_for(source: Source) -> SourceReader:
    """The reader of the source's kind."""
    return READERS[source.kind]
