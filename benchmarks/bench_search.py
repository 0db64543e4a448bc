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
import shutil
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


def _pg_sizes(store: Store) -> dict[str, int]:
    """Bytes of the PostgreSQL database, of the articles table (with its TOAST and indexes),
    of the stored vectors (``article_search``, schema 17) and of their GIN index."""
    with store.engine.connect() as conn:
        one = conn.exec_driver_sql
        return {
            "database": one("SELECT pg_database_size(current_database())").scalar_one(),
            "articles": one("SELECT pg_total_relation_size('articles')").scalar_one(),
            "vectors": one("SELECT sum(pg_column_size(vector)) FROM article_search").scalar_one(),
            "gin": one("SELECT pg_relation_size('article_search_vector')").scalar_one(),
        }


def _postgres(opts: argparse.Namespace) -> None:
    """The same figures on PostgreSQL: stored once with its vectors (made by a trigger as the
    articles are written), the index's share from the vectors' sizes and the GIN index."""
    from tests.pgserver import postgres_server

    load = os.getloadavg()
    articles, now = _articles(opts.articles, find_data_dir(opts.data))
    sketches = sketch_articles(articles)
    with postgres_server() as server:
        if isinstance(server, str):
            raise SystemExit(f"no PostgreSQL: {server}")
        url = server.new_database("bench")
        store, stored_s = _store_into(open_store(url), articles, sketches)
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE articles")  # as autovacuum leaves it
        sizes = _pg_sizes(store)
        timing = _time_queries(store, _queries(articles), now)
        store.close()
    index = sizes["vectors"] + sizes["gin"]
    report = {
        "engine": "postgresql",
        "articles": len(articles),
        "store_with_index_s": round(stored_s, 2),
        "database_mb": round(sizes["database"] / 1e6, 1),
        "articles_table_mb": round(sizes["articles"] / 1e6, 1),
        "tsvector_values_mb": round(sizes["vectors"] / 1e6, 1),
        "gin_index_mb": round(sizes["gin"] / 1e6, 1),
        "index_adds_pct": round(100 * index / (sizes["database"] - index), 1),
        "index_vs_articles_table_pct": round(100 * index / (sizes["articles"] - index), 1),
        "search": timing,
        "load_before": [round(x, 1) for x in load],
        "load_after": [round(x, 1) for x in os.getloadavg()],
    }
    print(json.dumps(report, indent=2))


def _store_into(
    store: Store, articles: list[Article], sketches: dict[str, Sketch]
) -> tuple[Store, float]:
    started = time.perf_counter()
    for i in range(0, len(articles), BATCH):
        with store.transaction():
            new = store.add_articles(articles[i : i + BATCH])
            store.save_sketches_of(new, {a.id: sketches[a.id] for a in new if a.id in sketches})
    return store, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--data", help="the shared data folder (default: found above)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--once",
        action="store_true",
        help="store the articles once, with the index; its share from dbstat (no second store)",
    )
    parser.add_argument("--keep", help="copy the indexed database to this path")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="store once into a throwaway PostgreSQL cluster (tests/pgserver.py) instead",
    )
    opts = parser.parse_args()
    if opts.postgres:
        _postgres(opts)
        return
    load = os.getloadavg()
    started = time.perf_counter()
    articles, now = _articles(opts.articles, find_data_dir(opts.data))
    made = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        sketches = sketch_articles(articles)
        plain_s = None
        if not opts.once:
            plain, plain_s = _store(Path(tmp) / "plain.db", articles, sketches, index=False)
        indexed, indexed_s = _store(Path(tmp) / "indexed.db", articles, sketches, index=True)
        tables = _tables(indexed)
        if opts.once:  # without the index: the same database less the index's pages
            sizes = (_size(indexed) - tables.get("articles_fts", 0), _size(indexed))
        else:
            sizes = (_size(plain), _size(indexed))
            plain.close()
        timing = _time_queries(indexed, _queries(articles), now)
        indexed.close()
        if opts.keep:
            shutil.copyfile(Path(tmp) / "indexed.db", opts.keep)
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
        "store_without_index_s": None if plain_s is None else round(plain_s, 2),
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
