"""Score article text extraction the way the Article Extraction Benchmark does.

The folder format is the benchmark's: ``html/<id>.html.gz`` (or ``.html``) and
``ground-truth.json`` mapping each id to ``{"articleBody": ..., "url": ...}``.

The metric is the benchmark's own (its ``evaluate.py``): texts are split into ``\\w+`` tokens,
each text becomes a multiset of word 4-gram shingles, and per page true positives, false
positives and false negatives are counted over the shingles and normalised to sum to 1.
Precision is averaged over the pages with something predicted, recall over the pages with
something expected (both 1 when nothing is missing or extra), and F1 is the harmonic mean of
the two averages.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefs.errors import EvaluationError
from briefs.ingest.extract import extract_text

__all__ = [
    "ExtractionScores",
    "evaluate_extraction",
    "load_benchmark",
    "score_pages",
    "shingle_match",
]

NGRAM = 4
_TOKEN = re.compile(r"\w+", re.UNICODE)

Extractor = Callable[[str, str | None], str]


@dataclass(frozen=True, slots=True)
class ExtractionScores:
    """Benchmark scores over a set of pages."""

    pages: int
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float | int]:
        """The scores as the JSON object ``briefs eval extract`` prints."""
        return {
            "pages": self.pages,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(
        tuple(tokens[i : i + NGRAM]) for i in range(max(1, len(tokens) - NGRAM + 1)) if tokens
    )


def shingle_match(true: str, pred: str) -> tuple[float, float, float]:
    """Normalised (TP, FP, FN) of the predicted text's 4-gram shingles against the truth."""
    expected, got = _shingles(true), _shingles(pred)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    if not total:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def score_pages(pairs: list[tuple[str, str]]) -> ExtractionScores:
    """Scores for (expected text, extracted text) pairs."""
    counts = [shingle_match(true, pred) for true, pred in pairs]
    precisions = [_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [_recall(*c) for c in counts if c[0] + c[2] > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ExtractionScores(len(pairs), precision, recall, f1)


def load_benchmark(folder: Path) -> Iterator[tuple[str, str, str, str | None]]:
    """(id, html, expected text, url) for every page of a benchmark folder, sorted by id."""
    truth_path = folder / "ground-truth.json"
    try:
        truth: Any = json.loads(truth_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationError(
            f"{truth_path}: not found (is {folder} a benchmark folder?)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvaluationError(f"{truth_path}: unreadable: {exc}") from exc
    if not isinstance(truth, dict) or not truth:
        raise EvaluationError(f"{truth_path}: expected an object of page id -> articleBody")
    for page_id in sorted(truth):
        item = truth[page_id]
        if not isinstance(item, dict):
            raise EvaluationError(f"{truth_path}: entry {page_id!r} is not an object")
        yield (
            page_id,
            _read_html(folder, page_id),
            str(item.get("articleBody") or ""),
            item.get("url"),
        )


def _read_html(folder: Path, page_id: str) -> str:
    for name, opener in ((f"{page_id}.html.gz", gzip.open), (f"{page_id}.html", open)):
        path = folder / "html" / name
        if path.is_file():
            try:
                with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
                    return str(handle.read())
            except (OSError, EOFError) as exc:
                raise EvaluationError(f"{path}: unreadable: {exc}") from exc
    raise EvaluationError(f"{folder / 'html'}: no page for id {page_id!r}")


def evaluate_extraction(folder: Path, extractor: Extractor = extract_text) -> ExtractionScores:
    """Extract every page of a benchmark folder and score the texts against the truth."""
    pairs = [(truth, extractor(page, url)) for _, page, truth, url in load_benchmark(folder)]
    return score_pages(pairs)
