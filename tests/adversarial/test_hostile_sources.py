"""One bad source never stops a brief: fixed cases for each class of hostile source (issue 13).

Each case is served by a real HTTP server on loopback (or stored in a real SQLite file) and
goes through the real code that meets it: the poll, the store, or the whole ``briefs run``.
What each expects is in its docstring.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import FetchSettings
from briefs.errors import ParseError, StoreError
from briefs.ingest.bounds import EARLIEST, MAX_AUTHOR, MAX_OUTLET, MAX_TITLE, bounded_int
from briefs.ingest.fetch import fetch_url, make_client
from briefs.ingest.netguard import check_url, is_public_address
from briefs.ingest.outcome import cache_max_age, parse_retry_after
from briefs.ingest.parse import parse_feed
from briefs.ingest.poll import poll_sources
from briefs.models import FeedState, PollResult, Source
from briefs.store import open_store
from briefs.store.schema import metadata
from tests.feedserver import FeedServer, feed_server, redirect, rss, static
from tests.rawdb import raw_sqlite, stored_articles

NOW = dt.datetime(2024, 4, 6, 12, 0, tzinfo=dt.UTC)
SETTINGS = FetchSettings(timeout=5, connect_timeout=5, total_timeout=10, fetch_full_text=False)
GOOD = [("alpha", "Harbour wall finished", "The harbour wall was finished on Friday.")]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as s:
        yield s


@pytest.fixture
def other() -> Iterator[FeedServer]:
    """A second server on another loopback port (an "internal service")."""
    with feed_server() as s:
        s.routes["/internal"] = static(rss("Internal", [("x", "Internal secret", "secret")]))
        yield s


def _poll(settings: FetchSettings, *sources: Source) -> dict[str, PollResult]:
    results = poll_sources(sources, {}, settings, NOW)
    return {r.source.id: r for r in results}


def _run(tmp_path: Path, sources: dict[str, str], extra: str = "") -> tuple[int, str]:
    cfg = tmp_path / "briefs.toml"
    body = "".join(f'[[sources]]\nid = "{k}"\nurl = "{v}"\n' for k, v in sources.items())
    cfg.write_text(
        f'database = "{tmp_path / "b.db"}"\noutput = "{tmp_path / "out"}"\n'
        f"[fetch]\ntimeout = 5\ntotal_timeout = 10\nteaser_words = 5\n{extra}\n{body}"
    )
    result = CliRunner().invoke(
        cli, ["--config", str(cfg), "run", "--date", "2024-04-05"], catch_exceptions=False
    )
    return result.exit_code, result.output


# -- the address guard -------------------------------------------------------------------------


def test_feed_redirect_to_another_loopback_port_is_refused(
    server: FeedServer, other: FeedServer
) -> None:
    """A configured feed may live on loopback (the user chose it), but its redirect to another
    port (another service) is refused unless allow_private: no request reaches it, and a 301 to
    it never becomes the feed's new home. A redirect within the feed's own origin is followed."""
    server.routes["/moved.xml"] = redirect(other.url("/internal"), 301)
    server.routes["/temp.xml"] = redirect(other.url("/internal"), 302)
    server.routes["/metadata.xml"] = redirect("http://169.254.169.254/latest/meta-data/", 302)
    server.routes["/mapped.xml"] = redirect(f"http://[::ffff:127.0.0.1]:{other.port}/internal")
    server.routes["/here.xml"] = redirect("/feed.xml", 301)
    server.routes["/feed.xml"] = static(rss("Good", GOOD))
    names = ["moved", "temp", "metadata", "mapped", "here"]
    sources = [Source(n, "feed", server.url(f"/{n}.xml")) for n in names]
    results = _poll(SETTINGS, *sources)
    for name in names[:-1]:
        result = results[name]
        assert result.error and " refused: refusing " in result.error, (name, result.error)
        assert result.state.url is None
    assert "169.254.169.254" in results["metadata"].error
    assert other.hits["/internal"] == 0
    here = results["here"]
    assert here.error is None and len(here.articles) == 1
    assert here.state.url == server.url("/feed.xml")
    # a new home an older briefs recorded on another internal port: refused, and forgotten
    moved = FeedState("moved", url=other.url("/internal"), source_url=sources[0].location)
    again = poll_sources([sources[0]], {"moved": moved}, SETTINGS, NOW)[0]
    assert again.error and again.state is not None and again.state.url is None
    assert other.hits["/internal"] == 0
    # allow_private: the user says internal services are fine; the 301 then moves the feed
    allowed = _poll(dataclasses.replace(SETTINGS, allow_private=True), sources[0])
    assert allowed["moved"].error is None
    assert allowed["moved"].state.url == other.url("/internal")
    assert other.hits["/internal"] == 1


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:169.254.169.254", False),
        ("::ffff:8.8.8.8", True),
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::ffff:0:10.0.0.1", False),  # IPv4-translated
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::c0a8:1", False),  # local-use NAT64 of 192.168.0.1
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo, client 10.0.0.1
        ("2606:4700:4700::1111", True),
        ("fe80::1", False),
        ("::1", False),
    ],
)
def test_ipv6_forms_are_judged_by_the_ipv4_address_they_embed(address: str, public: bool) -> None:
    assert is_public_address(address) is public
    url = f"http://[{address}]/feed.xml"
    if public:
        check_url(url)
    else:
        with pytest.raises(Exception, match="non-public"):
            check_url(url)


def test_sources_add_and_opml_import_refuse_internal_addresses(
    tmp_path: Path, server: FeedServer
) -> None:
    """Without allow_private, `sources add` of a loopback feed is one line and exit 1, and an
    OPML file's internal feeds are skipped (the public one is added)."""
    server.routes["/feed.xml"] = static(rss("Good", GOOD))
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(f'database = "{tmp_path / "b.db"}"\noutput = "{tmp_path / "out"}"\n')
    runner = CliRunner()
    added = runner.invoke(cli, ["--config", str(cfg), "sources", "add", server.url("/feed.xml")])
    assert added.exit_code == 1 and "allow_private" in added.output, added.output
    assert len(added.output.strip().splitlines()) == 1
    assert server.hits["/feed.xml"] == 0
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline type="rss" text="L" xmlUrl="{server.url("/feed.xml")}"/>'
        '<outline type="rss" text="M" xmlUrl="http://169.254.169.254/latest/"/>'
        '<outline type="rss" text="V6" xmlUrl="http://[::ffff:10.0.0.1]/rss"/>'
        '<outline type="rss" text="P" xmlUrl="https://news.example.org/rss"/>'
        "</body></opml>"
    )
    imported = runner.invoke(cli, ["--config", str(cfg), "sources", "import", str(opml)])
    assert imported.exit_code == 0, imported.output
    assert "Added 1 of 4 feeds" in imported.output
    text = cfg.read_text()
    assert "news.example.org" in text and "169.254" not in text and "127.0.0.1" not in text
    # allowed: the loopback feed can be added
    cfg.write_text(cfg.read_text() + "[fetch]\nallow_private = true\n")
    added = runner.invoke(cli, ["--config", str(cfg), "sources", "add", server.url("/feed.xml")])
    assert added.exit_code == 0, added.output


