from __future__ import annotations

import datetime as dt
import json

import pytest

from briefs.errors import ParseError
from briefs.ingest.parse import parse_feed
from briefs.ingest.urls import canonical_url
from briefs.models import Source
from tests.conftest import SEEDS

NOW = dt.datetime(2024, 4, 7, tzinfo=dt.UTC)
SRC = Source("t", "feed", "https://feeds.example/rss", "Test Outlet")

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Feed &amp; Co</title><link>https://www.example.com/</link><ttl>30</ttl>
<item><title>Rates &lt;b&gt;held&lt;/b&gt; &amp;amp; steady</title>
<link>/news/rates?utm_source=rss&amp;id=7#comments</link><guid isPermaLink="false">g-1</guid>
<pubDate>Fri, 05 Apr 2024 10:00:00 +0200</pubDate><author>desk@example.com (Ann Lee)</author>
<description>&lt;p&gt;The bank held rates.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>The bank held rates on Friday.</p><script>alert(1)</script><p>Markets rose.</p>]]></content:encoded>
<media:content url="https://img.example.com/a.jpg" medium="image"/></item>
<item><title>From the future</title><link>https://www.example.com/f</link><pubDate>Fri, 05 Apr 2099 10:00:00 GMT</pubDate></item>
<item><title>No date</title><link>https://www.example.com/n</link></item>
</channel></rss>"""


def test_rss_entry_becomes_a_normalized_article() -> None:
    parsed = parse_feed(RSS, SRC, url="https://www.example.com/feed", now=NOW)
    assert parsed.ttl_minutes == 30
    a = parsed.articles[0]
    assert a.url == "https://www.example.com/news/rates?id=7"
    assert a.guid == "g-1"
    assert a.title == "Rates held & steady"
    assert a.published == dt.datetime(2024, 4, 5, 8, tzinfo=dt.UTC)
    assert a.body == "The bank held rates on Friday.\n\nMarkets rose."
    assert a.summary == "The bank held rates."
    assert a.image_url == "https://img.example.com/a.jpg"
    assert a.outlet == "Test Outlet"
    assert a.body_origin == "feed"


def test_future_and_missing_dates_fall_back_to_now() -> None:
    parsed = parse_feed(RSS, SRC, url="https://www.example.com/feed", now=NOW)
    assert parsed.articles[1].published == NOW
    assert parsed.articles[2].published == NOW


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match="HTML page"):
        parse_feed(
            b"<!doctype html><html><body><p>hi</p></body></html>",
            SRC,
            url="https://x.example/",
            now=NOW,
        )


def test_json_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "home_page_url": "https://j.example/",
        "items": [
            {
                "id": "1",
                "url": "/a",
                "title": "Hello",
                "content_html": "<p>Body.</p>",
                "date_published": "2024-04-05T10:00:00+01:00",
                "authors": [{"name": "Kim"}],
                "image": "https://j.example/i.png",
            }
        ],
    }
    parsed = parse_feed(json.dumps(doc).encode(), SRC, url="https://j.example/feed.json", now=NOW)
    a = parsed.articles[0]
    assert (a.url, a.title, a.body, a.author, a.image_url) == (
        "https://j.example/a",
        "Hello",
        "Body.",
        "Kim",
        "https://j.example/i.png",
    )
    assert a.published == dt.datetime(2024, 4, 5, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize("name", sorted(p.name for p in (SEEDS / "feeds").iterdir()))
def test_bundled_feeds_parse(name: str) -> None:
    path = SEEDS / "feeds" / name
    parsed = parse_feed(path.read_bytes(), SRC, url=path.as_uri(), now=NOW)
    assert parsed.bozo is None
    assert len(parsed.articles) >= 6
    for a in parsed.articles:
        assert a.url.startswith("https://") and a.title and a.text
        assert dt.date(2024, 4, 4) <= a.published.date() <= dt.date(2024, 4, 6)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.COM:443/a?utm_medium=x&b=2#frag", "https://example.com/a?b=2"),
        ("http://example.com", "http://example.com/"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("https://e.example/p?fbclid=1&gclid=2", "https://e.example/p"),
        ("https://e.example/p?id=7?utm_source=rss", "https://e.example/p?id=7"),
        ("https://e.example/s?q=why?&page=2&&", "https://e.example/s?q=why?&page=2"),
        ("https://e.example/p?a=1%2C2&b=x+y&UTM_Medium=z", "https://e.example/p?a=1%2C2&b=x+y"),
        ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x"),
        ("http://#", ""),
        ("https://user:pw@e.example/a b?q=x y", "https://e.example/a%20b?q=x%20y"),
        ("https://e.example/p?0utm_source=x&id=2", "https://e.example/p?id=2"),
        ("http://[#", ""),
        ("http://[::1]@]", ""),  # the user name looks like an IPv6 literal; the host is "]"
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("NYT > World News", "https://www.nytimes.com/section/world", "NYT"),
        ("NDTV News Search Records Found 1000", "https://www.ndtv.com/", "NDTV News"),
        ("Japan Today - Category World", None, "Japan Today"),
        ("World news | The Guardian", None, "The Guardian"),
        ("Reuters: World News", None, "Reuters"),
        ("Al-Jazeera English", None, "Al-Jazeera English"),  # a hyphen is not a separator
        ("Top Stories", "https://www.japantoday.com/", "japantoday.com"),
        ("World", "https://feeds.bbci.co.uk/news/world/rss.xml", "bbci.co.uk"),
        ("Harbour Herald", None, "Harbour Herald"),
        ("", "http://127.0.0.1:8080/feed.xml", ""),  # an address is not a name
    ],
)
def test_publisher_names_drop_sections_and_noise(
    title: str, site: str | None, expected: str
) -> None:
    from briefs.ingest.names import publisher_name

    assert publisher_name(title, site) == expected


@pytest.mark.parametrize(
    ("title", "site", "text", "expected"),
    [
        # a word naming how the feed is organised is not the outlet's
        ("NPR Topics: World", "https://www.npr.org/sections/world/", "", "NPR"),
        ("Acme Gazette Sections - Sport", None, "", "Acme Gazette"),
        # a domain read out: the words of the feed's own text that spell its label
        ("World", "https://www.washingtonpost.com", "The Washington Post World section ...",
         "The Washington Post"),
        ("Top Stories", "https://feeds.skynews.com/", "The latest from Sky News.", "Sky News"),
        ("Latest", "https://www.bbc.co.uk/news", "BBC News - the latest stories", "BBC"),
        # ... else the label split where its own case changes, the suffix dropped
        ("World - CBSNews.com", "https://www.cbsnews.com/", "World From CBSNews.com", "CBS News"),
        # ... else the domain as it is: nothing says how "washingtonpost" is spelt
        ("World", "https://www.washingtonpost.com", "World news and analysis.",
         "washingtonpost.com"),
        # the text's words must be capitalized as a name, and spell the whole label
        ("World", "https://www.washingtonpost.com", "washington post it", "washingtonpost.com"),
        ("World", "https://www.washingtonpost.com", "Washington news", "washingtonpost.com"),
    ],
)  # fmt: skip
def test_a_bare_domain_becomes_the_name_the_feed_uses_for_itself(
    title: str, site: str | None, text: str, expected: str
) -> None:
    from briefs.ingest.names import publisher_name

    assert publisher_name(title, site, feed_text=text) == expected


def test_outlet_names_of_the_real_news_day_are_publishers_names() -> None:
    from tests.conftest import shared_path

    folder = shared_path("data", "news-feeds-2026-02-17")
    expected = {
        "npr-world.xml": "NPR",
        "washingtonpost-world.xml": "The Washington Post",
        "cbsnews-world.xml": "CBS News",
        "nyt-world.xml": "NYT",
        "bbc-news-world.xml": "BBC News",
    }
    now = dt.datetime(2026, 2, 18, 12, tzinfo=dt.UTC)
    for name, outlet in expected.items():
        source = Source(name.removesuffix(".xml"), "feed", str(folder / name))
        parsed = parse_feed((folder / name).read_bytes(), source, url=source.location, now=now)
        assert parsed.articles and {a.outlet for a in parsed.articles} == {outlet}, name


def test_the_page_site_name_wins_over_the_feed_title() -> None:
    from briefs.ingest.names import publisher_name, site_name

    page = b'<html><head><meta property="og:site_name" content=" The  Straits Times "></head>'
    assert site_name(page) == "The Straits Times"
    assert publisher_name("Top Stories", None, None, site_name(page)) == "The Straits Times"
    assert site_name(b"<html><head><title>x</title></head></html>") == ""


def test_an_items_categories_are_its_tags_on_every_path() -> None:
    """RSS <category>, Atom <category term>, RSS 1.0 dc:subject and JSON Feed tags, read alike
    by the fast path and by feedparser (they decide an article's section)."""
    from briefs.ingest import xmlfeed

    now = dt.datetime(2024, 4, 7, tzinfo=dt.UTC)
    expected = {
        "harbour-herald.xml": (
            "calder-bay-united-reach-cup-final-reyne-double",
            ("Sport", "Football"),
        ),
        "meridian-wire.atom": ("orbis-cloud-outage-banks-retailers-offline", ("Technology",)),
        "civic-ledger.rdf": ("council-approves-fennimore-avenue-bike-lanes", ("City Hall",)),
        "pacific-dispatch.json": ("westmarch-cup-run-ends-estuary-park", ("sport", "football")),
    }
    for name, (slug, tags) in expected.items():
        path = SEEDS / "feeds" / name
        source = Source(name, "feed", str(path))
        readings = [parse_feed(path.read_bytes(), source, url=path.as_uri(), now=now)]
        if not name.endswith(".json"):  # JSON Feed has its own reader only
            readings.append(
                xmlfeed.parse_feedparser(
                    path.read_bytes(), source, url=path.as_uri(), now=now, content_type=None
                )
            )
        for parsed in readings:
            by_slug = {a.url.rsplit("/", 1)[-1]: a.tags for a in parsed.articles}
            assert by_slug[slug] == tags, (name, parsed.parser)
