"""Stories across runs: the store, the schema migration, the bundled demo, the CLI, the eval."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import GroupSettings, load_config
from briefs.evaluate.group import bcubed, evaluate_grouping, load_records, pairwise
from briefs.group import group_articles
from briefs.grouping import group_pending
from briefs.models import Article, Story, StoryLink
from briefs.store import SCHEMA_VERSION, open_store
from tests.conftest import SHARED, shared_path
from tests.rawdb import raw_sqlite
from tests.test_group import OTHER, QUAKE, T0, art


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_grouping_reads_each_lead_as_the_whole_article_gives_it(tmp_path: Path) -> None:
    from briefs.grouping import LEAD_WORD_CHARS, _as_grouped

    long_words = " ".join(["Interdisciplinarity" * 3] * 8) + " quake strikes Hokkaido"
    full = [
        dataclasses.replace(QUAKE[0], summary="", body="Quake strikes Hokkaido " * 40),
        dataclasses.replace(QUAKE[1], summary="", body=long_words),  # its start is too few words
        QUAKE[2],
    ]
    assert len(long_words) > 6 * LEAD_WORD_CHARS
    store = open_store(str(tmp_path / "b.db"))
    store.add_articles(full)
    read = _as_grouped(store, [a.id for a in full], 6)
    from briefs.group import article_text

    assert [(a.id, a.title, a.summary, a.body) for a in read] == [
        (a.id, a.title, article_text(a, 6)[1], "") for a in full
    ]
    assert [a.url for a in read] == ["", "", ""]  # nor what grouping never reads
    store.close()


def test_stories_and_their_reasons_survive_across_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "b.db")
    store = open_store(db)
    store.add_articles(QUAKE + OTHER)
    changed = group_articles(QUAKE + OTHER, [], {}, GroupSettings())
    store.save_stories(changed)
    store.close()

    store = open_store(db)  # a later run
    quake_id = next(s.id for s in changed if "q1" in s.article_ids)
    story = store.story(quake_id[:6])
    assert story is not None and story.id == quake_id
    assert story.article_ids == ("q1", "q2", "q3")
    assert story.terms == next(s.terms for s in changed if s.id == quake_id)
    assert {link.article_id for link in story.links} == {"q1", "q2", "q3"}
    assert all(link.shared for link in story.links)
    later = art(
        "q4",
        "Hokkaido counts damage two days after 6.4 earthquake",
        "Officials in Hokkaido said on Wednesday that the magnitude 6.4 earthquake off Kushiro "
        "damaged 40 homes; the tsunami advisory was lifted on Monday afternoon.",
        50,
    )
    store.add_articles([later])
    active = store.stories_updated_since(later.published - dt.timedelta(hours=72))
    members = {a.id: a for a in store.articles([i for s in active for i in s.article_ids])}
    grown = group_articles([later], active, members, GroupSettings())
    store.save_stories(grown)
    story = store.story(quake_id)
    assert story is not None
    assert story.article_ids == ("q1", "q2", "q3", "q4")
    links = {link.article_id: link for link in story.links}
    assert set(links) == {"q1", "q2", "q3", "q4"}  # earlier reasons kept, the new one added
    assert links["q4"].via in {"q1", "q2", "q3"} and links["q4"].similarity > 0
    day = store.stories_published_between(later.published, later.published + dt.timedelta(1))
    assert [s.id for s in day] == [quake_id]
    store.close()


def test_database_from_before_story_links_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = open_store(str(db))
    store.add_articles([QUAKE[0]])
    store.close()
    before = 3  # the version before story_links (issue 4 added them as 3 -> 4)
    with raw_sqlite(db) as conn:  # make it a file from before story links
        conn.execute("DROP TABLE story_links")
        conn.execute(f"UPDATE meta SET value = '{before}' WHERE key = 'schema_version'")
    store = open_store(str(db))
    assert store.schema_version() == SCHEMA_VERSION
    with raw_sqlite(db) as conn:  # the migration created the table, empty
        assert conn.execute("select count(*) from story_links").fetchone()[0] == 0
    (story,) = group_articles([QUAKE[0]], [], {}, GroupSettings())
    store.save_stories([story])
    saved = store.story(story.id)
    assert saved is not None and saved.links == (StoryLink("q1", 0.0),)
    assert store.article_count() == 1
    store.close()


# The demo corpus (seeds/CORPUS.md): event -> URL slugs (seed documents by slug as well).
DEMO_EVENTS = {
    "A": {
        "yellen-lands-guangzhou-overcapacity-talks",
        "yellen-presses-he-lifeng-factory-glut-guangzhou-talks",
        "yellen-begins-guangzhou-talks-chinese-vice-premier",
        "treasury-chief-beijing-factory-surplus-global-problem",
        "us-china-agree-intensive-exchanges-balanced-growth",
        "us-china-new-talks-balanced-growth",
        "guangzhou-talks-end-new-economic-dialogue",
        "washington-beijing-new-dialogue-economic-imbalances",
    },
    "B": {
        "river-calder-bursts-banks-calder-bay-homes-flooded",
        "calder-bay-record-flood-one-dead-2300-evacuated",
        "thousands-evacuated-calder-bay-flooding-worsens",
        "calder-bay-evacuates-2300-river-record-one-dead",
        "record-flood-calder-bay-thousands-leave-homes",
        "calder-bay-river-record-volunteers",
        "calder-bay-counts-cost-floodwater-retreats",
        "flood-damage-calder-bay-85-million",
    },
    "C": {
        "reyne-double-calder-bay-united-federation-cup-final",
        "calder-bay-united-reach-cup-final-reyne-double",
        "calder-bay-united-reach-federation-cup-final",
        "westmarch-cup-run-ends-estuary-park",
    },
    "D": {
        "orbis-cloud-outage-banks-retailers-offline",
        "orbis-cloud-outage-disrupts-banking-apps-deliveries",
        "orbis-blames-network-update-cloud-outage",
        "orbis-cloud-service-credits-seven-hour-outage",
        "local-businesses-losses-orbis-cloud-outage",
        "orbis-cloud-skipped-staged-rollout",
    },
    "E": {
        "brightwater-foods-buy-kellan-dairy-4-8-billion",
        "kellan-dairy-shares-soar-brightwater-takeover",
        "brightwater-62-a-share-deal-kellan-dairy",
    },
    "F": {
        "deep-sea-microbe-antibiotic-drug-resistant-bacteria",
        "new-antibiotic-candidate-seabed-mud-halocidin",
        "tarrow-researchers-halocidin-superbugs",
    },
    "G": {
        "skyward-air-cabin-crew-strike-48-hours",
        "skyward-air-cancels-340-flights-cabin-crew-walkout",
        "skyward-air-scraps-340-flights-cabin-crew-strike",
    },
    "H": {"council-approves-fennimore-avenue-bike-lanes"},
    "I": {"grey-whale-count-point-sable-record"},
    "J": {"northgate-maritime-museum-reopens"},
    "K": {"marrow-island-ferry-resumes"},
}
EXTERNAL_A = SHARED / "seeds" / "000_af49e2640a8b7a42.txt"


def _slug(a: Article) -> str:
    return a.url.rstrip("/").rsplit("/", 1)[-1] if a.url else f"external:{a.title[:20]}"


def _demo_partition(db: Path) -> dict[str, set[str]]:
    store = open_store(str(db))
    try:
        stories = store.stories_updated_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        by_id = {a.id: a for a in store.articles([i for s in stories for i in s.article_ids])}
    finally:
        store.close()
    return {s.id: {_slug(by_id[i]) for i in s.article_ids} for s in stories}


def _expected(with_external: bool) -> set[frozenset[str]]:
    groups = {k: set(v) for k, v in DEMO_EVENTS.items()}
    if with_external:
        groups["A"].add("external:US Treasury Secretar")
    return {frozenset(v) for v in groups.values()}


def test_demo_groups_as_the_corpus_says(seeds_copy: Path, tmp_path: Path) -> None:
    with_external = EXTERNAL_A.is_file()  # the real Bloomberg report; optional
    if with_external:
        shutil.copy(EXTERNAL_A, seeds_copy / "docs" / EXTERNAL_A.name)
    code, text = run_cli(
        "--config",
        str(seeds_copy / "briefs.toml"),
        "run",
        "--date",
        "2024-04-06",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 0, text
    found = _demo_partition(seeds_copy / "briefs.db")
    assert {frozenset(v) for v in found.values()} == _expected(with_external)
    md = (tmp_path / "out" / "2024-04-06.md").read_text()
    # A, B and C started on earlier days: the brief says they are developing
    assert md.count("*Developing, day 3") >= 2 and "*Developing, day 2" in md

    # stories list and show explain the grouping
    cfg = str(seeds_copy / "briefs.toml")
    code, text = run_cli("--config", cfg, "stories", "list", "--date", "2024-04-05")
    assert code == 0, text
    assert "developing, day 2" in text and "Orbis" in text
    flood = next(
        sid for sid, slugs in found.items() if "flood-damage-calder-bay-85-million" in slugs
    )
    code, text = run_cli("--config", cfg, "stories", "show", flood[:8])
    assert code == 0, text
    assert "8 articles from 6 outlets" in text
    assert text.count("why: similarity") + text.count("why: started the story") == 8
    assert "Calder" in text.split("Shared terms:")[1].splitlines()[0]
    code, text = run_cli("--config", cfg, "stories", "show", "no-such-story")
    assert code == 1 and "no story with id" in text


def test_demo_grouped_day_by_day_keeps_story_ids(seeds_copy: Path, tmp_path: Path) -> None:
    code, text = run_cli(
        "--config", str(seeds_copy / "briefs.toml"), "run", "--out", str(tmp_path / "out")
    )
    assert code == 0, text
    store = open_store(str(seeds_copy / "briefs.db"))
    everything = store.articles(
        [
            i
            for s in store.stories_updated_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            for i in s.article_ids
        ]
    )
    store.close()
    by_day: defaultdict[dt.date, list[Article]] = defaultdict(list)
    for a in everything:
        by_day[a.published.date()].append(dataclasses.replace(a))
    config = load_config(seeds_copy / "briefs.toml")
    config = dataclasses.replace(config, database=str(tmp_path / "daily.db"))
    daily = open_store(config.database)
    seen: dict[str, str] = {}  # first article's slug -> story id on the day it started
    for day in sorted(by_day):
        daily.add_articles(by_day[day])
        group_pending(config, daily)
        for story in daily.stories_updated_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)):
            first = daily.articles([story.article_ids[0]])[0]
            seen.setdefault(_slug(first), story.id)
            assert seen[_slug(first)] == story.id  # a story keeps its id as it develops
    daily.close()
    assert {frozenset(v) for v in _demo_partition(tmp_path / "daily.db").values()} == _expected(
        False
    )


FIXTURE = [
    # gold story G1 has three reports; the third is worded so differently that no term-based
    # grouper links it: predicted {a1, a2}, {a3}, {b1}, {c1}.
    {
        "id": "a1",
        "title": "Volcano erupts on Mount Kerrow, villages evacuated",
        "text": "Mount Kerrow erupted on Tuesday, sending ash 8 km high; 4,000 villagers were evacuated.",
        "date": "2024-03-05",
        "story_id": "G1",
        "lang_guess": "en",
    },
    {
        "id": "a2",
        "title": "Mount Kerrow eruption forces 4,000 from villages",
        "text": "About 4,000 villagers fled as Mount Kerrow erupted on Tuesday, blasting ash 8 km high.",
        "date": "2024-03-05",
        "story_id": "G1",
        "lang_guess": "en",
    },
    {
        "id": "a3",
        "title": "Airlines reroute flights around ash cloud",
        "summary": "Carriers diverted routes as a plume drifted over shipping lanes.",
        "text": "Carriers diverted routes as a plume drifted over shipping lanes. More later.",
        "date": "2024-03-06",
        "story_id": "G1",
        "lang_guess": "en",
    },
    {
        "id": "b1",
        "title": "Central bank holds interest rates steady",
        "text": "The central bank kept its benchmark rate at 4.5% on Wednesday, citing sticky inflation.",
        "date": "2024-03-06",
        "story_id": "G2",
        "lang_guess": "en",
    },
    {
        "id": "c1",
        "title": "Museum returns looted bronze statues",
        "text": "The city museum handed back twelve bronze statues taken during the colonial era.",
        "date": None,
        "story_id": "G3",
        "lang_guess": "en",
    },
    {
        "id": "z1",
        "title": "火山爆发",
        "text": "火山周二爆发。",
        "date": "2024-03-05",
        "story_id": "G1",
        "lang_guess": "zh",
    },
]


def test_eval_group_command_on_a_hand_scored_fixture(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FIXTURE) + "\n")
    code, text = run_cli(
        "--config", str(tmp_path / "none.toml"), "eval", "group", str(path), "--lang", "en"
    )
    assert code == 1 and "not found" in text  # an explicit config that is missing is an error
    result = CliRunner().invoke(
        cli,
        ["eval", "group", str(path), "--lang", "en"],
        catch_exceptions=False,
        env={"BRIEFS_CONFIG": ""},
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    # By hand: BCubed P = 1 (no predicted cluster mixes stories); R per article = 2/3, 2/3, 1/3,
    # 1, 1 -> 11/15; F1 = 2 * 11/15 / (1 + 11/15) = 22/26. Pairs: gold 3 (G1), predicted 1
    # (a1-a2, correct): P = 1, R = 1/3, F1 = 0.5.
    assert scores == {
        "articles": 5,
        "gold_stories": 3,
        "predicted_stories": 4,
        "bcubed_precision": 1.0,
        "bcubed_recall": round(11 / 15, 4),
        "bcubed_f1": round(22 / 26, 4),
        "pairwise_precision": 1.0,
        "pairwise_recall": round(1 / 3, 4),
        "pairwise_f1": 0.5,
    }
    code, text = run_cli("eval", "group", str(path), "--text", "title")
    assert code == 0 and json.loads(text)["articles"] == 6
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    code, text = run_cli("eval", "group", str(tmp_path / "bad.jsonl"))
    assert code == 1 and "bad.jsonl:1: not a labelled article" in text


def test_bcubed_and_pairwise_by_hand() -> None:
    gold = {"x": "1", "y": "1", "z": "2"}
    merged = {"x": "p", "y": "p", "z": "p"}
    p, r, f = bcubed(gold, merged)
    assert (round(p, 4), r, round(f, 4)) == (round(5 / 9, 4), 1.0, round(10 / 14, 4))
    assert pairwise(gold, merged) == (1 / 3, 1.0, 0.5)
    assert bcubed(gold, gold) == (1.0, 1.0, 1.0)
    assert pairwise({"x": "1", "y": "2"}, {"x": "a", "y": "b"}) == (0.0, 0.0, 0.0)


def test_one_language_of_a_mixed_run_is_scored_on_its_own_articles() -> None:
    # English x, y (one story) grouped with their Chinese report z (the same story), and w
    # (English, another story) wrongly with them: z is not an English article, so for the
    # English figures the predicted story is {x, y, w}. Precision: x, y 2/3 each, w 1/3 -> 5/9;
    # recall: x, y 1, w 1 -> 1. Pairs: xy right, xw and yw wrong -> 1/3; recall 1/1.
    english = {"x": "quake", "y": "quake", "w": "other"}
    predicted = {"x": "s", "y": "s", "z": "s", "w": "s"}
    p, r, _ = bcubed(english, predicted)
    assert (round(p, 4), r) == (round(5 / 9, 4), 1.0)
    assert pairwise(english, predicted) == (1 / 3, 1.0, 0.5)


@pytest.mark.slow
def test_dev_set_scores_beat_the_simple_baselines() -> None:
    path = shared_path("data", "mmds2025-news-clustering", "dev.jsonl")
    english = evaluate_grouping(load_records(path, "en"), GroupSettings())
    # quality.md: single-pass online on title + first 300 characters: 0.923 / 0.688
    assert english["bcubed_f1"] > 0.923 and english["pairwise_f1"] > 0.688
    everything = evaluate_grouping(load_records(path), GroupSettings())
    assert everything["bcubed_f1"] > 0.752 and everything["pairwise_f1"] > 0.348


def test_story_terms_keep_their_case_and_numbers() -> None:
    (story,) = [
        s for s in group_articles(QUAKE, [], {}, GroupSettings()) if len(s.article_ids) == 3
    ]
    assert isinstance(story, Story)
    assert "6.4" in story.terms and "Hokkaido" in story.terms


TIMED = [
    # Feeds give times. G1: two close reports and a third worded so differently that no
    # grouper links it; G2 an unrelated English story; G3 a Malay story of its own.
    {
        "id": "a1",
        "title": "Volcano erupts on Mount Kerrow, villages evacuated",
        "text": "Mount Kerrow erupted on Tuesday, sending ash 8 km high; 4,000 villagers were evacuated.",
        "date": "2026-02-18T01:51:00Z",
        "story_id": "G1",
        "lang_guess": "en",
    },
    {
        "id": "a2",
        "title": "Mount Kerrow eruption forces 4,000 from villages",
        "text": "About 4,000 villagers fled as Mount Kerrow erupted on Tuesday, blasting ash 8 km high.",
        "date": "2026-02-17T23:30:00-05:00",  # 04:30 UTC on the 18th
        "story_id": "G1",
        "lang_guess": "en",
    },
    {
        "id": "a3",
        "title": "Airlines reroute flights around ash cloud",
        "summary": "Carriers diverted routes as a plume drifted over shipping lanes.",
        "text": "Carriers diverted routes as a plume drifted over shipping lanes. More later.",
        "date": "2026-02-18T09:00:00",  # no zone: UTC
        "story_id": "G1",
        "lang_guess": "en",
    },
    {
        "id": "b1",
        "title": "Central bank holds interest rates steady",
        "text": "The central bank kept its benchmark rate at 4.5% on Wednesday, citing sticky inflation.",
        "date": "2026-02-18T10:00:00+00:00",
        "story_id": "G2",
        "lang_guess": "en",
    },
    {
        "id": "m1",
        "title": "Muzium pulangkan 12 patung gangsa yang dirampas",
        "text": "Muzium bandar memulangkan dua belas patung gangsa yang diambil semasa era kolonial.",
        "date": "2026-02-18",
        "story_id": "G3",
        "lang_guess": "ms/id",
    },
]


def test_eval_group_reads_timestamps_and_scores_per_language_and_order(tmp_path: Path) -> None:
    path = tmp_path / "timed.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in TIMED) + "\n")
    records = {r.id: r for r in load_records(path)}
    assert records["a2"].time == dt.datetime(2026, 2, 18, 4, 30, tzinfo=dt.UTC)
    assert records["a2"].date == dt.date(2026, 2, 18)
    assert records["a3"].time == dt.datetime(2026, 2, 18, 9, tzinfo=dt.UTC)
    assert records["m1"].time is None and records["m1"].date == dt.date(2026, 2, 18)
    code, text = run_cli("eval", "group", str(path), "--orders", "3")
    assert code == 0, text
    scores = json.loads(text)
    # By hand, predicted {a1, a2}, {a3}, {b1}, {m1}. All five: BCubed P = 1, R = (2/3 + 2/3 +
    # 1/3 + 1 + 1) / 5 = 11/15, F1 = 22/26; pairs: gold 3, predicted 1 (correct): F1 = 0.5.
    assert (scores["bcubed_precision"], scores["bcubed_recall"]) == (1.0, round(11 / 15, 4))
    assert (scores["bcubed_f1"], scores["pairwise_f1"]) == (round(22 / 26, 4), 0.5)
    # English (a1, a2, a3, b1): R = (2/3 + 2/3 + 1/3 + 1) / 4 = 2/3, F1 = 0.8; pairs as above.
    # Malay: one article alone in its story and its cluster: BCubed 1, no pairs (F1 0).
    assert scores["languages"] == {
        "en": {"articles": 4, "bcubed_f1": 0.8, "pairwise_f1": 0.5},
        "ms/id": {"articles": 1, "bcubed_f1": 1.0, "pairwise_f1": 0.0},
    }
    # Other orders give other ids; the answer does not depend on them.
    assert scores["orders"]["n"] == 3
    assert scores["orders"]["pairwise_f1"] == {"mean": 0.5, "min": 0.5, "max": 0.5, "range": 0.0}
    assert scores["orders"]["bcubed_f1"]["range"] == 0.0


def _words(aid: str, title: str, hours: float) -> Article:
    # Made-up words: every one is as rare as a word can be, so similarities follow the overlap.
    return art(aid, title, "", hours)


def _recluster_config(tmp_path: Path) -> Path:
    path = tmp_path / "briefs.toml"
    path.write_text('database = "b.db"\n[group]\nrecluster = true\nsemantic = false\n')
    return path


def test_a_merge_keeps_the_older_story_id_and_both_stories_say_so(tmp_path: Path) -> None:
    cfg = _recluster_config(tmp_path)
    config = load_config(cfg)
    store = open_store(config.database)
    # Run 1: two reports that share one word of five: two stories. Run 2: a report that has
    # the words of both; clustered again, the three are one event.
    store.add_articles(
        [
            _words("a1", "Zorvane quillet brasmo tenvik ulpary", 0),
            _words("b1", "Zorvane hexmoor drufla pelnik gastro", 1),
        ]
    )
    group_pending(config, store)
    first = {s.article_ids: s.id for s in store.stories_updated_since(T0 - dt.timedelta(days=1))}
    assert set(first) == {("a1",), ("b1",)}
    store.add_articles([_words("c1", "Zorvane quillet brasmo tenvik hexmoor drufla pelnik", 2)])
    group_pending(config, store)
    (story,) = store.stories_updated_since(T0 - dt.timedelta(days=1))
    assert story.id == first[("a1",)]  # equal parts: the older story keeps its id
    assert set(story.article_ids) == {"a1", "b1", "c1"}
    store.close()
    code, text = run_cli("--config", str(cfg), "stories", "show", story.id)
    assert code == 0, text
    assert f"absorbed story {first[('b1',)]}" in text
    code, text = run_cli("--config", str(cfg), "stories", "show", first[("b1",)])
    assert code == 1 and f"was merged into story {story.id}" in text


def test_a_split_keeps_the_id_with_the_larger_part_and_both_stories_say_so(
    tmp_path: Path,
) -> None:
    cfg = _recluster_config(tmp_path)
    config = load_config(cfg)
    store = open_store(config.database)
    # Run 1: x3 shares enough with x1 and x2 to join them. Run 2: three reports of another
    # event that x3 is closer to; clustered again, x3 goes with them.
    store.add_articles(
        [
            _words("x1", "Kelvaro mistrune opaldin wexford", 0),
            _words("x2", "Kelvaro mistrune opaldin yarrowel", 1),
            _words("x3", "Kelvaro opaldin fenwhistle carbolic draymoth sulvane", 2),
        ]
    )
    group_pending(config, store)
    (old,) = store.stories_updated_since(T0 - dt.timedelta(days=1))
    assert set(old.article_ids) == {"x1", "x2", "x3"}
    store.add_articles(
        [
            _words(f"y{i}", f"Fenwhistle carbolic draymoth sulvane {w}", 3 + i)
            for i, w in enumerate(["pintle", "gorse", "hatch"])
        ]
    )
    group_pending(config, store)
    stories = {s.id: s for s in store.stories_updated_since(T0 - dt.timedelta(days=1))}
    assert {frozenset(s.article_ids) for s in stories.values()} == {
        frozenset({"x1", "x2"}),
        frozenset({"x3", "y0", "y1", "y2"}),
    }
    # x1 and x2 were two of the story's three articles: that part keeps the id
    assert set(stories[old.id].article_ids) == {"x1", "x2"}
    (new_id,) = set(stories) - {old.id}
    store.close()
    code, text = run_cli("--config", str(cfg), "stories", "show", old.id)
    assert code == 0 and f"the rest became story {new_id}" in text
    code, text = run_cli("--config", str(cfg), "stories", "show", new_id)
    assert code == 0 and f"split off story {old.id}, which kept its id" in text