def test_refused_pages_are_reported_and_retried_when_the_guard_changes(
    tmp_path: Path, server: FeedServer
) -> None:
    """A teaser whose page is on loopback: refused (counted, one example in the report); after
    allow_private is turned on, the page is fetched on the next run."""
    page = (
        "<html><head><title>Harbour</title></head><body><article><h1>Harbour</h1>"
        + "".join(
            f"<p>The harbour wall was finished on day {i} by the crews.</p>" for i in range(9)
        )
        + "</article></body></html>"
    ).encode()
    server.routes["/story"] = static(page, content_type="text/html; charset=utf-8")
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>Harbour wall</title><link>{server.url('/story')}</link>"
        "<pubDate>Fri, 05 Apr 2024 10:00:00 GMT</pubDate><description>Short.</description>"
        "</item></channel></rss>"
    ).encode()
    server.routes["/feed.xml"] = static(feed)
    code, out = _run(tmp_path, {"t": server.url("/feed.xml")})
    assert code == 0, out
    assert "Article pages refused by the address guard: 1" in out, out
    assert server.url("/story") in out and "non-public" in out
    assert server.hits["/story"] == 0
    code, out = _run(tmp_path, {"t": server.url("/feed.xml")}, "allow_private = true")
    assert code == 0, out
    assert server.hits["/story"] == 1
    assert "refused by the address guard" not in out


