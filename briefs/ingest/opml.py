"""OPML 2.0 subscription lists: read (Miniflux, FreshRSS, any reader) and write.

Categories become source tags and back: a feed outline nested in category outlines gets the
categories' names as tags, and so do the entries of its ``category`` attribute
(``"/News,/World"``). On export a source is nested under its first tag and lists all its tags in
``category`` when it has more than one, so an export imports back to the same sources.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from briefs.errors import ParseError
from briefs.ingest.readers import reader_for
from briefs.models import Source

__all__ = ["OpmlFeed", "exportable", "read_opml", "write_opml"]


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription of an OPML file."""

    url: str
    title: str = ""
    site_url: str = ""
    tags: tuple[str, ...] = ()


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order (duplicates by URL dropped)."""
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ParseError(f"not a valid OPML file: {exc}") from exc
    if _local(root.tag) != "opml":
        raise ParseError(f"not an OPML file (root element <{_local(root.tag)}>)")
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise ParseError("OPML file without a <body>")
    seen: set[str] = set()
    out: list[OpmlFeed] = []
    for feed in _walk(body, ()):
        if feed.url not in seen:
            seen.add(feed.url)
            out.append(feed)
    return out


# Category outlines deeper than this add no more tags (a feed nested thousands deep is still
# read, in document order, without recursion).
MAX_CATEGORY_DEPTH = 8
MAX_TAGS = 16


def _walk(parent: Element, path: tuple[str, ...]) -> Iterator[OpmlFeed]:
    # an explicit stack of (children still to visit, category path), not recursion
    stack: list[tuple[Iterator[Element], tuple[str, ...]]] = [(iter(parent), path)]
    while stack:
        children, path = stack[-1]
        outline = next(children, None)
        if outline is None:
            stack.pop()
            continue
        if _local(outline.tag) != "outline":
            continue
        attrs = {_local(k).lower(): (v or "").strip() for k, v in outline.attrib.items()}
        name = attrs.get("title") or attrs.get("text") or ""
        url = attrs.get("xmlurl", "")
        if url:
            tags = list(path)
            for category in attrs.get("category", "").split(","):
                tag = category.strip().strip("/").strip()
                if tag:
                    tags.append(tag)
            kept = tuple(dict.fromkeys(tags))[:MAX_TAGS]
            yield OpmlFeed(url, name, attrs.get("htmlurl", ""), kept)
        else:
            deeper = (*path, name) if name and len(path) < MAX_CATEGORY_DEPTH else path
            stack.append((iter(outline), deeper))


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def exportable(sources: Sequence[Source]) -> list[Source]:
    """The sources an OPML export lists: those their reader says other readers can use (feeds
    on the web; not seed-document folders or local feed files)."""
    return [s for s in sources if reader_for(s).exportable(s)]


def write_opml(
    sources: Sequence[Source],
    site_urls: dict[str, str],
    title: str,
    now: dt.datetime,
) -> bytes:
    """An OPML 2.0 document listing the :func:`exportable` sources (the others are skipped)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = email.utils.format_datetime(now)
    body = ET.SubElement(root, "body")
    groups: dict[str, Element] = {}
    for source in exportable(sources):
        parent = body
        if source.tags:
            first = source.tags[0]
            if first not in groups:
                groups[first] = ET.SubElement(body, "outline", text=first, title=first)
            parent = groups[first]
        attrs = {
            "type": "rss",
            "text": source.name,
            "title": source.name,
            "xmlUrl": source.location,
        }
        if site_urls.get(source.id):
            attrs["htmlUrl"] = site_urls[source.id]
        if len(source.tags) > 1:
            attrs["category"] = ",".join(f"/{t}" for t in source.tags)
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
