"""Three briefs against one from the same 10k-article day (issue 19: < 1.5x).

    PYTHONPATH=. python benchmarks/desk.py                 # 10k articles over 500 feeds
    PYTHONPATH=. python benchmarks/desk.py --size 2000:100 --builds 3 --json desk.json

Generates the news day of run.py (corpus.py, from ../shared/data at run time; the feeds
written as local files, so no network time is in the figures) and measures, each in a fresh
``python -m briefs`` process through the public command line:

* **run**: ``briefs run`` from an empty database, once with one brief (the single-brief config
  of today: every source) and once with three ``[[briefs]]`` (one over every source like the
  single brief, one by two of the corpus' six tags, one by another tag): one poll, one
  grouping, then one or three editions;
* **build**: on the database those runs left, ``briefs build`` (grouping finds nothing new, so
  it is the editions' own cost) of one brief and of the three, alternated ``--builds`` times,
  the median of each.

The ratios are taken within this one invocation (the machine is shared: compare runs on it, not
figures across days). Prints one table; ``--json FILE`` keeps every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import build_corpus, find_data_dir, load_texts  # noqa: E402
from run import parse_timings, run_child  # noqa: E402

THREE = """
[[briefs]]
id = "all"
title = "Everything"

[[briefs]]
id = "money"
title = "Money and machines"
tags = ["business", "tech"]
max_stories = 15

[[briefs]]
id = "sport"
title = "Sport"
tags = ["sport"]
max_stories = 10
"""


def write_config(folder: Path, feeds: list[Any], extra: str) -> Path:
    """The corpus' feeds as local file sources, the product's defaults otherwise."""
    feed_dir = folder / "feeds"
    feed_dir.mkdir(parents=True)
    lines = [
        'database = "briefs.db"',
        'output = "output"',
        "",
        "[brief]",
        'title = "Benchmark"',
        'timezone = "UTC"',
        "max_stories = 30",
        'sections = ["world", "business", "politics", "tech", "sport", "entertainment"]',
        "",
        "[fetch]",
        "fetch_full_text = false",
        "",
    ]
    for feed in feeds:
        path = feed_dir / f"{feed.source_id}.xml"
        path.write_bytes(feed.data)
        lines += [
            "[[sources]]",
            f"id = {json.dumps(feed.source_id)}",
            f"title = {json.dumps(feed.title)}",
            f'url = "feeds/{path.name}"',
            f"tags = [{json.dumps(feed.tag)}]",
            "",
        ]
    config = folder / "briefs.toml"
    config.write_text("\n".join(lines) + extra, encoding="utf-8")
    return config


def briefs(config: Path, command: str, date: dt.date, timeout: float) -> dict[str, Any]:
    """One ``briefs run|build --timings`` in a fresh process: wall, CPU, stage seconds."""
    cmd = [sys.executable, "-m", "briefs", "--config", str(config), command]
    child = run_child([*cmd, "--date", date.isoformat(), "--timings"], config.parent, timeout)
    if child.code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({child.code}):\n{child.stderr[-3000:]}")
    return {
        "wall": child.wall,
        "cpu": child.cpu,
        "stages": parse_timings(child.stdout),
        "stdout": child.stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="10000:500", help="ARTICLES:FEEDS (default 10000:500)")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--builds", type=int, default=3, help="builds of each, alternated")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--data", help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    opts = parser.parse_args()
    n_articles, n_feeds = map(int, opts.size.split(":"))
    texts = load_texts(find_data_dir(opts.data))
    corpus = build_corpus(
        n_articles,
        n_feeds,
        days=opts.days,
        texts=texts,
        base_urls=["http://127.0.0.1:9/"],
        seed=opts.seed,
    )
    date = corpus.edition_date
    tmp = Path(tempfile.mkdtemp(prefix="briefs-desk-"))
    result: dict[str, Any] = {"size": opts.size, "articles": corpus.articles, "edition": str(date)}
    try:
        one = write_config(tmp / "one", corpus.feeds, "")
        three = write_config(tmp / "three", corpus.feeds, THREE)
        del corpus
        result["load_start"] = os.getloadavg()
        t0 = time.perf_counter()
        result["run_one"] = briefs(one, "run", date, opts.timeout)
        result["run_three"] = briefs(three, "run", date, opts.timeout)
        builds: dict[str, list[dict[str, Any]]] = {"one": [], "three": []}
        for _ in range(opts.builds):
            builds["one"].append(briefs(one, "build", date, opts.timeout))
            builds["three"].append(briefs(three, "build", date, opts.timeout))
        result["builds"] = builds
        result["seconds"] = time.perf_counter() - t0
        result["load_end"] = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(result)
    if opts.json:
        opts.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")


def report(result: dict[str, Any]) -> None:
    """The table: each figure for one brief and three, and their ratio."""
    one, three = result["run_one"], result["run_three"]
    rows = [
        ("run, wall s", one["wall"], three["wall"]),
        ("run, CPU s", one["cpu"], three["cpu"]),
    ]
    for name in ("rank", "summarize", "render", "feeds", "write"):
        rows.append(
            (f"run: {name} s", one["stages"].get(name, 0.0), three["stages"].get(name, 0.0))
        )
    med = {k: statistics.median(b["wall"] for b in v) for k, v in result["builds"].items()}
    cpu = {k: statistics.median(b["cpu"] for b in v) for k, v in result["builds"].items()}
    rows += [
        ("build, wall s (median)", med["one"], med["three"]),
        ("build, CPU s (median)", cpu["one"], cpu["three"]),
    ]
    spread = {
        k: (min(b["wall"] for b in v), max(b["wall"] for b in v))
        for k, v in result["builds"].items()
    }
    print(f"{result['articles']} articles, edition {result['edition']}")
    print(f"load (1, 5, 15 min): {result['load_start']} -> {result['load_end']}")
    print(f"{'':<26} {'one brief':>10} {'three':>10} {'ratio':>7}")
    for label, a, b in rows:
        ratio = f"{b / a:7.2f}" if a else "      -"
        print(f"{label:<26} {a:10.2f} {b:10.2f} {ratio}")
    for k, (lo, hi) in spread.items():
        print(f"build walls, {k}: {lo:.2f} to {hi:.2f} s")


if __name__ == "__main__":
    main()