# -- numbers, dates and text -------------------------------------------------------------------


def test_huge_numbers_in_feeds_and_headers_are_clamped(server: FeedServer) -> None:
    """A <ttl> of 20 digits, a max-age of 40 and a Retry-After of 30: no overflow, each within
    its documented bound."""
    huge = "9" * 20
    body = rss("Huge", GOOD).replace(b"<link>", f"<ttl>{huge}</ttl><link>".encode(), 1)
    headers = {"Cache-Control": f"max-age={'9' * 40}", "ETag": '"' + "e" * 5000 + '"'}
    server.routes["/ttl.xml"] = static(body, headers=headers)
    server.routes["/busy.xml"] = static(b"", 503, {"Retry-After": "9" * 30})
    server.routes["/neg.xml"] = static(b"", 429, {"Retry-After": "-5"})
    server.routes["/date.xml"] = static(b"", 429, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"})
    settings = dataclasses.replace(SETTINGS, max_backoff_hours=24)
    results = _poll(settings, *(Source(n, "feed", server.url(f"/{n}.xml")) for n in
                                ("ttl", "busy", "neg", "date")))  # fmt: skip
    ttl = results["ttl"]
    assert ttl.error is None and ttl.state.floor_minutes == 30 * 24 * 60
    assert ttl.state.next_poll == NOW + dt.timedelta(hours=24)
    assert ttl.state.etag is None  # 5,000 characters are not worth sending back
    busy = results["busy"].state
    assert busy.retry_until == NOW + dt.timedelta(days=7)
    assert results["neg"].state.retry_until is None
    assert results["date"].state.retry_until == NOW + dt.timedelta(days=7)
    assert cache_max_age("max-age=" + "1" * 5000) == 30 * 24 * 3600
    assert parse_retry_after("١٢٣", NOW) is None  # Arabic-Indic digits are not a number here
    assert bounded_int("1_000", 0, 10) is None and bounded_int(" 007 ", 0, 10) == 7


def test_year_one_and_year_9999_dates_are_stored_within_range(server: FeedServer) -> None:
    """Dates from year 1 to 9999 with any zone: clamped at ingest (year 1 to the epoch, the
    future to the fetch time), so window arithmetic never overflows."""
    items = "".join(
        f'{{"id": "{i}", "url": "https://x.example.org/{i}", "title": "Item {i}", '
        f'"content_text": "Text {i}.", "date_published": "{d}"}},'
        for i, d in enumerate(
            ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]
        )
    ).rstrip(",")
    doc = f'{{"version": "https://jsonfeed.org/version/1.1", "title": "D", "items": [{items}]}}'
    parsed = parse_feed(
        doc.encode(), Source("d", "feed", "u"), url="https://x.example.org/", now=NOW
    )
    dates = sorted(a.published for a in parsed.articles)
    assert len(dates) == 3 and dates[0] == EARLIEST and dates[-1] == NOW
    xml = rss("Old", GOOD).replace(
        b"Fri, 05 Apr 2024 10:00:00 GMT", b"Mon, 01 Jan 0001 00:00:00 GMT"
    )
    parsed = parse_feed(xml, Source("o", "feed", "u"), url="https://x.example.org/", now=NOW)
    assert [a.published for a in parsed.articles] == [EARLIEST]


