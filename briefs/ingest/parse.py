"""Feed bytes -> Articles. No parser's result leaves the parsing modules.

RSS 0.9x/1.0/2.0 and Atom go through fastfeedparser first (lxml, about 30 times faster than
feedparser) and through feedparser, the safety net, when fastfeedparser is not fit for the
document: a document it rejects or should not be given (a DTD, an encoding other than UTF-8), or
a result that fails the checks of :func:`briefs.ingest.xmlfeed.parse_fast` (entries missing,
entries without title and link, dates it could not read). Both parsers are given bytes, never a
URL (we fetch). JSON Feed 1.0/1.1 is read directly. Whichever parser read it, every entry goes
through the same reading in :mod:`briefs.ingest.entries` (one text cleaning, one URL
canonicalization, one date rule), so the Articles do not depend on the path;
:attr:`ParsedFeed.parser` says which one it was. This module chooses; ``xmlfeed`` (RSS and Atom,
both parsers), ``jsonfeed`` and ``entries`` do the reading.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace

from briefs.errors import SourceError, about
from briefs.ingest.entries import ParsedFeed, content_hash
from briefs.ingest.jsonfeed import parse_json_feed
from briefs.ingest.xmlfeed import Unfit, fast_refusal, parse_fast, parse_feedparser
from briefs.models import Sketch, Source

__all__ = ["ParsedAndSketched", "ParsedFeed", "content_hash", "parse_and_sketch", "parse_feed"]


def parse_feed(
    data: bytes,
    source: Source,
    *,
    url: str,
    now: dt.datetime,
    content_type: str | None = None,
) -> ParsedFeed:
    """Parse feed bytes fetched from ``url`` into Articles of ``source``.

    Raises ParseError when the bytes are not a feed at all (an HTML page, garbage); a feed with
    recoverable errors (feedparser's bozo) still yields its entries.
    """
    try:
        stripped = data.lstrip()[:1]
        if stripped == b"{" or (content_type and "json" in content_type.lower()):
            return parse_json_feed(data, source, url=url, now=now)
        reason = fast_refusal(data, content_type)
        if reason is None:
            try:
                return parse_fast(data, source, url=url, now=now)
            except Unfit as exc:
                reason = str(exc)
        parsed = parse_feedparser(data, source, url=url, now=now, content_type=content_type)
        return replace(parsed, fallback=reason)
    except SourceError as exc:
        about(exc, source=source.id, url=url)
        raise


@dataclass(frozen=True, slots=True)
class ParsedAndSketched:
    """A parsed feed cut to ``max_entries``, with its articles' sketches and the CPU it took."""

    feed: ParsedFeed
    entries: int  # before the cut
    sketches: dict[str, Sketch]
    parse_seconds: float
    sketch_seconds: float


def parse_and_sketch(
    data: bytes,
    source: Source,
    url: str,
    now: dt.datetime,
    content_type: str | None,
    max_entries: int,
    sketch: bool = True,
) -> ParsedAndSketched:
    """Parse a feed, keep its newest ``max_entries`` entries, and with ``sketch`` sketch them.

    The CPU-heavy part of polling, run where parsing runs (a worker process or the parsing
    thread), so only the kept articles and their sketches travel back.
    """
    start = time.thread_time()  # CPU: a thread's waits for the GIL are not parsing
    feed = parse_feed(data, source, url=url, now=now, content_type=content_type)
    entries = len(feed.articles)
    if entries > max_entries:
        # A feed this long is an archive dump or an attack: keep the newest entries, and keep
        # memory and store time bounded for everything after parsing.
        newest = sorted(feed.articles, key=lambda a: a.published, reverse=True)[:max_entries]
        feed = replace(feed, articles=tuple(newest))
    middle = time.thread_time()
    sketches: dict[str, Sketch] = {}
    if sketch:
        # lazy: NumPy only where sketches are made (worker processes), not in every poll
        from briefs.ingest.dedupe import sketch_articles

        sketches = sketch_articles(feed.articles)
    return ParsedAndSketched(feed, entries, sketches, middle - start, time.thread_time() - middle)
