"""RSS 0.9x/1.0/2.0 and Atom: fastfeedparser first, feedparser when the fast path is not fit.

See :mod:`briefs.ingest.parse` for when each is used; both results go through
:func:`briefs.ingest.entries.feed_articles`."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from typing import Any

import fastfeedparser
import feedparser
from lxml import etree

from briefs.errors import ParseError
from briefs.ingest.entries import ParsedFeed, entry_link, feed_articles, feed_ttl
from briefs.models import Source


def parse_feedparser(
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
    return feed_articles(
        source,
        url,
        now,
        title=str(feed.get("title") or ""),
        link=str(feed.get("link") or ""),
        language=str(feed.get("language") or ""),
        entries=entries,
        ttl=feed_ttl(feed),
        bozo=bozo,
        parser="feedparser",
        rss=version.startswith("rss"),
    )


class Unfit(Exception):
    """The fast path's result is not to be trusted for this document (internal to parsing)."""


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


def fast_refusal(data: bytes, content_type: str | None) -> str | None:
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


def parse_fast(data: bytes, source: Source, *, url: str, now: dt.datetime) -> ParsedFeed:
    """fastfeedparser's reading of the document, or Unfit when it is not to be trusted."""
    try:
        parsed = fastfeedparser.parse(data)
    except Exception as exc:  # it raises ValueError, lxml's and its own errors on odd input
        raise Unfit(f"fastfeedparser: {exc.__class__.__name__}") from exc
    first = _ITEM_TAG.search(data)
    head = _head_facts(data[: first.start()] if first else data)
    if head.get("namespace"):
        raise Unfit(f"RSS in the namespace {head['namespace']}")
    atom = head.get("root") == "feed"
    raw_entries = parsed.get("entries") or []
    # Where some entries have no summary element, fastfeedparser makes one from the content
    guids = head.get("root") != "rss" or b"<guid" in data
    synthesized = len(_SUMMARY_TAG.findall(data)) < len(raw_entries)
    try:
        entries = [_fast_entry(e, atom, guids, synthesized) for e in raw_entries]
        unfit = _fast_unfit(data, entries)
    except Exception as exc:  # an entry of a shape the adapter does not expect: feedparser's
        raise Unfit(f"fastfeedparser entry: {exc.__class__.__name__}") from exc
    if unfit is not None:
        raise Unfit(unfit)
    feed = parsed.get("feed") or {}
    link = entry_link({"links": feed.get("links") or []}) if atom else ""
    return feed_articles(
        source,
        url,
        now,
        title=str(feed.get("title") or head.get("title") or ""),
        link=link or ("" if atom else str(feed.get("link") or "")),
        language=str(head.get("language") or feed.get("language") or ""),
        entries=entries,
        ttl=feed_ttl(head),
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
    """A fastfeedparser entry in the shape of a feedparser entry (the keys entries reads).

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