def test_a_stored_year_one_row_is_quarantined_and_runs_work_again(
    tmp_path: Path, server: FeedServer
) -> None:
    """A database that an older briefs left with an article dated year 1 (which made dedupe
    and grouping overflow on every run) works again: the row goes to the quarantine table with
    a warning, the run exits 0 and the good source's article makes the brief."""
    server.routes["/good.xml"] = static(rss("Good", GOOD))
    store = open_store(str(tmp_path / "b.db"))
    store.close()
    with raw_sqlite(tmp_path / "b.db") as conn:  # a row only an older briefs would store
        conn.execute(
            "INSERT INTO articles (id, source_id, url, guid, title, published, fetched, outlet, "
            "author, language, summary, body, body_origin, content_hash) VALUES ('old', 'x', "
            "'https://x.example.org/old', '', 'Ancient', '0001-01-01 00:00:00.000000', "
            "'2024-04-05 10:00:00.000000', 'X', '', '', 'An old text.', '', 'none', '')"
        )
    code, out = _run(tmp_path, {"good": server.url("/good.xml")})
    assert code == 0, out
    md = (tmp_path / "out" / "2024-04-05.md").read_text()
    assert "Harbour wall finished" in md and "Ancient" not in md
    with open_store(str(tmp_path / "b.db")) as store:
        assert store.articles(["old"]) == []
    with raw_sqlite(tmp_path / "b.db") as conn:  # the quarantine is for the operator's SQL
        kept = conn.execute("select table_name, row_id, data from quarantine").fetchall()
    assert [(t, r) for t, r, _ in kept] == [("articles", "old")]
    assert json.loads(kept[0][2])["title"] == "Ancient"
    code, out = _run(tmp_path, {"good": server.url("/good.xml")})
    assert code == 0, out


def test_text_is_valid_unicode_without_controls_and_capped() -> None:
    """Lone surrogates, C0/C1 controls and bidi overrides in every text field of a JSON Feed;
    a 200 KB title, author and feed title: stored as valid, clean, capped text."""
    nasty = "A\ud800B\x1b[31mC\x9bD\u202eE\u2066F\x00G\x85H"
    long = "word " * 40_000
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": long,
        "items": [
            {
                "id": "1",
                "url": "https://x.example.org/1",
                "title": nasty + long,
                "content_html": f"<p>{nasty}</p>",
                "summary": nasty,
                "authors": [{"name": nasty + long}],
            }
        ],
    }
    data = json.dumps(doc).encode()  # json escapes the surrogate as \ud800
    feed = parse_feed(data, Source("s", "feed", "u"), url="https://x.example.org/", now=NOW)
    (article,) = feed.articles
    assert article.title.startswith("A\ufffdB [31mC DEF G Hword word")
    for text in (article.title, article.author, article.outlet, article.body, article.summary):
        text.encode("utf-8")  # valid Unicode
        assert not any((ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F for c in text)
        assert not set(text) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert len(article.title) <= MAX_TITLE and article.title.endswith("…")
    assert len(article.author) <= MAX_AUTHOR and len(article.outlet) <= MAX_OUTLET
    assert len(feed.title) <= MAX_OUTLET


def test_deep_or_huge_json_is_the_feeds_failure(server: FeedServer) -> None:
    """JSON nested past the decoder's recursion limit, or with a 5,000-digit number, is that
    feed's failure with one line; the good feed beside it is parsed."""
    head = '{"version": "https://jsonfeed.org/version/1.1", "items": '
    server.routes["/deep.json"] = static(
        (head + "[" * 200_000 + "]" * 200_000 + "}").encode(), content_type="application/json"
    )
    server.routes["/digits.json"] = static(
        (head + '[], "x": ' + "9" * 5000 + "}").encode(), content_type="application/json"
    )
    server.routes["/good.xml"] = static(rss("Good", GOOD))
    results = _poll(SETTINGS, *(Source(n, "feed", server.url(f"/{n}")) for n in
                                ("deep.json", "digits.json", "good.xml")))  # fmt: skip
    assert "nested too deeply" in (results["deep.json"].error or "")
    assert "invalid JSON Feed" in (results["digits.json"].error or "")
    assert len(results["good.xml"].articles) == 1
    with pytest.raises(ParseError):
        parse_feed(b"[" * 100_000, Source("s", "feed", "u"), url="u", now=NOW)


def test_one_bad_entry_does_not_lose_the_feeds_good_ones() -> None:
    """An entry nested so deeply its HTML cannot be walked is skipped and counted; the other
    entries of the same feed are kept."""
    deep = "<b>" * 100_000 + "x"
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {
                "id": "1",
                "url": "https://x.example.org/1",
                "title": "Good one",
                "content_text": "A.",
            },
            {"id": "2", "url": "https://x.example.org/2", "title": "Bad", "content_html": deep},
            {
                "id": "3",
                "url": "https://x.example.org/3",
                "title": "Good two",
                "content_text": "B.",
            },
        ],
    }
    feed = parse_feed(json.dumps(doc).encode(), Source("s", "feed", "u"), url="u", now=NOW)
    titles = {a.title for a in feed.articles}
    assert {"Good one", "Good two"} <= titles
    assert feed.skipped == 3 - len(feed.articles)


