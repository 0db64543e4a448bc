"""Summary quality on labelled data: ROUGE on single articles, human salience on stories.

Two JSON Lines formats are recognised by their fields:

* single-article (``text`` or ``paragraphs``, ``reference_summary``; e.g. BBC News Summary):
  each article is summarized to N sentences (default 3) and scored against its reference with
  ROUGE-1/2/L F1 (rouge-score, stemming on), averaged over articles. The references are article
  sentences run together without spaces ("...$10.9bn.For the full-year..."), so they are split
  on ``(?<=[.!?])(?=["A-Z])`` first.
* multi-article (``story_id`` and ``sentences`` with human ``relevance`` 1-10; e.g. MMDS2025):
  for every gold story with 2+ articles (after the optional language filter on ``lang_guess``),
  the summarizer picks N sentences (default 5) from the articles' own ``sentences``, so every
  pick has its human score; the product's cleaning, scoring and redundancy removal apply as
  usual. Reported: mean relevance of the picks and NDCG@N in summary order (linear gain,
  log2 discount). The ideal ranking is the N best distinct sentences of the story (a sentence
  printed word for word by two articles counts once); a relevance outside 0..10 is clipped into
  it and an unscored sentence counts 0.

Summaries here are limited by sentences only, unless a word budget is given.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from briefs.config import SummarySettings
from briefs.errors import EvaluationError
from briefs.models import Article, Story
from briefs.summarize import Tuning, summarize_sentences, summarize_story
from briefs.summarize.story import DEFAULT_TUNING

__all__ = [
    "NO_WORD_LIMIT",
    "detect_format",
    "evaluate_multi",
    "evaluate_single",
    "evaluate_summaries",
    "load_rows",
    "ndcg",
]

NO_WORD_LIMIT = 1_000_000
_REFERENCE_SPLIT = re.compile(r"(?<=[.!?])(?=[\"A-Z])")
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
Progress = Callable[[int, int], None]


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON Lines file (blank lines skipped)."""
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{file}: cannot read: {exc}") from exc
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{file}:{number}: not JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise EvaluationError(f"{file}:{number}: expected a JSON object per line")
        rows.append(row)
    if not rows:
        raise EvaluationError(f"{file}: no records")
    return rows


def detect_format(rows: Sequence[dict[str, Any]]) -> Literal["single", "multi"]:
    """Which of the two formats the rows are in (from the first row's fields)."""
    first = rows[0]
    if "reference_summary" in first and ("text" in first or "paragraphs" in first):
        return "single"
    if "story_id" in first and isinstance(first.get("sentences"), list):
        return "multi"
    raise EvaluationError(
        "unknown format: expected records with text/paragraphs and reference_summary "
        "(single-article) or story_id and sentences (multi-article)"
    )


def _article(row: dict[str, Any], body: str, index: int) -> Article:
    ident = str(row.get("id", index))
    published = _EPOCH
    if isinstance(row.get("date"), str):
        try:
            published = dt.datetime.fromisoformat(row["date"]).replace(tzinfo=dt.UTC)
        except ValueError:
            published = _EPOCH
    return Article(
        id=ident,
        source_id="eval",
        url="",
        title=str(row.get("title") or ""),
        published=published,
        fetched=published,
        # The data sets do not name outlets: each article counts as its own report.
        outlet=f"article {ident}",
        body=body,
        body_origin="file",
    )


def _story(story_id: str, articles: Sequence[Article]) -> Story:
    first = min(a.published for a in articles)
    last = max(a.published for a in articles)
    return Story(story_id, tuple(a.id for a in articles), first, last)


