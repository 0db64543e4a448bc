"""Grouping in a daemon's steady state: the cost of one poll's run, extrapolated to a day.

A daemon polling every 15 minutes at R articles a day groups R/96 new articles per run
against a 72-hour window of about 3R articles (their stories reloaded from the store each
run). This builds synthetic articles (``bench_group.build``: real texts reworded into new
events), groups a window's worth in one call (the first run's path), then times ``--runs``
consecutive runs of R/96 new articles each through ``group_articles`` as ``group_pending``
calls it: the window's stories and members passed in, embeddings for every article (random
unit vectors: the cost of the semantic path, not its quality). New articles come in batches
of ``--tie`` sharing one time (feeds that give several items one time), so the runs take the
consensus path; ``--tie 1`` gives every article its own time. CPU seconds per run, and per day
(x 96) as a share of one core. The cost of making embeddings is measured apart
(``--embed``: titles and title + lead per CPU second, the real model on real feed items).

    PYTHONPATH=. python benchmarks/bench_steady.py --rate 20000 --runs 3
    PYTHONPATH=. python benchmarks/bench_steady.py --rate 50000 --runs 3 --orders 16
    PYTHONPATH=. python benchmarks/bench_steady.py --embed
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from bench_group import DATA, build

RUNS_PER_DAY = 96


def steady(rate: int, runs: int, orders: int, tie: int, semantic: bool) -> dict[str, object]:
    from briefs.config import GroupSettings
    from briefs.group import group_articles

    per_run = rate // RUNS_PER_DAY
    window = 3 * rate
    articles = sorted(build(window + runs * per_run), key=lambda a: (a.published, a.id))  # type: ignore[attr-defined]
    start = articles[0].published
    span = (articles[-1].published - start).total_seconds()
    # squeeze the stream to the daemon's rate: the window's articles over 72 h, then the runs
    scale = (window + runs * per_run) / rate * 86400 / span
    timed = [
        dataclasses.replace(
            a, published=start + dt.timedelta(seconds=(a.published - start).total_seconds() * scale)
        )
        for a in articles
    ]
    rng = np.random.default_rng(7)
    embeddings = None
    if semantic:
        rows = rng.standard_normal((len(timed), 384)).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        embeddings = {a.id: rows[i] for i, a in enumerate(timed)}
    settings = GroupSettings(consensus_orders=orders)
    head, tail = timed[:window], timed[window:]
    t = time.process_time()
    stories = {s.id: s for s in group_articles(head, [], {}, settings, embeddings)}
    first = time.process_time() - t
    by_id = {a.id: a for a in timed}
    costs = []
    for k in range(runs):
        new = tail[k * per_run : (k + 1) * per_run]
        if tie > 1:  # batches of `tie` articles share the time of the batch's first
            new = [
                dataclasses.replace(a, published=new[i - i % tie].published)
                for i, a in enumerate(new)
            ]
            for a in new:
                by_id[a.id] = a
        horizon = new[0].published - dt.timedelta(hours=settings.window_hours)
        active = [s for s in stories.values() if s.last_updated >= horizon]
        members = {i: by_id[i] for s in active for i in s.article_ids}
        t = time.process_time()
        changed = group_articles(new, active, members, settings, embeddings)
        costs.append(time.process_time() - t)
        stories.update({s.id: s for s in changed})
    per = float(np.median(costs))
    return {
        "rate_per_day": rate,
        "window_articles": window,
        "new_per_run": per_run,
        "orders": orders,
        "tie": tie,
        "semantic": semantic,
        "first_run_cpu_s": round(first, 1),
        "run_cpu_s": [round(c, 2) for c in costs],
        "cpu_s_per_day": round(per * RUNS_PER_DAY),
        "share_of_a_core": round(per * RUNS_PER_DAY / 86400, 4),
    }


def embed_rates() -> dict[str, float]:
    from briefs.embed import load_embedder, passages

    embedder = load_embedder()
    if embedder is None:
        sys.exit("the embedding model is not installed")
    from briefs.ingest.parse import parse_feed
    from briefs.models import Source

    now = dt.datetime(2026, 2, 18, 12, tzinfo=dt.UTC)
    items = []
    for path in sorted((DATA / "news-feeds-2026-02-17").glob("*.xml")):
        source = Source(id=path.stem, kind="feed", location=str(path.resolve()))
        parsed = parse_feed(path.read_bytes(), source, url=path.resolve().as_uri(), now=now)
        items.extend(parsed.articles)
    items = items[:200]
    out: dict[str, float] = {"items": len(items)}
    for name, with_lead in (("titles", False), ("title_and_lead", True)):
        texts = [p for a in items for p in passages(a.title, a.summary or a.body, with_lead)]
        t = time.process_time()
        embedder.embed(texts)
        out[f"{name}_per_cpu_second"] = round(len(items) / (time.process_time() - t), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20000, help="articles a day")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orders", type=int, default=32, help="group.consensus_orders")
    parser.add_argument("--tie", type=int, default=5, help="new articles per shared time")
    parser.add_argument("--lexical", action="store_true", help="no embeddings")
    parser.add_argument("--embed", action="store_true", help="measure embedding rates only")
    args = parser.parse_args()
    if args.embed:
        print(json.dumps(embed_rates()))
        return
    print(json.dumps(steady(args.rate, args.runs, args.orders, args.tie, not args.lexical)))


if __name__ == "__main__":
    main()
