"""Feed bytes -> Articles. feedparser's result never leaves this module.

Handles RSS 0.9x/1.0/2.0 and Atom through feedparser (given bytes, never a URL: we fetch), and
JSON Feed 1.0/1.1 directly. Every entry becomes a normalized :class:`~briefs.models.Article`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import html
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import feedparser

from briefs.errors import ParseError
from briefs.ingest.bounds import (
    MAX_FLOOR_MINUTES,
    MAX_OUTLET,
    MAX_TITLE,
    bounded_int,
    cap,
    clean_article,
    clean_guid,
    plausible_time,
)
from briefs.ingest.clean import clean_text, html_to_text, plain_text
from briefs.ingest.urls import article_id, canonical_url
from briefs.models import Article, Sketch, Source

__all__ = ["ParsedAndSketched", "ParsedFeed", "content_hash", "parse_and_sketch", "parse_feed"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The articles of one feed document plus the feed-level facts polling cares about."""

    title: str
    articles: tuple[Article, ...]
    ttl_minutes: int | None = None
    bozo: str | None = None
    site_url: str | None = None
    skipped: int = 0  # entries that could not be read (see ``skip_reason``)
    skip_reason: str | None = None


def content_hash(text: str) -> str:
    """A hash of the normalized text, equal for byte-identical copies under other outlets."""
    norm = " ".join(text.lower().split())
    return hashlib.sha1(norm.encode("utf-8", "surrogatepass")).hexdigest() if norm else ""


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
    stripped = data.lstrip()[:1]
    if stripped == b"{" or (content_type and "json" in content_type.lower()):
        return _parse_json_feed(data, source, url=url, now=now)
    # Without a content type feedparser flags every document as bozo; the XML declaration is
    # the authority on the encoding then, which is what application/xml means.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        parsed = feedparser.parse(
            data, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser's own parsers can raise many things on hostile input
        raise ParseError(f"cannot parse feed: {exc.__class__.__name__}: {exc}") from exc
    bozo = str(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    feed = parsed.get("feed") or {}
    if not entries and not version:
        # An HTML page is not a feed even though feedparser finds its <title>; an unknown
        # dialect (CDF) with channel elements is an empty feed.
        if b"<html" in data[:2048].lower():
            raise ParseError("not a feed: this is an HTML page, not a feed")
        if not feed:
            raise ParseError(f"not a feed: {bozo or 'no feed found'}")
    feed_title = cap(plain_text(str(feed.get("title") or "")), MAX_OUTLET)
    site = _feed_site(str(feed.get("link") or ""), url)
    base = site or url
    outlet = source.title or feed_title or source.id
    language = _language(str(feed.get("language") or ""))
    out, (skipped, reason) = _entry_articles(entries, source, outlet, base, now, language)
    return ParsedFeed(
        feed_title, tuple(out), _ttl_minutes(feed), bozo, site or None, skipped, reason
    )


def _feed_site(link: str, base: str) -> str:
    """The feed's web site (an http(s) URL), or ""."""
    link = clean_text(link, inline=True).strip()
    site = canonical_url(link, base) if link else ""
    return site if site.startswith(("http://", "https://")) else ""


def _entry_articles(
    entries: list[Any],
    source: Source,
    outlet: str,
    base: str,
    now: dt.datetime,
    language: str = "",
    read: Callable[[Any], Any] | None = None,
) -> tuple[list[Article], tuple[int, str | None]]:
    """The entries' articles (``read`` first turns an entry into feedparser's shape); an entry
    that cannot be read is skipped (counted, its reason kept for the first), so one bad entry
    never loses its feed's good ones."""
    out: list[Article] = []
    skipped = 0
    reason: str | None = None
    for entry in entries:
        try:
            shaped = entry if read is None else read(entry)
            article = _entry_article(shaped, source, outlet, base, now, language)
        except Exception as exc:  # the per-entry fault barrier: counted, reported
            skipped += 1
            reason = reason or _reason(exc)
            continue
        if article is not None:
            out.append(article)
    return out, (skipped, reason)


def _reason(exc: BaseException) -> str:
    """One short line naming an unexpected exception."""
    detail = " ".join(str(exc).split())[:200]
    return f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__


_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}


