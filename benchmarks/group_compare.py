"""The grouping configurations side by side on every labelled set, with fold and order spreads.

    PYTHONPATH=. python benchmarks/news_day.py /tmp/news-day.jsonl
    PYTHONPATH=. python benchmarks/group_compare.py \
        ../shared/data/mmds2025-news-clustering/dev.jsonl \
        --day /tmp/news-day.jsonl --cache /tmp/group-emb

Rows: the baseline of docs/quality.md (scikit-learn TF-IDF over title + first 300 characters,
average linkage, its cut chosen on MMDS English BCubed F1: on the whole file for the full-set
and day figures, on the other two folds for each fold's), and the product through
:func:`briefs.evaluate.group.evaluate_grouping` (the code a run uses) in its configurations:
lexical (``semantic = false``, the default before issue 14's second round), the default
(semantic, titles embedded by the product's embedder), semantic with ``recluster`` and
semantic with ``consensus_orders = 6``.
Nothing here is fitted: the product's numbers are its shipped constants (the semantic
calibration was fitted on MMDS folds 0-1; fold 2 is the one it never saw). Columns: BCubed /
pairwise F1 on MMDS English and all languages (first order, then mean and range over
``--orders`` other within-day orders), English by fold (mean, half-range), and the day (its
items carry times, so it has one order).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from group_signals import _cluster
from sklearn.feature_extraction.text import TfidfVectorizer

from briefs.config import GroupSettings
from briefs.embed import Vector, load_embedder
from briefs.evaluate.group import (
    EvalRecord,
    bcubed,
    evaluate_grouping,
    lead_of,
    load_records,
    pairwise,
)

Scores = tuple[float, float]
CONFIGS: dict[str, GroupSettings] = {
    "lexical (old default)": GroupSettings(semantic=False),
    "semantic (default)": GroupSettings(semantic=True),
    "semantic + recluster": GroupSettings(semantic=True, recluster=True),
    "semantic + consensus of 6 orders": GroupSettings(semantic=True, consensus_orders=6),
}


def _fold(story: str) -> int:
    return int(hashlib.sha1(story.encode()).hexdigest(), 16) % 3


def _embeddings(records: Sequence[EvalRecord], cache: Path | None, tag: str) -> dict[str, Vector]:
    path = cache / f"{tag}.npy" if cache else None
    if path is not None and path.exists():
        rows = np.load(path)
    else:
        embedder = load_embedder()
        if embedder is None:
            raise SystemExit("the embedding model is not installed")
        rows = embedder.embed([r.title for r in records])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, rows)
    return {r.id: rows[i] for i, r in enumerate(records)}


def _tfidf(records: Sequence[EvalRecord]) -> np.ndarray:
    texts = [r.title + " " + lead_of(r.summary or r.text) for r in records]
    x = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    return np.asarray((x @ x.T).toarray())


def _scored(records: Sequence[EvalRecord], labels: Sequence[int]) -> Scores:
    gold = {r.id: r.gold for r in records}
    pred = {r.id: str(label) for r, label in zip(records, labels, strict=True)}
    return bcubed(gold, pred)[2], pairwise(gold, pred)[2]


def _baseline_cut(records: Sequence[EvalRecord]) -> float:
    sim = _tfidf(records)
    cuts = np.arange(0.05, 0.95, 0.01)
    return float(max(cuts, key=lambda c: _scored(records, list(_cluster(sim, c)))[0]))


def _baseline(records: Sequence[EvalRecord], cut: float) -> Scores:
    return _scored(records, list(_cluster(_tfidf(records), cut)))


def _product(
    records: Sequence[EvalRecord],
    settings: GroupSettings,
    embeddings: Mapping[str, Vector],
    orders: int,
) -> dict[str, object]:
    emb = embeddings if settings.semantic else None
    return evaluate_grouping(records, settings, embeddings=emb, orders=orders)


def _cell(result: Mapping[str, object]) -> str:
    text = f"{result['bcubed_f1']:.3f} / {result['pairwise_f1']:.3f}"
    orders = result.get("orders")
    if isinstance(orders, dict):
        b, p = orders["bcubed_f1"], orders["pairwise_f1"]
        text += (
            f" (mean {b['mean']:.3f} / {p['mean']:.3f}, range {b['range']:.3f} / {p['range']:.3f})"
        )
    return text


def _spread(values: list[Scores]) -> str:
    a = np.array(values)
    b, p = a[:, 0], a[:, 1]
    return f"{b.mean():.3f}±{np.ptp(b) / 2:.3f} / {p.mean():.3f}±{np.ptp(p) / 2:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mmds", type=Path)
    parser.add_argument("--day", type=Path, help="the labelled day (benchmarks/news_day.py)")
    parser.add_argument("--cache", type=Path, help="folder for the embeddings (made if missing)")
    parser.add_argument("--orders", type=int, default=6)
    args = parser.parse_args()

    mmds = load_records(args.mmds)
    english = [r for r in mmds if r.lang == "en"]
    emb = _embeddings(mmds, args.cache, "mmds")
    day = load_records(args.day) if args.day else []
    if day:
        emb.update(_embeddings(day, args.cache, "day"))
    folds = [[r for r in english if _fold(r.gold) == k] for k in range(3)]
    rows: dict[str, list[str]] = {}

    cut = _baseline_cut(english)
    fold_cuts = [_baseline_cut([r for r in english if _fold(r.gold) != k]) for k in range(3)]
    base: list[str] = [
        "{:.3f} / {:.3f}".format(*_baseline(english, cut)),
        "{:.3f} / {:.3f}".format(*_baseline(mmds, cut)),
        _spread([_baseline(folds[k], fold_cuts[k]) for k in range(3)]),
    ]
    if day:
        base.append("{:.3f} / {:.3f}".format(*_baseline(day, cut)))
    rows[f"TF-IDF average linkage (cut {cut:.2f})"] = base

    run: Callable[[Sequence[EvalRecord], GroupSettings, int], dict[str, object]]
    run = lambda recs, s, n: _product(recs, s, emb, n)  # noqa: E731
    for name, settings in CONFIGS.items():
        cells = [
            _cell(run(english, settings, args.orders)),
            _cell(run(mmds, settings, args.orders)),
        ]
        per_fold = [run(f, settings, 0) for f in folds]
        cells.append(_spread([(float(r["bcubed_f1"]), float(r["pairwise_f1"])) for r in per_fold]))  # type: ignore[arg-type]
        if day:
            cells.append(_cell(run(day, settings, 0)))
        rows[name] = cells
        print(
            name, "folds:", [(r["bcubed_f1"], r["pairwise_f1"]) for r in per_fold], file=sys.stderr
        )

    head = ["MMDS English", "MMDS all languages", "MMDS English by fold"] + (["day"] if day else [])
    print("| | " + " | ".join(head) + " |")
    print("|---" * (len(head) + 1) + "|")
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
