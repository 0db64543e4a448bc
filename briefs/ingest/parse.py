"""Feed bytes -> Articles. No parser's result leaves this module.

RSS 0.9x/1.0/2.0 and Atom go through fastfeedparser first (lxml, about 30 times faster than
feedparser) and through feedparser, the safety net, when fastfeedparser is not fit for the
document: a document it rejects or should not be given (a DTD, an encoding other than UTF-8), or
a result that fails the checks of :func:`_fast_unfit` (entries missing, entries without title
and link, dates it could not read). Both parsers are given bytes, never a URL (we fetch). JSON
Feed 1.0/1.1 is read directly. Whichever parser read it, every entry goes through the same
:func:`_entry_article` (one text cleaning, one URL canonicalization, one date rule), so the
Articles do not depend on the path; :attr:`ParsedFeed.parser` says which one it was.
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

import fastfeedparser
import feedparser
from lxml import etree

from briefs.errors import ParseError
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
    # "fastfeedparser", "feedparser" or "jsonfeed"; with feedparser, why the fast path was not
    # taken or not trusted (``fallback``)
    parser: str = "feedparser"
    fallback: str | None = None
    # the feed's own description (plain text): ``publisher_name`` reads a domain out with it
    description: str = ""


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
    reason = _fast_refusal(data, content_type)
    if reason is None:
        try:
            return _parse_fast(data, source, url=url, now=now)
        except _Unfit as exc:
            reason = str(exc)
    parsed = _parse_feedparser(data, source, url=url, now=now, content_type=content_type)
    return replace(parsed, fallback=reason)


def _parse_feedparser(
    data: bytes, source: Source, *, url: str, now: dt.datetime, content_type: str | None
) -> ParsedFeed:
    """The safety net: feedparser, which reads nearly anything that calls itself a feed."""
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
    return _feed_articles(
        source,
        url,
        now,
        title=str(feed.get("title") or ""),
        description=str(feed.get("subtitle") or ""),
        link=str(feed.get("link") or ""),
        language=str(feed.get("language") or ""),
        entries=entries,
        ttl=_ttl_minutes(feed),
        bozo=bozo,
        parser="feedparser",
        rss=version.startswith("rss"),
    )


def _feed_articles(
    source: Source,
    url: str,
    now: dt.datetime,
    *,
    title: str,
    description: str,
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
    about = cap(plain_text(description), MAX_DESCRIPTION)
    site = _feed_site(link, url)
    base = site or url
    outlet = source.title or _outlet(feed_title, site, url, about) or source.id
    out, (skipped, reason) = _entry_articles(
        entries, source, outlet, base, now, _language(language), rss=rss
    )
    return ParsedFeed(
        feed_title, tuple(out), ttl, bozo, site or None, skipped, reason, parser, description=about
    )


# The part of a feed's description read for its publisher's name (a name is near its start).
MAX_DESCRIPTION = 1000


def _outlet(feed_title: str, site: str, url: str, description: str) -> str:
    return cap(publisher_name(feed_title, site, url, feed_text=description), MAX_OUTLET)


def _feed_site(link: str, base: str) -> str:
    """The feed's web site (an http(s) URL), or ""."""
    link = clean_text(link, inline=True).strip()
    site = canonical_url(link, base) if link and len(link) <= MAX_URL else ""
    return site if site.startswith(("http://", "https://")) else ""


def _entry_articles(
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
            reason = reason or _reason(exc)
            continue
        if article is not None:
            out.append(article)
    return out, (skipped, reason)


def _reason(exc: BaseException) -> str:
    """One short line naming an unexpected exception."""
    detail = " ".join(str(exc).split())[:200]
    return f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__


class _Unfit(Exception):
    """The fast path's result is not to be trusted for this document (internal to this module)."""


# What the fast path is never given: a document type declaration (entities, DTDs: feedparser's
# parser is the one the hostile-XML suite was written against, and the internal entities of old
# RSS 0.91 feeds are where the two would differ), or an encoding other than UTF-8 (fastfeedparser
# does not read the HTTP charset).
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
_BASE64 = re.compile(rb"""\bmode\s*=\s*["']base64""")
_MEDIA_TITLE_FIRST = re.compile(rb"<item\b[^>]*>\s*(?:<[^t/][^>]*>[^<]*</[^>]*>\s*)*<media:title")
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}
# An item or entry start tag (with any prefix): what the document holds, counted in its bytes.
_ITEM_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
_SUMMARY_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:summary|description)[\s>/]")
_DATE_TAG = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?(?:pubDate|date|published|updated|issued|modified|created)[\s>]"
)

