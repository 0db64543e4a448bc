"""The hand-labelled news day (2026-02-17) as a ``briefs eval group`` file, and its baseline.

The feeds stay in ``../shared/data/news-feeds-2026-02-17`` (publishers' text is not copied
into the project); the story labels are ``benchmarks/data/news-day-2026-02-17.labels.jsonl``,
one line per feed item: ``feed`` (file name), ``link`` (the item's link as briefs stores it,
tracking parameters removed; the guid when an item has no link) and ``story`` (a slug). The
guideline the labels follow is ``benchmarks/data/news-day-2026-02-17.md``.

Each feed is parsed with the product's parser (:func:`briefs.ingest.parse.parse_feed`), each
item matched to its label, and the records written as JSON Lines in the format
:func:`briefs.evaluate.group.load_records` reads (``id``, ``title``, ``text``, ``summary``,
``date`` as an ISO timestamp in UTC, ``lang_guess``, ``story_id``). An item without a label,
a label that matches no item, or a key given twice stops the conversion (EvaluationError)
with the offending keys: labels and feeds must agree exactly.

    PYTHONPATH=. python benchmarks/news_day.py /tmp/news-day.jsonl
    briefs eval group /tmp/news-day.jsonl
    PYTHONPATH=. python benchmarks/news_day.py /tmp/news-day.jsonl \
        --baseline ../shared/data/mmds2025-news-clustering/dev.jsonl

``--since 2026-02-15`` keeps only the items of the 15th on (the days around the 17th, without
the month-long archive of the TIME feed); the check that labels and feeds agree runs first, on
every item. ``--baseline MMDS`` also prints the plain baseline of docs/quality.md on the day:
scikit-learn TF-IDF cosine over title + first 300 characters, average linkage, cut at the
threshold that gives the best English BCubed F1 on the MMDS file (chosen there, never on this
day); the clustering code is benchmarks/group_signals.py's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from briefs.errors import EvaluationError
from briefs.evaluate.group import bcubed, lead_of, load_records, pairwise
from briefs.ingest.parse import parse_feed
from briefs.models import Article, Source

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
# ../shared beside the project, or $BRIEFS_SHARED (as the tests read it)
SHARED = Path(os.environ.get("BRIEFS_SHARED") or PROJECT.parent / "shared")
FEEDS = SHARED / "data" / "news-feeds-2026-02-17"
LABELS = HERE / "data" / "news-day-2026-02-17.labels.jsonl"
# Items without a date of their own would get this time; every item of the day has one.
PARSE_NOW = dt.datetime(2026, 2, 18, 12, 0, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item of one feed file, as the product parses it."""

    feed: str
    position: int  # 0-based, in feed order
    article: Article

    @property
    def key(self) -> tuple[str, str]:
        return (self.feed, self.article.url or self.article.guid)


def feed_items(feeds: Path = FEEDS) -> list[FeedItem]:
    """Every item of every ``*.xml`` feed in ``feeds``, in file-name then feed order."""
    paths = sorted(feeds.glob("*.xml"))
    if not paths:
        raise EvaluationError(f"{feeds}: no feed files (*.xml)")
    items: list[FeedItem] = []
    for path in paths:
        source = Source(id=path.stem, kind="feed", location=str(path.resolve()))
        parsed = parse_feed(path.read_bytes(), source, url=path.resolve().as_uri(), now=PARSE_NOW)
        items.extend(FeedItem(path.name, k, a) for k, a in enumerate(parsed.articles))
    return items


