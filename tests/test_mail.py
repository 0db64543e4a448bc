from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from briefs.errors import DeliveryError
from briefs.mail import build_message
from briefs.models import Article, Brief, BriefStory, Edition, Sentence, Story, Summary
from briefs.render import Renderer

T = dt.datetime(2024, 4, 6, 7, tzinfo=dt.UTC)


def brief(n: int, title: str = "Bank holds rates") -> Brief:
    items = []
    for i in range(n):
        art = Article(f"a{i}", "s", f"https://x.example/{i}", title, T, T, "Outlet")
        sents = tuple(
            Sentence(
                f"Sentence {j} of story {i} says something long enough to matter here." * 3,
                art.id,
                "Outlet",
                art.url,
            )
            for j in range(3)
        )
        items.append(
            BriefStory(
                Story(f"s{i}", (art.id,), T, T),
                Summary(f"s{i}", f"{title} {i}", sents, ("Outlet",)),
                (art,),
            )
        )
    return Brief(Edition(dt.date(2024, 4, 6)), T, "The Brief", tuple(items))


def test_message_has_both_parts_and_headers() -> None:
    msg = build_message(
        brief(3),
        Renderer(),
        sender="Desk <desk@news.example>",
        recipients=["a@x.example"],
        list_unsubscribe="https://news.example/unsub",
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in parsed.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert parsed["Subject"] == "The Brief: Saturday 6 April 2024"
    assert parsed["To"] == "a@x.example"
    assert parsed["List-Unsubscribe"] == "<https://news.example/unsub>"
    assert parsed["Message-ID"].strip().endswith(".briefs.2024-04-06@localhost>")
    html = parsed.get_body(("html",)).get_content()
    assert 'style="' in html  # CSS inlined
    text = parsed.get_body(("plain",)).get_content()
    assert "1. Bank holds rates 0" in text and "https://x.example/0" in text


def test_size_cap_trims_stories_not_footer() -> None:
    msg = build_message(brief(40), Renderer(), max_bytes=30_000)
    raw = msg.as_bytes()
    assert len(raw) <= 30_000
    html = (
        email.message_from_bytes(raw, policy=email.policy.default).get_body(("html",)).get_content()
    )
    assert "Every sentence in this brief" in html
    assert "Bank holds rates 0" in html and "Sentence 0 of story 39" not in html


def test_crlf_in_title_cannot_add_headers() -> None:
    msg = build_message(brief(1), Renderer(), recipients=["a@x.example"])
    evil = Brief(Edition(dt.date(2024, 4, 6)), T, "Brief\r\nBcc: victim@evil.example", ())
    msg = build_message(evil, Renderer(), recipients=["a@x.example"])
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in parsed["Subject"]


def test_bad_address_is_refused() -> None:
    with pytest.raises(DeliveryError, match="not an email address"):
        build_message(brief(1), Renderer(), recipients=["not an address"])
