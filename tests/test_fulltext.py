"""Full article text: teaser detection, page fetching on 127.0.0.1, the page cache, the URL guard."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from briefs.config import FetchSettings, load_config
from briefs.errors import UnsafeURLError
from briefs.ingest.extract import extract_text, fetch_full_texts, needs_full_text
from briefs.ingest.fetch import make_client
from briefs.ingest.netguard import GuardedTransport, check_url, is_public_address
from briefs.models import Article, PageRecord
from briefs.pipeline import poll_and_group
from briefs.store import open_store
from briefs.timing import Timings
from tests.feedserver import FeedServer, feed_server, rss, static
from tests.rawdb import stored_articles

NOW = dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)

PARAGRAPHS = [
    "The harbour authority confirmed on Friday that the northern breakwater will be rebuilt "
    "over the next three summers, after engineers found that storms had undermined its base.",
    "Work will start in May with a temporary barrier of rock armour, the authority said, so "
    "that the fishing fleet can keep using the inner basin while the old wall is taken apart.",
    "The project is expected to cost about forty million, most of it paid by the regional "
    "government, with the rest coming from harbour dues that will rise by two percent a year.",
    "Fishermen welcomed the decision but asked for the works to pause during the autumn "
    "herring season, when the harbour is at its busiest and every berth is needed.",
    "A public meeting about the timetable will be held at the town hall next Thursday evening, "
    "and the detailed plans can be read at the harbour office until the end of the month.",
]


def article_page(title: str) -> bytes:
    nav = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(12))
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1>{body}"
        "</article></main><aside><h2>Most read</h2><ul><li><a href='/x'>Something else "
        "entirely</a></li></ul></aside><footer>Copyright Harbour Times. All rights reserved."
        "</footer></body></html>"
    ).encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


def write_config(tmp_path: Path, server: FeedServer, extra: str = "", **fetch: object) -> Path:
    settings = {"allow_private": True, "teaser_words": 60, **fetch}
    lines = [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        'database = "b.db"\n[fetch]\n'
        + "\n".join(lines)
        + f'\n[[sources]]\nid = "teasers"\nurl = "{server.url("/teasers.xml")}"\n'
        + extra
    )
    return cfg


def run_once(cfg: Path, now: dt.datetime = NOW) -> None:
    config = load_config(cfg)
    store = open_store(config.database)
    try:
        poll_and_group(config, store, now, Timings())
    finally:
        store.close()


def stored(db: Path) -> dict[str, Article]:
    """The stored articles by URL."""
    return {a.url: a for a in stored_articles(db)}


def pages(db: Path) -> dict[str, PageRecord]:
    """The cached page outcomes of the stored articles, by URL (in URL order)."""
    with open_store(str(db)) as store:
        found = {a.url: store.page(a.url) for a in stored_articles(store)}
    return {url: page for url, page in sorted(found.items()) if page is not None}


def test_teaser_articles_get_their_page_text_once(tmp_path: Path, server: FeedServer) -> None:
    base = server.url("")
    server.routes["/teasers.xml"] = static(
        rss(
            "Harbour Times",
            [
                ("a1", "Breakwater to be rebuilt", "The northern breakwater will be rebuilt."),
                ("a2", "Long one", " ".join(["word"] * 80)),
                ("a3", "Missing page", "Gone."),
                ("a4", "Broken page", "Broken."),
            ],
            base=base,
        )
    )
    server.routes["/a1"] = static(
        article_page("Breakwater to be rebuilt"), content_type="text/html"
    )
    server.routes["/a3"] = static(b"no", 404, content_type="text/plain")
    server.routes["/a4"] = static(b"no", 503, content_type="text/plain")
    cfg = write_config(tmp_path, server)
    run_once(cfg)
    a1 = stored(cfg.parent / "b.db")[f"{base}/a1"]
    assert a1.body_origin == "extracted"
    assert a1.body.split("\n\n") == PARAGRAPHS  # the article, not the menus or the footer
    assert server.hits["/a2"] == 0  # 80 words is more than a teaser (teaser_words = 60)
    cached = {
        url: f"{p.status}:{p.next_try:%Y-%m-%d %H:%M}" if p.next_try else f"{p.status}:-"
        for url, p in pages(cfg.parent / "b.db").items()
    }
    assert cached[f"{base}/a1"] == "ok:-"
    assert cached[f"{base}/a3"] == "failed:-"  # a 404 is final
    assert cached[f"{base}/a4"] == "failed:2024-04-06 18:00"  # a 503 is retried later
    # the next run (and another feed carrying the same link) fetches no page again
    run_once(cfg, NOW + dt.timedelta(hours=1))
    assert (server.hits["/a1"], server.hits["/a3"], server.hits["/a4"]) == (1, 1, 1)
    run_once(cfg, NOW + dt.timedelta(hours=7))
    assert (server.hits["/a1"], server.hits["/a3"], server.hits["/a4"]) == (1, 1, 2)


def test_full_text_can_be_switched_off(tmp_path: Path, server: FeedServer) -> None:
    base = server.url("")
    server.routes["/teasers.xml"] = static(rss("T", [("a1", "One", "Teaser.")], base=base))
    server.routes["/a1"] = static(article_page("One"), content_type="text/html")
    run_once(write_config(tmp_path, server, fetch_full_text=False))
    assert server.hits["/a1"] == 0


def test_private_addresses_are_refused_by_default(tmp_path: Path, server: FeedServer) -> None:
    base = server.url("")
    server.routes["/teasers.xml"] = static(
        rss("T", [("a1", "One", "Teaser."), ("a2", "Two", "Teaser.")], base=base)
    )
    server.routes["/a1"] = static(article_page("One"), content_type="text/html")
    cfg = write_config(tmp_path, server, allow_private=False)
    run_once(cfg)
    # the feed itself is the user's choice and was fetched; its loopback article links were not
    assert server.hits["/teasers.xml"] == 1 and server.hits["/a1"] == 0
    statuses = [(p.status, p.error) for p in pages(cfg.parent / "b.db").values()]
    assert [s for s, _ in statuses] == ["refused", "refused"]
    assert "non-public address: 127.0.0.1" in str(statuses[0][1])


def test_unreachable_host_is_not_tried_for_every_article(tmp_path: Path) -> None:
    # a port nobody listens on: the first connection is refused, the others are not attempted
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    articles = [Article(f"a{i}", "s", f"{dead}/p{i}", "T", NOW, NOW, "X") for i in range(5)]
    pages: list[PageRecord] = []
    settings = FetchSettings(allow_private=True, per_host=1)
    start = time.monotonic()
    fetch_full_texts(articles, settings, NOW, lambda a, p: pages.append(p))
    assert time.monotonic() - start < 3
    errors = sorted(str(p.error) for p in pages)
    assert sum(e.startswith("cannot connect") for e in errors) == 1
    assert sum(e.startswith("host unreachable in this run") for e in errors) == 4
    assert all(p.status == "failed" and p.next_try is not None for p in pages)


@pytest.mark.parametrize(
    ("url", "allowed_private", "allowed_public"),
    [
        ("https://news.example.org/a", True, True),  # a real domain, resolved when fetched
        ("https://www.bbc.co.uk/news/1", True, True),
        ("http://10.0.0.7/admin", True, False),
        ("http://127.0.0.1:8080/", True, False),
        ("http://[::1]/", True, False),
        ("http://169.254.169.254/latest/meta-data/", True, False),
        ("http://224.0.0.1/", True, False),
        ("http://[::ffff:192.168.0.1]/", True, False),
        ("http://localhost/", True, False),
        ("http://printer.local/", True, False),
        ("https://northgatetimes.example/2024/x", False, False),
        ("https://host.invalid/", False, False),
        ("ftp://ftp.kernel.org/pub", False, False),
        ("file:///etc/passwd", False, False),
        ("javascript:alert(1)", False, False),
        ("https://8.8.8.8/", True, True),
    ],
)
def test_check_url(url: str, allowed_private: bool, allowed_public: bool) -> None:
    for allow, expected in ((True, allowed_private), (False, allowed_public)):
        if expected:
            check_url(url, allow)
        else:
            with pytest.raises(UnsafeURLError):
                check_url(url, allow)


def test_public_address_classification() -> None:
    assert is_public_address("93.184.215.14")
    assert is_public_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    for private in ("192.168.1.1", "172.16.0.1", "100.64.0.1", "0.0.0.0", "fe80::1", "ff02::1"):
        assert not is_public_address(private), private


def test_guarded_transport_refuses_at_connect_time(server: FeedServer) -> None:
    """A name or redirect that leads to a private address is refused when connecting."""
    import asyncio

    server.routes["/secret"] = static(b"secret", content_type="text/plain")

    async def get() -> None:
        transport = GuardedTransport(httpx.Limits(max_connections=2))
        async with httpx.AsyncClient(transport=transport) as client:  # no request hook here
            await client.get(server.url("/secret"))

    with pytest.raises(httpx.ConnectError, match=r"non-public address 127\.0\.0\.1"):
        asyncio.run(get())
    assert server.hits["/secret"] == 0


def test_untrusted_client_checks_redirect_targets(server: FeedServer) -> None:
    import asyncio

    server.routes["/hop"] = static(b"", 302, {"Location": "file:///etc/passwd"}, "text/plain")

    async def get() -> None:
        settings = FetchSettings(allow_private=True)
        async with make_client(settings, untrusted=True) as client:
            await client.get(server.url("/hop"))

    with pytest.raises(UnsafeURLError, match="file"):
        asyncio.run(get())


def test_needs_full_text() -> None:
    base = Article("a", "s", "https://x.org/a", "T", NOW, NOW, "X", summary="Short teaser.")
    assert needs_full_text(base, 50)
    assert not needs_full_text(dataclasses.replace(base, body="w " * 60, body_origin="feed"), 50)
    assert not needs_full_text(dataclasses.replace(base, url=""), 50)
    assert not needs_full_text(dataclasses.replace(base, body_origin="file"), 50)


def test_extract_text_of_a_page() -> None:
    assert extract_text(article_page("Breakwater")).split("\n\n") == ["Breakwater", *PARAGRAPHS]
    assert extract_text(b"") == ""
    assert extract_text("  ") == ""


def test_the_demo_fetches_no_page(seeds_copy: Path) -> None:
    """The demo is offline and its outlets invented: no page is tried, so no refusal is reported."""
    run_once(seeds_copy / "briefs.toml")
    assert pages(seeds_copy / "briefs.db") == {}


def test_seed_run_refuses_reserved_domains_without_network(seeds_fetching_pages: Path) -> None:
    """The bundled Northgate feed is teaser-only with .example links: refused, cached, fast."""
    cfg = seeds_fetching_pages / "briefs.toml"
    start = time.monotonic()
    run_once(cfg)
    assert time.monotonic() - start < 20
    cached = pages(seeds_fetching_pages / "briefs.db")
    assert cached and {p.status for p in cached.values()} == {"refused"}
    northgate = [url for url in cached if url.startswith("https://northgatetimes.example/")]
    assert len(northgate) == 8


def test_a_teaser_length_page_does_not_replace_the_feed_text(
    tmp_path: Path, server: FeedServer
) -> None:
    base = server.url("")
    teaser = "The northern breakwater will be rebuilt over three summers."
    server.routes["/teasers.xml"] = static(rss("T", [("p1", "Paywalled", teaser)], base=base))
    paywall = (
        "<html><body><article><h1>Subscribe</h1><p>Subscribe today to keep reading this "
        "article and every other story from the Harbour Times, for less than a coffee a "
        "week.</p></article></body></html>"
    )
    server.routes["/p1"] = static(paywall.encode(), content_type="text/html")
    cfg = write_config(tmp_path, server)
    run_once(cfg)
    assert server.hits["/p1"] == 1
    kept = [(a.summary, a.body_origin) for a in stored(cfg.parent / "b.db").values()]
    assert kept == [(teaser, "none")]
    fetched = [p.status for p in pages(cfg.parent / "b.db").values()]
    assert fetched == ["ok"]  # fetched once, not again
