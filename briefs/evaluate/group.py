"""Grouping quality on labelled data: BCubed and pairwise precision, recall and F1.

Reads JSON Lines with ``id``, ``title``, ``text``, ``date`` (YYYY-MM-DD or null), an optional
``summary`` (the feed teaser) and optional ``lang_guess``, and the gold ``story_id``. The
articles go through :func:`briefs.group.group_articles`, the code the product runs, in date
order and one day per call, with the stories of earlier days passed back in as the pipeline
does. Pure functions plus one file reader.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from briefs.config import GroupSettings
from briefs.errors import EvaluationError
from briefs.group import group_articles
from briefs.models import Article, Story
from briefs.text import split_sentences

__all__ = [
    "EvalRecord",
    "TextMode",
    "bcubed",
    "evaluate_grouping",
    "lead_of",
    "load_records",
    "pairwise",
    "predict_stories",
    "to_articles",
]

TextMode = Literal["title", "lead", "full"]
# A feed teaser stands in for a record without one: its first sentences up to this many
# characters (typical feed teasers run 20-50 words; the quality baselines also cut at 300).
LEAD_CHARS = 300


@dataclass(frozen=True, slots=True)
class EvalRecord:
    """One labelled article."""

    id: str
    title: str
    text: str
    date: dt.date | None
    gold: str
    summary: str = ""
    lang: str = ""


def load_records(path: str | Path, lang: str | None = None) -> list[EvalRecord]:
    """Read a JSON Lines file of labelled articles (only ``lang_guess == lang`` when given)."""
    records: list[EvalRecord] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row: dict[str, Any] = json.loads(line)
            record = EvalRecord(
                id=str(row["id"]),
                title=str(row.get("title") or ""),
                text=str(row.get("text") or ""),
                date=dt.date.fromisoformat(row["date"]) if row.get("date") else None,
                gold=str(row["story_id"]),
                summary=str(row.get("summary") or ""),
                lang=str(row.get("lang_guess") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{number}: not a labelled article ({exc})") from exc
        if lang is None or record.lang == lang:
            records.append(record)
    if not records:
        which = f" with lang_guess {lang!r}" if lang else ""
        raise EvaluationError(f"{path}: no articles{which}")
    return records


def _time_of_day(record_id: str) -> dt.timedelta:
    """A stable pseudo-random time within the day, so that file order (often grouped by gold
    story) does not leak into the online order of articles published the same day."""
    digest = int.from_bytes(hashlib.sha1(record_id.encode()).digest()[:4], "big")
    return dt.timedelta(seconds=digest % 86_400)


def lead_of(text: str, chars: int = LEAD_CHARS) -> str:
    """The lead of a text: its first sentences, whole, up to about ``chars`` characters."""
    out: list[str] = []
    size = 0
    for sentence in split_sentences(text):
        if out and size + len(sentence) > chars:
            break
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)


def to_articles(records: Sequence[EvalRecord], text: TextMode = "lead") -> list[Article]:
    """Articles as the product would store them. Undated records count as read on the last day.

    ``lead``: title plus the teaser (``summary``) or, lacking one, the body (grouping reads its
    first words); ``full``: title plus the whole text; ``title``: the title alone.
    """
    dates = [r.date for r in records if r.date is not None]
    last = max(dates) if dates else dt.date(2000, 1, 1)
    out: list[Article] = []
    for r in records:
        day = dt.datetime.combine(r.date or last, dt.time(0), dt.UTC)
        published = day + _time_of_day(r.id)
        body = r.text if text == "full" else ""
        summary = (r.summary or lead_of(r.text)) if text == "lead" else ""
        norm = " ".join((body or summary).lower().split())
        out.append(
            Article(
                id=r.id,
                source_id="eval",
                url=f"eval:{r.id}",
                title=r.title,
                published=published,
                fetched=published,
                outlet="eval",
                summary=summary,
                body=body,
                body_origin="file" if body else "none",
                content_hash=hashlib.sha1(norm.encode()).hexdigest() if norm else "",
            )
        )
    return out


def predict_stories(articles: Sequence[Article], settings: GroupSettings) -> dict[str, str]:
    """Group articles one day per call, as daily runs would; return article id -> story id."""
    by_day: defaultdict[dt.date, list[Article]] = defaultdict(list)
    for a in articles:
        by_day[a.published.date()].append(a)
    stories: dict[str, Story] = {}
    by_id = {a.id: a for a in articles}
    window = dt.timedelta(hours=settings.window_hours)
    for day in sorted(by_day):
        batch = by_day[day]
        start = min(a.published for a in batch) - window
        active = [s for s in stories.values() if s.last_updated >= start]
        members = {i: by_id[i] for s in active for i in s.article_ids}
        for story in group_articles(batch, active, members, settings):
            stories[story.id] = story
    return {aid: s.id for s in stories.values() for aid in s.article_ids}


def _clusters(labels: Mapping[str, str]) -> dict[str, set[str]]:
    out: defaultdict[str, set[str]] = defaultdict(set)
    for item, label in labels.items():
        out[label].add(item)
    return out


def bcubed(gold: Mapping[str, str], predicted: Mapping[str, str]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 (per item, averaged over the items of ``gold``)."""
    gc, pc = _clusters(gold), _clusters(predicted)
    p_sum = r_sum = 0.0
    for item, g in gold.items():
        mine = pc[predicted[item]]
        same = len(mine & gc[g])
        p_sum += same / len(mine)
        r_sum += same / len(gc[g])
    n = len(gold)
    p, r = (p_sum / n, r_sum / n) if n else (0.0, 0.0)
    return p, r, _f1(p, r)


def _pairs(clusters: Iterable[set[str]]) -> int:
    return sum(len(c) * (len(c) - 1) // 2 for c in clusters)


def pairwise(gold: Mapping[str, str], predicted: Mapping[str, str]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 over all unordered pairs of items."""
    both = Counter((gold[i], predicted[i]) for i in gold)
    true_pos = sum(n * (n - 1) // 2 for n in both.values())
    pred_pairs = _pairs(_clusters({i: predicted[i] for i in gold}).values())
    gold_pairs = _pairs(_clusters(gold).values())
    p = true_pos / pred_pairs if pred_pairs else 0.0
    r = true_pos / gold_pairs if gold_pairs else 0.0
    return p, r, _f1(p, r)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate_grouping(
    records: Sequence[EvalRecord], settings: GroupSettings, text: TextMode = "lead"
) -> dict[str, Any]:
    """Group the records and score the result against their gold stories."""
    if text == "full":
        settings = dataclasses.replace(settings, lead_words=0)
    articles = to_articles(records, text)
    predicted = predict_stories(articles, settings)
    gold = {r.id: r.gold for r in records}
    bp, br, bf = bcubed(gold, predicted)
    pp, pr, pf = pairwise(gold, predicted)
    return {
        "articles": len(records),
        "gold_stories": len(set(gold.values())),
        "predicted_stories": len(set(predicted[i] for i in gold)),
        "bcubed_precision": round(bp, 4),
        "bcubed_recall": round(br, 4),
        "bcubed_f1": round(bf, 4),
        "pairwise_precision": round(pp, 4),
        "pairwise_recall": round(pr, 4),
        "pairwise_f1": round(pf, 4),
    }
