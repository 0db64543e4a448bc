"""Editions -> RSS 2.0, Atom 1.0 and JSON Feed 1.1, built from the model in code (feedgen).

One item per edition, newest first; the item's content is the edition's HTML fragment (our own
rendering, with everything from feeds escaped). GUIDs are stable ``tag:`` URIs, not permalinks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

from feedgen.feed import FeedGenerator

from briefs.models import EditionRecord

__all__ = ["build_feeds", "edition_guid"]

TTL_MINUTES = 60


def _authority(site_url: str) -> str:
    return urlsplit(site_url).hostname or "localhost"


def edition_guid(site_url: str, record: EditionRecord) -> str:
    """A stable, globally unique id for an edition (RFC 4151 tag URI)."""
    return (
        f"tag:{_authority(site_url)},{record.edition.date.year}:briefs/edition/{record.edition.id}"
    )


def _generator(
    title: str,
    site_url: str,
    language: str,
    records: Sequence[EditionRecord],
    self_name: str,
    updated: dt.datetime,
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(f"tag:{_authority(site_url)},2024:briefs")
    fg.title(title)
    fg.subtitle(f"{title}: extractive daily news briefs")
    fg.link(href=site_url, rel="alternate")
    fg.link(href=urljoin(site_url, self_name), rel="self")
    fg.language(language)
    fg.generator("briefs")
    fg.ttl(TTL_MINUTES)
    fg.lastBuildDate(updated)
    fg.updated(updated)
    # feedgen prepends entries, so add oldest first to list the newest first.
    for rec in reversed(records):
        fe = fg.add_entry()
        page = urljoin(site_url, f"{rec.edition.id}.html")
        fe.id(edition_guid(site_url, rec))
        fe.guid(edition_guid(site_url, rec), permalink=False)
        fe.title(rec.title)
        fe.link(href=page, rel="alternate")
        fe.published(rec.built_at)
        fe.updated(rec.built_at)
        fe.description(rec.summary or rec.title)
        fe.content(rec.content_html, type="CDATA")
    return fg


def build_feeds(
    title: str,
    site_url: str,
    language: str,
    records: Sequence[EditionRecord],
    now: dt.datetime,
) -> dict[str, bytes]:
    """The feed documents by file name: ``feed.xml`` (RSS), ``atom.xml``, ``feed.json``."""
    site_url = site_url if site_url.endswith("/") else site_url + "/"
    updated = max((r.built_at for r in records), default=now)
    rss = _generator(title, site_url, language, records, "feed.xml", updated)
    atom = _generator(title, site_url, language, records, "atom.xml", updated)
    for entry in atom.entry():
        entry.content(entry.content()["content"], type="html")
    out = {
        "feed.xml": rss.rss_str(pretty=True),
        "atom.xml": atom.atom_str(pretty=True),
    }
    out["feed.json"] = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "home_page_url": site_url,
            "feed_url": urljoin(site_url, "feed.json"),
            "language": language,
            "items": [
                {
                    "id": edition_guid(site_url, r),
                    "url": urljoin(site_url, f"{r.edition.id}.html"),
                    "title": r.title,
                    "summary": r.summary or r.title,
                    "content_html": r.content_html,
                    "date_published": r.built_at.isoformat(),
                    "date_modified": r.built_at.isoformat(),
                }
                for r in records
            ],
        },
        ensure_ascii=False,
        indent=2,
    ).encode("utf-8")
    return out
