"""What keeps big runs cheap: the edition summarized lazily, an up-to-date edition left alone,
batched story writes, and per-stage timings (parse apart from fetch)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import Config, load_config
from briefs.edition import _rank_and_summarize, _stories_as_of, _summarized
from briefs.models import Article, BriefStory, PollResult, Story
from briefs.pipeline import poll_and_group
from briefs.rank import rank_stories
from briefs.slots import edition_cutoff, edition_for, previous_counts
from briefs.store import SCHEMA_VERSION, open_store
from briefs.timing import Timings
from tests.builders import article

NOW = dt.datetime(2024, 4, 6, 20, tzinfo=dt.UTC)


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()}


@pytest.mark.slow
def test_a_run_with_nothing_new_leaves_the_edition_alone(seeds_copy: Path, tmp_path: Path) -> None:
    cfg = str(seeds_copy / "briefs.toml")
    out = tmp_path / "out"
    args = ("--config", cfg, "run", "--date", "2024-04-06", "--out", str(out), "--timings")
    code, first = run_cli(*args)
    assert code == 0, first
    assert "up to date" not in first
    before = _mtimes(out)

    code, second = run_cli(*args)
    assert code == 0, second
    assert "up to date" in second and "New articles: 0" in second
    assert "Written to" not in second
    assert _mtimes(out) == before  # not one file rewritten
    stories = first.split("\n", 1)[0].split(": ", 1)[1].split(" stories")[0]
    assert second.startswith(f"Edition 2024-04-06: {stories} stories, up to date")

    # An edition whose file is gone is built again, and so is one whose settings changed.
    (out / "2024-04-06.md").unlink()
    code, third = run_cli(*args)
    assert code == 0 and "up to date" not in third and (out / "2024-04-06.md").is_file()
    code, _ = run_cli(*args)
    assert "up to date" in _
    toml = seeds_copy / "briefs.toml"
    toml.write_text(toml.read_text().replace('title = "The Demo Brief"', 'title = "Other"'))
    code, fourth = run_cli(*args)
    assert code == 0 and "up to date" not in fourth
    assert "Other" in (out / "2024-04-06.md").read_text()

    # `briefs build` always builds.
    code, built = run_cli("--config", cfg, "build", "--date", "2024-04-06", "--out", str(out))
    assert code == 0 and "Written to" in built


def test_a_new_article_makes_the_edition_stale(seeds_copy: Path, tmp_path: Path) -> None:
    cfg = str(seeds_copy / "briefs.toml")
    out = tmp_path / "out"
    args = ("--config", cfg, "run", "--date", "2024-04-06", "--out", str(out))
    assert run_cli(*args)[0] == 0
    docs = [p for p in (seeds_copy / "docs").rglob("*.txt")]
    assert docs, "the seeds have a folder of documents"
    extra = docs[0].with_name("zz-late-news.txt")
    extra.write_text(
        "title: Harbour reopens after the storm\n\ndate 2024-04-06\n\n"
        "The harbour reopened on Saturday after the storm. Ferries resumed their crossings.\n"
    )
    code, text = run_cli(*args)
    assert code == 0, text
    assert "New articles: 1" in text and "up to date" not in text


def _candidates(cfg_path: Path) -> tuple[Config, list[BriefStory], dt.datetime]:
    config = load_config(cfg_path)
    store = open_store(config.database)
    poll_and_group(config, store, NOW, Timings())
    edition = edition_for(config, store, dt.date(2024, 4, 6), NOW)
    cutoff = edition_cutoff(config, edition)
    start = cutoff - dt.timedelta(hours=config.brief.window_hours)
    stories = store.stories_updated_since(start)
    previous = previous_counts(config, store, edition)
    items = [
        c
        for c in _stories_as_of(config, store, edition, stories, previous)
        if c.story.last_updated >= start
    ]
    store.close()
    return config, items, min(NOW, cutoff)


@pytest.mark.parametrize(("max_stories", "per_outlet"), [(12, 4), (3, 1), (5, 2), (100, 100)])
def test_summarizing_only_the_edition_picks_what_summarizing_everything_would(
    seeds_copy: Path, max_stories: int, per_outlet: int
) -> None:
    config, items, now = _candidates(seeds_copy / "briefs.toml")
    assert len(items) > 5
    brief = dataclasses.replace(config.brief, max_stories=max_stories, max_per_outlet=per_outlet)
    config = dataclasses.replace(config, brief=brief)
    sources = {s.id: s for s in config.sources}
    expected = rank_stories(_summarized(items, config), config.brief, sources, now)
    timings = Timings()
    got = _rank_and_summarize(items, config, now, timings)
    assert [s.story.id for s in got] == [s.story.id for s in expected]
    assert [s.summary for s in got] == [s.summary for s in expected]
    assert [s.score for s in got] == [s.score for s in expected]
    assert "summarize" in timings and "rank" in timings


def test_run_timings_report_parse_apart_from_fetch(seeds_copy: Path, tmp_path: Path) -> None:
    code, text = run_cli(
        "--config", str(seeds_copy / "briefs.toml"), "run", "--date", "2024-04-06",
        "--out", str(tmp_path / "out"), "--timings",
    )  # fmt: skip
    assert code == 0, text
    stages = [line.split()[0] for line in text.split("Timings:", 1)[1].splitlines() if line.strip()]
    for stage in ("fetch", "parse", "store", "group", "rank", "summarize", "render", "write"):
        assert stage in stages, (stage, stages)
    assert stages.index("fetch") < stages.index("parse") < stages.index("store")
    seconds = {
        line.split()[0]: float(line.split()[1])
        for line in text.split("Timings:", 1)[1].splitlines()
        if line.strip()
    }
    assert all(v >= 0 for v in seconds.values()), seconds


def _article(i: int, when: dt.datetime) -> Article:
    url = f"https://example.org/{i}"
    return article(f"a{i:03d}", f"Title {i}", at=when, outlet="Example", url=url, body=f"Body {i}.")


def test_save_stories_inserts_updates_and_moves_members_in_batches(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "b.db"))
    t = dt.datetime(2024, 4, 6, 8, tzinfo=dt.UTC)
    store.add_articles([_article(i, t + dt.timedelta(minutes=i)) for i in range(1200)])
    big = Story("big", tuple(f"a{i:03d}" for i in range(1000)), t, t, "Big", ("x",))
    small = Story("small", ("a1000", "a1001"), t, t, "Small")
    store.save_stories([big, small])
    assert not store.ungrouped_articles()[:1] or all(
        a.id >= "a1002" for a in store.ungrouped_articles()
    )
    assert len(store.ungrouped_articles()) == 198
    later = t + dt.timedelta(hours=1)
    grown = dataclasses.replace(small, article_ids=(*small.article_ids, "a999"), last_updated=later)
    store.save_stories([grown])
    got = {s.id: s for s in store.stories_updated_since(t)}
    assert set(got["small"].article_ids) == {"a1000", "a1001", "a999"}
    assert "a999" not in got["big"].article_ids and len(got["big"].article_ids) == 999
    assert got["small"].last_updated == later and got["big"].terms == ("x",)
    store.save_stories([])
    store.close()


def test_meta_values_round_trip(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "m.db"))
    assert store.get_meta("built:2024-04-06") is None
    store.set_meta("built:2024-04-06", "one")
    store.set_meta("built:2024-04-06", "two")
    assert store.get_meta("built:2024-04-06") == "two"
    with pytest.raises(Exception, match="longer than 64"):
        store.set_meta("k" * 65, "x")
    store.close()
    assert os.path.exists(tmp_path / "m.db")


def test_the_teaser_scan_finds_what_counting_the_texts_finds(tmp_path: Path) -> None:
    """The scan reads stored word counts, not texts: it must pick exactly the articles whose
    text (body, else summary) has fewer words than asked, newest first, whatever the texts'
    lengths in characters, for rows stored with a count and for rows stored before counts
    existed (schema 8, counted by the scan itself)."""
    from briefs.models import word_count
    from tests.rawdb import raw_sqlite

    t = dt.datetime(2024, 4, 6, 8, tzinfo=dt.UTC)
    now = t + dt.timedelta(hours=1)
    bodies = [
        "w " * 3,
        "w " * 119,
        "w " * 120,
        "incomprehensibilities " * 60,  # 60 words in 1,320 characters
        "w " * 400,
        "",
    ]

    def batch(first: int) -> list[Article]:
        items = [
            dataclasses.replace(
                _article(first + i, t + dt.timedelta(minutes=first + i)), body=body.strip()
            )
            for i, body in enumerate(bodies)
        ]
        items[5] = dataclasses.replace(items[5], summary="Only a teaser here.")
        return items

    path = tmp_path / "t.db"
    with open_store(str(path)) as store:
        store.add_articles(batch(0))
    with raw_sqlite(path) as conn:  # make it a schema 8 file: no stored counts
        conn.execute("ALTER TABLE articles DROP COLUMN words")
        conn.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    with open_store(str(path)) as store:
        assert store.schema_version() == SCHEMA_VERSION
        store.add_articles(batch(10))  # stored with their counts
        stored = store.articles(store.published_since(t - dt.timedelta(days=1)))
        for limit in (1, 4, 120, 121, 10_000):
            got = store.articles_needing_text(t - dt.timedelta(days=1), now, limit)
            expected = sorted(
                (a for a in stored if word_count(a.body or a.summary) < limit),
                key=lambda a: (-a.published.timestamp(), a.id),
            )
            assert got == expected, limit
        got = store.articles_needing_text(t - dt.timedelta(days=1), now, 120)
        newest_first = ["a015", "a013", "a011", "a010", "a005", "a003", "a001", "a000"]
        assert [a.id for a in got] == newest_first
        # a replaced text is counted again: "a013" is a teaser no more
        store.set_article_text("a013", "w " * 200, "feed", "h")
        got = store.articles_needing_text(t - dt.timedelta(days=1), now, 120)
        assert "a013" not in {a.id for a in got} and "a011" in {a.id for a in got}


def test_batched_sketches_and_feed_states_round_trip(tmp_path: Path) -> None:
    from briefs.models import FeedState

    store = open_store(str(tmp_path / "s.db"))
    t = dt.datetime(2024, 4, 6, 8, tzinfo=dt.UTC)
    store.add_articles([_article(i, t) for i in range(3)])
    store.save_sketches([("a000", t, b"\1" * 512, [1, 2]), ("a001", t, b"\2" * 512, [2, 3])])
    store.save_sketches([("a001", t, b"\3" * 512, [4]), ("a002", t, b"\4" * 512, [])])
    found = {p.id: p.signature for p in store.sketch_candidates([1, 2, 3, 4], t)}
    assert found == {"a000": b"\1" * 512, "a001": b"\3" * 512}  # a001 replaced, not doubled
    states = [FeedState(f"s{i}", etag=f'"{i}"', consecutive_failures=i) for i in range(3)]
    store.save_feed_states(states[:2])
    store.save_feed_states([dataclasses.replace(states[1], etag='"new"'), states[2]])
    got = store.feed_states()
    assert got["s0"] == states[0] and got["s2"] == states[2]
    assert got["s1"] == dataclasses.replace(states[1], etag='"new"')
    store.close()


def _day_with_copies() -> list[Article]:
    """Stories printed first by one outlet and copied, verbatim or edited, by others later."""
    import random

    rng = random.Random(8)
    vocabulary = [f"w{i}" for i in range(3000)]
    out: list[Article] = []
    t = dt.datetime(2024, 4, 6, 0, tzinfo=dt.UTC)
    for story in range(12):
        text = " ".join(rng.choice(vocabulary) for _ in range(160)) + "."
        for copy in range(rng.randint(1, 4)):
            body = text if copy % 2 else f"Update {copy}. {text} Reporting by staff."
            when = t + dt.timedelta(hours=story, minutes=17 * copy)
            out.append(
                dataclasses.replace(
                    _article(story * 10 + 9 - copy, when),  # ids against time order
                    source_id=f"src{copy}",
                    url=f"https://src{copy}.example/{story}",
                    body=body,
                    body_origin="feed",
                )
            )
    rng.shuffle(out)
    return out


def test_linking_copies_in_batches_links_what_one_pass_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefs.ingest import copies

    found: list[dict[str, str | None]] = []
    for batch, texts in ((10_000, 10_000), (4, 3), (1, 1)):
        monkeypatch.setattr(copies, "LINK_BATCH", batch)
        monkeypatch.setattr(copies, "TEXT_BATCH", texts)
        store = open_store(str(tmp_path / f"l{batch}.db"))
        day = _day_with_copies()
        store.add_articles(day)
        linked = copies.link_copies(store, store.ungrouped_ids())
        got = {a.id: a.duplicate_of for a in store.articles([a.id for a in day])}
        assert linked == sum(1 for v in got.values() if v)
        found.append(got)
        store.close()
    assert found[0] == found[1] == found[2]
    assert sum(1 for v in found[0].values() if v) >= 10  # copies were found at all


def test_a_poll_can_hand_over_results_as_sources_finish(seeds_copy: Path) -> None:
    from briefs.ingest.poll import poll_sources

    config = load_config(seeds_copy / "briefs.toml")
    kept = poll_sources(config.sources, {}, config.fetch, NOW)
    handed: list[PollResult] = []
    rest = poll_sources(config.sources, {}, config.fetch, NOW, on_result=handed.append)
    assert rest == [] and len(handed) == len(kept) == len(config.sources)
    assert sorted(r.source.id for r in handed) == sorted(r.source.id for r in kept)
    assert sum(len(r.articles) for r in handed) == sum(len(r.articles) for r in kept)


def test_sketches_enter_the_band_index_once_linked(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    t = dt.datetime(2024, 4, 6, 8, tzinfo=dt.UTC)
    store.add_articles([_article(i, t) for i in range(2)])
    store.save_sketches([("a000", t, b"\1" * 512, ()), ("a001", t, b"\2" * 512, ())])
    assert store.sketch_candidates([1, 2, 3], t) == []  # kept, not yet indexed
    assert set(store.printings(["a000", "a001", "nope"])) == {"a000", "a001"}
    store.index_sketches([("a000", [1, 2]), ("a001", [2])])
    store.index_sketches([("a000", [1, 3])])  # a killed run's articles are linked again
    assert sorted(p.id for p in store.sketch_candidates([2], t)) == ["a001"]
    assert sorted(p.id for p in store.sketch_candidates([1, 3], t)) == ["a000"]
    store.close()
