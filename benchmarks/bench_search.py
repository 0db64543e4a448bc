"""Full-text search over 50,000 stored articles: query time and what the index costs.

    PYTHONPATH=. python benchmarks/bench_search.py                 # 50,000 articles
    PYTHONPATH=. python benchmarks/bench_search.py --articles 5000 --json

Builds the benchmark corpus (benchmarks/corpus.py, from ../shared/data at run time: full-text
articles over 500 feeds and 60 days), parses its feeds into Articles and stores them twice in
the same process: once in a database with the full-text index (the triggers fill it as the
articles are stored), once in one without (its index and triggers dropped first). It reports

- the size of each database (pages in use after a checkpoint) and what the index adds;
- the storing time of each, so the cost of the triggers on every write;
- the time of ``briefs.search.search`` (the query read, the index asked, the hits gathered by
  story: what ``briefs search`` and ``/search`` do, limit 20) over queries drawn with a fixed
  seed from the stored titles, by kind: a rare word, a common word, two words, a phrase, a
  prefix, an OR of two words; each run 5 times, the median and 90th percentile of all runs.

Both databases hold the articles and their near-duplicate sketches, as a poll stores them, and
nothing else (no embeddings, stories, story links, page cache or editions, which a real
database also holds): the index's share of a real database is smaller than reported here. The
sizes by table (SQLite's dbstat) give the index against the articles table alone too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from corpus import build_corpus, find_data_dir, load_texts

from briefs.ingest.dedupe import sketch_articles
from briefs.ingest.parse import parse_feed
from briefs.models import Article, Sketch, Source
from briefs.search import search
from briefs.store import Store, open_store

BATCH = 2000
RUNS = 5
KINDS = ("rare word", "common word", "two words", "phrase", "prefix", "or")


def _articles(n: int, data: Path) -> tuple[list[Article], dt.datetime]:
    texts = load_texts(data)
    corpus = build_corpus(n, 500, days=60, texts=texts, base_urls=["http://bench.example"], seed=19)
    now = corpus.end
    out: list[Article] = []
    for feed in corpus.feeds:
        source = Source(feed.source_id, "feed", feed.url, title=feed.title)
        out.extend(parse_feed(feed.data, source, url=feed.url, now=now).articles)
    return out, now


def _store(
    path: Path, articles: list[Article], sketches: dict[str, Sketch], *, index: bool
) -> tuple[Store, float]:
    store = open_store(str(path))
    if not index:
        with store.engine.begin() as conn:
            for trigger in ("insert", "delete", "update"):
                conn.exec_driver_sql(f"DROP TRIGGER articles_fts_{trigger}")
            conn.exec_driver_sql("DROP TABLE articles_fts")
    started = time.perf_counter()
    for i in range(0, len(articles), BATCH):
        with store.transaction():
            new = store.add_articles(articles[i : i + BATCH])
            made = {a.id: sketches[a.id] for a in new if a.id in sketches}
            store.save_sketches_of(new, made)  # as a poll stores them
    return store, time.perf_counter() - started


def _tables(store: Store) -> dict[str, int]:
    """Bytes by table (its indexes with it; the full-text index's shadow tables as one)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat AS d"
            " LEFT JOIN sqlite_master AS m ON m.name = d.name GROUP BY 1"
        ).all()
    out: dict[str, int] = {}
    for name, size in rows:
        key = "articles_fts" if name.startswith("articles_fts") else name
        out[key] = out.get(key, 0) + int(size)
    return out


def _size(store: Store) -> int:
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return int((pages - free) * size)