def _ttl_minutes(feed: Any) -> int | None:
    """The feed's own minimum interval: RSS ``<ttl>``, else the syndication module's period."""
    ttl = bounded_int(feed.get("ttl"), 0, MAX_FLOOR_MINUTES) or 0
    period = _PERIOD_MINUTES.get(str(feed.get("sy_updateperiod") or "").strip().lower()[:16])
    if period:
        frequency = bounded_int(feed.get("sy_updatefrequency") or "1", 1, period) or 1
        ttl = max(ttl, min(period // frequency, MAX_FLOOR_MINUTES))
    return ttl if ttl > 0 else None


def _language(value: str) -> str:
    """A language tag as stored: at most 16 characters, lower case (``en-us``)."""
    return value.strip().lower()[:16]


def _entry_article(
    entry: Any, source: Source, outlet: str, base: str, now: dt.datetime, feed_language: str = ""
) -> Article | None:
    link = clean_text(_entry_link(entry), inline=True).strip()
    guid = clean_guid(str(entry.get("id") or ""))
    if not link and guid.startswith(("http://", "https://")):
        link = guid
    url = canonical_url(link, base) if link else ""
    title = cap(plain_text(str(entry.get("title") or "")), MAX_TITLE)
    raw_summary = str(entry.get("summary") or "")
    summary = html_to_text(raw_summary)
    body = ""
    body_html = ""
    for content in entry.get("content") or []:
        value = str(content.get("value") or "")
        is_html = "html" in str(content.get("type", "html"))
        text = html_to_text(value) if is_html else value.strip()
        if len(text) > len(body):
            body = text
            body_html = value if is_html else ""
    if body and summary and body.startswith(summary[:200]) and len(summary) >= len(body):
        body = ""
    if not title and not summary and not body and not url.startswith(("http://", "https://")):
        return None  # nothing to show and nowhere to fetch it from
    if not title:
        # A link-only entry keeps its link as the headline until its page supplies text.
        title = _first_words(summary or body) if (summary or body) else url
    if not url and not guid:
        guid = content_hash(title + summary + body)
    published = _entry_time(entry, now)
    image = _entry_image(entry, base) or _first_image(body_html or raw_summary, base)
    detail = entry.get("author_detail")
    name = detail.get("name") if isinstance(detail, dict) else None
    author = plain_text(str(name or entry.get("author") or ""))
    text_detail = entry["content"][0] if entry.get("content") else entry.get("title_detail")
    language = _language(
        str(entry.get("language") or (text_detail or {}).get("language") or feed_language or "")
    )
    article = Article(
        id=article_id(url, f"{source.id}:{guid}"),
        source_id=source.id,
        url=url or (guid if guid.startswith(("http://", "https://")) else ""),
        guid=guid,
        title=title,
        published=published,
        fetched=now,
        outlet=outlet,
        author=author,
        language=language,
        summary=summary,
        body=body,
        body_origin="feed" if body else "none",
        image_url=image,
        content_hash=content_hash(body or summary),
    )
    return clean_article(article, now)


def _entry_link(entry: Any) -> str:
    """The entry's web page: its rel="alternate" link (an HTML one first), else its link."""
    alternates = [
        link
        for link in entry.get("links") or []
        if link.get("rel", "alternate") == "alternate" and link.get("href")
    ]
    alternates.sort(key=lambda link: "html" not in str(link.get("type") or "text/html"))
    if alternates:
        return str(alternates[0]["href"])
    return str(entry.get("link") or "")


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def _entry_time(entry: Any, now: dt.datetime) -> dt.datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # FeedParserDict.get warns on the updated->published alias
        if isinstance(value, time.struct_time):
            try:
                when = dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
            return plausible_time(when, now)
    return now


def _entry_image(entry: Any, base: str) -> str | None:
    candidates: list[str] = []
    for media in entry.get("media_content") or []:
        if str(media.get("medium", "image")) == "image" or "image" in str(media.get("type", "")):
            candidates.append(str(media.get("url") or ""))
    for thumb in entry.get("media_thumbnail") or []:
        candidates.append(str(thumb.get("url") or ""))
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            candidates.append(str(link.get("href") or ""))
    image = entry.get("image")
    if isinstance(image, dict) and image.get("href"):
        candidates.append(str(image["href"]))
    for candidate in candidates:
        url = canonical_url(candidate, base)
        if url.startswith(("http://", "https://")) and not _TRACKER.search(url):
            return url
    return None


_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
# Tracking pixels and spacers that feeds put in content (NPR, FeedBurner, WordPress stats...).
_TRACKER = re.compile(
    r"[/_.-](?:pixel|spacer|blank|beacon|1x1)[/_.?-]|/tracking/|feedburner\.com/~[rf]/|/~ff/",
    re.IGNORECASE,
)
_PIXEL = re.compile(r"""\b(?:width|height)\s*=\s*["']?[01](?:px)?["'\s/>]""", re.IGNORECASE)


def _first_image(markup: str, base: str) -> str | None:
    """The first ``<img src>`` of an HTML fragment that is an http(s) URL and not a pixel."""
    if "<img" not in markup.lower():
        return None
    for tag in _IMG.finditer(markup):
        src = _SRC.search(tag.group(0))
        if src is None or _PIXEL.search(tag.group(0)):
            continue
        url = canonical_url(html.unescape(src.group(1)), base)
        if url.startswith(("http://", "https://")) and not _TRACKER.search(url):
            return url
    return None


def _parse_json_feed(data: bytes, source: Source, *, url: str, now: dt.datetime) -> ParsedFeed:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"invalid JSON Feed: {exc}") from exc
    except RecursionError:
        raise ParseError("invalid JSON Feed: nested too deeply to decode") from None
    except MemoryError:
        raise ParseError("invalid JSON Feed: too large to decode") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ParseError(f"invalid JSON Feed: {_reason(exc)}") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseError("not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed without an items list")
    feed_title = cap(plain_text(_json_str(doc.get("title"))), MAX_OUTLET)
    site = _feed_site(_json_str(doc.get("home_page_url")), url)
    base = site or url
    outlet = source.title or feed_title or source.id
    entries = [item for item in items if isinstance(item, dict)]
    read = functools.partial(_json_entry, doc=doc)
    out, (skipped, reason) = _entry_articles(entries, source, outlet, base, now, read=read)
    return ParsedFeed(
        feed_title, tuple(out), site_url=site or None, skipped=skipped, skip_reason=reason
    )


def _json_str(value: Any) -> str:
    """A JSON value that should be a string, as one (a number or a string; else "")."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _json_entry(item: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """A JSON Feed item as the entry dict :func:`_entry_article` reads."""
    entry: dict[str, Any] = {
        "id": _json_str(item.get("id")),
        "link": _json_str(item.get("url")) or _json_str(item.get("external_url")),
        "title": _json_str(item.get("title")),
        "summary": _json_str(item.get("summary")),
        "content": [],
        "author": _json_author(item, doc),
        "language": _json_str(item.get("language")) or _json_str(doc.get("language")),
    }
    if _json_str(item.get("content_html")):
        entry["content"].append({"type": "text/html", "value": _json_str(item["content_html"])})
    elif _json_str(item.get("content_text")):
        entry["content"].append({"type": "text/plain", "value": _json_str(item["content_text"])})
    for key, target in (
        ("date_published", "published_parsed"),
        ("date_modified", "updated_parsed"),
    ):
        stamp = _iso_time(item.get(key))
        if stamp is not None:
            entry[target] = stamp.utctimetuple()
    image = _json_str(item.get("image")) or _json_str(item.get("banner_image"))
    if image:
        entry["image"] = {"href": image}
    return entry


def _json_author(item: dict[str, Any], doc: dict[str, Any]) -> str:
    authors = item.get("authors") or doc.get("authors") or []
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        return _json_str(authors[0].get("name"))
    author = item.get("author")
    if isinstance(author, dict):
        return _json_str(author.get("name"))
    return ""


def _iso_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value[:64].replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # not a date, or one whose UTC is past year 9999
        return None


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
