"""Choose trafilatura's options by cross-validation over the extraction benchmark's pages.

Every candidate option is compared with bare trafilatura (``include_comments=False``, the rest
at their defaults) fold by fold, for several partitions of the pages into K folds: an option is
kept only if it scores above bare trafilatura on every fold of every partition. Whole-set F1 is
printed for reference only; it is not the criterion.

    PYTHONPATH=. python benchmarks/extract_options.py [DIR] [--folds 5 10] [--partitions 3]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import trafilatura

from briefs.evaluate.extract import load_benchmark, score_pages
from briefs.ingest.extract import extract_text

CANDIDATES: dict[str, dict[str, Any]] = {
    "favor_precision": {"favor_precision": True},
    "favor_recall": {"favor_recall": True},
    "no tables": {"include_tables": False},
    "favor_precision, no tables": {"favor_precision": True, "include_tables": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "folder", nargs="?", default="../shared/data/article-extraction-benchmark", type=Path
    )
    parser.add_argument("--folds", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--partitions", type=int, default=3)
    args = parser.parse_args()
    pages = list(load_benchmark(args.folder))
    truth = {pid: text for pid, _, text, _ in pages}

    def outputs(options: dict[str, Any]) -> dict[str, str]:
        return {
            pid: trafilatura.extract(html, url=url, include_comments=False, **options) or ""
            for pid, html, _, url in pages
        }

    bare = outputs({})
    product = {pid: extract_text(html, url) for pid, html, _, url in pages}
    runs = {"the product (briefs.ingest.extract)": product}
    runs.update({name: outputs(options) for name, options in CANDIDATES.items()})

    def f1(texts: dict[str, str], ids: list[str]) -> float:
        return score_pages([(truth[i], texts[i]) for i in ids]).f1

    ids = sorted(truth)
    print(f"{len(ids)} pages; bare trafilatura F1 {f1(bare, ids):.4f} on all of them")
    for name, texts in runs.items():
        diffs: list[float] = []
        scores: list[float] = []
        for k in args.folds:
            for seed in range(args.partitions):
                order = ids[:]
                random.Random(seed).shuffle(order)
                scores += [f1(texts, order[j::k]) for j in range(k)]
                diffs += [f1(texts, order[j::k]) - f1(bare, order[j::k]) for j in range(k)]
        wins = sum(d > 0 for d in diffs)
        ties = sum(d == 0 for d in diffs)
        verdict = "keep" if wins == len(diffs) else "drop" if wins < len(diffs) - ties else "same"
        print(
            f"{name:38} all {f1(texts, ids):.4f}, folds {min(scores):.3f}-{max(scores):.3f}; "
            f"fold - bare: min {min(diffs):+.4f} "
            f"max {max(diffs):+.4f}; above bare on {wins}/{len(diffs)} folds, equal on {ties}: "
            f"{verdict}"
        )


if __name__ == "__main__":
    main()
