"""The index of several briefs and a brief's archive in a real browser (headless Chromium).

The two-brief demo (seeds/desk.toml) is built for two days; its index and each brief's archive
are opened at 375 px and 1280 px, light and dark: no sideways scrolling, no console errors, no
request at all (the pages have no images), no text below WCAG AA contrast, and every link on
them resolves to a file that was written. ``BRIEFS_SCREENSHOTS=1`` saves screenshots (see
tests/test_render_browser.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from tests.conftest import ROOT
from tests.test_render_browser import ARGS, CHROMIUM, CONTRAST_JS, SCHEMES, WIDTHS, _screenshot_dir

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is not installed (apt-get install chromium; .ci/run does it)",
    ),
]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-brief demo built for 5 and 6 April: the output folder."""
    base = tmp_path_factory.mktemp("desk")
    seeds = base / "seeds"
    shutil.copytree(ROOT / "seeds", seeds, ignore=shutil.ignore_patterns("*.db*"))
    out = base / "out"
    for day in ("2024-04-05", "2024-04-06"):
        result = CliRunner().invoke(
            cli,
            ["--config", str(seeds / "desk.toml"), "run", "--date", day, "--out", str(out)],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser(desk: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["index.html", "local/archive.html", "wire/archive.html"])
def test_desk_page_in_chromium(
    browser: Any, desk: Path, name: str, width: int, scheme: str
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, device_scale_factor=1
    )
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto((desk / name).as_uri(), wait_until="load")
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        low_contrast = page.evaluate(CONTRAST_JS)
        links = page.evaluate("() => [...document.links].map(a => a.href)")
        headings = page.evaluate(
            "() => [...document.querySelectorAll('h2')].map(h => h.textContent)"
        )
        folder = _screenshot_dir()
        if folder is not None:
            shot = name.replace("/", "-").removesuffix(".html")
            page.screenshot(path=str(folder / f"desk-{shot}-{width}-{scheme}.png"), full_page=True)
    finally:
        context.close()
    assert scroll <= inner, f"{name} scrolls sideways at {width}px: {scroll} > {inner}"
    assert not errors, errors
    assert requests == [(desk / name).as_uri()], requests
    assert not low_contrast, low_contrast[:5]
    local = [href for href in links if href.startswith("file:")]
    assert local, "the page links to the briefs' files"
    for href in local:
        target = Path(urlsplit(href).path)
        assert target.is_file() or (target / "index.html").is_file(), href
    if name == "index.html":
        assert headings == ["The Local Brief", "The Wire"]
    else:
        assert headings == ["April 2024", "Subscribe"]
        assert sum(1 for h in links if h.endswith(("2024-04-05.html", "2024-04-06.html"))) == 2


@pytest.fixture(scope="module")
def served(desk: Path) -> Iterator[str]:
    """The desk served with its search pages (the database beside the demo's config)."""
    import threading

    from briefs.config import load_config
    from briefs.search import search_pages
    from briefs.serve import make_server
    from briefs.store import Store

    config = load_config(desk.parent / "seeds" / "desk.toml").with_root(desk)
    store = Store.open(config.database)
    server = make_server(desk, "127.0.0.1", 0, search=search_pages(config, store))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    store.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "path", ["search?q=the", "wire/search?q=the", "search?q=the&brief=nope", 'local/search?q="x']
)
def test_desk_search_pages_in_chromium(browser: Any, served: str, path: str, width: int) -> None:
    import urllib.error
    import urllib.request

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        answer = page.goto(served + path, wait_until="load")
        status = answer.status if answer else 0
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        low_contrast = page.evaluate(CONTRAST_JS)
        links = page.evaluate("() => [...document.links].map(a => a.href)")
        folder = _screenshot_dir()
        if folder is not None:
            shot = re.sub(r"[^a-z0-9]+", "-", path)
            page.screenshot(path=str(folder / f"desk-{shot}-{width}.png"), full_page=True)
    finally:
        context.close()
    expected = {"nope": 404, '"x': 400}.get(path.rsplit("=", 1)[1], 200)
    assert status == expected, status
    assert scroll <= inner, f"{path} scrolls sideways at {width}px: {scroll} > {inner}"
    assert not errors, errors
    assert not low_contrast, low_contrast[:5]
    local = {h.split("#")[0] for h in links if h.startswith(served)} - {
        answer.url if answer else ""
    }
    assert len(local) >= 3
    for href in local:
        try:
            with urllib.request.urlopen(href, timeout=10) as reply:
                assert reply.status == 200, href
        except urllib.error.HTTPError as exc:
            # the other briefs' search pages carry the query: a bad one is bad there too
            if not (exc.code == 400 == expected and "search?q=" in href):
                raise AssertionError(f"{href}: {exc.code}") from None
