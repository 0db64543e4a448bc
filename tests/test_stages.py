"""Foundation-level unit tests of each pure stage through its public function."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from briefs.config import BriefSettings, SummarySettings
from briefs.errors import PublishError
from briefs.models import Article, Brief, BriefStory, Edition, Sentence, Source, Story, Summary
from briefs.publish import Publisher
from briefs.rank import rank_stories
from briefs.render import Renderer, safe_url
from briefs.summarize import summarize_story
from tests.builders import article

T = dt.datetime(2024, 4, 5, 8, tzinfo=dt.UTC)


def art(
    aid: str, title: str, body: str, outlet: str = "X", hours: float = 0, source: str = "s"
) -> Article:
    url = f"https://{outlet.lower()}.example/{aid}"
    return article(
        aid, title, at=T, hours=hours, fetched=T, source=source, outlet=outlet, url=url, body=body
    )


def test_summary_sentences_are_printed_sentences_with_attribution() -> None:
    a = art(
        "a1",
        "Rates up",
        "The bank raised rates on Friday. Markets fell sharply after the decision. Traders had expected a pause.",
        "A",
    )
    b = art(
        "b1",
        "Bank lifts rates",
        "The bank raised rates on Friday, surprising traders. The currency rose against the dollar on the news.",
        "B",
    )
    story = Story("s", ("a1", "b1"), T, T, "Rates up")
    summary = summarize_story(story, [a, b], SummarySettings(sentences=2, words=100))
    assert 1 <= len(summary.sentences) <= 2
    for s in summary.sentences:
        source = a if s.article_id == "a1" else b
        assert s.text in source.body and s.url == source.url and s.outlet == source.outlet
    assert summary.headline in ("Rates up", "Bank lifts rates")
    assert summary.outlets == ("A", "B")


def brief_story(
    sid: str, outlets: list[str], title: str = "Headline", hours: float = 0, source: str = "s"
) -> BriefStory:
    arts = tuple(
        art(f"{sid}{i}", title, "Body text here.", o, hours, source) for i, o in enumerate(outlets)
    )
    return BriefStory(
        Story(sid, tuple(a.id for a in arts), T, T + dt.timedelta(hours=hours)),
        Summary(sid, title, (), tuple(outlets)),
        arts,
    )


def test_rank_prefers_breadth_and_applies_filters_and_caps() -> None:
    stories = [
        brief_story("wide", ["A", "B", "C", "D"]),
        brief_story("narrow", ["A"]),
        brief_story("muted", ["A", "B", "C", "D", "E"], title="Celebrity gossip"),
        brief_story("boosted", ["B"], title="Climate talks"),
    ]
    settings = BriefSettings(mute=("CELEBRITY",), boost=("climate",), max_stories=3)
    ranked = rank_stories(stories, settings, {}, T)
    order = [s.story.id for s in ranked]
    assert set(order[:2]) == {"wide", "boosted"} and order[2] == "narrow"
    assert "muted" not in [s.story.id for s in ranked]
    capped = rank_stories(
        [brief_story(f"s{i}", ["A"]) for i in range(6)], BriefSettings(max_per_outlet=2), {}, T
    )
    assert len(capped) == 2


def test_rank_orders_sections_as_configured() -> None:
    sources = {
        "w": Source("w", "feed", "x", tags=("world",)),
        "t": Source("t", "feed", "y", tags=("tech",)),
    }
    stories = [
        brief_story("big", ["A", "B", "C"], source="w"),
        brief_story("small", ["D"], source="t"),
    ]
    ranked = rank_stories(stories, BriefSettings(sections=("tech", "world")), sources, T)
    assert [(s.story.id, s.section) for s in ranked] == [("small", "tech"), ("big", "world")]


def test_publisher_is_atomic_and_stays_inside(tmp_path: Path) -> None:
    out = Publisher(tmp_path / "out")
    out.write("a/b.txt", "one")
    out.write("a/b.txt", "two")
    assert (tmp_path / "out" / "a" / "b.txt").read_text() == "two"
    assert [p.name for p in (tmp_path / "out" / "a").iterdir()] == ["b.txt"]  # no temp files left
    for bad in ("../escape.txt", "/etc/passwd", "a/../../x"):
        with pytest.raises(PublishError, match="outside"):
            out.write(bad, "x")


def test_markdown_and_html_escape_feed_text() -> None:
    evil = "<script>alert(1)</script> [click](javascript:alert(1)) *bold*"
    a = Article("a", "s", "javascript:alert(1)", evil, T, T, "Evil <b>Outlet</b>")
    sentence = Sentence(evil + ".", "a", a.outlet, a.url)
    item = BriefStory(Story("s", ("a",), T, T), Summary("s", evil, (sentence,), (a.outlet,)), (a,))
    brief = Brief(Edition(dt.date(2024, 4, 5)), T, "Brief", (item,))
    renderer = Renderer()
    md = renderer.markdown(brief)
    assert "<script>" not in md and "](javascript:" not in md and "\\<script\\>" in md
    html = renderer.html_page(brief, [])
    assert "<script>" not in html and 'href="javascript:' not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.example/x", True),
        ("http://a.example", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("//a.example/x", False),
        ("https://a.example/\nx", False),
    ],
)
def test_safe_url(url: str, ok: bool) -> None:
    assert (safe_url(url) == url) is ok
