"""Feed items -> RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents, built from the model in code.

Two kinds of feed share this code: the edition feeds (``feed.xml``, ``atom.xml``, ``feed.json``:
one item per edition, the newest N) and the story feeds (``stories.xml``, ``stories.atom``,
``stories.json``: one item per story, whose guid is the story id and whose ``updated`` date and
content change when the story develops).

Safety: every string is stripped of characters XML cannot carry, every URL must be absolute
http(s), and item HTML (our own rendering, in which feed text is already escaped) is sanitized
again with nh3 against a small allowlist before it goes out, so no feed can carry active content
even if a user's template lets something through. GUIDs are ``tag:`` URIs, never permalinks.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import nh3
from feedgen.feed import FeedGenerator

from briefs.markup import safe_url
from briefs.models import BriefStory, Edition, EditionRecord

__all__ = [
    "EDITION_FEEDS",
    "FEED_TYPES",
    "STORY_FEEDS",
    "FeedInfo",
    "FeedItem",
    "FeedNames",
    "build_feeds",
    "edition_guid",
    "edition_items",
    "sanitize_html",
    "story_guid",
    "story_item",
]

TTL_MINUTES = 60
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ALLOWED_TAGS = {
    "a", "article", "aside", "b", "br", "em", "figcaption", "figure", "h2", "h3", "h4", "i",
    "img", "li", "ol", "p", "span", "strong", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "*": {"class", "id"},
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "loading", "decoding"},
}


@dataclass(frozen=True, slots=True)
class FeedNames:
    """File names of one family of feeds (they are also the self links)."""

    rss: str
    atom: str
    json: str


EDITION_FEEDS = FeedNames("feed.xml", "atom.xml", "feed.json")
STORY_FEEDS = FeedNames("stories.xml", "stories.atom", "stories.json")
# The Content-Type each family member is served with.
FEED_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What a feed says about itself."""

    title: str
    description: str
    site_url: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item of a feed. ``content_html`` is our own rendering (sanitized again on output)."""

    guid: str
    title: str
    url: str
    published: dt.datetime
    updated: dt.datetime
    summary: str
    content_html: str
    image_url: str = ""
    section: str = ""  # the story's section in its edition (story items; the section feeds)


def _xml(value: str) -> str:
    """Text that XML 1.0 can carry: no control characters, no lone surrogates."""
    return _NOT_XML.sub("", value)


RSS_TYPE = "application/rss+xml"


def _line(value: str) -> str:
    """A title or summary: one line of XML-safe text."""
    return " ".join(_xml(value).split())


def _http(url: str) -> str:
    return safe_url(url) if not _NOT_XML.search(url) else ""


def sanitize_html(html: str) -> str:
    """HTML for a feed reader: allowlisted tags and attributes, http(s) links only."""
    return nh3.clean(
        _xml(html),
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def _authority(site_url: str) -> str:
    return urlsplit(site_url).hostname or "localhost"


def edition_guid(site_url: str, record: EditionRecord) -> str:
    """A stable, globally unique id for an edition (RFC 4151 tag URI)."""
    return (
        f"tag:{_authority(site_url)},{record.edition.date.year}:briefs/edition/{record.edition.id}"
    )


def story_guid(site_url: str, story_id: str) -> str:
    """The guid of a story in the story feeds: a tag URI ending in the story id."""
    return f"tag:{_authority(site_url)},2024:briefs/story/{story_id}"


def _base(site_url: str) -> str:
    return site_url if site_url.endswith("/") else site_url + "/"


def edition_items(
    site_url: str,
    records: Sequence[EditionRecord],
    closes: Callable[[Edition], dt.datetime] | None = None,
) -> list[FeedItem]:
    """One feed item per built edition (newest first, as given).

    An item is dated by its edition's own time, not by when it was built: the moment the
    edition closes (``closes``, its cut-off), or the build time for an edition built before
    it closed (today's, still filling). Rebuilding an old edition so leaves its date alone,
    and readers do not show it again as new.
    """
    base = _base(site_url)
    return [
        FeedItem(
            guid=edition_guid(base, r),
            title=r.title,
            url=urljoin(base, f"{r.edition.id}.html"),
            published=_edition_time(r, closes),
            updated=_edition_time(r, closes),
            summary=r.summary or r.title,
            content_html=r.content_html,
        )
        for r in records
    ]


def _edition_time(
    record: EditionRecord, closes: Callable[[Edition], dt.datetime] | None
) -> dt.datetime:
    if closes is None:
        return record.built_at
    return min(record.built_at, closes(record.edition))


def story_item(
    site_url: str, edition: Edition, story: BriefStory, content_html: str, images: bool = True
) -> FeedItem:
    """A story as a per-story feed item: its guid is the story's, its link the story's own page
    (``stories/<id>.html``, as of the newest edition that carried it). Both its dates are its
    latest report's: readers sort by the publication date (RSS has no other), so a story that
    developed today sorts with today's."""
    base = _base(site_url)
    lead = story.summary.sentences[0].text if story.summary.sentences else ""
    newest = sorted(story.articles, key=lambda a: (a.published, a.id), reverse=True)
    image = next((a.image_url for a in newest if a.image_url and _http(a.image_url)), "")
    return FeedItem(
        guid=story_guid(base, story.story.id),
        title=story.summary.headline,
        url=urljoin(base, f"stories/{story.story.id}.html"),
        published=story.story.last_updated,
        updated=story.story.last_updated,
        summary=lead or story.summary.headline,
        content_html=content_html,
        image_url=image if images else "",
        section=story.section,
    )


def _generator(
    info: FeedInfo,
    items: Sequence[FeedItem],
    self_name: str,
    self_type: str,
    updated: dt.datetime,
) -> FeedGenerator:
    base = _base(info.site_url)
    fg = FeedGenerator()
    fg.id(f"tag:{_authority(base)},2024:briefs/{self_name}")
    fg.title(_line(info.title))
    fg.subtitle(_line(info.description) or _line(info.title))
    fg.author(name=_line(info.title))
    # feedgen takes RSS's <link> from the last link added: self first, the site last.
    fg.link(href=urljoin(base, self_name), rel="self", type=self_type)
    fg.link(href=base, rel="alternate", type="text/html")
    fg.language(info.language)
    fg.generator("briefs")
    fg.ttl(TTL_MINUTES)
    fg.lastBuildDate(updated)
    # feedgen prepends entries: add the oldest first so the newest is listed first.
    for item in reversed(items):
        fe = fg.add_entry()
        fe.id(item.guid)
        fe.guid(item.guid, permalink=False)
        title = _line(item.title) or "(untitled)"
        # Many RSS readers (feedparser among them) treat an RSS <title> as HTML: keep markup text.
        fe.title(
            title.replace("<", "&lt;").replace(">", "&gt;") if self_type == RSS_TYPE else title
        )
        if _http(item.url):
            fe.link(href=_http(item.url), rel="alternate", type="text/html")
        fe.published(item.published)
        fe.updated(item.updated)
        summary = _line(item.summary) or _line(item.title)
        # RSS <description> is HTML by convention (readers render it): escape the text once more
        # so "<img onerror=...>" in a headline stays text. Atom's <summary> is typed text.
        fe.summary(html.escape(summary, quote=False) if self_type == RSS_TYPE else summary)
        fe.content(sanitize_html(item.content_html), type="html")
    return fg


def build_feeds(
    info: FeedInfo,
    items: Sequence[FeedItem],
    now: dt.datetime,
    names: FeedNames = EDITION_FEEDS,
) -> dict[str, bytes]:
    """The RSS, Atom and JSON Feed documents for ``items`` (newest first), by file name."""
    base = _base(info.site_url)
    updated = max((i.updated for i in items), default=now)
    rss = _generator(info, items, names.rss, RSS_TYPE, updated)
    atom = _generator(info, items, names.atom, "application/atom+xml", updated)
    return {
        names.rss: rss.rss_str(pretty=True),
        names.atom: atom.atom_str(pretty=True),
        names.json: _json_feed(info, items, urljoin(base, names.json)),
    }


def _json_feed(info: FeedInfo, items: Sequence[FeedItem], feed_url: str) -> bytes:
    base = _base(info.site_url)
    out: list[dict[str, object]] = []
    for item in items:
        entry: dict[str, object] = {
            "id": item.guid,
            "title": _line(item.title),
            "summary": _line(item.summary) or _line(item.title),
            "content_html": sanitize_html(item.content_html),
            "date_published": item.published.astimezone(dt.UTC).isoformat(),
            "date_modified": item.updated.astimezone(dt.UTC).isoformat(),
        }
        if _http(item.url):
            entry["url"] = _http(item.url)
        if _http(item.image_url):
            entry["image"] = _http(item.image_url)
        out.append(entry)
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _line(info.title),
        "description": _line(info.description),
        "home_page_url": base,
        "feed_url": feed_url,
        "language": info.language,
        "authors": [{"name": _line(info.title), "url": base}],
        "items": out,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
