"""Hostile content: XSS vectors in every feed field, through the whole product, into every format."""

from __future__ import annotations

import email
import email.policy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from briefs.cli import cli
from tests.adversarial.active import active_content
from tests.adversarial.xss import hostile_feed, vectors


@pytest.fixture(scope="module")
def hostile_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "evil.xml").write_bytes(hostile_feed())
    (root / "briefs.toml").write_text(
        'output = "out"\n[brief]\ndate = "latest"\nmax_stories = 60\nmax_per_outlet = 60\n'
        "[fetch]\nfetch_full_text = false\n"
        '[[sources]]\nid = "evil"\nurl = "evil.xml"\n'
        '[[sources]]\nid = "evil2"\ntitle = "<img src=x onerror=alert(1)> Outlet"\nurl = "evil.xml"\n'
    )
    result = CliRunner().invoke(
        cli, ["--config", str(root / "briefs.toml"), "run", "--email"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return root / "out"


def test_there_are_over_a_hundred_vectors() -> None:
    assert len(vectors()) >= 100


def _page_files(out: Path) -> list[Path]:
    return sorted(out.glob("*.html"))


def test_html_pages_have_no_active_content(hostile_output: Path) -> None:
    pages = _page_files(hostile_output)
    assert pages
    for page in pages:
        text = page.read_text()
        assert "Report " in text  # the hostile stories did render
        assert active_content(text, ours=("style",)) == [], page.name


def test_markdown_has_no_active_content_when_rendered(hostile_output: Path) -> None:
    md = next(hostile_output.glob("*.md")).read_text()
    rendered = MarkdownIt("commonmark", {"html": True}).render(md)
    assert active_content(rendered) == []


def _fragments_from_feeds(out: Path) -> list[str]:
    fragments: list[str] = []
    for path in [*out.glob("*.xml"), *out.glob("*.atom")]:
        if path.name != "sitemap.xml":
            ET.fromstring(path.read_bytes())  # well-formed
            parsed = feedparser.parse(path.read_bytes(), sanitize_html=False)
            assert not parsed.bozo, path.name
            for entry in parsed.entries:
                fragments += [c.value for c in entry.get("content", [])]
                # A field a reader takes as text/plain is inert; one it takes as HTML must be safe.
                for key in ("summary", "title"):
                    if "html" in entry.get(f"{key}_detail", {}).get("type", "text/html"):
                        fragments.append(entry.get(key, ""))
    for path in out.glob("*.json"):
        doc = json.loads(path.read_text())
        for item in doc.get("items", []):
            # JSON Feed's title and summary are plain text by the spec; content_html is HTML.
            fragments.append(item.get("content_html", ""))
    return fragments


def test_feeds_carry_no_active_content(hostile_output: Path) -> None:
    fragments = _fragments_from_feeds(hostile_output)
    assert any("Report " in f for f in fragments)
    for fragment in fragments:
        assert active_content(fragment) == []


def test_email_has_no_active_content(hostile_output: Path) -> None:
    emls = list(hostile_output.glob("*.eml"))
    assert emls
    for path in emls:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert active_content(html, ours=("style",)) == []
        assert msg["Bcc"] is None


def test_checker_catches_what_it_should() -> None:
    # The detector itself must not be blind: each of these is active content.
    for bad in [
        '<p onclick="x()">a</p>',
        "<script>1</script>",
        '<a href=" jav\tascript:x">a</a>',
        '<img src="data:image/svg+xml,x">',
        '<div style="x:expression(1)">a</div>',
        "<svg></svg>",
    ]:
        assert active_content(bad), bad
    assert active_content('<p><a href="https://x.example/">ok</a></p>') == []


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (.ci/run installs it)"
)
def test_no_script_runs_in_a_real_browser(hostile_output: Path) -> None:
    """Open every page and the email HTML in headless Chromium: no dialog, no script error."""
    from playwright.sync_api import sync_playwright

    documents = [(p.name, p.read_text()) for p in _page_files(hostile_output)]
    for path in hostile_output.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        documents.append((path.name, msg.get_body(("html",)).get_content()))  # type: ignore[union-attr]
    dialogs: list[str] = []
    console: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("console", lambda m: console.append(m.text))
            page.on("pageerror", lambda e: console.append(str(e)))
            page.route("**/*", lambda route: route.abort())  # no network: nothing may load
            for name, html in documents:
                # a marker script of our own proves scripts would be noticed if any ran
                page.set_content(html, wait_until="load")
                page.wait_for_timeout(100)
                executed = page.evaluate("() => typeof window.__xss_ran !== 'undefined'")
                assert not executed, name
                # hover and focus everything, as a reader would, to trigger on* handlers
                page.evaluate(
                    "() => document.querySelectorAll('*').forEach(e => {"
                    " for (const t of ['mouseover','focus','toggle','load','error'])"
                    " e.dispatchEvent(new Event(t)); })"
                )
                page.wait_for_timeout(50)
            page.set_content("<script>alert('probe')</script>", wait_until="load")
        finally:
            browser.close()
    # the probe proves the hook works; nothing from the hostile documents ever fired
    assert dialogs == ["probe"], dialogs
    assert not [c for c in console if "alert" in c or "xss" in c.lower()], console