# -- bounded parsing -------------------------------------------------------------------------


def test_a_feed_over_the_parse_budget_is_stopped(server: FeedServer) -> None:
    """A feed that takes longer than fetch.parse_timeout to parse is stopped (its worker is
    killed) and is that feed's failure; the feed beside it is parsed."""
    big = rss("Big", [(f"s{i}", f"Title {i}", "word " * 100) for i in range(3000)])
    assert len(big) > 256 * 1024  # parsed in a worker process, where the budget is enforced
    server.routes["/big.xml"] = static(big)
    server.routes["/good.xml"] = static(rss("Good", GOOD))
    settings = dataclasses.replace(SETTINGS, parse_timeout=0.05, parse_workers=0)
    results = _poll(
        settings, *(Source(n, "feed", server.url(f"/{n}.xml")) for n in ("big", "good"))
    )
    assert "parsing took longer than 0.05 s" in (results["big"].error or "")
    assert len(results["good"].articles) == 1


# -- connections and the database ------------------------------------------------------------


class _DroppingServer:
    """Answers the first request on each connection, keeps it open, then closes it without a
    word when the next request arrives on it: a keep-alive connection the server dropped."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.dropped = 0
        self.answered = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        body = rss("Good", GOOD)
        with conn:
            conn.recv(65536)
            self.answered += 1  # counted before the answer, which the client may read at once
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n".encode()
                + body
            )
            if conn.recv(65536):
                self.dropped += 1  # the second request on this connection: close, no answer


def test_a_dropped_keep_alive_connection_is_retried_at_once() -> None:
    server = _DroppingServer()
    url = f"http://127.0.0.1:{server.port}/feed.xml"

    async def twice() -> list[int]:
        async with make_client(SETTINGS) as client:
            first = await fetch_url(client, url, SETTINGS, trusted=url)
            second = await fetch_url(client, url, SETTINGS, trusted=url)
            return [first.status, second.status]

    assert asyncio.run(twice()) == [200, 200]
    assert server.dropped == 1 and server.answered == 2
    server.sock.close()


def test_a_half_created_database_is_named_with_its_fix(tmp_path: Path) -> None:
    """Tables without a schema_version row (an older briefs on a full disk) give one line that
    says what to do, from the store and from the CLI; not KeyError: 0."""
    db = tmp_path / "half.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    metadata.create_all(engine, tables=[metadata.tables["articles"], metadata.tables["meta"]])
    engine.dispose()
    with pytest.raises(StoreError, match=r"half-created.*delete it"):
        open_store(str(db))
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(f'database = "{db}"\noutput = "{tmp_path / "out"}"\n')
    result = CliRunner().invoke(cli, ["--config", str(cfg), "run"])
    assert result.exit_code == 1
    assert "half-created" in result.output and "Traceback" not in result.output
    db2 = tmp_path / "tables-only.db"
    engine = sa.create_engine(f"sqlite:///{db2}")
    metadata.create_all(engine, tables=[metadata.tables["stories"]])
    engine.dispose()
    with pytest.raises(StoreError, match="half-created"):
        open_store(str(db2))


def test_first_time_schema_creation_is_all_or_nothing(tmp_path: Path) -> None:
    """A failure half-way through creating the schema (a full disk, here a table whose creation
    fails) leaves no table behind, so the next attempt starts clean."""
    db = tmp_path / "b.db"
    table = metadata.tables["pages"]

    def fail(*_: object, **__: object) -> None:
        raise sa.exc.OperationalError(
            "CREATE TABLE pages", {}, Exception("database or disk is full")
        )

    sa.event.listen(table, "after_create", fail)
    try:
        with pytest.raises(StoreError, match="disk is full"):
            open_store(str(db))
    finally:
        sa.event.remove(table, "after_create", fail)
    with raw_sqlite(db) as conn:  # the file itself: nothing half-created
        assert conn.execute("select name from sqlite_master where type = 'table'").fetchall() == []
    store = open_store(str(db))
    assert store.article_count() == 0
    store.close()


def test_an_item_the_store_refuses_loses_only_itself(tmp_path: Path, server: FeedServer) -> None:
    """The store refuses one item (a real SQLite trigger aborts its insert): the feed's other
    items are stored, the refusal is named in the source's status, the other source is fine."""
    items = [("a", "Harbour wall finished", "Done."), ("b", "Poisoned entry", "Bad."),
             ("c", "Ferry returns to service", "Back.")]  # fmt: skip
    server.routes["/mixed.xml"] = static(rss("Mixed", items))
    server.routes["/good.xml"] = static(
        rss("Good", [("z", "Bridge reopens", "Open.")], "https://g.example.org")
    )
    open_store(str(tmp_path / "b.db")).close()
    with raw_sqlite(tmp_path / "b.db") as conn:  # a store that refuses one insert
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON articles WHEN NEW.title LIKE '%Poisoned%' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
        )
    code, out = _run(tmp_path, {"mixed": server.url("/mixed.xml"), "good": server.url("/good.xml")})
    assert code == 0, out
    assert "2 polled, 2 ok, 0 failed" in out
    with open_store(str(tmp_path / "b.db")) as store:
        titles = {a.title for a in stored_articles(store)}
        last = store.feed_states()["mixed"].last_status or ""
    assert titles == {"Harbour wall finished", "Ferry returns to service", "Bridge reopens"}
    assert "1 entry not stored" in last and "poisoned row" in last


def test_a_store_that_refuses_everything_fails_the_run_and_says_why(
    tmp_path: Path, server: FeedServer
) -> None:
    """Even a source's failure cannot be recorded (a real SQLite trigger aborts every feed
    state): the poll's writer thread stops, the run fails with the store's reason instead of
    going on without it, and what could be stored is kept (the article, stored alone by the
    fault barrier; no validators, so the next poll asks for the feed whole again)."""
    server.routes["/good.xml"] = static(
        rss("Good", [("z", "Bridge reopens", "Open.")], "https://g.example.org")
    )
    open_store(str(tmp_path / "b.db")).close()
    with raw_sqlite(tmp_path / "b.db") as conn:
        conn.execute(
            "CREATE TRIGGER frozen BEFORE INSERT ON feed_state "
            "BEGIN SELECT RAISE(ABORT, 'the disk is read-only today'); END"
        )
    code, out = _run(tmp_path, {"good": server.url("/good.xml")})
    assert code == 1, out
    assert "the disk is read-only today" in out
    with open_store(str(tmp_path / "b.db")) as store:
        assert [a.title for a in stored_articles(store)] == ["Bridge reopens"]
        assert store.feed_states() == {}
