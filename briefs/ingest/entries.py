"""Feed entries -> Articles: the one reading of an entry whichever parser read the document.

Every parser's entries arrive here in feedparser's shape (the XML fast path and the JSON Feed
reader adapt theirs): one text cleaning, one URL canonicalization, one date rule, one image
choice, and a fault barrier per entry (a bad entry is counted, never loses its feed)."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from briefs.ingest.bounds import (
    MAX_FLOOR_MINUTES,
    MAX_OUTLET,
    MAX_TITLE,
    MAX_URL,
    bounded_int,
    cap,
    clean_article,
    clean_guid,
    plausible_time,
)
from briefs.ingest.clean import clean_text, html_to_text, plain_text
from briefs.ingest.names import publisher_name
from briefs.ingest.urls import article_id, canonical_url
from briefs.models import Article, Source


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
    # "fastfeedparser", "feedparser" or "jsonfeed"; with feedparser, why the fast path was not
    # taken or not trusted (``fallback``)
    parser: str = "feedparser"
    fallback: str | None = None


def content_hash(text: str) -> str:
    """A hash of the normalized text, equal for byte-identical copies under other outlets."""
    norm = " ".join(text.lower().split())
    return hashlib.sha1(norm.encode("utf-8", "surrogatepass")).hexdigest() if norm else ""


def feed_articles(
    source: Source,
    url: str,
    now: dt.datetime,
    *,
    title: str,
    link: str,
    language: str,
    entries: list[Any],
    ttl: int | None,
    bozo: str | None,
    parser: str,
    rss: bool,
) -> ParsedFeed:
    """Feed-level facts and entries (in feedparser's shape, from either parser) -> ParsedFeed."""
    feed_title = cap(plain_text(title), MAX_OUTLET)
    site = feed_site(link, url)
    base = site or url
    outlet = source.title or cap(publisher_name(feed_title, site, url), MAX_OUTLET) or source.id
    out, (skipped, reason) = entry_articles(
        entries, source, outlet, base, now, _language(language), rss=rss
    )
    return ParsedFeed(feed_title, tuple(out), ttl, bozo, site or None, skipped, reason, parser)


def feed_site(link: str, base: str) -> str:
    """The feed's web site (an http(s) URL), or ""."""
    link = clean_text(link, inline=True).strip()
    site = canonical_url(link, base) if link and len(link) <= MAX_URL else ""
    return site if site.startswith(("http://", "https://")) else ""


def entry_articles(
    entries: list[Any],
    source: Source,
    outlet: str,
    base: str,
    now: dt.datetime,
    language: str = "",
    read: Callable[[Any], Any] | None = None,
    *,
    rss: bool = False,
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
            article = _entry_article(shaped, source, outlet, base, now, language, rss=rss)
        except Exception as exc:  # the per-entry fault barrier: counted, reported
            skipped += 1
            reason = reason or error_reason(exc)
            continue
        if article is not None:
            out.append(article)
    return out, (skipped, reason)


def error_reason(exc: BaseException) -> str:
    """One short line naming an unexpected exception."""
    detail = " ".join(str(exc).split())[:200]
    return f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__


_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}


def feed_ttl(feed: Any) -> int | None:
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
    entry: Any,
    source: Source,
    outlet: str,
    base: str,
    now: dt.datetime,
    feed_language: str = "",
    *,
    rss: bool = False,
) -> Article | None:
    link = clean_text(entry_link(entry), inline=True).strip()
    guid = clean_guid(str(entry.get("id") or ""))
    if not link and guid.startswith(("http://", "https://")):
        link = guid
    url = canonical_url(link, base) if link else ""
    title = cap(plain_text(str(entry.get("title") or "")), MAX_TITLE)
    raw_summary = str(entry.get("summary") or "")
    summary = html_to_text(raw_summary)
    body, body_html = _entry_body(entry, summary, rss)
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


def _entry_body(entry: Any, summary: str, rss: bool) -> tuple[str, str]:
    """The entry's body (its longest content, as text) and that content's HTML ("" if plain).

    A body that says no more than the summary is none; its HTML is still where a picture is
    looked for."""
    body = ""
    body_html = ""
    for content in entry.get("content") or []:
        value = str(content.get("value") or "")
        is_html = "html" in str(content.get("type", "html"))
        if rss and not is_html:
            # RSS content is HTML (content:encoded); feedparser files an item's plain-text
            # media:description there too, and that is the caption of its picture.
            continue
        text = html_to_text(value) if is_html else value.strip()
        if len(text) > len(body):
            body = text
            body_html = value if is_html else ""
    if body and summary and body.startswith(summary[:200]) and len(summary) >= len(body):
        body = ""
    return body, body_html


def entry_link(entry: Any) -> str:
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
