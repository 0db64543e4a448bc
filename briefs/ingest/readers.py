"""The registry of source readers: one per source kind (``[[sources]] kind = ...``).

Polling is one facade over many readers, as feedparser's ``parse`` is one facade over its URL,
file and string handlers: :func:`briefs.ingest.poll.poll_sources` keeps the fault barrier, the
schedule and the state of every source, and hands each source to the reader of its kind
(:data:`READERS`). A reader knows four things about its kind:

- the config keys naming its location (``keys``, the first one named in messages) and
  whether a location is valid (``check``: config validation names the key and the file);
- how to read it (``read``), with what the facade offers (:class:`PollIO`: fetching a feed
  over HTTP, parsing a local feed document, running blocking work in a thread);
- whether it belongs in an OPML export (``exportable``) and how the CLI names it (``label``).

This module imports no settings and no parser, so the configuration can validate sources with
it. Adding a kind is a reader class here (its reading code in a module of its own when it is
long) and its entry in :data:`READERS`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from briefs.models import Article, FeedState, PollResult, Source

__all__ = ["READERS", "FeedReader", "FilesReader", "PollIO", "SourceReader", "reader_for"]

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


class SourceReader(Protocol):
    """A source kind: its location keys and checks, how it is read, how it is described."""

    kind: str
    keys: tuple[str, ...]
    label: str

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


class FeedReader:
    """An RSS, Atom or JSON feed: an http(s) URL, or a local file (a path or ``file://``)."""

    kind: str = "feed"
    keys: tuple[str, ...] = ("url", "path")
    label: str = "feed"

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


class FilesReader:
    """A folder of seed documents (plain text or Markdown, one article each)."""

    kind: str = "files"
    keys: tuple[str, ...] = ("path",)
    label: str = "seed-document folder"

    def check(self, location: str) -> str | None:
        """A local folder that exists."""
        if _scheme(location):
            return f"{location!r} is not a local folder"
        return None if Path(location).is_dir() else f"no such folder {location}"

    async def read(self, io: PollIO, source: Source, state: FeedState) -> PollResult:
        """Read every document of the folder (an unreadable one is logged and skipped)."""
        # the seed-document reader is imported when a folder is read, not with the settings
        from briefs.ingest.files import read_seed_folder

        articles, errors = await io.in_thread(read_seed_folder, source, io.now)
        for error in errors:
            log.warning("%s: %s", source.id, error)
        return io.succeeded(source, state, tuple(articles), "ok")

    def exportable(self, source: Source) -> bool:
        """Never: other readers cannot use a folder of documents."""
        return False


_READERS: tuple[SourceReader, ...] = (FeedReader(), FilesReader())
READERS: Mapping[str, SourceReader] = {r.kind: r for r in _READERS}


def reader_for(source: Source) -> SourceReader:
    """The reader of the source's kind."""
    return READERS[source.kind]
