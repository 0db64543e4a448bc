"""Search through the CLI (`briefs search`) and through `briefs serve` (/search, a real server on
127.0.0.1) over the demo's editions, hostile queries included."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import lxml.html
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import Config, load_config
from briefs.models import Article
from briefs.search import SearchPage
from briefs.serve import OutputServer, make_server
from briefs.store import Store, open_store
from tests.conftest import SEEDS

HOSTILE_TITLE = 'Quayside <script>alert("t")</script> protest'


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path]:
    base = tmp_path_factory.mktemp("search")
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    cfg = seeds / "briefs.toml"
    cfg.write_text(cfg.read_text().replace('output = "../output"', 'output = "../site/out"'))
    for day in ("2024-04-05", "2024-04-06"):
        result = CliRunner().invoke(
            cli, ["--config", str(cfg), "run", "--date", day], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
    config = load_config(cfg)
    with open_store(config.database) as store:
        when = dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)
        store.add_articles(
            [
                Article(
                    id="hostile",
                    source_id="x",
                    url="javascript:alert(1)",
                    title=HOSTILE_TITLE,
                    published=when,
                    fetched=when,
                    outlet="<b>Evil</b> Outlet",
                    body='The quayside <img src=x onerror="alert(2)"> protest went on.',
                )
            ]
        )
    return config, cfg


@pytest.fixture(scope="module")
def server(built: tuple[Config, Path]) -> Iterator[OutputServer]:
    config, _ = built
    store = Store.open(config.database)
    srv = make_server(config.output, "127.0.0.1", 0, search=SearchPage(config, store))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    store.close()


def get(server: OutputServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def search_cli(cfg: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), "search", *args])
    return result.exit_code, result.output


def test_cli_search_finds_stories_with_their_pages(built: tuple[Config, Path]) -> None:
    config, cfg = built
    code, out = search_cli(cfg, "harbour", "--json")
    assert code == 0, out
    found = json.loads(out)
    assert found["stories"] and found["articles"] >= len(found["stories"])
    for story in found["stories"]:
        for art in story["articles"]:
            assert "harbour" in art["matches"][0].casefold() or "harbour" in art["title"].casefold()
        if story["page"]:
            assert (config.output / story["page"]).is_file()
    assert any(s["page"] for s in found["stories"])
    code, text = search_cli(cfg, "harbour")
    assert code == 0 and "/stories/" in text and text.startswith("1. ")


def test_cli_search_phrases_prefixes_and_since(built: tuple[Config, Path]) -> None:
    _, cfg = built
    _, words = search_cli(cfg, "cup", "final", "--json")
    _, phrase = search_cli(cfg, '"cup final"', "--json")
    _, prefix = search_cli(cfg, "fed*", "--json")
    words_ids = {a["id"] for s in json.loads(words)["stories"] for a in s["articles"]}
    phrase_ids = {a["id"] for s in json.loads(phrase)["stories"] for a in s["articles"]}
    assert phrase_ids and phrase_ids <= words_ids
    assert json.loads(prefix)["stories"]
    _, later = search_cli(cfg, "harbour", "--since", "2024-04-06", "--json")
    for s in json.loads(later)["stories"]:
        for a in s["articles"]:
            assert a["published"] >= "2024-04-05T2"  # the 6th in Europe/London or later


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (['"harbour'], "quotation mark is not closed"),
        (["OR"], "OR needs a term"),
        (["x" * 10_000], "too long"),
        (["harbour", "--since", "yesterday"], "not a date"),
    ],
)
def test_cli_search_bad_queries_are_one_line_errors(
    built: tuple[Config, Path], args: list[str], message: str
) -> None:
    code, out = search_cli(built[1], *args)
    assert code == 1
    assert out.startswith("briefs: error:") and message in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_search_page_lists_stories_linking_to_their_pages(server: OutputServer) -> None:
    status, headers, body = get(server, "/search?q=harbour")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-store"
    assert "form-action 'self'" in headers["content-security-policy"]
    doc = lxml.html.document_fromstring(body)
    assert not doc.xpath("//script")
    pages = doc.xpath("//ol[@class='results']//h2/a[starts-with(@href, 'stories/')]/@href")
    assert pages
    for href in pages:  # the links resolve on the same server
        assert get(server, "/" + href)[0] == 200
    assert doc.xpath("//mark")
    assert doc.xpath("//input[@name='q']/@value") == ["harbour"]


def test_search_page_escapes_markup_in_queries_and_results(server: OutputServer) -> None:
    q = quote("quayside <script>")
    status, _, body = get(server, f"/search?q={q}")
    assert status == 200
    doc = lxml.html.document_fromstring(body)
    assert not doc.xpath("//script | //img | //b")  # nothing from the query or the article runs
    assert "&lt;script&gt;" in body
    assert doc.xpath("//input[@name='q']/@value") == ["quayside <script>"]
    result = doc.xpath("//ol[@class='results']/li")[0]
    assert result.xpath(".//h2")[0].text_content() == HOSTILE_TITLE
    assert not result.xpath(".//a[contains(@href, 'javascript')]")
    snippet = result.xpath(".//span[@class='snippet']")[0]
    # the snippet as text, matched words marked, the markup in it shown, never run
    assert "<script>" in snippet.text_content() or "onerror" in snippet.text_content()
    assert [m.text for m in snippet.xpath("mark")] and "Quayside <" in snippet.text_content()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("title:harbour NEAR(a b", None),
        ('"harbour', "quotation mark is not closed"),
        ("harbour OR", "OR needs a term"),
        ("-harbour", "only excluded terms"),
        ("x" * 10_000, "too long"),
        ("%FF%FE%00", None),
        ("*", "no words"),
    ],
)
def test_search_page_answers_hostile_queries_without_a_server_error(
    server: OutputServer, query: str, message: str | None
) -> None:
    path = "/search?q=" + (query if "%" in query else quote(query))
    status, _, body = get(server, path)
    assert status in (200, 400), status
    if message is not None:
        assert status == 400
        notice = lxml.html.document_fromstring(body).xpath("//p[@role='alert']")[0]
        assert message in notice.text_content()
    value = lxml.html.document_fromstring(body).xpath("//input[@name='q']/@value")
    assert len(value[0]) <= 500 if value else True


def test_search_page_edge_requests(server: OutputServer, built: tuple[Config, Path]) -> None:
    status, _, body = get(server, "/search")
    doc = lxml.html.document_fromstring(body)
    assert status == 200 and doc.xpath("//form[@role='search']")
    assert not doc.xpath("//ol[@class='results'] | //p[@role='alert']")
    status, headers, body = get(server, "/search?q=harbour", method="HEAD")
    assert status == 200 and body == "" and int(headers["content-length"]) > 0
    many = "&".join(f"a{i}=1" for i in range(50))
    assert get(server, f"/search?{many}")[0] == 400
    assert get(server, "/search?q=harbour&since=2024-99-01")[0] == 400
    config, _ = built
    plain = make_server(config.output, "127.0.0.1", 0)  # no search page: an unknown path
    thread = threading.Thread(target=plain.serve_forever, daemon=True)
    thread.start()
    try:
        assert get(plain, "/search?q=harbour")[0] == 404
    finally:
        plain.shutdown()
        plain.server_close()
