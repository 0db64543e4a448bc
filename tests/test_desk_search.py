"""Search with several briefs: ``briefs search --brief ID`` (a brief's sources only, linking to
its story pages) and the search pages of ``briefs serve`` (a real server on 127.0.0.1):
``/search`` over every brief, ``/<folder>/search`` and ``/search?brief=ID`` over one, an
unknown brief a 404 that says so. Built from the demo desk (seeds/desk.toml: a brief by tag,
a brief by sources)."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import Config, load_config
from briefs.search import search_pages
from briefs.serve import OutputServer, make_server
from briefs.store import Store
from tests.conftest import SEEDS

WIRE = {"Meridian Wire", "Pacific Dispatch"}  # the wire brief's sources' outlets
LOCAL = {"The Civic Ledger"}  # the local brief's (tag "local")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path]:
    seeds = tmp_path_factory.mktemp("desk") / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    cfg = seeds / "desk.toml"
    cfg.write_text(cfg.read_text().replace('output = "../output-desk"', 'output = "../out"'))
    result = CliRunner().invoke(
        cli, ["--config", str(cfg), "run", "--date", "2024-04-06"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return load_config(cfg), cfg


def cli_json(cfg: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["--config", str(cfg), "search", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def outlets(found: dict) -> set[str]:  # type: ignore[type-arg]
    return {a["outlet"] for s in found["stories"] for a in s["articles"]}


def test_cli_search_of_one_brief_keeps_to_its_sources(desk: tuple[Config, Path]) -> None:
    config, cfg = desk
    every = cli_json(cfg, "the", "--limit", "100")
    wire = cli_json(cfg, "the", "--limit", "100", "--brief", "wire")
    local = cli_json(cfg, "the", "--limit", "100", "--brief", "local")
    assert outlets(wire) == WIRE
    assert outlets(local) == LOCAL
    assert outlets(every) > WIRE | LOCAL  # the desk's search: every source
    assert 0 < wire["articles"] < every["articles"] and 0 < local["articles"] < every["articles"]
    # a brief's story pages are its own (stories/...), the desk's are under each brief's folder
    for found, folder in ((wire, "wire"), (local, "local")):
        pages = [s["page"] for s in found["stories"] if s["page"]]
        assert pages and all(p.startswith("stories/") for p in pages)
        assert all((config.root / folder / p).is_file() for p in pages)
    pages = [s["page"] for s in every["stories"] if s["page"]]
    assert pages and all(re.fullmatch(r"(local|wire)/stories/\w+\.html", p) for p in pages)
    assert all((config.root / p).is_file() for p in pages)


def test_cli_search_of_an_unknown_brief_is_a_one_line_error(desk: tuple[Config, Path]) -> None:
    _, cfg = desk
    result = CliRunner().invoke(cli, ["--config", str(cfg), "search", "the", "--brief", "nope"])
    assert result.exit_code != 0
    assert "no brief 'nope' (briefs: local, wire)" in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def server(desk: tuple[Config, Path]) -> Iterator[OutputServer]:
    config, _ = desk
    store = Store.open(config.database)
    srv = make_server(config.root, "127.0.0.1", 0, search=search_pages(config, store))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)
    store.close()


def get(server: OutputServer, path: str) -> tuple[int, str]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8")
    finally:
        conn.close()


def shown_outlets(page: str) -> set[str]:
    return set(re.findall(r'<span class="outlet">([^<]*)</span>', page))


def links_resolve(server: OutputServer, path: str, page: str) -> int:
    """Every link of the page that stays on the server answers 200; how many there were."""
    local = []
    for href in set(re.findall(r'href="([^"#]+)"', page)):
        target = urljoin(path, href.replace("&amp;", "&"))
        if not urlsplit(target).netloc and not target.startswith("data:"):
            local.append(target)
    for target in local:
        assert get(server, target)[0] == 200, (path, target)
    return len(local)


def test_each_brief_has_its_own_search_page(server: OutputServer) -> None:
    for path, expected in (("/wire/search", WIRE), ("/local/search", LOCAL)):
        status, page = get(server, f"{path}?q=the")
        assert status == 200
        assert shown_outlets(page) and shown_outlets(page) <= expected, path
        assert re.search(r'href="stories/\w+\.html"', page)  # its own story pages
        assert links_resolve(server, path, page) > 5
        assert 'href="../search?q=the"' in page  # over to every brief's search


def test_the_desk_search_covers_every_brief_and_narrows_to_one(server: OutputServer) -> None:
    status, page = get(server, "/search?q=the")
    assert status == 200
    assert shown_outlets(page) > WIRE | LOCAL
    assert re.search(r'href="(local|wire)/stories/\w+\.html"', page)
    assert 'href="wire/search?q=the"' in page and 'href="local/search?q=the"' in page
    assert links_resolve(server, "/search", page) > 5
    status, page = get(server, "/search?q=the&brief=wire")
    assert status == 200 and shown_outlets(page) <= WIRE and shown_outlets(page)
    assert re.search(r'href="wire/stories/\w+\.html"', page)
    assert 'name="brief" value="wire"' in page  # the form keeps the narrowing
    assert links_resolve(server, "/search", page) > 5


def test_an_unknown_brief_is_a_404_that_says_so(server: OutputServer) -> None:
    status, page = get(server, "/search?q=the&brief=nope")
    assert status == 404
    assert "there is no brief &#39;nope&#39; (briefs: local, wire)" in page
    status, page = get(server, "/search?q=the&brief=" + quote("<script>x</script>"))
    assert status == 404 and "<script>x" not in page and "&lt;script&gt;" in page
    assert get(server, "/nope/search?q=the")[0] == 404  # no such folder: as any unknown path


@pytest.mark.parametrize(
    "query", ['"unclosed', "OR floods", "x" * 10_000, "<b>harbour</b>", "title:x NEAR(a b"]
)
def test_a_brief_search_answers_hostile_queries(server: OutputServer, query: str) -> None:
    for path in ("/wire/search", "/search"):
        status, page = get(server, f"{path}?q={quote(query)}")
        assert status in (200, 400), (path, query)
        assert "<b>harbour" not in page
