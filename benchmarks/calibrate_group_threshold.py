"""Where the default grouping threshold comes from: similarity between unrelated articles.

Pairs of BBC News articles from different subject categories (business, entertainment,
politics, sport, tech) are about different events. This script builds their title + lead
vectors exactly as grouping does (default settings, stream statistics accumulating in file
order) and prints high quantiles of their cosine similarities. The default ``threshold`` is the
1-in-10,000 quantile (rounded): an article compared with the ~1,000 stories of a busy window then
meets a false match about one time in ten. No gold story labels are used.

    BRIEFS_SHARED=/path/to/shared PYTHONPATH=. python benchmarks/calibrate_group_threshold.py
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BRIEFS_SHARED") or ROOT.parent / "shared") / "data"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from briefs.config import GroupSettings
    from briefs.evaluate.group import EvalRecord, to_articles
    from briefs.group.features import Featurizer as _Featurizer
    from briefs.group.features import dot as _dot

    path = DATA / "bbc-news-summary" / "dev.jsonl"
    if not path.is_file():
        sys.exit(f"missing {path}")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    random.Random(1).shuffle(rows)
    rows = rows[: int(sys.argv[1]) if len(sys.argv) > 1 else 600]
    records = [EvalRecord(r["id"], r["title"], r["text"], None, r["id"]) for r in rows]
    for text in ("lead", "full"):
        settings = GroupSettings()
        if text == "full":
            settings = dataclasses.replace(settings, lead_words=0)
        features = _Featurizer(settings)
        docs = [features.doc(a) for a in to_articles(records, text)]
        cross = sorted(
            _dot(docs[i].vec, docs[j].vec)
            for i, j in itertools.combinations(range(len(rows)), 2)
            if rows[i]["category"] != rows[j]["category"]
        )
        quantiles = {
            q: cross[min(int(q * len(cross)), len(cross) - 1)] for q in (0.99, 0.999, 0.9999)
        }
        shown = ", ".join(f"{q}: {v:.3f}" for q, v in quantiles.items())
        print(f"{text}: {len(cross)} cross-category pairs; quantiles {shown}")


if __name__ == "__main__":
    main()
