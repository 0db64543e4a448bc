"""`briefs sources add/import/export/list/enable` and a run over hostile sources, via the CLI."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.ingest.opml import OpmlFeed, read_opml, write_opml
from briefs.models import Source
from briefs.store import open_store
from tests.feedserver import FeedServer, conditional, drip, feed_server, gzip_bomb, rss, static
from tests.rawdb import stored_articles

FEED = rss("Loopback News", [("a", "Alpha", "First."), ("b", "Beta", "Second.")])

MINIFLUX = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
    <head>
        <title>Miniflux</title>
        <dateCreated>Sat, 06 Apr 2024 10:00:00 UTC</dateCreated>
    </head>
    <body>
        <outline text="World">
            <outline title="BBC News" text="BBC News" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml" htmlUrl="https://www.bbc.co.uk/news" description="" type="rss"></outline>
            <outline title="Al Jazeera" text="Al Jazeera" xmlUrl="https://www.aljazeera.com/xml/rss/all.xml" htmlUrl="https://www.aljazeera.com" description="" type="rss"></outline>
        </outline>
        <outline text="Tech">
            <outline title="Rest of World" text="Rest of World" xmlUrl="https://restofworld.org/feed/latest" htmlUrl="https://restofworld.org" description="" type="rss"></outline>
        </outline>
    </body>
</opml>
"""

FRESHRSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
	<head><title>FreshRSS</title></head>
	<body>
		<outline text="Uncategorized">
			<outline text="NPR World" type="rss" xmlUrl="https://feeds.npr.org/1004/rss.xml" htmlUrl="https://www.npr.org/" description="" category="/Radio,/World"/>
		</outline>
		<outline text="World">
			<outline text="BBC News" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml" htmlUrl="https://www.bbc.co.uk/news"/>
			<outline text="Not a feed" type="rss" xmlUrl="file:///etc/passwd"/>
		</outline>
	</body>
</opml>
"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def make_config(tmp_path: Path, body: str = "") -> Path:
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        '# my sources\ndatabase = "b.db"\noutput = "out"\n\n[fetch]\nallow_private = true\n'
        "timeout = 2\nconnect_timeout = 2\ntotal_timeout = 1.5\nmax_bytes = 300000\n" + body
    )
    return cfg


def sources_of(cfg: Path) -> list[dict[str, object]]:
    return list(tomllib.loads(cfg.read_text()).get("sources", []))


def test_add_a_feed_url_and_a_page_that_links_one(tmp_path: Path, server: FeedServer) -> None:
    server.routes["/feed.xml"] = static(FEED)
    server.routes["/home"] = static(
        b'<html><head><link rel="alternate" type="application/rss+xml" title="RSS" '
        b'href="/feed.xml"></head><body>Home</body></html>',
        content_type="text/html",
    )
    server.routes["/plain"] = static(b"<html><body>nothing</body></html>", content_type="text/html")
    cfg = make_config(tmp_path)
    code, out = invoke(
        "--config", str(cfg), "sources", "add", server.url("/home"), "--tag", "world"
    )
    assert code == 0, out
    assert "Added 'loopback-news'" in out and "2 entries" in out
    assert sources_of(cfg) == [
        {
            "id": "loopback-news",
            "title": "Loopback News",
            "url": server.url("/feed.xml"),
            "tags": ["world"],
        }
    ]
    assert cfg.read_text().startswith("# my sources\n")  # comments kept
    code, out = invoke("--config", str(cfg), "sources", "add", server.url("/feed.xml"))
    assert code == 1 and "already configured as 'loopback-news'" in out
    code, out = invoke(
        "--config", str(cfg), "sources", "add", server.url("/feed.xml"), "--id", "x", "--title", "X"
    )
    assert code == 1  # the same URL under another name is still the same feed
    code, out = invoke("--config", str(cfg), "sources", "add", server.url("/plain"))
    assert code == 1 and "neither a feed nor a page that links one" in out
    assert out.count("\n") == 1
    code, out = invoke("--config", str(cfg), "sources", "add", server.url("/missing"))
    assert code == 1 and "HTTP 404" in out
    assert len(sources_of(cfg)) == 1


