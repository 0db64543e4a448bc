"""`briefs eval summarize` on tiny fixtures whose scores are worked out by hand below."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.evaluate.summarize import ndcg


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _eval(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["eval", "summarize", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_single_article_rouge_by_hand(tmp_path: Path) -> None:
    pytest.importorskip("rouge_score")
    # Article 1 has three sentences, so a 3-sentence summary is the whole text (18 tokens);
    # the reference is its first two sentences run together without a space (12 tokens).
    # ROUGE-1: 12 of the reference's 12 tokens are matched ("the" 4 times of 5): P = 12/18,
    # R = 1, F = 0.8. ROUGE-2: all 11 reference bigrams occur among the summary's 17:
    # P = 11/17, R = 1, F = 22/28. ROUGE-L: the LCS is the reference itself: F = 0.8.
    # Article 2's reference is its whole text: every score is 1. Means: 0.9, 0.8929, 0.9.
    rows = [
        {
            "id": "t/1",
            "title": "Cat and dog",
            "paragraphs": ["The cat sat on the mat. The dog ran to the car. A fox hid in the den."],
            "text": "The cat sat on the mat. The dog ran to the car. A fox hid in the den.",
            "reference_summary": "The cat sat on the mat.The dog ran to the car.",
        },
        {
            "id": "t/2",
            "title": "Rain",
            "paragraphs": ["Rain fell all day long.", "Rivers rose in the hills."],
            "text": "Rain fell all day long.\n\nRivers rose in the hills.",
            "reference_summary": "Rain fell all day long.Rivers rose in the hills.",
        },
    ]
    code, out = _eval(str(_write(tmp_path / "single.jsonl", rows)), "--sentences", "3")
    assert code == 0, out
    result = json.loads(out)
    assert result == {
        "articles": 2,
        "rouge1": 0.9,
        "rouge2": round((22 / 28 + 1) / 2, 4),
        "rougeL": 0.9,
    }


def _sentence(text: str, relevance: object) -> dict[str, object]:
    return {"sid": 0, "text": text, "event_role": "", "relevance": relevance}


def test_multi_article_relevance_and_ndcg_by_hand(tmp_path: Path) -> None:
    # Story A: two reports whose one good sentence each scores 6; the best sentence of the
    # story (9) is a fragment ("REUTERS") that cleaning drops. Two picks of 6 in either order:
    # DCG = 6 + 6/log2(3), ideal = 9 + 6/log2(3).
    # Story B: the same wire sentence in both reports (8, counted once) and one other 8:
    # picks 8 and 8, ideal 8 and 8: NDCG 1. A singleton story and a Malay report are left out.
    wire = "Typhoon Nanmadol made landfall near Kagoshima on Sunday night with heavy rain."
    rows = [
        {
            "id": 1,
            "title": "Ferry",
            "lang_guess": "en",
            "story_id": "A",
            "sentences": [
                _sentence(
                    "Marrow Island ferry services will resume on Wednesday after repairs.", 6
                ),
                _sentence("REUTERS", 9),
            ],
        },
        {
            "id": 2,
            "title": "Ferry back",
            "lang_guess": "en",
            "story_id": "A",
            "sentences": [
                _sentence("Islanders will travel free of charge until April 21 as compensation.", 6)
            ],
        },
        {
            "id": 3,
            "title": "Typhoon",
            "lang_guess": "en",
            "story_id": "B",
            "sentences": [_sentence(wire, 8)],
        },
        {
            "id": 4,
            "title": "Typhoon hits",
            "lang_guess": "en",
            "story_id": "B",
            "sentences": [
                _sentence(wire, 8),
                _sentence("Officials told nine million residents to evacuate their homes.", 8),
            ],
        },
        {
            "id": 5,
            "title": "Alone",
            "lang_guess": "en",
            "story_id": "C",
            "sentences": [_sentence("A story with one report is not scored here at all.", 1)],
        },
        {
            "id": 6,
            "title": "Feri",
            "lang_guess": "ms",
            "story_id": "A",
            "sentences": [_sentence("Perkhidmatan feri akan disambung semula pada hari Rabu.", 1)],
        },
    ]
    path = _write(tmp_path / "multi.jsonl", rows)
    code, out = _eval(str(path), "--sentences", "2", "--lang", "en")
    assert code == 0, out
    ndcg_a = (6 + 6 / math.log2(3)) / (9 + 6 / math.log2(3))
    assert json.loads(out) == {
        "stories": 2,
        "mean_relevance": 7.0,
        "ndcg": round((ndcg_a + 1.0) / 2, 4),
    }
    # Without the language filter the Malay report joins story A (3 articles).
    code, out = _eval(str(path), "--sentences", "2")
    assert code == 0 and json.loads(out)["stories"] == 2


def test_ndcg_by_hand() -> None:
    assert ndcg([3, 2], [3, 2, 1], 2) == 1.0
    assert ndcg([2, 3], [3, 2, 1], 2) == pytest.approx(
        (2 + 3 / math.log2(3)) / (3 + 2 / math.log2(3))
    )
    assert ndcg([], [0, 0], 5) == 0.0
    assert ndcg([1], [2, 2], 2) == pytest.approx(1 / (2 + 2 / math.log2(3)))


def test_eval_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "what": "nothing known"}\n')
    code, out = _eval(str(bad))
    assert code == 1 and "unknown format" in out and out.count("\n") == 1
    bad.write_text("not json\n")
    code, out = _eval(str(bad))
    assert code == 1 and "bad.jsonl:1: not JSON" in out
    code, out = _eval(str(bad), "--method", "kl")
    assert code == 2 and "Invalid value for '--method'" in out


def test_eval_on_the_shared_data_runs(tmp_path: Path) -> None:
    from tests.conftest import shared_path

    path = shared_path("data", "mmds2025-news-clustering", "dev.jsonl")
    code, out = _eval(str(path), "--lang", "en")
    assert code == 0, out
    result = json.loads(out)
    assert result["stories"] == 42
    assert result["ndcg"] > 0.9 and result["mean_relevance"] > 7.0
