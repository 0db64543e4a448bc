"""A clean publisher name for a source the config does not name.

Feed titles name a section as often as the outlet: "NYT > World News", "Japan Today - Category
World", "NDTV News Search Records Found 1000", or only "Top Stories". The outlet is the part
of the title that is not a section (the pieces around " > ", " | ", " - " ...), without the
noise some feed generators append; a page's ``og:site_name`` is better still; the host is the
last resort (``www.`` and ``feeds.`` dropped).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from briefs.models import FeedState, Source

__all__ = ["outlet_name", "publisher_name", "site_name"]

# Pieces of a title between separators; " - " only with spaces, so "Al-Jazeera" stays whole.
_SEPARATORS = re.compile(r"\s+(?:>|»|\||-|–|—|::|·)\s+|:\s+")
# Words of section names and feed boilerplate: a piece made only of these is not an outlet.
_SECTIONS = """
    top stories story headlines latest breaking news world international national local us uk
    politics business economy markets money finance tech technology science health sport sports
    football culture arts entertainment lifestyle travel opinion home front page homepage all
    rss feed feeds category section edition the and of en english today
"""
_SECTION_WORDS = frozenset(_SECTIONS.split())
# Boilerplate some generators append to the name: "Search Records Found 1000", "RSS Feed".
_NOISE = re.compile(
    r"\s+(?:search\s+)?records?\s+found\b.*$|\s+(?:rss|atom)(?:\s+feeds?)?$|\s+feeds?$"
    r"|\s+category\b.*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HOST_PREFIXES = ("www.", "feeds.", "feed.", "rss.", "m.")


def _is_section(piece: str) -> bool:
    words = [w.lower() for w in _WORD.findall(piece)]
    return not words or all(w in _SECTION_WORDS or w.isdigit() for w in words)


def _host_name(*urls: str | None) -> str:
    for url in urls:
        host = (urlsplit(url).hostname or "") if url and "://" in url else ""
        if host and not host.replace(".", "").isdigit():
            for prefix in _HOST_PREFIXES:
                host = host.removeprefix(prefix)
            return host
    return ""


def publisher_name(
    feed_title: str, site_url: str | None = None, feed_url: str | None = None, page_name: str = ""
) -> str:
    """The outlet's name: the page's site name, else the feed title's outlet part, else the host.

    "" when there is nothing to go by (a local file without a title).
    """
    for candidate in (page_name, feed_title):
        pieces = [p.strip() for p in _SEPARATORS.split(" ".join(candidate.split())) if p.strip()]
        for piece in pieces:
            cleaned = _NOISE.sub("", piece).strip()
            if cleaned and not _is_section(cleaned):
                return cleaned
    return _host_name(site_url, feed_url)


def site_name(page: bytes) -> str:
    """A web page's own name for its site: ``og:site_name`` (else ``application-name``)."""
    try:
        doc = lxml.html.fromstring(page)
    except (etree.ParserError, ValueError):
        return ""
    for meta in doc.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key in ("og:site_name", "application-name"):
            value = " ".join((meta.get("content") or "").split())
            if value:
                return value
    return ""


def outlet_name(source: Source, state: FeedState | None = None) -> str:
    """What readers call a configured source: its title, else the publisher name its last
    good poll gave (as its articles carry it), else its host, else (a local file never read)
    its id."""
    if source.title:
        return source.title
    feed_title = state.feed_title or "" if state else ""
    site = state.site_url if state else None
    return publisher_name(feed_title, site, source.location) or source.id