def test_import_miniflux_and_freshrss_then_export_round_trips(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    (tmp_path / "miniflux.opml").write_bytes(MINIFLUX)
    (tmp_path / "freshrss.opml").write_bytes(FRESHRSS)
    code, out = invoke("--config", str(cfg), "sources", "import", str(tmp_path / "miniflux.opml"))
    assert code == 0 and "Added 3 of 3 feeds" in out
    before = cfg.read_text()
    args = ["--config", str(cfg), "sources", "import", str(tmp_path / "freshrss.opml")]
    code, out = invoke(*args, "--dry-run")
    assert code == 0 and cfg.read_text() == before
    assert "Would add 1 of 3 feeds (1 already configured)" in out
    lines = [line.strip() for line in out.splitlines()]
    (add,) = [line for line in lines if line.startswith("add: ")]
    assert "npr" in add.lower() and "[Uncategorized, Radio, World]" in add
    (skip,) = [line for line in lines if line.startswith("skip: ")]
    assert skip.endswith("already configured as 'bbc-news'")
    code, out = invoke(*args)
    assert code == 0, out
    assert "added: npr-world: " in out
    assert "Added 1 of 3 feeds (1 already configured)" in out  # BBC again; file:// refused
    assert [(s["id"], s.get("tags")) for s in sources_of(cfg)] == [
        ("bbc-news", ["World"]),
        ("al-jazeera", ["World"]),
        ("rest-of-world", ["Tech"]),
        ("npr-world", ["Uncategorized", "Radio", "World"]),
    ]
    code, exported = invoke("--config", str(cfg), "sources", "export")
    assert code == 0
    feeds = read_opml(exported.encode())
    assert [(f.url, f.title, f.tags) for f in feeds] == [
        (str(s["url"]), s["title"], tuple(s["tags"]))  # type: ignore[arg-type]
        for s in sources_of(cfg)
    ]
    # and the export imports into an empty config as the same sources
    (tmp_path / "other").mkdir()
    other = make_config(tmp_path / "other")
    (tmp_path / "export.opml").write_text(exported)
    code, out = invoke("--config", str(other), "sources", "import", str(tmp_path / "export.opml"))
    assert code == 0 and "Added 4 of 4" in out
    assert sources_of(other) == sources_of(cfg)


def test_export_says_on_stderr_how_many_local_sources_it_left_out(tmp_path: Path) -> None:
    (tmp_path / "local.xml").write_text(
        "<rss version='2.0'><channel><title>L</title></channel></rss>"
    )
    (tmp_path / "notes").mkdir()
    cfg = make_config(
        tmp_path,
        '\n[[sources]]\nid = "web"\nurl = "https://news.example.org/rss.xml"\n'
        '\n[[sources]]\nid = "local-feed"\nurl = "local.xml"\n'
        '\n[[sources]]\nid = "notes"\nkind = "files"\npath = "notes"\n',
    )
    result = CliRunner().invoke(cli, ["--config", str(cfg), "sources", "export"])
    assert result.exit_code == 0, result.output
    assert [f.url for f in read_opml(result.stdout.encode())] == [
        "https://news.example.org/rss.xml"
    ]
    assert result.stderr.strip() == (
        "Left out 2 local sources (seed-document folders and local feed files, which other "
        "readers cannot use): local-feed, notes"
    )
    # with only web feeds, nothing is said
    only_web = make_config(tmp_path / "notes", '\n[[sources]]\nurl = "https://a.example/rss"\n')
    result = CliRunner().invoke(
        cli, ["--config", str(only_web), "sources", "export", "-o", str(tmp_path / "o.opml")]
    )
    assert result.exit_code == 0 and result.stderr == ""
    assert "Wrote 1 feeds to" in result.stdout


def test_opml_writer_nests_by_first_tag() -> None:
    data = write_opml(
        [
            Source("a", "feed", "https://a.example/rss", "A", ("world",)),
            Source("b", "feed", "https://b.example/rss", "B & Co", ("tech", "world")),
            Source("c", "feed", "https://c.example/rss", "C"),
            Source("docs", "files", "/srv/docs", "Docs"),
        ],
        {"a": "https://a.example/"},
        "Mine",
        dt.datetime(2024, 4, 6, tzinfo=dt.UTC),
    )
    assert read_opml(data) == [
        OpmlFeed("https://a.example/rss", "A", "https://a.example/", ("world",)),
        OpmlFeed("https://b.example/rss", "B & Co", "", ("tech", "world")),
        OpmlFeed("https://c.example/rss", "C", "", ()),
    ]
    assert b"B &amp; Co" in data and b"/srv/docs" not in data


def test_run_with_hostile_sources_still_writes_the_brief(
    tmp_path: Path, server: FeedServer
) -> None:
    """Each bad source ends in its own state; the good one feeds the brief; nothing is lost."""
    server.routes["/good.xml"] = conditional(FEED, etag='"g1"')
    server.routes["/gone.xml"] = static(b"", 410)
    server.routes["/busy.xml"] = static(b"", 429, {"Retry-After": "3600"})
    server.routes["/error.xml"] = static(b"", 500)
    server.routes["/drip.xml"] = drip(0.1, total=3)
    server.routes["/bomb.xml"] = gzip_bomb()
    server.routes["/page.xml"] = static(
        b"<html><body>Hello</body></html>", content_type="text/html"
    )
    server.routes["/old.xml"] = static(b"", 301, {"Location": "/good.xml"})
    names = ["good", "gone", "busy", "error", "drip", "bomb", "page", "old"]
    cfg = make_config(
        tmp_path,
        "".join(f'\n[[sources]]\nid = "{n}"\nurl = "{server.url(f"/{n}.xml")}"\n' for n in names)
        + '\n[brief]\ndate = "latest"\n',
    )
    code, out = invoke("--config", str(cfg), "run")
    assert code == 0, out
    assert "8 polled, 2 ok, 6 failed" in out
    assert "New articles: 2" in out
    md = next((tmp_path / "out").glob("*.md")).read_text()
    assert "Alpha" in md or "Beta" in md
    code, out = invoke("--config", str(cfg), "sources", "list", "--json")
    health = {row["id"]: row for row in json.loads(out)}
    assert health["good"]["status"] == "200" and health["good"]["articles_total"] == 2
    assert health["old"]["moved_to"] == server.url("/good.xml")
    assert health["gone"]["status"] == "disabled (410)"
    assert health["busy"]["status"] == "429" and "Retry-After" in health["busy"]["last_error"]
    assert health["error"]["last_error"] == "HTTP 500 Internal Server Error"
    assert "took longer" in health["drip"]["last_error"]
    assert "decompressed body over" in health["bomb"]["last_error"]
    assert "HTML page" in health["page"]["last_error"]
    for name in ("busy", "error", "drip", "bomb", "page"):
        assert health[name]["consecutive_failures"] == 1 and health[name]["next_poll"], name
    code, table = invoke("--config", str(cfg), "sources", "list")
    assert code == 0 and "disabled (410)" in table and "→ " in table
    # the second run: good answers 304, gone and busy are not asked, nothing stored is lost
    hits = dict(server.hits)
    code, out = invoke("--config", str(cfg), "run")
    assert code == 0 and "New articles: 0" in out
    assert "6 polled" in out  # gone (disabled) and busy (Retry-After) were skipped
    assert server.hits["/gone.xml"] == hits["/gone.xml"]
    assert server.hits["/busy.xml"] == hits["/busy.xml"]
    assert server.hits["/old.xml"] == hits["/old.xml"]  # polled at its new address
    with open_store(str(tmp_path / "b.db")) as store:
        assert store.article_count() == 2
        failures = {k: s.consecutive_failures for k, s in store.feed_states().items()}
    assert failures["error"] == 2 and failures["good"] == 0
    # re-enabling the gone source
    code, out = invoke("--config", str(cfg), "sources", "enable", "gone")
    assert code == 0 and "gone enabled" in out
    code, out = invoke("--config", str(cfg), "sources", "list", "--json")
    assert {r["id"]: r for r in json.loads(out)}["gone"]["status"] == "410"


def test_bad_opml_is_a_one_line_error(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    (tmp_path / "bad.opml").write_text("<opml><body><outline")
    code, out = invoke("--config", str(cfg), "sources", "import", str(tmp_path / "bad.opml"))
    assert code == 1 and "not a valid OPML file" in out and out.count("\n") == 1
    (tmp_path / "bomb.opml").write_text(
        '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><opml><body>&b;</body></opml>'
    )
    code, out = invoke("--config", str(cfg), "sources", "import", str(tmp_path / "bomb.opml"))
    assert code == 1 and "not a valid OPML file" in out


def test_add_a_local_feed_file(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "local.xml").write_bytes(FEED)
    code, out = invoke(
        "--config", str(cfg), "sources", "add", str(tmp_path / "feeds" / "local.xml")
    )
    assert code == 0, out
    assert sources_of(cfg)[0]["url"] == "feeds/local.xml"  # relative to the config file
    code, out = invoke(
        "--config", str(cfg), "sources", "add", str(tmp_path / "feeds" / "local.xml")
    )
    assert code == 1 and "already configured as 'loopback-news'" in out
    code, out = invoke("--config", str(cfg), "sources", "add", str(tmp_path / "missing.xml"))
    assert code == 1 and "cannot read" in out


def test_a_source_without_a_title_gets_a_clean_publisher_name(
    tmp_path: Path, server: FeedServer
) -> None:
    """The feed calls itself "NYT > World News": briefs names it "NYT" and says so."""
    server.routes["/world.xml"] = static(rss("NYT > World News", [("a", "Alpha", "First.")]))
    server.routes["/section"] = static(
        b'<html><head><meta property="og:site_name" content="Japan Today">'
        b'<link rel="alternate" type="application/rss+xml" href="/top.xml"></head></html>',
        content_type="text/html",
    )
    server.routes["/top.xml"] = static(rss("Top Stories", [("b", "Beta", "Second.")]))
    cfg = make_config(tmp_path)
    code, out = invoke("--config", str(cfg), "sources", "add", server.url("/world.xml"))
    assert code == 0, out
    assert "named 'NYT' (the feed calls itself 'NYT > World News'); change it with --title" in out
    code, out = invoke("--config", str(cfg), "sources", "add", server.url("/section"))
    assert code == 0 and "named 'Japan Today' (the feed calls itself 'Top Stories')" in out
    assert [s["title"] for s in sources_of(cfg)] == ["NYT", "Japan Today"]
    # a source the config does not name: its articles carry the clean name too
    (tmp_path / "b.xml").write_bytes(rss("World", [("c", "Gamma", "Third.")]))
    text = cfg.read_text()
    cfg.write_text(text + '\n[[sources]]\nid = "untitled"\nurl = "b.xml"\n')
    code, out = invoke("--config", str(cfg), "run")
    assert code == 0, out
    outlets = {a.source_id: a.outlet for a in stored_articles(tmp_path / "b.db")}
    assert outlets["untitled"] == "news.example.org"  # only a section title: the site host
    assert {outlets[k] for k in outlets if k != "untitled"} == {"NYT", "Japan Today"}


def test_sources_list_says_which_parser_read_each_feed(tmp_path: Path, server: FeedServer) -> None:
    """A plain feed is read by fastfeedparser; one with a DTD by feedparser, with the reason."""
    server.routes["/fast.xml"] = static(FEED)
    server.routes["/dtd.xml"] = static(
        FEED.replace(b"<rss", b'<!DOCTYPE rss [<!ENTITY co "Co">]><rss', 1)
    )
    cfg = make_config(
        tmp_path,
        "".join(
            f'\n[[sources]]\nid = "{n}"\nurl = "{server.url(f"/{n}.xml")}"\n'
            for n in ("fast", "dtd")
        )
        + '\n[brief]\ndate = "latest"\n',
    )
    code, out = invoke("--config", str(cfg), "run")
    assert code == 0, out
    code, out = invoke("--config", str(cfg), "sources", "list", "--json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert (rows["fast"]["parser"], rows["fast"]["parser_fallback"]) == ("fastfeedparser", None)
    assert rows["dtd"]["parser"] == "feedparser"
    assert rows["dtd"]["parser_fallback"] == "document type declaration"
    assert rows["fast"]["status"] == rows["dtd"]["status"] == "200"  # the same two articles


def test_refusals_that_allow_private_cannot_lift_do_not_suggest_it(tmp_path: Path) -> None:
    """`fetch.allow_private = true` is suggested only where it would help: a bad scheme or a
    reserved domain is refused whatever the setting, so its message must not point at it
    (it did: "unsupported URL scheme 'htp' ... (fetch.allow_private = true allows it)")."""
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(f'database = "{tmp_path / "b.db"}"\noutput = "{tmp_path / "out"}"\n')
    for url in ("htp://news.example.org/feed", "https://feeds.example/rss"):
        code, out = invoke("--config", str(cfg), "sources", "add", url)
        assert code == 1 and "allow_private" not in out, out
    code, out = invoke("--config", str(cfg), "sources", "add", "http://127.0.0.1:9/feed.xml")
    assert code == 1 and "fetch.allow_private = true allows it" in out, out
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline type="rss" text="R" xmlUrl="https://feeds.example/rss"/>'
        '<outline type="rss" text="M" xmlUrl="http://169.254.169.254/latest/"/>'
        "</body></opml>"
    )
    code, out = invoke("--config", str(cfg), "sources", "import", str(opml), "--dry-run")
    lines = {line for line in out.splitlines() if line.startswith("skipped")}
    assert any("feeds.example" in line and "allow_private" not in line for line in lines), out
    assert any("169.254.169.254" in line and "allow_private" in line for line in lines), out
