"""Real-world input: feedparser's own test suite and same-day news feed snapshots (../shared/data)."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re

import pytest

from briefs.errors import ParseError
from briefs.ingest.clean import plain_text
from briefs.ingest.parse import ParsedFeed, parse_feed
from briefs.ingest.urls import canonical_url
from briefs.models import Source
from tests.conftest import shared_path
from tests.test_parse_paths import EXCEPTIONS

SRC = Source("t", "feed", "https://feeds.example.org/feed")
NOW = dt.datetime(2026, 2, 18, 12, tzinfo=dt.UTC)

_EXPECT = re.compile(r"^\s*Expect:\s*(.*)$", re.MULTILINE)
_HEADER = re.compile(r"^\s*Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)
_LITERAL = r"u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
# feed['title'] == '...', entries[0]['link'] == entries[1]['link'] == '...', 'a' + 'b'
_CLAIM = re.compile(
    r"(feed|entries\[(\d+)\])\[['\"](title|link)['\"]\]\s*==\s*"
    r"(?:entries\[\d+\]\[['\"]\w+['\"]\]\s*==\s*)*"
    rf"({_LITERAL}(?:\s*\+\s*{_LITERAL})*)"
)
# Known disagreements, on purpose: these titles hold a whole HTML document whose malformed
# <script> tag feedparser's sanitizer lets through as text; we show only the text a browser
# would show, which is the end of feedparser's value.
SCRIPT_LEAKS = {
    "wellformed/sanitize/entry_title_crazy.xml",
    "wellformed/sanitize/feed_title_crazy.xml",
}


def _claims(head: str) -> list[tuple[str | None, str, str]]:
    """(entry index or None for the feed, key, expected value) named by an Expect line."""
    match = _EXPECT.search(head)
    if not match:
        return []
    out = []
    for claim in _CLAIM.finditer(match.group(1)):
        parts = re.findall(_LITERAL, claim.group(4))
        value = "".join(ast.literal_eval(p.lstrip("u")) for p in parts)
        out.append((claim.group(2), claim.group(3), value))
    return out


@pytest.mark.slow
def test_every_feedparser_test_file_goes_through_ingest() -> None:
    root = shared_path("data", "feedparser-testsuite")
    files = sorted(p for p in root.rglob("*.xml") if p.is_file())
    assert len(files) >= 1800
    not_feeds: list[str] = []
    checked = 0
    disagreements: list[tuple[str, str, str, str]] = []
    for path in files:
        name = path.relative_to(root).as_posix()
        data = path.read_bytes()
        head = data[:4096].decode("latin-1")
        headers = {k.lower(): v for k, v in _HEADER.findall(head)}
        # feedparser's harness serves each file from 127.0.0.1:8097 with the Header: lines
        url = headers.get("content-location") or f"http://127.0.0.1:8097/{name}"
        try:
            parsed = parse_feed(
                data, SRC, url=url, now=NOW, content_type=headers.get("content-type")
            )
        except ParseError:
            not_feeds.append(name)
            continue
        for index, key, value in _claims(head):
            expected = plain_text(value) if key == "title" else canonical_url(value)
            if key == "title" and not expected:
                continue  # e.g. a title that is only an <img>: we fall back to text or link
            got = _value(parsed, index, key)
            checked += 1
            if name in SCRIPT_LEAKS:
                assert got and expected.endswith(got) and "function" not in got, (name, got)
            elif got != expected and not _excepted(name, index, key):
                disagreements.append((name, key, expected, got or ""))
    assert not_feeds == ["illformed/rss_empty_document.xml"]
    assert checked >= 140
    assert disagreements == []


def _excepted(name: str, index: str | None, key: str) -> bool:
    """A difference of the fast path from feedparser listed (and justified) in test_parse_paths."""
    field = {"title": "title", "link": "url"}[key] if index is not None else f"feed.{key}"
    field = "feed.site_url" if field == "feed.link" else field
    return field in EXCEPTIONS.get(f"feedparser-testsuite/{name}", set())


def _value(parsed: ParsedFeed, index: str | None, key: str) -> str | None:
    if index is None:
        return parsed.title if key == "title" else parsed.site_url
    if int(index) >= len(parsed.articles):
        return None
    article = parsed.articles[int(index)]
    return article.title if key == "title" else article.url


# file: (items, with an image, with full content in the feed)
SNAPSHOTS = {
    "bbc-news-world.xml": (33, 33, 0),
    "nyt-world.xml": (57, 51, 0),  # its plain-text media:description is a caption, not a body
    "aljazeera-all.xml": (25, 0, 0),
    "cbsnews-world.xml": (30, 0, 0),  # its <image> inside items is not RSS
    "npr-world.xml": (10, 5, 5),  # only tracking pixels in the other five
    "washingtonpost-world.xml": (9, 0, 0),
    "dawn-world.xml": (30, 30, 0),
    "japantoday-world.xml": (30, 0, 0),
    "restofworld.xml": (12, 12, 12),
    "time-world.xml": (100, 100, 100),
}


@pytest.mark.parametrize("name", sorted(SNAPSHOTS))
def test_news_snapshots_ingest_with_dates_links_images_and_text(name: str) -> None:
    folder = shared_path("data", "news-feeds-2026-02-17")
    manifest = {m["file"]: m for m in json.loads((folder / "manifest.json").read_text())}
    parsed = parse_feed(
        (folder / name).read_bytes(), SRC, url="https://feeds.example.org/", now=NOW
    )
    items, images, bodies = SNAPSHOTS[name]
    articles = parsed.articles
    assert len(articles) == items == manifest[name]["items"]
    assert parsed.bozo is None and parsed.title and parsed.site_url
    assert len({a.id for a in articles}) == items
    assert sum(a.image_url is not None for a in articles) == images
    assert sum(a.body_origin == "feed" for a in articles) == bodies
    for a in articles:
        assert a.url.startswith("https://") and "utm_" not in a.url and "#" not in a.url
        assert a.title and a.title == " ".join(a.title.split()) and "<" not in a.title
        assert a.text and "<p>" not in a.text and "&amp;" not in a.text
        # real publication dates, not the fetch time
        assert dt.datetime(2026, 1, 1, tzinfo=dt.UTC) < a.published < NOW
        assert a.published.utcoffset() == dt.timedelta(0)
        assert a.image_url is None or (
            a.image_url.startswith("https://") and "pixel" not in a.image_url
        )
