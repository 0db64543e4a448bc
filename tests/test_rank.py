"""Ranking: breadth (distinct outlets, syndicated copies once), recency, growth; mute and boost
on title and text; caps on stories and on stories led by one outlet; sections in order."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from briefs.config import BriefSettings
from briefs.models import Article, BriefStory, Source, Story, Summary
from briefs.rank import breadth, keyword_pattern, lead_outlet, matches, rank_stories

T = dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)


def item(
    sid: str,
    outlets: list[str],
    *,
    hours_ago: float = 0,
    title: str = "A headline",
    body: str = "Some text.",
    source: str = "s",
    added: int = 0,
    copies: list[str] = (),  # type: ignore[assignment]
) -> BriefStory:
    when = T - dt.timedelta(hours=hours_ago)
    arts = [
        Article(f"{sid}{i}", source, f"https://x.example/{sid}{i}", title,
                when + dt.timedelta(minutes=i), when, o, body=body)
        for i, o in enumerate(outlets)
    ]  # fmt: skip
    arts += [
        dataclasses.replace(arts[0], id=f"{sid}c{i}", outlet=o, duplicate_of=arts[0].id)
        for i, o in enumerate(copies)
    ]
    return BriefStory(
        Story(sid, tuple(a.id for a in arts), when, when),
        Summary(sid, title, (), tuple(dict.fromkeys(outlets))),
        tuple(arts),
        added=added,
        status="developing" if added else "new",
    )


def ids(stories: list[BriefStory]) -> list[str]:
    return [s.story.id for s in stories]


def test_breadth_counts_outlets_once_and_ignores_syndicated_copies() -> None:
    story = item("s", ["A", "B", "b", "A"], copies=["C", "D", "E"])
    assert breadth(story) == 2
    wide = item("wide", ["A", "B", "C"])
    copied = item("copied", ["A"], copies=["B", "C", "D", "E"])
    assert ids(rank_stories([copied, wide], BriefSettings(), {}, T)) == ["wide", "copied"]


def test_recency_and_growth_break_ties_of_breadth() -> None:
    old = item("old", ["A", "B"], hours_ago=30)
    fresh = item("fresh", ["C", "D"], hours_ago=1)
    assert ids(rank_stories([old, fresh], BriefSettings(), {}, T)) == ["fresh", "old"]
    still = item("still", ["A", "B"], added=1)
    growing = item("growing", ["C", "D"], added=6)
    assert ids(rank_stories([still, growing], BriefSettings(), {}, T)) == ["growing", "still"]


def test_breadth_outweighs_a_few_hours() -> None:
    wide = item("wide", ["A", "B", "C", "D", "E"], hours_ago=10)
    narrow = item("narrow", ["F"], hours_ago=0)
    assert ids(rank_stories([narrow, wide], BriefSettings(), {}, T)) == ["wide", "narrow"]


@pytest.mark.parametrize(
    ("words", "title", "body", "hit"),
    [
        (["celebrity"], "Celebrity wedding", "", True),
        (["CELEBRITY"], "A headline", "the celebrity said", True),  # case, and in the text
        (["art"], "Start of the season", "", False),  # whole words only
        (["crypto*"], "A headline", "Cryptocurrency prices fell", True),  # prefix
        (["football transfer"], "Football  transfer news", "", True),  # phrase, any spacing
        (["football transfer"], "Football news", "a transfer", False),
        (["Zürich"], "ZÜRICH votes", "", True),
        ([" ", ""], "Anything", "", False),
    ],
)
def test_keywords(words: list[str], title: str, body: str, hit: bool) -> None:
    assert matches(item("s", ["A"], title=title, body=body), keyword_pattern(words)) is hit


def test_mute_drops_and_boost_lifts() -> None:
    stories = [
        item("gossip", ["A", "B", "C", "D"], title="Celebrity news"),
        item("climate", ["E"], body="A climate report was published."),
        item("other", ["F", "G"]),
    ]
    settings = BriefSettings(mute=("celebrity",), boost=("Climate",))
    assert ids(rank_stories(stories, settings, {}, T)) == ["climate", "other"]


def test_caps_on_stories_and_on_the_lead_outlet() -> None:
    # "A" reports first on four stories; "B" follows on all of them
    stories = [item(f"a{i}", ["A", "B"], hours_ago=i) for i in range(4)]
    stories.append(item("b", ["B"], hours_ago=5))
    assert lead_outlet(stories[0]) == "A"
    ranked = rank_stories(stories, BriefSettings(max_per_outlet=2), {}, T)
    assert ids(ranked) == ["a0", "a1", "b"]
    assert len(rank_stories(stories, BriefSettings(max_stories=2), {}, T)) == 2


def test_sections_in_configured_order_then_others_then_untagged() -> None:
    sources = {
        "w": Source("w", "feed", "w", tags=("world",)),
        "t": Source("t", "feed", "t", tags=("tech",)),
        "s": Source("s", "feed", "s", tags=("sport",)),
        "x": Source("x", "feed", "x"),
    }
    stories = [
        item("sport-big", ["A", "B", "C", "D"], source="s"),
        item("untagged", ["A", "B", "C"], source="x"),
        item("tech", ["A"], source="t"),
        item("world-1", ["A", "B"], source="w"),
        item("world-2", ["C"], source="w", hours_ago=3),
    ]
    ranked = rank_stories(stories, BriefSettings(sections=("world", "tech")), sources, T)
    assert [(s.story.id, s.section) for s in ranked] == [
        ("world-1", "world"),
        ("world-2", "world"),
        ("tech", "tech"),
        ("sport-big", "sport"),
        ("untagged", ""),
    ]
    # without a configured order, sections still come out grouped (not interleaved)
    ranked = rank_stories(stories, BriefSettings(), sources, T)
    sections = [s.section for s in ranked]
    assert sections == sorted(sections, key=sections.index)


def test_an_articles_own_category_naming_a_section_places_it_over_its_sources_tags() -> None:
    """A general outlet files its sport under "Sport" and its markets under "Business": a
    category that names a configured section (case and a plural "s" aside) is the article's
    vote; an article without one votes with its source's tags; the story takes the majority
    (ties in the configured order)."""
    sources = {
        "g": Source("g", "feed", "g", tags=("world",)),  # a general outlet, tagged "world"
        "c": Source("c", "feed", "c", tags=("local",)),
    }

    def tagged(sid: str, source: str, *tag_lists: tuple[str, ...]) -> BriefStory:
        story = item(sid, [f"{sid}-{i}" for i in range(len(tag_lists))], source=source)
        arts = tuple(
            dataclasses.replace(a, tags=tags)
            for a, tags in zip(story.articles, tag_lists, strict=True)
        )
        return dataclasses.replace(story, articles=arts)

    stories = [
        tagged("cup", "g", ("Sports", "Football"), ("sport",), ("Calder Bay",)),
        tagged("deal", "g", ("Business", "Markets"), ("BUSINESS",)),
        tagged("talks", "g", ("World", "Business"), ("World",)),
        tagged("lanes", "c", ("City Hall",)),  # no section named: the source's "local"
        tagged("other", "g", ("Weather",)),  # nothing named: the source's "world"
        tagged("tie", "g", ("Business",), ("Sport",)),  # a tie: the configured order
    ]
    settings = BriefSettings(sections=("world", "business", "sport", "local"))
    ranked = {s.story.id: s.section for s in rank_stories(stories, settings, sources, T)}
    assert ranked == {
        "cup": "sport",
        "deal": "business",
        "talks": "world",
        "lanes": "local",
        "other": "world",
        "tie": "business",
    }
    # without configured sections, categories are not sections: the sources' tags decide
    ranked = {s.story.id: s.section for s in rank_stories(stories, BriefSettings(), sources, T)}
    assert set(ranked.values()) == {"world", "local"}
