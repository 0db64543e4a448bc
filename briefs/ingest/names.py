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
# Words that name how a feed is organised, not who publishes it: "NPR Topics" is NPR's.
_ORGANISING = frozenset(
    ["topics", "topic", "sections", "section", "channels", "channel", "categories"]
)
# A piece that is a domain name ("CBSNews.com", "washingtonpost.com"): a name to be read out.
_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$", re.IGNORECASE)
_DOMAIN_IN_TEXT = re.compile(r"(?<![\w.-])(?:[\w-]+\.)+[a-z]{2,}(?![\w.-])", re.IGNORECASE)
# Second-level labels under a country code that belong to the suffix: "bbc.co.uk".
_SECOND_LEVEL = frozenset(["co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"])
# A case boundary inside one word: "CBSNews" -> "CBS|News", "SkyNews" -> "Sky|News".
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


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


def _without_organising(piece: str) -> str:
    """The piece without trailing words that name the feed's organisation ("NPR Topics")."""
    words = piece.split()
    while len(words) > 1 and words[-1].lower().strip(".:") in _ORGANISING:
        words.pop()
    return " ".join(words)


def _domain_label(domain: str) -> str:
    """The registrable label of a domain, as written: "CBSNews.com" -> "CBSNews",
    "www.bbc.co.uk" -> "bbc"."""
    labels = domain.split(".")
    for prefix in _HOST_PREFIXES:
        if len(labels) > 2 and labels[0].lower() + "." == prefix:
            labels = labels[1:]
    labels = labels[:-1]  # the top-level domain
    if len(labels) > 1 and labels[-1].lower() in _SECOND_LEVEL:
        labels = labels[:-1]
    return labels[-1] if labels else domain


def _name_from_domain(domain: str, texts: tuple[str, ...]) -> str:
    """A domain read out as the outlet names itself: the words of the feed's own text that
    spell its label ("The Washington Post" for washingtonpost.com, with a capitalized "The"
    just before), else the label split where its own case changes ("CBSNews" -> "CBS News"),
    else the domain as it is (there is nothing to go by for "npr.org")."""
    label = _domain_label(domain)
    key = label.replace("-", "").casefold()
    if not key:
        return domain
    for text in texts:
        text = _DOMAIN_IN_TEXT.sub(" ", text)  # the domain itself is no evidence of its words
        words = list(re.finditer(r"[^\W_]+", text))
        for i in range(len(words)):
            joined = ""
            for j in range(i, min(i + 5, len(words))):
                joined += words[j].group().casefold()
                if joined == key and all(w.group()[0].isupper() for w in words[i : j + 1]):
                    start = words[i].start()
                    if i and words[i - 1].group() == "The" and words[i - 1].end() == start - 1:
                        start = words[i - 1].start()
                    return text[start : words[j].end()]
                if not key.startswith(joined):
                    break
    parts = _CAMEL.split(label)
    if len(parts) > 1:
        return " ".join(parts)
    return domain


def publisher_name(
    feed_title: str,
    site_url: str | None = None,
    feed_url: str | None = None,
    page_name: str = "",
    feed_text: str = "",
) -> str:
    """The outlet's name: the page's site name, else the feed title's outlet part, else the host.

    A name that is a domain ("CBSNews.com", or the host as a last resort) is read out as a
    name with the help of ``feed_text`` (the feed's description and the like, see
    :func:`_name_from_domain`). "" when there is nothing to go by (a local file without a
    title).
    """
    texts = tuple(t for t in (page_name, feed_title, feed_text) if t)
    for candidate in (page_name, feed_title):
        pieces = [p.strip() for p in _SEPARATORS.split(" ".join(candidate.split())) if p.strip()]
        for piece in pieces:
            cleaned = _without_organising(_NOISE.sub("", piece).strip())
            if cleaned and not _is_section(cleaned):
                return _name_from_domain(cleaned, texts) if _DOMAIN.match(cleaned) else cleaned
    host = _host_name(site_url, feed_url)
    return _name_from_domain(host, texts) if host else ""


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
