"""The index of several briefs and a brief's archive in a real browser (headless Chromium).

The two-brief demo (seeds/desk.toml) is built for two days; its index and each brief's archive
are opened at 375 px and 1280 px, light and dark: no sideways scrolling, no console errors, no
request at all (the pages have no images), no text below WCAG AA contrast, and every link on
them resolves to a file that was written. ``BRIEFS_SCREENSHOTS=1`` saves screenshots (see
tests/test_render_browser.py).
"""

from __future__ import annotations

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