def _queries(articles: list[Article], seed: int = 7) -> list[tuple[str, str]]:
    """Queries of each kind from the stored titles (words by how many titles hold them)."""
    rng = random.Random(seed)
    titles = [a.title for a in articles]
    words = [re.findall(r"[a-z]{4,}", t.lower()) for t in titles]
    df = Counter(w for ws in words for w in set(ws))
    rare = [w for w, c in df.items() if 5 <= c <= 20]
    common = [w for w, c in df.most_common(300)[20:]]
    bigrams = [f"{a} {b}" for ws in words for a, b in itertools.pairwise(ws)]
    out: list[tuple[str, str]] = []
    for _ in range(10):
        out.append(("rare word", rng.choice(rare)))
        out.append(("common word", rng.choice(common)))
        out.append(("two words", f"{rng.choice(common)} {rng.choice(common)}"))
        out.append(("phrase", f'"{rng.choice(bigrams)}"'))
        out.append(("prefix", rng.choice(common)[:4] + "*"))
        out.append(("or", f"{rng.choice(rare)} OR {rng.choice(common)}"))
    return out


def _time_queries(store: Store, queries: list[tuple[str, str]], now: dt.datetime) -> dict:
    by_kind: dict[str, list[float]] = {k: [] for k in KINDS}
    hits: dict[str, list[int]] = {k: [] for k in KINDS}
    for kind, text in queries:
        search(store, text, now=now)  # warm: the first run reads the pages from disk
        for _ in range(RUNS):
            started = time.perf_counter()
            found = search(store, text, now=now, limit=20)
            by_kind[kind].append((time.perf_counter() - started) * 1000)
        hits[kind].append(found.articles)
    every = [t for ts in by_kind.values() for t in ts]
    return {
        "queries": len(queries),
        "runs": len(every),
        "median_ms": round(statistics.median(every), 2),
        "p90_ms": round(statistics.quantiles(every, n=10)[-1], 2),
        "max_ms": round(max(every), 2),
        "by_kind": {
            k: {
                "median_ms": round(statistics.median(v), 2),
                "p90_ms": round(statistics.quantiles(v, n=10)[-1], 2),
                "median_hits": statistics.median(hits[k]),
            }
            for k, v in by_kind.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--data", help="the shared data folder (default: found above)")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    load = os.getloadavg()
    started = time.perf_counter()
    articles, now = _articles(opts.articles, find_data_dir(opts.data))
    made = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        sketches = sketch_articles(articles)
        plain, plain_s = _store(Path(tmp) / "plain.db", articles, sketches, index=False)
        indexed, indexed_s = _store(Path(tmp) / "indexed.db", articles, sketches, index=True)
        sizes = (_size(plain), _size(indexed))
        tables = _tables(indexed)
        timing = _time_queries(indexed, _queries(articles), now)
        plain.close()
        indexed.close()
    text_bytes = sum(len(a.title) + len(a.summary) + len(a.body) for a in articles)
    report = {
        "articles": len(articles),
        "text_mb": round(text_bytes / 1e6, 1),
        "corpus_and_parse_s": round(made, 1),
        "db_without_index_mb": round(sizes[0] / 1e6, 1),
        "db_with_index_mb": round(sizes[1] / 1e6, 1),
        "index_adds_pct": round(100 * (sizes[1] - sizes[0]) / sizes[0], 1),
        "index_mb": round(tables.get("articles_fts", 0) / 1e6, 1),
        "articles_table_mb": round(tables.get("articles", 0) / 1e6, 1),
        "sketch_tables_mb": round(
            (tables.get("sketches", 0) + tables.get("sketch_bands", 0)) / 1e6, 1
        ),
        "index_vs_articles_table_pct": round(
            100 * tables.get("articles_fts", 0) / max(tables.get("articles", 1), 1), 1
        ),
        "store_without_index_s": round(plain_s, 2),
        "store_with_index_s": round(indexed_s, 2),
        "search": timing,
        "load_before": [round(x, 1) for x in load],
        "load_after": [round(x, 1) for x in os.getloadavg()],
    }
    if opts.json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        if key != "search":
            print(f"{key:>24}: {value}")
    s = report["search"]
    print(f"search: {s['runs']} runs of {s['queries']} queries: median {s['median_ms']} ms, "
          f"p90 {s['p90_ms']} ms, max {s['max_ms']} ms")  # fmt: skip
    for kind, v in s["by_kind"].items():
        print(f"  {kind:>12}: median {v['median_ms']} ms, p90 {v['p90_ms']} ms, "
              f"median hits {v['median_hits']}")  # fmt: skip


if __name__ == "__main__":
    main()