def _rouge_scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:
        raise EvaluationError(
            "ROUGE needs the rouge-score package: pip install 'briefs[eval]'"
        ) from exc
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def evaluate_single(
    rows: Sequence[dict[str, Any]],
    settings: SummarySettings,
    tuning: Tuning | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Mean ROUGE-1/2/L F1 of one summary per article against its reference."""
    scorer = _rouge_scorer()
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for index, row in enumerate(rows):
        paragraphs = row.get("paragraphs")
        if isinstance(paragraphs, list) and paragraphs:
            body = "\n\n".join(str(p) for p in paragraphs)
        else:
            body = str(row.get("text") or "")
        article = _article(row, body, index)
        story = _story(article.id, [article])
        summary = summarize_story(story, [article], settings, tuning or DEFAULT_TUNING)
        prediction = "\n".join(s.text for s in summary.sentences)
        reference = "\n".join(
            part.strip() for part in _REFERENCE_SPLIT.split(str(row.get("reference_summary", "")))
        )
        scores = scorer.score(reference, prediction)
        for key in totals:
            totals[key] += scores[key].fmeasure
        if progress is not None:
            progress(index + 1, len(rows))
    n = len(rows)
    return {"articles": n, **{key: round(value / n, 4) for key, value in totals.items()}}


def _relevance(sentence: dict[str, Any]) -> float:
    value = sentence.get("relevance")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(min(max(value, 0), 10))


def ndcg(gains: Sequence[float], pool: Sequence[float], k: int) -> float:
    """NDCG@k of ``gains`` in order against the best k of ``pool`` (linear gain, log2 discount)."""
    ideal = sorted(pool, reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg <= 0:
        return 0.0
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    return dcg / idcg


def evaluate_multi(
    rows: Sequence[dict[str, Any]],
    settings: SummarySettings,
    lang: str | None = None,
    tuning: Tuning | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Mean human relevance and NDCG@N of the sentences picked for each multi-article story."""
    stories: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if lang and row.get("lang_guess") != lang:
            continue
        stories.setdefault(str(row.get("story_id")), []).append(row)
    groups = [(sid, members) for sid, members in stories.items() if len(members) >= 2]
    if not groups:
        where = f" in {lang!r}" if lang else ""
        raise EvaluationError(f"no story with two or more articles{where}")
    relevance_sum = 0.0
    ndcg_sum = 0.0
    for done, (story_id, members) in enumerate(groups, 1):
        articles: list[Article] = []
        texts: list[list[str]] = []
        gains: dict[tuple[str, int], float] = {}
        pool: dict[str, float] = {}
        for index, row in enumerate(members):
            sentences = [s for s in row.get("sentences", []) if isinstance(s, dict)]
            article = _article(row, " ".join(str(s.get("text", "")) for s in sentences), index)
            articles.append(article)
            texts.append([str(s.get("text", "")) for s in sentences])
            for position, sentence in enumerate(sentences):
                gain = _relevance(sentence)
                gains[(article.id, position)] = gain
                key = str(sentence.get("text", "")).strip()
                pool[key] = max(pool.get(key, 0.0), gain)
        summary = summarize_sentences(
            _story(story_id, articles), articles, texts, settings, tuning or DEFAULT_TUNING
        )
        picked = [gains[(s.article_id, s.position)] for s in summary.sentences]
        relevance_sum += sum(picked) / len(picked) if picked else 0.0
        ndcg_sum += ndcg(picked, list(pool.values()), settings.sentences)
        if progress is not None:
            progress(done, len(groups))
    n = len(groups)
    return {
        "stories": n,
        "mean_relevance": round(relevance_sum / n, 4),
        "ndcg": round(ndcg_sum / n, 4),
    }


def evaluate_summaries(
    path: str | Path,
    *,
    sentences: int | None = None,
    method: str | None = None,
    lang: str | None = None,
    words: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Evaluate the summarizer on a JSON Lines file of either format; one JSON-ready dict."""
    rows = load_rows(path)
    kind = detect_format(rows)
    base = SummarySettings()
    settings = SummarySettings(
        method=method or base.method,
        sentences=sentences if sentences is not None else (3 if kind == "single" else 5),
        words=words if words is not None else NO_WORD_LIMIT,
    )
    if kind == "single":
        return evaluate_single(rows, settings, progress=progress)
    return evaluate_multi(rows, settings, lang=lang, progress=progress)
