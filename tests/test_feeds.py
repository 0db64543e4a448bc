"""The edition feeds and the per-story feeds: golden files, and every document read back.

RSS and Atom parse with feedparser without a bozo flag and with the right items, dates and guids,
and are well-formed XML with the right namespaces. feedparser 6.0 does not read JSON Feed, so
the JSON documents are checked against the JSON Feed 1.1 structure and read back with briefs' own
JSON Feed parser (the one that ingests sources).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json

import feedparser
import lxml.etree as ET
import lxml.html
import pytest

from briefs.feeds import (
    EDITION_FEEDS,
    STORY_FEEDS,
    FeedInfo,
    FeedItem,
    build_feeds,
    edition_items,
    story_item,
)
from briefs.ingest.parse import parse_feed
from briefs.models import Edition, EditionRecord, Source
from briefs.render import Renderer
from tests.golden import assert_golden
from tests.model import NOW, fixed_brief

SITE = "https://news.example.org/briefs/"
INFO = FeedInfo("The Test Brief", "Daily test briefs.", SITE, "en")
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}


def _records() -> list[EditionRecord]:
    renderer = Renderer(timezone="Europe/London", site_url=SITE)
    out = []
    for days in range(3):
        brief = fixed_brief(3 + days)
        edition = Edition(dt.date(2024, 4, 6) - dt.timedelta(days=days))
        built = NOW - dt.timedelta(days=days)
        out.append(
            EditionRecord(
                edition, built, f"The Test Brief: {edition.date:%d %B}",
                renderer.html_fragment(brief), "; ".join(s.summary.headline for s in brief.stories),
                len(brief.stories),
            )
        )  # fmt: skip
    return out


def _story_items() -> list[FeedItem]:
    renderer = Renderer(timezone="Europe/London", site_url=SITE)
    brief = fixed_brief(4)
    return [
        story_item(SITE, brief.edition, s, renderer.story_html(brief, s)) for s in brief.stories
    ]


@pytest.fixture(scope="module")
def edition_feeds() -> dict[str, bytes]:
    return build_feeds(INFO, edition_items(SITE, _records()), NOW, EDITION_FEEDS)


@pytest.fixture(scope="module")
def story_feeds() -> dict[str, bytes]:
    return build_feeds(INFO, _story_items(), NOW, STORY_FEEDS)


def test_golden_feeds(edition_feeds: dict[str, bytes], story_feeds: dict[str, bytes]) -> None:
    assert set(edition_feeds) == {"feed.xml", "atom.xml", "feed.json"}
    assert set(story_feeds) == {"stories.xml", "stories.atom", "stories.json"}
    for name, data in {**edition_feeds, **story_feeds}.items():
        assert_golden(name, data)


def _utc(parsed: object) -> dt.datetime:
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "version"), [("feed.xml", "rss20"), ("atom.xml", "atom10")])
def test_edition_feeds_parse_back(edition_feeds: dict[str, bytes], name: str, version: str) -> None:
    records = _records()
    feed = feedparser.parse(edition_feeds[name])
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == version
    assert feed.feed.title == "The Test Brief"
    assert [e.id for e in feed.entries] == [
        f"tag:news.example.org,2024:briefs/edition/{r.edition.id}" for r in records
    ]
    for entry, rec in zip(feed.entries, records, strict=True):
        assert entry.title == rec.title
        assert entry.link == f"{SITE}{rec.edition.id}.html"
        assert _utc(entry.published_parsed) == rec.built_at
        if version == "atom10":
            assert _utc(entry.updated_parsed) == rec.built_at
        assert "<article" in entry.content[0].value
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == [f"{SITE}{name}"]


def test_rss_has_the_promised_elements(edition_feeds: dict[str, bytes]) -> None:
    root = ET.fromstring(edition_feeds["feed.xml"])
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.nsmap.get("atom") == NS["atom"] and root.nsmap.get("content") == NS["content"]
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("link") == SITE
    assert channel.findtext("ttl") == "60"
    assert channel.findtext("lastBuildDate") == "Sat, 06 Apr 2024 06:30:00 +0000"
    self_link = channel.find("atom:link[@rel='self']", NS)
    assert self_link is not None and self_link.get("href") == SITE + "feed.xml"
    assert self_link.get("type") == "application/rss+xml"
    items = channel.findall("item")
    assert len(items) == 3
    for item in items:
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        assert guid.text and guid.text.startswith("tag:news.example.org,2024:briefs/edition/")
        assert item.findtext("pubDate") and item.findtext("description")
        encoded = item.findtext("content:encoded", namespaces=NS)
        assert encoded and "<article" in encoded


def test_atom_has_the_promised_elements(edition_feeds: dict[str, bytes]) -> None:
    root = ET.fromstring(edition_feeds["atom.xml"])
    assert root.tag == f"{{{NS['atom']}}}feed"
    assert root.findtext("atom:id", namespaces=NS)
    assert root.findtext("atom:updated", namespaces=NS) == "2024-04-06T06:30:00+00:00"
    assert root.find("atom:author/atom:name", NS) is not None
    assert root.find("atom:link[@rel='self']", NS).get("href") == SITE + "atom.xml"  # type: ignore[union-attr]
    for entry in root.findall("atom:entry", NS):
        content = entry.find("atom:content", NS)
        assert content is not None and content.get("type") == "html"
        assert entry.findtext("atom:summary", namespaces=NS)
        links = entry.findall("atom:link", NS)
        assert [(x.get("rel") or "alternate") for x in links] == ["alternate"]
        assert links[0].get("href").startswith(SITE)


def _check_json_feed(data: bytes, self_name: str, items: list[FeedItem]) -> None:
    doc = json.loads(data)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == SITE + self_name and doc["home_page_url"] == SITE
    assert doc["title"] and doc["authors"][0]["name"]
    assert [i["id"] for i in doc["items"]] == [i.guid for i in items]
    for got, want in zip(doc["items"], items, strict=True):
        assert set(got) >= {"id", "url", "title", "content_html", "date_published"}
        assert dt.datetime.fromisoformat(got["date_published"]) == want.published
        assert dt.datetime.fromisoformat(got["date_modified"]) == want.updated
        assert got["url"].startswith(SITE)
    source = Source("self", "feed", SITE + self_name, "Self")
    parsed = parse_feed(data, source, url=SITE + self_name, now=NOW)
    assert [a.guid for a in parsed.articles] == [i.guid for i in items]
    assert [a.published for a in parsed.articles] == [i.published for i in items]


def test_json_feeds_are_json_feed_1_1(
    edition_feeds: dict[str, bytes], story_feeds: dict[str, bytes]
) -> None:
    _check_json_feed(edition_feeds["feed.json"], "feed.json", edition_items(SITE, _records()))
    _check_json_feed(story_feeds["stories.json"], "stories.json", _story_items())


@pytest.mark.parametrize("name", ["stories.xml", "stories.atom"])
def test_story_feeds_have_one_item_per_story(story_feeds: dict[str, bytes], name: str) -> None:
    brief = fixed_brief(4)
    feed = feedparser.parse(story_feeds[name])
    assert not feed.bozo, feed.get("bozo_exception")
    by_id = {e.id: e for e in feed.entries}
    assert set(by_id) == {
        f"tag:news.example.org,2024:briefs/story/{s.story.id}" for s in brief.stories
    }
    for item in brief.stories:
        entry = by_id[f"tag:news.example.org,2024:briefs/story/{item.story.id}"]
        assert entry.id.endswith(item.story.id)  # guid = the story id
        assert entry.title == item.summary.headline
        assert entry.link == f"{SITE}stories/{item.story.id}.html"
        # dated by the latest report: a date-sorted reader shows today's developments first
        assert _utc(entry.published_parsed) == item.story.last_updated
        if name.endswith(".atom"):
            assert _utc(entry.updated_parsed) == item.story.last_updated
        text = " ".join(lxml.html.fromstring(entry.content[0].value).text_content().split())
        assert item.summary.sentences[0].text in text


def test_feeds_without_items_are_still_valid() -> None:
    for name, data in build_feeds(INFO, [], NOW).items():
        if name.endswith(".json"):
            assert json.loads(data)["items"] == []
        else:
            feed = feedparser.parse(data)
            assert not feed.bozo and feed.entries == []


def test_site_url_without_trailing_slash_gives_the_same_urls() -> None:
    info = FeedInfo("T", "D", SITE.rstrip("/"))
    a = build_feeds(info, edition_items(SITE.rstrip("/"), _records()), NOW)
    b = build_feeds(INFO, edition_items(SITE, _records()), NOW)
    assert feedparser.parse(a["feed.xml"]).entries[0].link == (
        feedparser.parse(b["feed.xml"]).entries[0].link
    )
