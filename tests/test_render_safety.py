"""A hostile edition (script tags, event handlers, javascript:/data: links, CR/LF and control
characters, Markdown syntax) produces no active content in any format.

Every HTML output is parsed with lxml (Markdown after rendering it with a CommonMark parser that
lets raw HTML through, as GitHub's would without its sanitizer): no script-like elements, no
``on*`` attributes, no URL attribute that is not http(s) (or an in-page / same-folder link).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from urllib.parse import urlsplit

import feedparser
import lxml.etree as ET
import lxml.html
import pytest
from markdown_it import MarkdownIt

from briefs.feeds import (
    STORY_FEEDS,
    FeedInfo,
    build_feeds,
    edition_items,
    sanitize_html,
    story_item,
)
from briefs.mail import build_message
from briefs.models import Edition, EditionRecord
from briefs.render import Renderer, safe_url
from tests.model import EVIL, NOW, hostile_brief

ACTIVE_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "applet", "form",
               "base", "svg", "math", "style"}  # fmt: skip
URL_ATTRS = {"href", "src", "action", "formaction", "srcset", "poster", "data", "background",
             "cite", "xlink:href", "longdesc", "lowsrc", "dynsrc", "ping"}  # fmt: skip
SITE = "https://news.example.org/"
# The favicon is our own inline SVG data URL (a square, no script).
OWN_DATA_URL = re.compile(r"^data:image/svg\+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'")


def assert_inert(html: str, where: str, *, document: bool = False) -> None:
    """No element, attribute or URL in ``html`` can run code or load a non-http(s) resource."""
    root = (
        lxml.html.document_fromstring(html)
        if document
        else lxml.html.fragment_fromstring(html, create_parent="div")
    )
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # comments (Outlook's conditional comments hold only tables)
        tag = el.tag.lower()
        assert tag not in ACTIVE_TAGS or (tag == "style" and el.getparent().tag == "head"), (
            f"{where}: <{tag}> element"
        )
        if tag == "meta":
            assert (el.get("http-equiv") or "").lower() != "refresh", where
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), f"{where}: {name}= on <{tag}>"
            if name.lower() == "style":
                assert "expression(" not in value and "url(" not in value, where
            if name.lower() in URL_ATTRS:
                url = value.strip()
                if OWN_DATA_URL.match(url) and tag == "link":
                    continue
                scheme = urlsplit(url).scheme.lower()
                assert scheme in ("http", "https") or (
                    not scheme
                    and (url.startswith("#") or re.fullmatch(r"(stories/)?[\w.-]+\.html", url))
                ), f"{where}: {name}={url!r} on <{tag}>"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(timezone="UTC", site_url=SITE)


def _record(renderer: Renderer) -> EditionRecord:
    brief = hostile_brief()
    return EditionRecord(
        Edition(brief.edition.date), NOW, brief.title, renderer.html_fragment(brief),
        "; ".join(s.summary.headline for s in brief.stories), len(brief.stories),
    )  # fmt: skip


def test_html_page_fragment_story_and_archive_are_inert(renderer: Renderer) -> None:
    brief = hostile_brief()
    record = _record(renderer)
    assert_inert(renderer.html_page(brief, [record]), "page", document=True)
    assert_inert(renderer.html_page(brief, [record], is_index=True), "index", document=True)
    assert_inert(renderer.archive_page(brief.title, [record]), "archive", document=True)
    assert_inert(renderer.html_fragment(brief), "fragment")
    for item in brief.stories:
        assert_inert(renderer.story_html(brief, item), "story")
    # the text survives, escaped, rather than being dropped
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in renderer.html_fragment(brief)


def test_markdown_is_inert_when_rendered(renderer: Renderer) -> None:
    md = renderer.markdown(hostile_brief())
    for preset in ("commonmark", "default"):
        html = MarkdownIt(preset, {"html": True}).render(md)
        assert_inert(html, f"markdown ({preset})")
        # (the story pages' links carry the fixture's story ids, "evil-N": ours, not a feed's)
        hrefs = lxml.html.fragment_fromstring(html, create_parent="div").xpath("//a/@href")
        assert "evil" not in " ".join(h for h in hrefs if "/stories/" not in h).lower()
    # no raw HTML in the Markdown source, and CR/LF cannot start a new block
    unescaped = re.findall(r"(?<!\\)<(?!https?://)", md)
    assert not unescaped, "a < that is not escaped nor an autolink"
    heads = [line for line in md.splitlines() if line.startswith("#")]
    assert all(line.startswith(("# ", "## ", "### ")) for line in heads), heads
    assert "\r" not in md and "\x0b" not in md and "\x1b" not in md


def test_email_is_inert_and_headers_are_safe(renderer: Renderer) -> None:
    msg = build_message(hostile_brief(), renderer, recipients=["reader@example.org"])
    raw = msg.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and "\n" not in parsed["Subject"]
    assert [k.lower() for k in parsed].count("bcc") == 0
    html_part = parsed.get_body(("html",))
    assert html_part is not None
    assert_inert(html_part.get_content(), "email html", document=True)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for bad in ("javascript:alert(document.cookie)", "data:text/html", "vbscript:", "Location:"):
        assert bad not in text  # unsafe links are not printed
    assert "\x1b" not in text and "\x0b" not in text


def test_feeds_are_inert_and_well_formed(renderer: Renderer) -> None:
    brief = hostile_brief()
    info = FeedInfo(brief.title, f"desc {EVIL}", SITE)
    feeds = build_feeds(info, edition_items(SITE, [_record(renderer)]), NOW)
    items = [
        story_item(SITE, brief.edition, s, renderer.story_html(brief, s)) for s in brief.stories
    ]
    feeds.update(build_feeds(info, items, NOW, STORY_FEEDS))
    for name, data in feeds.items():
        if name.endswith(".json"):
            doc = json.loads(data)
            contents = [i["content_html"] for i in doc["items"]]
            assert all(safe_url(i.get("url")) for i in doc["items"])
            assert all(safe_url(i["image"]) for i in doc["items"] if "image" in i)
            assert "\r" not in json.dumps(doc["title"]) and "\x0b" not in data.decode()
        else:
            ET.fromstring(data)  # well-formed, control characters removed
            feed = feedparser.parse(data)
            assert not feed.bozo, (name, feed.get("bozo_exception"))
            contents = [e.content[0].value for e in feed.entries]
            for entry in feed.entries:
                assert "\n" not in entry.title and "\r" not in entry.title
                for link in entry.get("links", []):
                    assert safe_url(link.href), (name, link.href)
        assert contents, name
        for content in contents:
            assert_inert(content, name)


def test_sanitize_html_keeps_our_markup_and_drops_anything_active() -> None:
    ours = '<article class="story" id="s"><h3>T</h3><a href="https://a.example/">A</a></article>'
    assert 'href="https://a.example/"' in sanitize_html(ours) and "<article" in sanitize_html(ours)
    evil = (
        '<script>alert(1)</script><img src="javascript:x" onerror="alert(1)">'
        '<a href="data:text/html,x" onclick="y">l</a><iframe src="https://e.example"></iframe>'
        '<svg onload="alert(1)"></svg><style>*{}</style><p style="x:expression(1)">p</p>'
    )
    clean = sanitize_html(evil)
    assert_inert(clean, "sanitized")
    assert "alert" not in clean and "<p>p</p>" in clean
