"""The hand labels of the 2026-02-17 news day agree with its feeds, and the converter's output
is an eval file ``briefs eval group`` reads (benchmarks/news_day.py, benchmarks/data/)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from briefs.errors import EvaluationError
from briefs.evaluate.group import load_records
from tests.conftest import ROOT, shared_path

LABELS = ROOT / "benchmarks" / "data" / "news-day-2026-02-17.labels.jsonl"


def _news_day() -> ModuleType:
    spec = importlib.util.spec_from_file_location("news_day", ROOT / "benchmarks" / "news_day.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("news_day", module)
    spec.loader.exec_module(module)
    return module


news_day = _news_day()


@pytest.fixture(scope="module")
def items() -> list[Any]:
    return news_day.feed_items(shared_path("data", "news-feeds-2026-02-17"))


def _label_rows() -> list[dict[str, str]]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_every_item_has_exactly_one_label_and_every_label_one_item(items: list[Any]) -> None:
    rows = _label_rows()
    label_keys = Counter((r["feed"], r["link"]) for r in rows)
    item_keys = Counter(item.key for item in items)
    assert max(label_keys.values()) == 1
    assert max(item_keys.values()) == 1
    assert set(label_keys) == set(item_keys)
    assert len(items) == len(rows)
    # identifiers and slugs only: no text of the feeds in the labels file
    assert all(set(r) == {"feed", "link", "story"} and r["story"] for r in rows)
    manifest = json.loads(
        (shared_path("data", "news-feeds-2026-02-17") / "manifest.json").read_text()
    )
    assert len(items) == sum(feed["items"] for feed in manifest)


def test_converter_output_loads_as_an_eval_file(items: list[Any], tmp_path: Path) -> None:
    records = news_day.build_records(items, news_day.read_labels(LABELS))
    out = tmp_path / "news-day.jsonl"
    news_day.write_records(records, out)
    loaded = load_records(out)
    assert len(loaded) == len(items)
    assert len({r.id for r in loaded}) == len(loaded)
    stories = Counter(r["story"] for r in _label_rows())
    assert Counter(r.gold for r in loaded) == stories
    # feeds give times: the eval sees timestamps, not dates only
    assert all(r.time is not None for r in loaded)
    assert all(r.title for r in loaded)
    assert {r.lang for r in loaded} == {"en"}
    by_key = {(r["feed"], r["link"]): r["story"] for r in _label_rows()}
    for item, record in zip(items, loaded, strict=True):
        assert record.gold == by_key[item.key]
        assert record.title == item.article.title


def test_a_missing_label_stops_the_conversion(items: list[Any], tmp_path: Path) -> None:
    rows = _label_rows()
    dropped = rows.pop(7)
    labels = news_day.read_labels(_write(tmp_path / "labels.jsonl", rows))
    with pytest.raises(EvaluationError, match=r"1 feed item\(s\) have no label") as err:
        news_day.build_records(items, labels)
    assert dropped["link"] in str(err.value)


def test_a_label_matching_no_item_stops_the_conversion(items: list[Any], tmp_path: Path) -> None:
    rows = [
        *_label_rows(),
        {"feed": "nyt-world.xml", "link": "https://example.org/x", "story": "s"},
    ]
    labels = news_day.read_labels(_write(tmp_path / "labels.jsonl", rows))
    with pytest.raises(EvaluationError, match=r"1 label\(s\) match no feed item.*example\.org/x"):
        news_day.build_records(items, labels)


def test_a_label_given_twice_is_refused(tmp_path: Path) -> None:
    rows = _label_rows()
    path = _write(tmp_path / "labels.jsonl", [*rows, {**rows[0], "story": "other"}])
    with pytest.raises(EvaluationError, match="labelled twice"):
        news_day.read_labels(path)


def test_the_eval_file_is_not_written_into_the_project() -> None:
    with pytest.raises(EvaluationError, match="outside the project"):
        news_day.write_records([], ROOT / "benchmarks" / "news-day.jsonl")
    assert not (ROOT / "benchmarks" / "news-day.jsonl").exists()
