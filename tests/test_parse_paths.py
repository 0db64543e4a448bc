"""The two parse paths (fastfeedparser first, feedparser as the safety net) give the same Articles.

Every document of the real news snapshots, the bundled demo feeds and feedparser's own test suite
is parsed by the product (``parse_feed``: the fast path where it is fit) and by feedparser alone;
the results are compared field by field, feed and articles. The differences that remain are
listed below, each with the reason it is right or cannot matter to a brief.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from briefs.errors import ParseError
from briefs.ingest import xmlfeed
from briefs.ingest.parse import ParsedFeed, parse_feed
from briefs.models import Source
from tests.conftest import SEEDS, shared_path

SRC = Source("t", "feed", "https://feeds.example.org/feed")
NOW = dt.datetime(2026, 2, 18, 12, tzinfo=dt.UTC)
_HEADER = re.compile(r"^\s*Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)

# Fields that may differ, per document (relative to ../shared/data), grouped by why.
# feedparser reads an item's media:description (a photo caption) as its summary where the item
# has none: the fast path leaves captions out, which is right (a caption quoted as news is what
# a reader objects to). Where it files the caption as content beside a summary, both paths drop
# it (RSS content is HTML; plain-text "content" is that caption).
CAPTIONS = {
    "news-feeds-2026-02-17/restofworld.xml": {"summary"},
    "feedparser-testsuite/wellformed/media-rss/media_group.xml": {
        "summary",
        "content_hash",
        "guid",  # an entry without link or GUID is identified by a hash of its text
        "id",
    },
}
# Constructs no news feed publishes: base64 titles (Atom's type="...base64"), a type="text"
# title holding child elements (invalid Atom; the fast path keeps the text before the first
# child), upper-case RSS element names, a relative Atom id that feedparser resolves as if it
# were a link, an RSS item link given as an href attribute (Podlove chapters), a title's own
# xml:lang (the article keeps the feed's language), and an extension element named like an RSS
# core one (the fast path reads its text as the summary; the item's description is still kept,
# as its body).
ODDITIES = {
    "feedparser-testsuite/wellformed/atom10/entry_title_base64.xml": {"guid", "id", "title"},
    "feedparser-testsuite/wellformed/atom10/entry_title_base64_2.xml": {"guid", "id", "title"},
    "feedparser-testsuite/wellformed/atom10/feed_title_base64.xml": {"feed.title"},
    "feedparser-testsuite/wellformed/atom10/feed_title_base64_2.xml": {"feed.title"},
    "feedparser-testsuite/wellformed/atom/entry_title_naked_markup.xml": {"guid", "id", "title"},
    "feedparser-testsuite/wellformed/atom/feed_title_naked_markup.xml": {"feed.title"},
    "feedparser-testsuite/wellformed/itunes/itunes_core_element_uppercase.xml": {"feed.title"},
    "feedparser-testsuite/wellformed/lang/http_content_language_entry_title_inherit_2.xml": {
        "guid",
        "id",
        "url",
    },
    "feedparser-testsuite/wellformed/psc/rss2.0simplechapter.xml": {
        "feed.site_url",
        "guid",
        "id",
        "url",
    },
    "feedparser-testsuite/wellformed/lang/entry_title_xml_lang.xml": {"language"},
    "feedparser-testsuite/wellformed/namespace/rss2.0noNSwithModulesLocalNameClash.xml": {
        "summary",
        "body",
        "body_origin",
    },
}
# feedparser takes an Atom feed's <id> for its web site when it has no alternate link; an id is
# a name, not a page (the site URL only resolves relative links and fills OPML's htmlUrl).
ATOM_ID_AS_SITE = {
    f"feedparser-testsuite/wellformed/{name}.xml": {"feed.site_url"}
    for name in (
        "atom/feed_id",
        "atom/feed_id_map_guid",
        "atom10/feed_id",
        "atom10/feed_id_map_guid",
        "base/http_feed_id_base_content_location",
        "base/http_feed_id_base_docuri",
    )
}
# Where an Atom entry has content and no summary, fastfeedparser makes a teaser of the content's
# first 512 characters; where that cannot be told from a publisher's summary the article keeps
# it: the same words as the start of its body.
TEASERS = {
    "feedparser-testsuite/wellformed/sanitize/large_atom_feed_that_needs_css_sanitisation.xml": {
        "summary"
    },
}
# An item cut off inside an unclosed CDATA section: fastfeedparser (lxml's recovery) keeps it,
# feedparser drops it; the fast path is right to keep what the publisher sent.
RECOVERED = {"feedparser-testsuite/illformed/rss_incomplete_cdata.xml": {"count"}}
EXCEPTIONS = {**CAPTIONS, **ODDITIES, **ATOM_ID_AS_SITE, **TEASERS, **RECOVERED}


def _differences(fast: ParsedFeed, net: ParsedFeed) -> set[str]:
    """The names of the fields where the two results differ ("feed.x", article fields, count)."""
    out = {
        f"feed.{name}"
        for name in ("title", "site_url", "ttl_minutes")
        if getattr(fast, name) != getattr(net, name)
    }
    if len(fast.articles) != len(net.articles):
        return out | {"count"}
    for a, b in zip(fast.articles, net.articles, strict=True):
        out |= {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}
    return out


def _both(path: Path, name: str) -> tuple[ParsedFeed, ParsedFeed] | None:
    """The product's reading of one document and feedparser's alone (None: not a feed)."""
    data = path.read_bytes()
    headers = {k.lower(): v for k, v in _HEADER.findall(data[:4096].decode("latin-1"))}
    url = headers.get("content-location") or f"http://127.0.0.1:8097/{name}"
    content_type = headers.get("content-type")
    try:
        product = parse_feed(data, SRC, url=url, now=NOW, content_type=content_type)
    except ParseError:
        product = None
    try:
        net = xmlfeed.parse_feedparser(data, SRC, url=url, now=NOW, content_type=content_type)
    except ParseError:
        assert product is None, f"{name}: only the fast path reads it"
        return None
    assert product is not None, f"{name}: only feedparser reads it"
    return product, net


def _check(root: Path, files: list[Path], prefix: str) -> tuple[int, dict[str, set[str]]]:
    """How many documents took the fast path, and the unlisted differences."""
    fast = 0
    unexpected: dict[str, set[str]] = {}
    for path in files:
        name = f"{prefix}/{path.relative_to(root).as_posix()}"
        pair = _both(path, name)
        if pair is None:
            continue
        product, net = pair
        fast += product.parser == "fastfeedparser"
        if product.parser == "feedparser":
            assert product.fallback, f"{name}: feedparser without a reason"
        differences = _differences(product, net) - EXCEPTIONS.get(name, set())
        if differences:
            unexpected[name] = differences
    return fast, unexpected


def test_news_snapshots_and_demo_feeds_read_alike_on_the_fast_path() -> None:
    root = shared_path("data", "news-feeds-2026-02-17")
    files = sorted(root.glob("*.xml"))
    fast, unexpected = _check(root, files, "news-feeds-2026-02-17")
    assert unexpected == {}
    assert fast == len(files) == 10  # every real feed takes the fast path
    demo = sorted(p for p in (SEEDS / "feeds").iterdir() if p.suffix != ".json")
    fast, unexpected = _check(SEEDS / "feeds", demo, "seeds")
    assert unexpected == {}
    assert fast == len(demo) == 4


@pytest.mark.slow
def test_feedparser_test_suite_reads_alike_through_both_paths() -> None:
    root = shared_path("data", "feedparser-testsuite")
    files = sorted(p for p in root.rglob("*.xml") if p.is_file())
    assert len(files) >= 1800
    fast, unexpected = _check(root, files, "feedparser-testsuite")
    assert unexpected == {}
    # The suite tests one element at a time, most entries have neither title nor link (the fast
    # path hands those to feedparser); several hundred documents are read by the fast path.
    assert fast >= 600


def test_every_listed_exception_still_differs() -> None:
    """An exception that no longer differs is removed from the lists (they stay honest)."""
    data = shared_path("data")
    for name, fields in EXCEPTIONS.items():
        pair = _both(data / name, name)
        assert pair is not None, name
        assert _differences(*pair) & fields, f"{name} no longer differs in {fields}"


def _rss(extra_head: bytes = b"", item: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>' + extra_head + b'<rss version="2.0"><channel>'
        b"<title>T</title><link>https://t.example/</link><ttl>90</ttl>"
        + (
            item
            or b"<item><title>A caf\xc3\xa9</title><link>https://t.example/a</link>"
            b"<pubDate>Tue, 17 Feb 2026 10:00:00 GMT</pubDate><description>S</description></item>"
        )
        + b"</channel></rss>"
    )


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (_rss(), None, None),
        (_rss(b'<!DOCTYPE rss [<!ENTITY e "x">]>'), None, "document type declaration"),
        (_rss(), "application/rss+xml; charset=iso-8859-1", "charset iso-8859-1"),
        (_rss().replace(b"utf-8", b"windows-1252"), None, "encoding windows-1252"),
        (_rss().replace(b"caf\xc3\xa9", b"caf\xe9"), None, "not UTF-8"),
        (
            _rss(item=b"<item><description>only text</description></item>"),
            None,
            "an entry without title and link",
        ),
        (
            _rss(
                item=b"<item><title>A</title><link>https://t.example/a</link>"
                b"<pubDate>the day after tomorrow</pubDate></item>"
            ),
            None,
            "a date it could not read",
        ),
    ],
)
def test_which_path_reads_a_document_and_why(
    data: bytes, content_type: str | None, reason: str | None
) -> None:
    parsed = parse_feed(data, SRC, url="https://t.example/feed", now=NOW, content_type=content_type)
    assert parsed.fallback == reason
    assert parsed.parser == ("fastfeedparser" if reason is None else "feedparser")
    assert parsed.ttl_minutes == 90 and parsed.title == "T"
    assert [a.title for a in parsed.articles][:1] in (["A café"], ["A"], ["only text"])


def test_json_feed_keeps_its_own_path() -> None:
    doc = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": '
        b'[{"id": "1", "url": "https://j.example/1", "title": "One"}]}'
    )
    parsed = parse_feed(doc, SRC, url="https://j.example/feed.json", now=NOW)
    assert parsed.parser == "jsonfeed" and [a.title for a in parsed.articles] == ["One"]
