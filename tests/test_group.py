"""Grouping: similarity and assignment on small hand-made article sets, continuity, explanations.

Each set is written so that a person would group it one way (said in each test); the grouper
must agree with default settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging

import pytest

import briefs.group
from briefs.config import GroupSettings
from briefs.group import group_articles, story_terms
from briefs.models import Article, Story
from briefs.text import raw_tokens, tokens
from tests.builders import article

T0 = dt.datetime(2024, 5, 6, 8, tzinfo=dt.UTC)
SETTINGS = GroupSettings()


def art(aid: str, title: str, summary: str, hours: float = 0.0, **kw: object) -> Article:
    source = str(kw.pop("source_id", "s"))
    return article(aid, title, at=T0, hours=hours, source=source, summary=summary, **kw)


def partition(stories: list[Story]) -> set[frozenset[str]]:
    return {frozenset(s.article_ids) for s in stories}


# Three outlets reword one event; no headline shares more than a few words with another.
QUAKE = [
    art(
        "q1",
        "Magnitude 6.4 earthquake strikes off Hokkaido, tsunami advisory issued",
        "A magnitude 6.4 earthquake struck off the coast of Hokkaido on Monday morning, "
        "Japan's Meteorological Agency said, prompting a tsunami advisory for the Kushiro area.",
        0,
    ),
    art(
        "q2",
        "Strong quake rattles northern Japan; no major damage reported",
        "A strong earthquake shook Hokkaido early on Monday. The Japan Meteorological Agency put "
        "its magnitude at 6.4 and warned of waves of up to one metre near Kushiro.",
        1,
    ),
    art(
        "q3",
        "Kushiro residents move to higher ground after 6.4 tremor",
        "Residents of Kushiro in Hokkaido headed for higher ground on Monday after a 6.4 "
        "magnitude earthquake off the coast led to a tsunami advisory, officials said.",
        2,
    ),
]
# Unrelated news the same day, including another event in Japan.
OTHER = [
    art(
        "o1",
        "Toyota raises annual profit forecast on weak yen",
        "Toyota Motor raised its full-year operating profit forecast on Monday, citing the "
        "weaker yen and strong hybrid sales in North America.",
        1.5,
    ),
    art(
        "o2",
        "City council approves new cycle lanes on Fennimore Avenue",
        "The city council voted 9-2 on Monday to build protected cycle lanes along Fennimore "
        "Avenue, a project expected to cost $4 million.",
        3,
    ),
]


def test_one_event_reworded_by_three_outlets_is_one_story() -> None:
    stories = group_articles(QUAKE + OTHER, [], {}, SETTINGS)
    assert partition(stories) == {
        frozenset({"q1", "q2", "q3"}),
        frozenset({"o1"}),
        frozenset({"o2"}),
    }
    quake = next(s for s in stories if "q1" in s.article_ids)
    assert quake.first_seen == T0 and quake.last_updated == T0 + dt.timedelta(hours=2)
    assert quake.title == QUAKE[0].title  # named after the article that started it
    # explained: every member says what it matched and which terms they share
    assert {link.article_id for link in quake.links} == {"q1", "q2", "q3"}
    for link in quake.links:
        assert link.via in {"q1", "q2", "q3"} - {link.article_id}
        assert link.similarity >= SETTINGS.threshold * 0.5
        assert link.shared
    assert {"Hokkaido", "6.4"} <= set(quake.terms)
    assert "Kushiro" in quake.terms


def test_two_events_sharing_a_place_name_are_two_stories() -> None:
    flood = [
        art(
            "f1",
            "River Calder bursts its banks in Calder Bay, hundreds of homes flooded",
            "The River Calder burst its banks in Calder Bay overnight after three days of rain, "
            "flooding about 600 homes in the Lowfield district, Mayor Rosa Ilesanmi said.",
            0,
        ),
        art(
            "f2",
            "Calder Bay evacuates 2,300 as flood waters reach record",
            "Emergency crews in Calder Bay evacuated 2,300 people from Lowfield on Friday as the "
            "River Calder reached a record 5.8 metres; one man died.",
            5,
        ),
    ]
    football = [
        art(
            "c1",
            "Calder Bay United beat Westmarch 3-1 to reach Federation Cup final",
            "Calder Bay United reached the Federation Cup final with a 3-1 win over Westmarch "
            "Athletic at Estuary Park, Jonah Reyne scoring twice in the second half.",
            6,
        ),
        art(
            "c2",
            "Reyne double sends Calder Bay United into the cup final",
            "Two second-half goals from Jonah Reyne gave Calder Bay United a 3-1 semi-final "
            "victory over Westmarch Athletic in front of 18,000 fans at Estuary Park.",
            7,
        ),
    ]
    stories = group_articles(flood + football, [], {}, SETTINGS)
    assert partition(stories) == {frozenset({"f1", "f2"}), frozenset({"c1", "c2"})}


def test_a_report_two_days_later_joins_the_same_story() -> None:
    first = group_articles(QUAKE, [], {}, SETTINGS)
    (story,) = first
    later = art(
        "q4",
        "Hokkaido counts damage two days after 6.4 earthquake",
        "Officials in Hokkaido said on Wednesday that the magnitude 6.4 earthquake off Kushiro "
        "damaged 40 homes; the tsunami advisory was lifted on Monday afternoon.",
        50,
    )
    members = {a.id: a for a in QUAKE}
    changed = group_articles([later, OTHER[0]], [story], members, SETTINGS)
    grown = next(s for s in changed if "q4" in s.article_ids)
    assert grown.id == story.id
    assert grown.article_ids == ("q1", "q2", "q3", "q4")
    assert grown.first_seen == story.first_seen
    assert grown.last_updated == later.published
    assert [link.article_id for link in grown.links] == ["q4"]  # only what was added now
    assert grown.links[0].via in {"q1", "q2", "q3"}


def test_a_story_outside_the_window_is_not_joined() -> None:
    (story,) = group_articles(QUAKE, [], {}, SETTINGS)
    much_later = art(
        "q5",
        "A year after the 6.4 Hokkaido earthquake, Kushiro rebuilds",
        "A year after a magnitude 6.4 earthquake off Hokkaido triggered a tsunami advisory for "
        "Kushiro, residents describe the rebuilding.",
        SETTINGS.window_hours + 10,
    )
    changed = group_articles([much_later], [story], {a.id: a for a in QUAKE}, SETTINGS)
    assert [s.article_ids for s in changed] == [("q5",)]
    assert changed[0].id != story.id


def test_syndicated_copies_count_as_one_report() -> None:
    wire = QUAKE[0]
    copy_by_hash = art(
        "w2",
        "Japan: strong earthquake off the northern coast",
        wire.summary,
        0.5,
        content_hash="h-quake",
    )
    marked = art("w3", "Earthquake off Hokkaido", "Short teaser.", 0.7, duplicate_of="q1")
    original = art("q1", wire.title, wire.summary, 0, content_hash="h-quake")
    stories = group_articles([original, copy_by_hash, marked, QUAKE[1]], [], {}, SETTINGS)
    (story,) = stories
    assert set(story.article_ids) == {"q1", "w2", "w3", "q2"}
    links = {link.article_id: link for link in story.links}
    assert links["w2"].duplicate and links["w2"].via == "q1"
    assert links["w3"].duplicate and links["w3"].via == "q1"
    assert not links["q2"].duplicate
    # copies add no evidence: the story's similarity to q2 is that of q1 alone
    alone = group_articles([original, QUAKE[1]], [], {}, SETTINGS)[0]
    by_id = {link.article_id: link for link in alone.links}
    assert links["q2"].similarity == by_id["q2"].similarity


def test_copies_of_an_earlier_runs_article_join_its_story() -> None:
    original = art("q1", QUAKE[0].title, QUAKE[0].summary, 0, content_hash="h1")
    (story,) = group_articles([original], [], {}, SETTINGS)
    copy = art("x9", "Another headline entirely", "Different teaser", 30, content_hash="h1")
    (grown,) = group_articles([copy], [story], {"q1": original}, SETTINGS)
    assert grown.id == story.id and grown.article_ids == ("q1", "x9")


def test_other_languages_do_not_change_english_grouping() -> None:
    chinese = [
        art(
            "z1",
            "北海道近海发生6.4级地震",
            "日本气象厅说，北海道近海周一早上发生6.4级地震，钏路地区发布海啸注意报。",
            0.2,
        ),
        art("z2", "北海道地震后居民撤离", "北海道钏路居民周一在6.4级地震后前往高处避难。", 1.2),
    ]
    malay = [
        art(
            "m1",
            "Gempa bumi 6.4 landa Hokkaido",
            "Gempa bumi bermagnitud 6.4 melanda perairan Hokkaido pada pagi Isnin, menurut "
            "agensi meteorologi Jepun, dan amaran tsunami dikeluarkan untuk kawasan Kushiro.",
            0.4,
        )
    ]
    alone = group_articles(QUAKE + OTHER, [], {}, SETTINGS)
    mixed = group_articles(QUAKE + OTHER + chinese + malay, [], {}, SETTINGS)
    english_ids = {a.id for a in QUAKE + OTHER}
    assert {p & english_ids for p in partition(mixed) if p & english_ids} == partition(alone)
    # not even the similarities move: term statistics are kept per language
    links = {link.article_id: link for s in alone for link in s.links}
    assert {
        link.article_id: link for s in mixed for link in s.links if link.article_id in links
    } == links
    # the Chinese reports find each other through character bigrams, not one giant token
    assert frozenset({"z1", "z2"}) in partition(mixed)


def test_cjk_text_gives_bigrams_not_giant_tokens() -> None:
    text = "北海道近海发生地震 Hokkaido quake"
    assert all(len(t) <= 8 for t, _ in raw_tokens(text))
    assert tokens(text)[:3] == ["北海", "海道", "道近"]
    assert tokens(text)[-2:] == ["hokkaido", "quak"]


def test_story_terms_are_the_shared_ones() -> None:
    terms = story_terms(QUAKE)
    assert "Hokkaido" in terms and "Kushiro" in terms
    assert "Toyota" not in terms


# Two events that share one name and one place word; x3 is about the second (its last four
# words are y's), yet it mentions the first. Made-up words: every one is as rare as a word can
# be, so similarities follow the overlap.
BRIDGED = {
    "x1": "Kelvaro mistrune opaldin wexford",
    "x2": "Kelvaro mistrune opaldin yarrowel",
    "x3": "Kelvaro opaldin fenwhistle carbolic draymoth sulvane",
    "y0": "Fenwhistle carbolic draymoth sulvane pintle",
    "y1": "Fenwhistle carbolic draymoth sulvane gorse",
    "y2": "Fenwhistle carbolic draymoth sulvane hatch",
}
ORDERS = (
    ("x1", "x2", "x3", "y0", "y1", "y2"),
    ("y0", "y1", "y2", "x3", "x1", "x2"),
    ("x3", "x1", "y0", "x2", "y1", "y2"),
)


def _bridged(order: tuple[str, ...]) -> list[Article]:
    return [art(aid, BRIDGED[aid], "", float(hour)) for hour, aid in enumerate(order)]


def test_placement_as_articles_come_depends_on_their_order() -> None:
    # Times decide the order: the same six reports published in three orders, two answers (x
    # first, x3 bridges the two events into one story; y first, x3 joins the y story).
    settings = GroupSettings(semantic=False)
    results = {frozenset(partition(group_articles(_bridged(o), [], {}, settings))) for o in ORDERS}
    assert len(results) == 2


def _tied(salt: str, order: tuple[str, ...]) -> list[Article]:
    """The six reports all published at one moment, listed in ``order``, each under an id
    drawn from ``salt`` (``<hash>:x1``): nothing says which came first."""
    return [art(_drawn(salt, aid), BRIDGED[aid], "", 0.0) for aid in order]


def _drawn(salt: str, aid: str) -> str:
    return hashlib.sha1(f"{salt}{aid}".encode()).hexdigest()[:6] + ":" + aid


def _undrawn(stories: list[Story]) -> set[frozenset[str]]:
    return {frozenset(a.split(":")[-1] for a in s) for s in partition(stories)}


def test_articles_with_one_time_get_one_answer_whatever_their_ids_and_order() -> None:
    # Placed once, tied articles go in the order of their ids, which say nothing: other ids,
    # other stories. The consensus of the orders (the default) gives one answer for all.
    once = GroupSettings(semantic=False, consensus_orders=0)
    answers = {
        frozenset(_undrawn(group_articles(_tied(p, ORDERS[0]), [], {}, once)))
        for p in ("a-", "b-", "c-", "d-", "e-", "f-")
    }
    assert len(answers) == 2
    settings = GroupSettings(semantic=False)
    assert settings.consensus_orders == 32
    for prefix, order in zip(("a-", "b-", "c-", "d-", "e-", "f-"), ORDERS * 2, strict=True):
        stories = group_articles(_tied(prefix, order), [], {}, settings)
        assert _undrawn(stories) == {
            frozenset({"x1", "x2"}),
            frozenset({"x3", "y0", "y1", "y2"}),
        }
        for story in stories:  # every member explained, by a member of its own story
            assert {link.article_id for link in story.links} == set(story.article_ids)
            for link in story.links:
                assert link.via in set(story.article_ids) - {link.article_id}


def test_articles_with_times_are_placed_in_their_time_order() -> None:
    # With no two at one time the order is known: the consensus has nothing to settle, and
    # each order of publication gives what one placement in that order gives.
    once = GroupSettings(semantic=False, consensus_orders=0)
    for order in ORDERS:
        articles = _bridged(order)
        assert partition(group_articles(articles, [], {}, GroupSettings(semantic=False))) == (
            partition(group_articles(articles, [], {}, once))
        )


def test_consensus_keeps_the_hand_made_events_apart_and_together() -> None:
    settings = GroupSettings(semantic=False)
    tied = [dataclasses.replace(a, published=T0) for a in QUAKE + OTHER]
    assert partition(group_articles(tied, [], {}, settings)) == {
        frozenset({"q1", "q2", "q3"}),
        frozenset({"o1"}),
        frozenset({"o2"}),
    }
    later = art("q4", "Hokkaido quake: tsunami advisory for Kushiro lifted", "", 30)
    (first,) = [s for s in group_articles(tied[:3], [], {}, settings) if "q1" in s.article_ids]
    members = {a.id: a for a in tied[:3]}
    (grown,) = group_articles([later], [first], members, settings)
    assert grown.id == first.id  # an earlier run's story keeps its id as it grows
    assert set(grown.article_ids) == {"q1", "q2", "q3", "q4"}


def test_a_run_too_large_for_consensus_is_placed_once_in_time_order(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The limit is 2,000 new articles; lowered here so that six are too many.
    monkeypatch.setattr(briefs.group, "RECLUSTER_MAX", 5)
    settings = GroupSettings(semantic=False)
    once = GroupSettings(semantic=False, consensus_orders=0)
    tied = _tied("a", ORDERS[0])
    with caplog.at_level(logging.INFO, logger="briefs.group"):
        stories = group_articles(tied, [], {}, settings)
    assert partition(stories) == partition(group_articles(tied, [], {}, once))
    assert any("consensus skipped: 6 new articles" in r.getMessage() for r in caplog.records)


def test_an_order_placed_on_the_restored_window_equals_one_placed_on_a_fresh_load() -> None:
    # Consensus loads the window once and restores it after each order (Snapshot): every
    # order must then place exactly as on a window loaded afresh.
    from briefs.group.consensus import Snapshot, order_key
    from briefs.group.online import Grouper

    settings = GroupSettings(semantic=False)
    earlier = group_articles(QUAKE + OTHER, [], {}, GroupSettings(semantic=False))
    members = {a.id: a for a in QUAKE + OTHER}
    new = [*_tied("n", ORDERS[0]), art("q5", "Hokkaido quake: Kushiro port reopens", "", 20)]

    def fresh() -> Grouper:
        g = Grouper(settings)
        g.load(earlier, members)
        g.prunes = False
        return g

    def placed(g: Grouper, k: int) -> dict[str, int]:
        for start in range(0, len(new), 500):
            g.add_round(sorted(new, key=order_key(k))[start : start + 500])
        return dict(g.by_article)

    reused = fresh()
    saved = Snapshot(reused)
    for k in range(4):
        assert placed(reused, k) == placed(fresh(), k)
        saved.restore(reused)
        assert reused.by_article == fresh().by_article
        assert [len(c.member_ids) for c in reused.clusters] == [
            len(c.member_ids) for c in fresh().clusters
        ]


def test_two_signals_above_the_prior_add_and_neither_vetoes_the_other() -> None:
    from briefs.group.features import SEMANTIC_PRIOR, combined

    # Each signal a little short of the threshold (0.25) alone; both above the prior: the
    # evidence adds (as independent log-odds do), and the pair joins.
    assert combined(0.2, 0.2) == pytest.approx(0.4 - SEMANTIC_PRIOR)
    assert combined(0.2, 0.2) >= GroupSettings().threshold
    # A reworded headline (no shared term) keeps what its embedding is worth, and a title
    # embedding far apart does not undo a strong term match.
    assert combined(0.0, 0.6) == 0.6
    assert combined(0.5, -1.2) == 0.5
