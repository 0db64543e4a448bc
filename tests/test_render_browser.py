"""The edition page, the archive and the email in a real browser (Debian's headless Chromium).

Each document is opened at 375 px (a phone) and 1280 px, in light and dark colour schemes, and
must not scroll sideways, log console errors, request anything but the stories' images, or show
text below WCAG AA contrast. Story images (invented .example hosts) are answered with a local
placeholder; any other request fails the test.

Screenshots: ``BRIEFS_SCREENSHOTS=1`` saves them under output/screenshots/ (or give a folder).
Skips with the reason when /usr/bin/chromium is absent (CI installs it in .ci/run).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import load_config
from briefs.search import SearchPage
from briefs.store import Store
from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is not installed (apt-get install chromium; .ci/run does it)",
    ),
]

# WCAG 2.x contrast of every visible text run against the first opaque background behind it.
CONTRAST_JS = """
() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bgOf = (el) => { for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e); const bg = parse(s.backgroundColor);
      if (bg && bg.a > 0.5) return bg;
      const attr = e.getAttribute && e.getAttribute('bgcolor');
      if (attr && /^#[0-9a-f]{6}$/i.test(attr)) { const n = parseInt(attr.slice(1), 16);
        return {r: n >> 16, g: (n >> 8) & 255, b: n & 255, a: 1}; } }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode; const el = node.parentElement;
    if (!node.textContent.trim() || !el) continue;
    const s = getComputedStyle(el); const r = el.getBoundingClientRect();
    if (s.visibility === 'hidden' || s.display === 'none' || parseFloat(s.fontSize) < 2 ||
        r.width === 0 || r.height === 0 || parseFloat(s.opacity) === 0) continue;
    if (el.closest('[aria-hidden="true"]') || el.closest('.skip')) continue;
    const fg = parse(s.color); const bg = bgOf(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(s.fontSize); const bold = parseInt(s.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) bad.push(`${ratio.toFixed(2)} < ${need}: "${node.textContent.trim().slice(0, 40)}" ${s.color} on rgb(${bg.r},${bg.g},${bg.b})`);
  }
  return bad;
}
"""


def _placeholder(url: str) -> bytes:
    """A calm, photo-like gradient, tinted per URL, so screenshots look like a real edition."""
    hue = int(hashlib.sha1(url.encode()).hexdigest()[:4], 16) % 360
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800" viewBox="0 0 1200 800">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},38%,62%)"/>'
        f'<stop offset="1" stop-color="hsl({(hue + 40) % 360},42%,28%)"/></linearGradient></defs>'
        '<rect width="1200" height="800" fill="url(#g)"/>'
        f'<circle cx="900" cy="260" r="120" fill="hsl({(hue + 20) % 360},60%,85%)" opacity=".55"/>'
        '<path d="M0 620 L260 430 L470 560 L720 360 L1200 640 L1200 800 L0 800Z" '
        'fill="#000" opacity=".22"/></svg>'
    ).encode()


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo edition built from the bundled seeds: page, archive and the email's HTML part."""
    import shutil

    base = tmp_path_factory.mktemp("browser")
    seeds = base / "seeds"
    shutil.copytree(ROOT / "seeds", seeds, ignore=shutil.ignore_patterns("*.db*"))
    out = base / "out"
    cfg = str(seeds / "briefs.toml")
    for day in ("2024-04-05", "2024-04-06"):
        result = CliRunner().invoke(
            cli,
            ["--config", cfg, "run", "--date", day, "--out", str(out), "--email"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    raw = (out / "2024-04-06.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    html_part = msg.get_body(("html",))
    assert html_part is not None
    (out / "email.html").write_text(html_part.get_content(), encoding="utf-8")
    # a story page (the demo's story developing over both days), the search page as
    # `briefs serve` answers it, and the French and German editions (built without polling)
    first = set(_story_ids(out / "2024-04-05.html"))
    developing = next(s for s in _story_ids(out / "2024-04-06.html") if s in first)
    config = load_config(Path(cfg))
    with Store.open(config.database) as store:
        status, page = SearchPage(replace(config, output=out), store).respond({"q": ["harbour"]})
    assert status == 200
    (out / "search.html").write_text(page, encoding="utf-8")
    docs = {
        "page": out / "2024-04-06.html",
        "archive": out / "archive.html",
        "email": out / "email.html",
        "story": out / "stories" / f"{developing}.html",
        "search": out / "search.html",
    }
    for lang in ("fr", "de"):
        text = Path(cfg).read_text().replace("[brief]", f'[brief]\nlanguage = "{lang}"', 1)
        lang_cfg = seeds / f"briefs-{lang}.toml"
        lang_cfg.write_text(text)
        lang_out = base / f"out-{lang}"
        for day in ("2024-04-05", "2024-04-06"):
            result = CliRunner().invoke(
                cli,
                ["--config", str(lang_cfg), "build", "--date", day, "--out", str(lang_out)],
                catch_exceptions=False,
            )
            assert result.exit_code == 0, result.output
        docs[f"page-{lang}"] = lang_out / "2024-04-06.html"
        docs[f"story-{lang}"] = lang_out / "stories" / f"{developing}.html"
    return docs


def _story_ids(page: Path) -> list[str]:
    import lxml.html

    doc = lxml.html.parse(str(page)).getroot()
    return [a.get("id").removeprefix("story-") for a in doc.xpath("//article[@id]")]


@pytest.fixture(scope="module")
def browser(documents: dict[str, Path]) -> Iterator[Any]:
    """One Chromium for the module; started after the documents are built (briefs runs its own
    asyncio loop, which cannot start inside Playwright's)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _screenshot_dir() -> Path | None:
    value = os.environ.get("BRIEFS_SCREENSHOTS", "")
    if not value or value == "0":
        return None
    folder = ROOT / "output" / "screenshots" if value == "1" else Path(value)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "name", ["page", "archive", "email", "story", "search", "page-fr", "story-fr", "page-de"]
)
def test_document_in_chromium(
    browser: Any, documents: dict[str, Path], name: str, width: int, scheme: str
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, device_scale_factor=1
    )
    page = context.new_page()
    errors: list[str] = []
    unexpected: list[str] = []
    images: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r: Any) -> None:
        request = r.request
        if request.resource_type == "image" and request.url.startswith(("http://", "https://")):
            images.append(request.url)
            r.fulfill(status=200, content_type="image/svg+xml", body=_placeholder(request.url))
        else:
            unexpected.append(f"{request.resource_type} {request.url}")
            r.abort()

    page.route("http://*/**", route)
    page.route("https://*/**", route)
    try:
        page.goto(documents[name].as_uri(), wait_until="load")
        page.wait_for_load_state("networkidle")
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        low_contrast = page.evaluate(CONTRAST_JS)
        scripts = page.evaluate("() => document.scripts.length")
        folder = _screenshot_dir()
        if folder is not None:
            # Lazy images below the fold load on scroll; a full-page shot should show them.
            page.evaluate(
                "() => document.querySelectorAll('img').forEach(i => i.loading = 'eager')"
            )
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(folder / f"{name}-{width}-{scheme}.png"), full_page=True)
        if name != "email":
            # Keyboard users: the first Tab shows the skip link, with a visible focus ring.
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => { const e = document.activeElement; const s = getComputedStyle(e);"
                " const r = e.getBoundingClientRect();"
                " return [e.className, s.outlineStyle, r.top >= 0 && r.bottom <= innerHeight]; }"
            )
            assert focused == ["skip", "solid", True], focused
    finally:
        context.close()
    assert scroll <= inner, f"{name} scrolls sideways at {width}px: {scroll} > {inner}"
    assert not errors, errors
    assert not unexpected, f"requests other than story images: {unexpected}"
    assert scripts == 0
    assert not low_contrast, low_contrast[:5]
    if name in ("page", "story"):
        assert images, "the demo edition shows lead images"
