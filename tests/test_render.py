"""Rendering a fixed Brief: golden files per format, and the structure each format promises
(CommonMark that parses with resolved citations; semantic, accessible HTML; the email parts)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import itertools
import re

import lxml.html
import pytest
from markdown_it import MarkdownIt

from briefs.mail import build_message
from briefs.models import Edition, EditionRecord
from briefs.render import Renderer, coverage_filled, md_escape
from tests.golden import assert_golden
from tests.model import NOW, fixed_brief

ARCHIVE = [
    EditionRecord(Edition(dt.date(2024, 4, 6)), NOW, "The Test Brief: 6 April", "", "A; B", 6),
    EditionRecord(Edition(dt.date(2024, 4, 5)), NOW, "The Test Brief: 5 April", "", "C; D", 4),
    EditionRecord(Edition(dt.date(2024, 3, 30)), NOW, "The Test Brief: 30 March", "", "E", 2),
]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(timezone="Europe/London", site_url="https://news.example.org/briefs/")


def test_golden_markdown(renderer: Renderer) -> None:
    assert_golden("brief.md", renderer.markdown(fixed_brief()))


def test_golden_html_page_fragment_story_and_archive(renderer: Renderer) -> None:
    brief = fixed_brief()
    assert_golden("brief.html", renderer.html_page(brief, ARCHIVE))
    assert_golden("fragment.html", renderer.html_fragment(brief))
    assert_golden("story.html", renderer.story_html(brief, brief.stories[1]))
    assert_golden("archive.html", renderer.archive_page(brief.title, ARCHIVE))


def test_golden_email(renderer: Renderer) -> None:
    msg = build_message(fixed_brief(), renderer, domain="news.example.org")
    assert_golden("email.eml", msg.as_bytes())
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert_golden("email.txt", parsed.get_body(("plain",)).get_content())


def test_markdown_is_commonmark_with_resolved_reference_citations(renderer: Renderer) -> None:
    brief = fixed_brief()
    md = renderer.markdown(brief)
    tokens = MarkdownIt("commonmark").parse(md)
    assert not [t for t in tokens if t.type == "html_block"]
    inline = [c for t in tokens if t.children for c in t.children]
    assert not [c for c in inline if c.type == "html_inline"]
    html = MarkdownIt("commonmark").render(md)
    assert "][" not in html, "a reference citation did not resolve"
    doc = lxml.html.fromstring(html)
    hrefs = doc.xpath("//a/@href")
    assert hrefs and all(h.startswith("https://") for h in hrefs)
    # every sentence carries a citation that links to its own article
    for item in brief.stories:
        for sentence in item.summary.sentences:
            li = [el for el in doc.iter("li") if el.text_content().startswith(sentence.text)]
            assert li, sentence.text
            assert li[0].xpath(".//a/@href") == [sentence.url]
            assert li[0].xpath(".//a/text()") == [sentence.outlet]
    # title, sections, stories: one h1, sections as h2, stories as h3
    assert len(doc.xpath("//h1")) == 1
    assert [h.text_content() for h in doc.xpath("//h2")] == ["World", "Tech"]
    assert len(doc.xpath("//h3")) == len(brief.stories)
    assert "Sources that failed" in html and "Coastline Post" in html
    # readable as plain text: no HTML in the source, lines of prose, not markup soup
    assert "<a " not in md and "<span" not in md
    assert "*Developing, day 2*" in md and "*New*" in md


def test_markdown_without_sections_uses_h2_for_stories(renderer: Renderer) -> None:
    md = renderer.markdown(fixed_brief(3, sections=False))
    doc = lxml.html.fromstring(MarkdownIt("commonmark").render(md))
    assert len(doc.xpath("//h2")) == 3 and not doc.xpath("//h3")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("AT&T and snake_case stay readable", "AT&T and snake_case stay readable"),
        ("&amp; is not an entity here", "\\&amp; is not an entity here"),
        ("[x](javascript:y)", "\\[x\\]\\(javascript:y)"),
        ("1986. A year", "1986\\. A year"),
        ("- not a list", "\\- not a list"),
        ("Ends with a #", "Ends with a \\#"),
        ("*emph* _emph_ `code` <b>", "\\*emph\\* \\_emph\\_ \\`code\\` \\<b\\>"),
        ("line\r\nbreak\x0b", "line break"),
    ],
)
def test_md_escape(raw: str, escaped: str) -> None:
    assert md_escape(raw) == escaped
    rendered = MarkdownIt("commonmark").renderInline(md_escape(raw))
    assert "<" not in rendered.replace("&lt;", "")  # no element was created


def _page(renderer: Renderer, **kwargs: object) -> lxml.html.HtmlElement:
    brief = fixed_brief(**kwargs)  # type: ignore[arg-type]
    return lxml.html.fromstring(renderer.html_page(brief, ARCHIVE))


def test_html_page_is_semantic_and_accessible(renderer: Renderer) -> None:
    doc = _page(renderer)
    assert doc.get("lang") == "en"
    assert doc.xpath("//meta[@name='viewport']") and doc.xpath("//meta[@name='color-scheme']")
    for landmark in ("header", "main", "footer", "nav"):
        assert doc.xpath(f"//{landmark}"), landmark
    assert doc.xpath("//a[@class='skip' and @href='#main']") and doc.xpath("//main[@id='main']")
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids))
    for href in doc.xpath("//nav[@aria-label='In this edition']//a/@href"):
        assert href[1:] in ids
    for img in doc.iter("img"):
        assert img.get("alt", "").strip() and img.get("width") and img.get("height")
    # no JavaScript and nothing fetched but the stories' images
    assert not doc.xpath("//script | //iframe | //object | //embed | //link[@rel='stylesheet']")
    for el, _attr, url, _ in doc.iterlinks():
        if el.tag == "img":
            assert url.startswith("https://"), url
        elif el.tag == "link" and el.get("rel") == "icon":
            assert url.startswith("data:image/svg+xml,")
        else:
            assert url.startswith(("https://", "#")) or re.fullmatch(
                r"(stories/)?[\w.-]+\.html", url
            ), url


def test_html_story_shows_every_part(renderer: Renderer) -> None:
    brief = fixed_brief()
    doc = _page(renderer)
    for item in brief.stories:
        art = doc.get_element_by_id(f"story-{item.story.id}")
        text = " ".join(art.text_content().split())
        assert item.summary.headline in text
        badge = "Developing · day 2" if item.status == "developing" else "New"
        assert art.xpath(f".//span[contains(@class, 'badge')][normalize-space()='{badge}']")
        n = len(item.outlets)
        assert f"{n} outlet{'s' if n != 1 else ''}" in text
        segments = art.xpath(".//span[contains(@class, 'seg')]")
        on = art.xpath(".//span[@class='seg on']")
        assert len(segments) == 8 and len(on) == coverage_filled(n, 8) == min(n, 8)
        cites = art.xpath(".//ul[@class='summary']/li/span/a[@class='cite']")
        assert [a.get("href") for a in cites] == [s.url for s in item.summary.sentences]
        assert [a.text for a in cites] == [s.outlet for s in item.summary.sentences]
        # Coverage: every distinct report, by outlet; syndicated copies folded under theirs.
        covered = art.xpath(".//div[@class='sources']//li")
        outlets = [li.xpath("./span[@class='outlet']")[0].text for li in covered]
        assert sorted(outlets) == sorted({a.outlet for a in item.articles if not a.duplicate_of})
        links = {a.get("href") for a in art.xpath(".//div[@class='sources']//li//a")}
        assert links == {a.url for a in item.articles}
        image = [a for a in item.articles if a.image_url]
        assert len(art.xpath(".//img")) == len(image[:1])
        if image:
            img = art.xpath(".//img")[0]
            assert img.get("src") == image[0].image_url and image[0].outlet in img.get("alt")
    failed = doc.xpath("//aside[@class='failed']")[0].text_content()
    # readers see the outlet and "unavailable"; the reason is the operator's (run report, status)
    assert "Sources that failed" in failed and "Coastline Post: unavailable" in failed
    assert "503" not in failed
    assert [a.get("href") for a in doc.xpath("//nav[@class='archive']//li/a")] == [
        "2024-04-05.html",
        "2024-03-30.html",
    ]


def test_images_can_be_turned_off() -> None:
    renderer = Renderer(images=False)
    brief = fixed_brief()
    assert "<img" not in renderer.html_page(brief, [])
    assert "<img" not in renderer.email(brief)[0]
    assert "<img" not in renderer.html_fragment(brief)


def test_a_story_keeps_its_syndicated_copies_apart() -> None:
    brief = fixed_brief(2)
    item = brief.stories[0]
    copy = dataclasses.replace(
        item.articles[0], id="copy", outlet="Wire Reprints", url="https://r.example/c",
        duplicate_of=item.articles[0].id,
    )  # fmt: skip
    item = dataclasses.replace(item, articles=(*item.articles, copy))
    brief = dataclasses.replace(brief, stories=(item, *brief.stories[1:]))
    doc = lxml.html.fromstring(Renderer().html_page(brief, []))
    art = doc.get_element_by_id(f"story-{item.story.id}")
    assert "syndicated copy in Wire Reprints" in " ".join(art.text_content().split())
    assert f"{len(item.outlets)} outlets" in art.text_content()  # the copy is not counted


def test_empty_edition_renders_everywhere(renderer: Renderer) -> None:
    brief = dataclasses.replace(fixed_brief(), stories=())
    assert "No new stories" in renderer.markdown(brief)
    assert "No new stories" in renderer.html_page(brief, [])
    assert "No new stories" in renderer.email(brief)[1]
    msg = build_message(brief, renderer)
    assert msg.get_body(("html",)) is not None


def test_user_templates_override_the_shipped_ones(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "brief.md.j2").write_text("Custom: {{ brief.title | md }}\n")
    renderer = Renderer(folder)
    assert renderer.markdown(fixed_brief()) == "Custom: The Test Brief\n"
    assert "<main" in renderer.html_page(fixed_brief(), [])  # the others still ship