# Feed-level facts fastfeedparser does not report (ttl, the syndication module, <language>) are
# read from the document's head with a parser that resolves nothing and fetches nothing.
_HEAD_PARSER = etree.XMLParser(
    recover=True,
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    collect_ids=False,
)
_RSS1 = "{http://purl.org/rss/1.0/}"
_SY = "{http://purl.org/rss/1.0/modules/syndication/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_TITLES = {
    "title",
    f"{_RSS1}title",
    f"{_DC}title",
    "{http://www.w3.org/2005/Atom}title",
    "{http://purl.org/atom/ns#}title",
}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _fast_refusal(data: bytes, content_type: str | None) -> str | None:
    """Why this document goes straight to feedparser, or None to try the fast path."""
    head = data[:1024]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4]:
        return "UTF-16/32 document"
    declared = _DECLARED.match(head.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8:
        return f"encoding {declared.group(1).decode('ascii')}"
    charset = _CHARSET.search(content_type or "")
    if charset and charset.group(1).lower() not in _UTF8:
        return f"charset {charset.group(1)}"
    first = _ITEM_TAG.search(data)
    if _DOCTYPE.search(data, 0, first.start() if first else len(data)):
        return "document type declaration"
    if b"base64" in data and _BASE64.search(data):
        return "base64 content (Atom 0.3)"
    if b"<media:title" in data and _MEDIA_TITLE_FIRST.search(data):
        # fastfeedparser takes an item's own media:title for its title when it comes first
        return "media:title before the title"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    return None


def _parse_fast(data: bytes, source: Source, *, url: str, now: dt.datetime) -> ParsedFeed:
    """fastfeedparser's reading of the document, or _Unfit when it is not to be trusted."""
    try:
        parsed = fastfeedparser.parse(data)
    except Exception as exc:  # it raises ValueError, lxml's and its own errors on odd input
        raise _Unfit(f"fastfeedparser: {exc.__class__.__name__}") from exc
    first = _ITEM_TAG.search(data)
    head = _head_facts(data[: first.start()] if first else data)
    if head.get("namespace"):
        raise _Unfit(f"RSS in the namespace {head['namespace']}")
    atom = head.get("root") == "feed"
    raw_entries = parsed.get("entries") or []
    # Where some entries have no summary element, fastfeedparser makes one from the content
    guids = head.get("root") != "rss" or b"<guid" in data
    synthesized = len(_SUMMARY_TAG.findall(data)) < len(raw_entries)
    try:
        entries = [_fast_entry(e, atom, guids, synthesized) for e in raw_entries]
        unfit = _fast_unfit(data, entries)
    except Exception as exc:  # an entry of a shape the adapter does not expect: feedparser's
        raise _Unfit(f"fastfeedparser entry: {exc.__class__.__name__}") from exc
    if unfit is not None:
        raise _Unfit(unfit)
    feed = parsed.get("feed") or {}
    link = _entry_link({"links": feed.get("links") or []}) if atom else ""
    return _feed_articles(
        source,
        url,
        now,
        title=str(feed.get("title") or head.get("title") or ""),
        description=str(feed.get("subtitle") or ""),
        link=link or ("" if atom else str(feed.get("link") or "")),
        language=str(head.get("language") or feed.get("language") or ""),
        entries=entries,
        ttl=_ttl_minutes(head),
        bozo=None,
        parser="fastfeedparser",
        rss=head.get("root") in ("rss", "RDF"),
    )


def _fast_unfit(data: bytes, entries: list[dict[str, Any]]) -> str | None:
    """The sanity checks on the fast path's result: why feedparser should read it instead."""
    items = len(_ITEM_TAG.findall(data))
    if len(entries) < items:
        return f"{len(entries)} entries of {items} items"
    if any(not e["title"].strip() and not e["link"].strip() for e in entries):
        return "an entry without title and link"
    undated = sum("published_parsed" not in e and "updated_parsed" not in e for e in entries)
    if undated:
        first = _ITEM_TAG.search(data)
        if first and _DATE_TAG.search(data, first.start()):
            return "a date it could not read"
    return None


def _fast_time(value: Any) -> time.struct_time | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.microsecond:
        # dateutil reads "yesterday" or "the day after tomorrow" from the clock (microseconds
        # and all): not a date the feed gave; taken as unread, so feedparser decides
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.utctimetuple()


def _fast_entry(raw: Any, atom: bool, guids: bool, synthesized: bool) -> dict[str, Any]:
    """A fastfeedparser entry in the shape of a feedparser entry (the keys _entry_article reads).

    An Atom entry's web page is its alternate link only (fastfeedparser takes any link when
    there is none: a licence, an enclosure); an RSS item's is its ``<link>``. Where the
    document has no ``<guid>``, fastfeedparser's id is the link, which is no GUID; where it has
    fewer summaries than entries, a summary that is the start of the content is
    fastfeedparser's own making, not the publisher's.
    """
    summary = str(raw.get("description") or "")
    content = raw.get("content") or []
    if synthesized and summary and content and _is_prefix(summary, str(content[0].get("value"))):
        summary = ""
    links = [{**link, "rel": link.get("rel") or "alternate"} for link in raw.get("links") or []]
    entry: dict[str, Any] = {
        "id": str(raw.get("id") or "") if guids else "",
        "link": "" if atom else str(raw.get("link") or ""),
        "title": str(raw.get("title") or ""),
        "summary": summary,
        # fastfeedparser repeats a lone description as content: that is no body
        "content": [c for c in content if c.get("value") != summary],
        "links": links,
        "author": _author_name(str(raw.get("author") or "")),
        "media_content": raw.get("media_content") or [],
        "media_thumbnail": raw.get("media_thumbnail") or [],
        "language": "",
        "tags": raw.get("tags") or [],
    }
    for enclosure in raw.get("enclosures") or []:
        entry["links"].append(
            {"rel": "enclosure", "href": enclosure.get("url"), "type": enclosure.get("type")}
        )
    if isinstance(raw.get("image"), dict):
        entry["image"] = raw["image"]
    for key, target in (("published", "published_parsed"), ("updated", "updated_parsed")):
        stamp = _fast_time(raw.get(key))
        if stamp is not None:
            entry[target] = stamp
    return entry


_TAG = re.compile(r"<[^>]*>")


def _is_prefix(summary: str, markup: str) -> bool:
    """Whether ``summary`` is the start of the text of ``markup`` (spacing aside)."""
    flat = " ".join(html.unescape(_TAG.sub(" ", markup[: 4 * len(summary) + 2048])).split())
    return flat.startswith(" ".join(summary.split()))


# An e-mail address in an RSS <author> (feedparser's pattern: the two paths must agree).
_EMAIL = re.compile(
    r"(([a-zA-Z0-9_\-.+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"
    r"([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"
)


def _author_name(author: str) -> str:
    """The name in ``email (Name)`` or ``Name <email>``, as feedparser reads an RSS author."""
    match = _EMAIL.search(author)
    if not match:
        return author
    name = author.replace(match.group(0), "").replace("()", "").replace("<>", "").strip()
    name = name.removeprefix("(").removesuffix(")").strip()
    return name or author


def _head_facts(head: bytes) -> dict[str, str]:
    """ttl, the syndication module's period and the language, from the document's head."""
    try:
        root = etree.fromstring(head, _HEAD_PARSER)
    except etree.XMLSyntaxError:
        return {}
    if root is None or not isinstance(root.tag, str):
        return {}
    namespace, _, local = root.tag.rpartition("}")
    if local == "rss" and namespace:
        return {"root": "rss", "namespace": namespace.lstrip("{")}
    channel = root.find("channel")
    if channel is None:
        channel = root.find(f"{_RSS1}channel")
    channel = channel if channel is not None else root
    title = next((el for el in channel if el.tag in _TITLES), None)
    facts = {
        "ttl": channel.findtext("ttl") or "",
        "sy_updateperiod": channel.findtext(f"{_SY}updatePeriod") or "",
        "sy_updatefrequency": channel.findtext(f"{_SY}updateFrequency") or "",
        # the markup as written: plain_text drops what a browser would not show (scripts)
        "title": (title.text or "")
        + "".join(etree.tostring(child, encoding="unicode") for child in title)
        if title is not None
        else "",
        "language": channel.findtext("language")
        or channel.findtext(f"{_DC}language")
        or root.get(_XML_LANG)
        or "",
    }
    facts = {k: v.strip() for k, v in facts.items()}
    facts["root"] = local
    return facts


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
    entry: Any,
    source: Source,
    outlet: str,
    base: str,
    now: dt.datetime,
    feed_language: str = "",
    *,
    rss: bool = False,
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
        tags=_entry_tags(entry),
    )
    return clean_article(article, now)


def _entry_tags(entry: Any) -> tuple[str, ...]:
    """The entry's categories: feedparser's (and the adapter's) ``tags``, each a term or a
    label; a JSON Feed item's are plain strings."""
    out: list[str] = []
    for tag in entry.get("tags") or []:
        value = (tag.get("term") or tag.get("label")) if isinstance(tag, dict) else tag
        if isinstance(value, str):
            out.append(plain_text(value))
    return tuple(out)


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
    about = cap(plain_text(_json_str(doc.get("description"))), MAX_DESCRIPTION)
    site = _feed_site(_json_str(doc.get("home_page_url")), url)
    base = site or url
    outlet = source.title or _outlet(feed_title, site, url, about) or source.id
    entries = [item for item in items if isinstance(item, dict)]
    read = functools.partial(_json_entry, doc=doc)
    out, (skipped, reason) = _entry_articles(entries, source, outlet, base, now, read=read)
    return ParsedFeed(
        feed_title,
        tuple(out),
        site_url=site or None,
        skipped=skipped,
        skip_reason=reason,
        parser="jsonfeed",
        description=about,
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
        "tags": [t for t in item.get("tags") or [] if isinstance(t, str)]
        if isinstance(item.get("tags"), list)
        else [],
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
