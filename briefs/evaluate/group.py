"""Grouping quality on labelled data: BCubed and pairwise precision, recall and F1.

Reads JSON Lines with ``id``, ``title``, ``text``, ``date`` (a date, an ISO timestamp with or
without zone -- no zone means UTC --, or null), an optional ``summary`` (the feed teaser) and
optional ``lang_guess``, and the gold ``story_id``. The articles go through
:func:`briefs.group.group_articles`, the code the product runs, in time order and one day per
call, with the stories of earlier days passed back in as the pipeline does. Articles with a
date only all get noon of their day: the order within the day is not known, and the product
must not read one into them (file order is often grouped by gold story). Another ``order``
gives every record another id (a hash of the order and its id) and another file order, the
articles otherwise the same: what the product could use to order articles it cannot tell apart
by time is drawn anew. Pure functions plus one file reader.
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
from briefs.embed import Embedder, Vector, embed_within, lead_of, passages
from briefs.errors import EvaluationError
from briefs.group import group_articles, several_languages
from briefs.models import Article, Story

__all__ = [
    "EvalRecord",
    "TextMode",
    "bcubed",
    "embed_records",
    "evaluate_grouping",
    "lead_of",
    "load_records",
    "pairwise",
    "predict_stories",
    "to_articles",
]

TextMode = Literal["title", "lead", "full"]


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
    time: dt.datetime | None = None  # when the record gives a timestamp, not only a date


def _parse_when(value: str) -> tuple[dt.date, dt.datetime | None]:
    """A record's ``date``: a date alone, or an ISO timestamp (no zone: UTC)."""
    if len(value) == 10:
        return dt.date.fromisoformat(value), None
    when = dt.datetime.fromisoformat(value)
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return when.date(), when


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
            day, when = _parse_when(str(row["date"])) if row.get("date") else (None, None)
            record = EvalRecord(
                id=str(row["id"]),
                title=str(row.get("title") or ""),
                text=str(row.get("text") or ""),
                date=day,
                time=when,
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


def _relabelled(records: Sequence[EvalRecord], order: int) -> dict[str, EvalRecord]:
    """The records under other ids (new id -> record), in another file order: what the
    product may use to order articles it cannot tell apart by time (their ids, the order they
    came in) drawn anew from ``order``, the articles themselves unchanged (0: as they are)."""
    if order == 0:
        return {r.id: r for r in records}
    renamed = {hashlib.sha1(f"{order}:{r.id}".encode()).hexdigest()[:16]: r for r in records}
    return dict(sorted(renamed.items()))


def to_articles(records: Sequence[EvalRecord], text: TextMode = "lead") -> list[Article]:
    """Articles as the product would store them. Undated records count as read on the last day.

    ``lead``: title plus the teaser (``summary``) or, lacking one, the body (grouping reads its
    first words); ``full``: title plus the whole text; ``title``: the title alone.
    """
    dates = [r.date for r in records if r.date is not None]
    last = max(dates) if dates else dt.date(2000, 1, 1)
    out: list[Article] = []
    for r in records:
        if r.time is not None:
            published = r.time
        else:
            # a date alone says nothing of the order within its day: every such record of a
            # day gets the same time (noon), and the product may not read an order into them
            published = dt.datetime.combine(r.date or last, dt.time(12), dt.UTC)
        body = r.text if text == "full" else ""
        # a record without a teaser: the first sentences of its text stand in (about 300
        # characters; typical feed teasers run 20-50 words, and the quality baselines cut at 300)
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


def predict_stories(
    articles: Sequence[Article],
    settings: GroupSettings,
    embeddings: Mapping[str, Vector] | None = None,
) -> dict[str, str]:
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
        for story in group_articles(batch, active, members, settings, embeddings):
            stories[story.id] = story
    return {aid: s.id for s in stories.values() for aid in s.article_ids}


def _clusters(labels: Mapping[str, str]) -> dict[str, set[str]]:
    out: defaultdict[str, set[str]] = defaultdict(set)
    for item, label in labels.items():
        out[label].add(item)
    return out


def bcubed(gold: Mapping[str, str], predicted: Mapping[str, str]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 (per item, averaged over the items of ``gold``).

    Predicted clusters are read as restricted to the items of ``gold``: scoring one language of
    a mixed run, a report in another language in the same story is neither right nor wrong.
    """
    gc, pc = _clusters(gold), _clusters({i: predicted[i] for i in gold})
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


def _scores(gold: Mapping[str, str], predicted: Mapping[str, str]) -> dict[str, Any]:
    bp, br, bf = bcubed(gold, predicted)
    pp, pr, pf = pairwise(gold, predicted)
    return {
        "articles": len(gold),
        "gold_stories": len(set(gold.values())),
        "predicted_stories": len(set(predicted[i] for i in gold)),
        "bcubed_precision": round(bp, 4),
        "bcubed_recall": round(br, 4),
        "bcubed_f1": round(bf, 4),
        "pairwise_precision": round(pp, 4),
        "pairwise_recall": round(pr, 4),
        "pairwise_f1": round(pf, 4),
    }


def embed_records(records: Sequence[EvalRecord], embedder: Embedder) -> dict[str, Vector]:
    """The records' embeddings as the product makes them: of the title, and where the records
    are in more than one language of the title and lead too (:func:`briefs.embed.passages`)."""
    articles = to_articles(records)
    with_lead = several_languages(articles)
    texts = [(a.id, passages(a.title, a.summary, with_lead)) for a in articles]
    return embed_within(embedder, texts, float("inf"))


def evaluate_grouping(
    records: Sequence[EvalRecord],
    settings: GroupSettings,
    text: TextMode = "lead",
    embeddings: Mapping[str, Vector] | None = None,
    orders: int = 0,
) -> dict[str, Any]:
    """Group the records and score the result against their gold stories.

    The figures are for all records; ``languages`` has them per ``lang_guess`` (grouped
    together, scored apart). With ``orders`` > 0, ``orders`` has the mean, smallest and largest
    BCubed and pairwise F1 over that many other within-day orders of the articles (the main
    figures are for the first order).
    """
    if text == "full":
        settings = dataclasses.replace(settings, lead_words=0)
    gold = {r.id: r.gold for r in records}

    def run(order: int) -> dict[str, str]:
        renamed = _relabelled(records, order)
        articles = to_articles([dataclasses.replace(r, id=k) for k, r in renamed.items()], text)
        vectors = None
        if embeddings is not None:
            vectors = {k: embeddings[r.id] for k, r in renamed.items() if r.id in embeddings}
        predicted = predict_stories(articles, settings, vectors)
        return {renamed[k].id: story for k, story in predicted.items()}

    predicted = run(0)
    result = _scores(gold, predicted)
    by_lang: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for r in records:
        by_lang[r.lang or "?"][r.id] = r.gold
    if len(by_lang) > 1:
        result["languages"] = {
            lang: {
                k: v
                for k, v in _scores(sub, predicted).items()
                if k in ("articles", "bcubed_f1", "pairwise_f1")
            }
            for lang, sub in sorted(by_lang.items())
        }
    if orders > 0:
        figures: defaultdict[str, list[float]] = defaultdict(list)
        for order in range(1, orders + 1):
            scores = _scores(gold, run(order))
            for key in ("bcubed_f1", "pairwise_f1"):
                figures[key].append(scores[key])
        result["orders"] = {
            "n": orders,
            **{
                key: {
                    "mean": round(sum(v) / len(v), 4),
                    "min": min(v),
                    "max": max(v),
                    "range": round(max(v) - min(v), 4),
                }
                for key, v in figures.items()
            },
        }
    return result