def read_labels(path: Path = LABELS) -> dict[tuple[str, str], str]:
    """The labels file as {(feed, link): story}; a key given twice is an error."""
    labels: dict[tuple[str, str], str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = (str(row["feed"]), str(row["link"]))
            story = str(row["story"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{number}: not a label ({exc})") from exc
        if not story:
            raise EvaluationError(f"{path}:{number}: empty story")
        if key in labels:
            raise EvaluationError(f"{path}:{number}: {key} is labelled twice")
        labels[key] = story
    return labels


def _lang(article: Article) -> str:
    code = article.language.lower().split("-")[0].split("_")[0]
    return code or "en"  # the ten feeds are English; some do not say so


def build_records(
    items: list[FeedItem], labels: dict[tuple[str, str], str]
) -> list[dict[str, Any]]:
    """Eval records for ``items``; every item must have a label and every label an item."""
    counts = Counter(item.key for item in items)
    twice = sorted(k for k, n in counts.items() if n > 1)
    unlabelled = sorted(k for k in counts if k not in labels)
    unmatched = sorted(k for k in labels if k not in counts)
    problems = []
    if twice:
        problems.append(f"{len(twice)} feed item key(s) occur twice: {twice[:5]}")
    if unlabelled:
        problems.append(f"{len(unlabelled)} feed item(s) have no label: {unlabelled[:5]}")
    if unmatched:
        problems.append(f"{len(unmatched)} label(s) match no feed item: {unmatched[:5]}")
    if problems:
        raise EvaluationError("labels and feeds disagree: " + "; ".join(problems))
    records = []
    for item in items:
        a = item.article
        records.append(
            {
                "id": f"{Path(item.feed).stem}-{item.position:03d}",
                "title": a.title,
                "text": a.text,
                "summary": a.summary,
                "date": a.published.astimezone(dt.UTC).isoformat(),
                "lang_guess": _lang(a),
                "story_id": labels[item.key],
                "feed": item.feed,
                "link": item.key[1],
            }
        )
    return records


def write_records(records: list[dict[str, Any]], out: Path) -> None:
    """Write the records as JSON Lines; refuses a path inside the project (the text is the
    publishers')."""
    if out.resolve().is_relative_to(PROJECT):
        raise EvaluationError(f"{out}: write the eval file outside the project")
    out.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )


def baseline(day_path: Path, mmds_path: Path) -> None:
    """Print the TF-IDF average-linkage baseline on the day, its cut chosen on MMDS English."""
    import numpy as np
    from group_signals import _cluster, _score
    from sklearn.feature_extraction.text import TfidfVectorizer

    def similarity(path: Path) -> tuple[Any, list[str], dict[str, str], list[str]]:
        records = load_records(path, "en")
        texts = [r.title + " " + lead_of(r.summary or r.text) for r in records]
        tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
        ids = [r.id for r in records]
        return (
            (tfidf @ tfidf.T).toarray(),
            ids,
            {r.id: r.gold for r in records},
            [r.lang for r in records],
        )

    sim, ids, gold, langs = similarity(mmds_path)
    cuts = np.arange(0.05, 0.95, 0.01)
    scores = [_score(ids, gold, _cluster(sim, c), langs)["en_bcubed"] for c in cuts]
    cut = float(cuts[int(np.argmax(scores))])
    print(
        f"TF-IDF average linkage, cut {cut:.2f} chosen on {mmds_path} (English BCubed F1 "
        f"{max(scores):.3f} there)"
    )
    sim, ids, gold, _ = similarity(day_path)
    labels = _cluster(sim, cut)
    pred = {i: str(label) for i, label in zip(ids, labels, strict=True)}
    b, p = bcubed(gold, pred), pairwise(gold, pred)
    print(f"day: {len(ids)} articles, {len(set(pred.values()))} predicted stories")
    print(f"BCubed P/R/F1 {b[0]:.3f} / {b[1]:.3f} / {b[2]:.3f}")
    print(f"pairwise P/R/F1 {p[0]:.3f} / {p[1]:.3f} / {p[2]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="eval file to write (outside the project)")
    parser.add_argument("--feeds", type=Path, default=FEEDS)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--baseline", type=Path, metavar="MMDS", help="also print the baseline")
    parser.add_argument(
        "--since",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="keep only items published on or after this day (UTC), e.g. 2026-02-15 for the "
        "days around the 17th without TIME's month-long archive",
    )
    args = parser.parse_args()
    try:
        records = build_records(feed_items(args.feeds), read_labels(args.labels))
        if args.since:
            records = [r for r in records if r["date"][:10] >= args.since.isoformat()]
        write_records(records, args.out)
    except EvaluationError as exc:
        raise SystemExit(f"news_day: {exc}") from exc
    stories = Counter(r["story_id"] for r in records)
    print(
        f"{args.out}: {len(records)} articles, {len(stories)} stories "
        f"({sum(1 for n in stories.values() if n > 1)} with 2+ articles, "
        f"largest {max(stories.values())})"
    )
    if args.baseline:
        baseline(args.out, args.baseline)


if __name__ == "__main__":
    main()
