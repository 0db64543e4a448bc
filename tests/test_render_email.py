"""The email edition: a standard multipart/alternative message that parses with `email`, stays
under the size cap with a 40-story edition (trimming stories, never the footer), carries a
preheader, an inlined-CSS table layout and a plain-text part made from the same model."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import lxml.html
import pytest

from briefs.mail import MAX_EMAIL_BYTES, build_message
from briefs.render import Renderer
from tests.model import fixed_brief

FOOTER = "Every sentence in this brief was printed by the outlet it cites"


def _parse(msg: EmailMessage) -> tuple[bytes, EmailMessage, str, str]:
    raw = msg.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    html_part, text_part = parsed.get_body(("html",)), parsed.get_body(("plain",))
    assert html_part is not None and text_part is not None
    return raw, parsed, html_part.get_content(), text_part.get_content()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(timezone="Europe/London", site_url="https://news.example.org/")


def test_forty_stories_fit_under_the_cap_with_footer_and_every_headline(
    renderer: Renderer,
) -> None:
    brief = fixed_brief(40)
    raw, parsed, html, text = _parse(build_message(brief, renderer))
    assert len(raw) <= MAX_EMAIL_BYTES
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    doc = lxml.html.document_fromstring(html)
    full = doc.xpath("//div[contains(@class, 'story')]")
    assert 10 <= len(full) < 40  # the top stories in full ...
    listed = doc.xpath("//p[contains(@class, 'more')]/a")
    assert len(full) + len(listed) == 40  # ... and every other one by headline
    assert [a.text for a in listed] == [s.summary.headline for s in brief.stories[len(full) :]]
    assert all(
        a.get("href").startswith("https://news.example.org/2024-04-06.html#story-") for a in listed
    )
    for part in (html, text):
        assert FOOTER in part and "Read the whole edition on the web" in part
    # the text part lists the same stories as the HTML part
    # (headlines wrap at 72 columns)
    assert f"{len(full)}. {brief.stories[len(full) - 1].summary.headline}" in " ".join(text.split())
    assert "MORE IN THIS EDITION" in text
    assert brief.stories[-1].summary.headline in " ".join(text.split())


def test_when_even_headlines_do_not_fit_the_last_stories_go(renderer: Renderer) -> None:
    brief = fixed_brief(60)
    raw, _, html, text = _parse(build_message(brief, renderer, max_bytes=30_000))
    assert len(raw) <= 30_000
    assert FOOTER in html and FOOTER in text
    assert "did not fit in this email" in html and "did not fit in this email" in text
    assert brief.stories[0].summary.headline in html
    assert brief.stories[-1].summary.headline not in html


def test_html_part_is_a_mail_client_layout(renderer: Renderer) -> None:
    brief = fixed_brief(6)
    _, parsed, html, _ = _parse(build_message(brief, renderer))
    doc = lxml.html.document_fromstring(html)
    assert doc.get("lang") == "en"
    # layout by presentation tables, at most 600 px wide (with an Outlook fallback)
    tables = doc.xpath("//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert "max-width:600px" in doc.xpath("//table[contains(@class, 'sheet')]")[0].get("style")
    assert "<!--[if mso]>" in html
    # CSS inlined: the story text carries its own style; only @media rules stay in <head>
    sentences = doc.xpath("//p[@class='s']")
    assert sentences and all("font-size:16px" in p.get("style", "") for p in sentences)
    head_css = " ".join(doc.xpath("//head/style/text()"))
    assert "prefers-color-scheme: dark" in head_css.replace(":dark", ": dark")
    assert "@media" in head_css and ".s{" not in head_css.replace(" ", "")
    # the preheader: hidden, first headlines
    pre = doc.xpath("//div[contains(@class, 'pre')]")[0]
    assert "display:none" in pre.get("style", "").replace(" ", "")
    assert pre.text_content().startswith(brief.stories[0].summary.headline)
    # citations link to the articles; the lead image has alt text and a width
    cites = doc.xpath("//p[@class='s']/a[@class='c']/@href")
    assert cites == [s.url for item in brief.stories for s in item.summary.sentences]
    for img in doc.iter("img"):
        assert img.get("alt") and img.get("width") == "544"
    assert not doc.xpath("//script | //link[@rel='stylesheet']")
    assert parsed["Subject"] == "The Test Brief: Saturday 6 April 2024"
    assert "Sources that failed" in html and "Coastline Post" in html


def test_plain_text_is_made_from_the_model_not_the_html(renderer: Renderer) -> None:
    brief = fixed_brief(6)
    _, _, _, text = _parse(build_message(brief, renderer))
    assert "<" not in text and "style=" not in text and "&amp;" not in text
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 72
    first = brief.stories[0]
    assert f"1. {first.summary.headline}" in text
    joined = " ".join(text.split())
    for s in first.summary.sentences:
        assert s.text in joined
    for a in first.articles:
        assert a.url in text
    assert "Developing, day 2" in text and "New ·" in text
    assert "Coastline Post: unavailable" in text and "503" not in text


def test_unsubscribe_link_is_in_both_parts_and_the_header(renderer: Renderer) -> None:
    msg = build_message(
        fixed_brief(2), renderer, list_unsubscribe="https://news.example.org/unsubscribe?u=1"
    )
    _, parsed, html, text = _parse(msg)
    assert parsed["List-Unsubscribe"] == "<https://news.example.org/unsubscribe?u=1>"
    assert 'href="https://news.example.org/unsubscribe?u=1"' in html
    assert "Unsubscribe: https://news.example.org/unsubscribe?u=1" in text


def test_both_parts_count_a_developing_storys_new_reports(renderer: Renderer) -> None:
    brief = fixed_brief(6)
    developing = [s for s in brief.stories if s.status == "developing"]
    assert developing and all(s.added == 2 for s in developing)
    _, _, html, text = _parse(build_message(brief, renderer))
    page = lxml.html.fromstring(html)
    meta = " ".join(
        " ".join(td.text_content().split())
        for td in page.xpath("//td[contains(concat(' ', @class, ' '), ' meta ')]")
    )
    assert meta.count("2 new reports") == len(developing)
    assert " ".join(text.split()).count("2 new reports") == len(developing)
