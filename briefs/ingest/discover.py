"""Find and validate a feed for ``briefs sources add``: a feed URL, or a web page that links one.

A web page announces its feeds with ``<link rel="alternate" type="application/rss+xml"
href="...">`` (or Atom, or JSON Feed); the first one that parses wins. The feed is fetched once
with the normal limits, so a source that is added is known to work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import lxml.html
from lxml import etree

from briefs.config import FetchSettings
from briefs.errors import FetchError, ParseError, SourceError, UnsafeURLError
from briefs.ingest.fetch import fetch_url, make_client
from briefs.ingest.names import publisher_name, site_name
from briefs.ingest.netguard import allow_private_would_allow
from briefs.ingest.parse import parse_feed
from briefs.models import Source

__all__ = ["DiscoveredFeed", "discover_feed", "feed_links"]

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)


@dataclass(frozen=True, slots=True)
class DiscoveredFeed:
    """A feed that was fetched and parsed: where it is, what it calls itself, how big it is."""

    url: str
    title: str
    site_url: str | None
    entries: int
    # a clean publisher name (briefs.ingest.names): the page's site name, else from the title
    name: str = ""


def feed_links(page: bytes, base: str) -> list[str]:
    """The feed URLs an HTML page announces, in page order (RSS/Atom/JSON alternates)."""
    try:
        doc = lxml.html.fromstring(page)
    except (etree.ParserError, ValueError):
        return []
    out: list[str] = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = urljoin(base, href)
            if url not in out:
                out.append(url)
    return out


def discover_feed(
    location: str,
    settings: FetchSettings,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DiscoveredFeed:
    """Fetch ``location`` (a URL or a local file) and return the feed it is or links to.

    Raises SourceError (FetchError, ParseError) when neither works.
    """
    probe = Source("new", "feed", location)
    if "://" not in location:
        path = Path(location)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {location}: {exc.strerror or exc}") from exc
        parsed = parse_feed(data, probe, url=path.resolve().as_uri(), now=now)
        name = publisher_name(parsed.title, parsed.site_url, feed_text=parsed.description)
        return DiscoveredFeed(str(path), parsed.title, parsed.site_url, len(parsed.articles), name)
    return asyncio.run(_discover(location, probe, settings, now, transport))


async def _discover(
    url: str,
    probe: Source,
    settings: FetchSettings,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None,
) -> DiscoveredFeed:
    # Guarded like an article link (a pasted URL is often someone else's suggestion): a feed
    # on the machine's own network needs fetch.allow_private.
    async with make_client(settings, transport, untrusted=True) as client:
        try:
            result = await fetch_url(client, url, settings)
        except UnsafeURLError as exc:
            hint = (
                " (fetch.allow_private = true allows it)"
                if not settings.allow_private and allow_private_would_allow(url)
                else ""
            )
            raise UnsafeURLError(f"{url}: {exc}{hint}") from exc
        except FetchError as exc:
            raise FetchError(f"{url}: {exc}") from exc
        if result.status != 200:
            raise FetchError(f"{url}: HTTP {result.status} {result.reason}".strip())
        try:
            parsed = parse_feed(
                result.content, probe, url=result.url, now=now, content_type=result.content_type
            )
            return DiscoveredFeed(
                result.permanent_redirect or url,
                parsed.title,
                parsed.site_url,
                len(parsed.articles),
                publisher_name(
                    parsed.title, parsed.site_url, result.url, feed_text=parsed.description
                ),
            )
        except ParseError as exc:
            candidates = feed_links(result.content, result.url)
            if not candidates:
                raise ParseError(
                    f"{url}: neither a feed nor a page that links one ({exc})"
                ) from exc
        page_name = site_name(result.content)  # the page names its site (og:site_name)
        return await _first_linked(client, url, candidates, page_name, probe, settings, now)


async def _first_linked(
    client: httpx.AsyncClient,
    url: str,
    candidates: list[str],
    page_name: str,
    probe: Source,
    settings: FetchSettings,
    now: dt.datetime,
) -> DiscoveredFeed:
    """The first feed a page links that answers and parses."""
    errors: list[str] = []
    for candidate in candidates:
        try:
            found = await fetch_url(client, candidate, settings)
            if found.status != 200:
                raise FetchError(f"HTTP {found.status}")
            parsed = parse_feed(
                found.content, probe, url=found.url, now=now, content_type=found.content_type
            )
        except SourceError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        return DiscoveredFeed(
            found.permanent_redirect or candidate,
            parsed.title,
            parsed.site_url or url,
            len(parsed.articles),
            publisher_name(
                parsed.title,
                parsed.site_url or url,
                found.url,
                page_name,
                feed_text=parsed.description,
            ),
        )
    raise ParseError(f"{url}: the page links feeds, but none works: {'; '.join(errors)}")
