"""PostgreSQL search: the stored vectors (as shipped: ``article_search``) against an expression
GIN index with no stored vector (ranking then computes the vectors of the matches), over the same
articles and queries as bench_search.py (the ranking statement alone, limit 80, no snippets).

    nice -n 5 env PYTHONPATH=. python benchmarks/bench_search_pg_expr.py --articles 10000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import _articles, _pg_sizes, _queries, _store_into
from corpus import find_data_dir

from briefs.ingest.dedupe import sketch_articles
from briefs.searchquery import parse_query
from briefs.store import open_store
from briefs.store.search_pg import CONFIG, TABLE, _vector, tsquery

RANK = (
    f"ts_rank('{{{{0,0.25,0.5,1}}}}', {{vector}}, to_tsquery('{CONFIG}', %(w)s))"
    " / (1 + greatest(0, extract(epoch from (%(now)s - published)) / 86400.0) / 30)"
)
QUERY = (
    "SELECT id, {rank} AS s FROM {source} WHERE {vector} @@ to_tsquery('" + CONFIG + "', %(q)s)"
    " ORDER BY s DESC LIMIT 80"
)
STORED = f"articles JOIN {TABLE} AS v ON v.article_id = articles.id"


def _timed(conn: Any, sql: str, queries: list[tuple[str, str]], now: Any) -> dict[str, float]:
    runs = []
    for _kind, text in queries:
        q = parse_query(text)
        params = {"q": tsquery(q), "w": tsquery(q, excluded=False), "now": now}
        conn.exec_driver_sql(sql, params).all()  # warm
        started = time.perf_counter()
        conn.exec_driver_sql(sql, params).all()
        runs.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(runs), 2),
        "p90_ms": round(statistics.quantiles(runs, n=10)[-1], 2),
    }


def _statement(vector: str, source: str = "articles") -> str:
    return QUERY.format(rank=RANK.format(vector=vector), vector=vector, source=source)


def main() -> None:
    from tests.pgserver import postgres_server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    opts = parser.parse_args()
    out: dict[str, Any] = {"articles": opts.articles, "load_before": os.getloadavg()}
    articles, now = _articles(opts.articles, find_data_dir(None))
    parts = (_vector("title", "A"), _vector("summary", "B"), _vector("body", "C"))
    expr = "(" + " || ".join(parts) + ")"
    with postgres_server() as server:
        if isinstance(server, str):
            raise SystemExit(f"no PostgreSQL: {server}")
        store, _ = _store_into(
            open_store(server.new_database("p")), articles, sketch_articles(articles)
        )
        conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM ANALYZE articles")
        out["stored"] = _pg_sizes(store)
        queries, naive = _queries(articles), now.replace(tzinfo=None)
        out["stored_rank"] = _timed(conn, _statement("v.vector", STORED), queries, naive)
        conn.exec_driver_sql(f"CREATE INDEX expr_gin ON articles USING gin ({expr})")
        out["expr_gin_bytes"] = conn.exec_driver_sql(
            "SELECT pg_relation_size('expr_gin')"
        ).scalar_one()
        conn.exec_driver_sql("DROP INDEX article_search_vector")
        conn.exec_driver_sql("ANALYZE articles")
        out["expr_rank"] = _timed(conn, _statement(expr), queries, naive)
        out["load_after"] = os.getloadavg()
        conn.close()
        store.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
