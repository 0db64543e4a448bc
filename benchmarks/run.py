"""End-to-end benchmark: `briefs run` on a generated news day, against the floors, at each size.

    PYTHONPATH=. /work/venv/bin/python benchmarks/run.py                  # 1k, 5k, 10k, 50k
    PYTHONPATH=. /work/venv/bin/python benchmarks/run.py --sizes 1k,10k   # a subset
    PYTHONPATH=. python benchmarks/run.py --sizes 10k \
        --database 'postgresql+psycopg://postgres@/postgres?host=/tmp/pg' --pollers 1,2,4

For every size it generates a corpus (see corpus.py) into a temporary folder, serves it from a
loopback server, and runs the product through its public interface, ``python -m briefs run
--timings``, in a fresh subprocess with a fresh database and output folder. Then, in the same
invocation: a second run on the same day (every feed answers 304), the bare feedparser floor over
the same feed bytes and sumy's LexRank over the same edition's stories, each in its own process.
With 5k and 50k both run, the scaling ratios; unless ``--extraction-pages 0``, the full-text
extraction measurement. Prints one table; ``--json FILE`` keeps every figure.

``--database URL`` runs every product run on a PostgreSQL server instead of a SQLite file: URL
names a database of the server where the user may create databases (``postgres``); each run
gets a fresh database of its own (``briefs_bench_<size>``, dropped and created). ``--pollers
1,2,4`` then also polls each size with that many ``briefs daemon --role poller`` processes at
once (each on a fresh database; on SQLite without ``--database``): the wall time from their
start to the last source stored, articles per second, and each poller's peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import build_corpus, build_teaser_site, find_data_dir, load_texts  # noqa: E402
from server import Resource, SiteServer  # noqa: E402

# size label -> (articles, feeds)
SIZES = {
    "1k": (1_000, 100),
    "5k": (5_000, 250),
    "10k": (10_000, 500),
    "50k": (50_000, 2_000),
}
STAGES = (
    "fetch",
    "parse",
    "sketch",
    "extract",
    "store",
    "group",
    "summarize",
    "rank",
    "render",
    "write",
)
RSS_TYPE = "application/rss+xml; charset=utf-8"


@dataclass
class Child:
    """A finished subprocess: wall time, exit code, output and its own peak memory."""

    wall: float
    code: int
    stdout: str
    stderr: str
    maxrss_mb: float
    tree_mb: float = 0.0  # the highest sum over its process tree (worker processes included)
    timed_out: bool = False
    cpu: float = 0.0  # user + system seconds of the command (and its children)


def run_child(cmd: list[str], cwd: Path, timeout: float, root: Path = ROOT) -> Child:
    """Run ``cmd`` through launch.py: its wall time, exit code and its own ru_maxrss.

    ``root`` is the source tree the product is imported from (another one: ``--baseline``).
    """
    env = {**os.environ, "PYTHONPATH": str(root)}
    stamp = time.monotonic_ns()
    out_path, err_path = cwd / f".out-{stamp}", cwd / f".err-{stamp}"
    result_path = cwd / f".result-{stamp}.json"
    launcher = [sys.executable, str(HERE / "launch.py"), str(result_path), "--", *cmd]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            launcher, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    return Child(
        wall=float(result.get("wall", wall)),
        code=int(result["code"]) if "code" in result else (proc.returncode or -1),
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
        maxrss_mb=float(result.get("maxrss_kib", 0)) / 1024,
        tree_mb=float(result.get("tree_rss_kib", 0)) / 1024,
        timed_out=timed_out.is_set(),
        cpu=float(result.get("user", 0.0)) + float(result.get("system", 0.0)),
    )


def parse_timings(stdout: str, *, elsewhere: bool = False) -> dict[str, float]:
    """The ``--timings`` block of ``briefs run``: stage -> seconds (without the total).

    With ``elsewhere``, only the seconds spent alongside the rest (CPU of worker processes and of
    the store's writer thread).
    """
    out: dict[str, float] = {}
    block = stdout.split("Timings:", 1)
    if len(block) < 2:
        return out
    for line in block[1].splitlines():
        match = re.match(
            r"\s+(\S+)\s+([\d.]+) s(?:\s+\(([\d.]+) s CPU of it (?:in worker|alongside).*)?$", line
        )
        if match and match.group(1) != "total":
            if not elsewhere:
                out[match.group(1)] = float(match.group(2))
            elif match.group(3):
                out[match.group(1)] = float(match.group(3))
    return out


def write_config(
    folder: Path,
    feeds: list[Any],
    title: str,
    extra: str = "",
    tags: bool = True,
    database: str = "briefs.db",
    schedule: str = "",
) -> Path:
    """A briefs.toml for the served feeds: product defaults except what loopback needs."""
    lines = [
        f"database = {json.dumps(database)}",
        'output = "output"',
        "",
        "[brief]",
        f"title = {json.dumps(title)}",
        'timezone = "UTC"',
        "max_stories = 30",
        'sections = ["world", "business", "politics", "tech", "sport", "entertainment"]',
        'site_url = "http://localhost:8080/"',
        "",
        "[fetch]",
        "allow_private = true   # the benchmark server is on 127.0.0.0/8",
        'contact_url = "https://example.org/briefs-benchmark"',
        extra,
        "",
        "[schedule]",
        schedule,
        "",
    ]
    for feed in feeds:
        lines += [
            "[[sources]]",
            f"id = {json.dumps(feed.source_id)}",
            f"title = {json.dumps(feed.title)}",
            f"url = {json.dumps(feed.url)}",
            f"tags = [{json.dumps(feed.tag)}]" if tags else "",
            "",
        ]
    path = folder / "briefs.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def briefs_cmd(config: Path, date: dt.date, profile: Path | None = None) -> list[str]:
    """The product's own command line, optionally under cProfile."""
    prefix = [sys.executable]
    if profile is not None:
        prefix += ["-m", "cProfile", "-o", str(profile)]
    return [
        *prefix,
        "-m",
        "briefs",
        "--config",
        str(config),
        "run",
        "--date",
        date.isoformat(),
        "--timings",
    ]


def floor(args: list[str], cwd: Path, timeout: float) -> dict[str, Any]:
    """Run one floor of floors.py in a fresh process; its JSON result (or the error)."""
    child = run_child([sys.executable, str(HERE / "floors.py"), *args], cwd, timeout)
    if child.code != 0 or not child.stdout.strip():
        return {"error": (child.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = dict(json.loads(child.stdout.strip().splitlines()[-1]))
    result["maxrss_mb"] = child.maxrss_mb
    return result


def db_size(folder: Path, database: str | None = None) -> int:
    """Bytes of the SQLite database, with its WAL and shared-memory files if left behind (or
    of the server's ``database``)."""
    if database is not None:
        return int(server_rows(database, "SELECT pg_database_size(current_database())")[0][0])
    return sum(p.stat().st_size for p in folder.glob("briefs.db*") if p.is_file())


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``admin_url``; its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        engine.dispose()
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def server_rows(database: str, sql: str) -> list[Any]:
    """Rows of one query on a database server (None-safe callers catch the errors)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql(sql))
    finally:
        engine.dispose()


def _proc_figures(pid: int) -> tuple[float, float]:
    """A running process's peak resident memory (MB, VmHWM) and CPU seconds so far."""
    hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return hwm, cpu


def bench_pollers(
    label: str, n_feeds: int, pollers: int, config_of: Any, opts: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    """``pollers`` poller daemons at once on a fresh database: time to poll every source."""
    folder = tmp / f"pollers-{pollers}"
    again = 1
    while folder.exists():  # the same number measured again (--pollers 1,2,1,2)
        again += 1
        folder = tmp / f"pollers-{pollers}-{again}"
    folder.mkdir()
    database = (
        fresh_database(opts.database, f"briefs_bench_{label}_p{pollers}".replace(":", "_"))
        if opts.database
        else str(folder / "briefs.db")
    )
    config = config_of(folder, database)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "briefs", "--config", str(config), "daemon", "--role", "poller"]
    # the schema first, so that the pollers do not all race to create it
    subprocess.run(
        [sys.executable, "-m", "briefs", "--config", str(config), "sources", "list"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )

    def stored() -> int:
        if opts.database:
            return int(server_rows(database, "SELECT count(*) FROM feed_state")[0][0])
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
            return int(conn.execute("select count(*) from feed_state").fetchone()[0])

    result: dict[str, Any] = {"pollers": pollers, "load_start": os.getloadavg()[0]}
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            cmd,
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / f"poller-{i}.log").open("wb"),
        )
        for i in range(pollers)
    ]
    figures: list[tuple[float, float]] = []
    try:
        deadline = start + opts.timeout
        while time.perf_counter() < deadline and stored() < n_feeds:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.25)
        result["wall"] = time.perf_counter() - start
        figures = [_proc_figures(p.pid) for p in procs if p.poll() is None]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=120)
    result["load_end"] = os.getloadavg()[0]
    result["sources"] = stored()
    query = "select count(*) from articles"
    if opts.database:
        result["articles"] = int(server_rows(database, query)[0][0])
    else:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            result["articles"] = int(conn.execute(query).fetchone()[0])
    result["peak_mb"] = [round(f[0], 1) for f in figures]
    result["cpu"] = [round(f[1], 1) for f in figures]
    result["polled"] = [
        sum(int(n) for n in re.findall(r"poll: (\d+) of", (folder / f"poller-{i}.log").read_text()))
        for i in range(pollers)
    ]
    result["rate"] = result["articles"] / result["wall"] if result.get("wall") else None
    log(
        f"[{label}] {pollers} poller(s): {result['articles']} articles from "
        f"{result['sources']} sources in {result['wall']:.1f} s ({result['rate']:.0f}/s), "
        f"polled {result['polled']}, peak {result['peak_mb']} MB, CPU {result['cpu']} s, "
        f"load {result['load_start']:.1f}-{result['load_end']:.1f}"
    )
    return result


def bench_size(
    label: str,
    n_articles: int,
    n_feeds: int,
    opts: argparse.Namespace,
    server: SiteServer,
    texts: list[Any],
) -> dict[str, Any]:
    """Generate, serve and run one size; every figure for its column of the table."""
    result: dict[str, Any] = {"size": label, "feeds": n_feeds, "load_start": os.getloadavg()[0]}
    tmp = Path(tempfile.mkdtemp(prefix=f"briefs-bench-{label}-", dir=opts.tmp))
    try:
        t0 = time.perf_counter()
        corpus = build_corpus(
            n_articles,
            n_feeds,
            days=opts.days,
            texts=texts,
            base_urls=server.base_urls,
            seed=opts.seed,
        )
        feeds_dir = tmp / "feeds"
        feeds_dir.mkdir()
        for feed in corpus.feeds:
            (feeds_dir / f"{feed.source_id}.xml").write_bytes(feed.data)
        server.clear()
        server.publish(
            (f.path, Resource.make(f.data, RSS_TYPE, f.last_modified, opts.gzip))
            for f in corpus.feeds
        )
        database = (
            fresh_database(opts.database, f"briefs_bench_{label}".replace(":", "_"))
            if opts.database
            else "briefs.db"
        )
        config = write_config(tmp, corpus.feeds, f"Benchmark {label}", database=database)
        feeds_of = corpus.feeds
        if opts.baseline:
            (tmp / "baseline").mkdir()
            baseline_config = write_config(tmp / "baseline", corpus.feeds, f"Benchmark {label}")
        result.update(
            generate_s=time.perf_counter() - t0,
            articles_generated=corpus.articles,
            events=corpus.events,
            shards=corpus.shards,
            coverage_max=corpus.coverage_max,
            kinds=corpus.kinds,
            feed_mb=corpus.feed_bytes / 1e6,
            edition=corpus.edition_date.isoformat(),
        )
        date = corpus.edition_date
        log(
            f"[{label}] corpus: {result['articles_generated']} articles, "
            f"{result['events']} events, {n_feeds} feeds, {result['feed_mb']:.1f} MB"
        )
        profile = opts.profile / f"briefs-{label}.prof" if opts.profile else None
        first = run_child(briefs_cmd(config, date, profile), tmp, opts.timeout)
        result["first"] = summarize_child(first)
        result["first_requests"] = dict(server.reset_counts())
        if first.code != 0:
            log(f"[{label}] briefs run failed ({first.code}): {first.stderr.strip()[-2000:]}")
        match = re.search(r"New articles: (\d+)", first.stdout)
        result["articles"] = int(match.group(1)) if match else None
        result["db_bytes"] = db_size(tmp, database if opts.database else None)
        result["stories"] = (
            int(server_rows(database, "select count(*) from stories")[0][0])
            if opts.database
            else count_rows(tmp / "briefs.db", "stories")
        )
        if opts.baseline:
            # the same day from another source tree, right after (a fresh database: all 200)
            log(f"[{label}] baseline run ({opts.baseline})")
            base = run_child(
                briefs_cmd(baseline_config, date), tmp / "baseline", opts.timeout, opts.baseline
            )
            result["baseline"] = summarize_child(base)
            server.reset_counts()
        if opts.second_run and first.code == 0:
            log(f"[{label}] second run (all 304)")
            second = run_child(briefs_cmd(config, date), tmp, opts.timeout)
            result["second"] = summarize_child(second)
            result["second_requests"] = dict(server.reset_counts())
        for pollers in opts.pollers:
            result.setdefault("pollers", []).append(
                bench_pollers(
                    label,
                    n_feeds,
                    pollers,
                    lambda folder, db: write_config(
                        folder,
                        feeds_of,
                        f"Benchmark {label}",
                        database=db,
                        schedule="poll_tick = 1\njitter = 0",
                    ),
                    opts,
                    tmp,
                )
            )
        log(f"[{label}] feedparser floor")
        result["feedparser"] = floor(["feedparser", str(feeds_dir)], tmp, opts.timeout)
        result["fastfeedparser"] = floor(["fastfeedparser", str(feeds_dir)], tmp, opts.timeout)
        if opts.product_floor:
            result["feedparser_nosanitize"] = floor(
                ["feedparser", str(feeds_dir), "--no-sanitize"], tmp, opts.timeout
            )
        if first.code == 0 and opts.lexrank_budget > 0:
            log(f"[{label}] LexRank floor (budget {opts.lexrank_budget:.0f} s)")
            result["lexrank"] = floor(
                [
                    "lexrank",
                    str(config),
                    date.isoformat(),
                    "--budget",
                    str(opts.lexrank_budget),
                    "--scope",
                    opts.lexrank_scope,
                ],
                tmp,
                opts.timeout,
            )
    finally:
        result["load_end"] = os.getloadavg()[0]
        if opts.keep:
            log(f"[{label}] kept {tmp}")
        else:
            _rmtree(tmp)
    return result


def bench_extraction(
    opts: argparse.Namespace, server: SiteServer, data_dir: Path
) -> dict[str, Any]:
    """Pages/s through the product (teaser feeds -> fetch page -> extract -> store) vs bare."""
    result: dict[str, Any] = {"pages": opts.extraction_pages, "load_start": os.getloadavg()[0]}
    tmp = Path(tempfile.mkdtemp(prefix="briefs-bench-extract-", dir=opts.tmp))
    try:
        end = dt.datetime(2025, 3, 12, tzinfo=dt.UTC)
        site = build_teaser_site(
            opts.extraction_pages,
            opts.extraction_feeds,
            data_dir=data_dir,
            base_urls=server.base_urls,
            end=end,
        )
        pages_dir = tmp / "pages"
        pages_dir.mkdir()
        for path, markup in site.pages.items():
            (pages_dir / Path(path).name).write_bytes(markup)
        server.clear()
        server.publish(
            (f.path, Resource.make(f.data, RSS_TYPE, f.last_modified, opts.gzip))
            for f in site.feeds
        )
        server.publish(
            (path, Resource.make(markup, "text/html; charset=utf-8", end, opts.gzip))
            for path, markup in site.pages.items()
        )
        # every served page is fetched (max_pages), as the floor extracts every page
        config = write_config(
            tmp,
            site.feeds,
            "Extraction benchmark",
            extra=f"max_pages = {opts.extraction_pages}\n{opts.extraction_config}",
            tags=False,
        )
        result["page_mb"] = site.page_bytes / 1e6
        log(
            f"[extract] {len(site.pages)} pages over {len(site.feeds)} teaser feeds; running briefs"
        )
        profile = opts.profile / "briefs-extraction.prof" if opts.profile else None
        child = run_child(
            briefs_cmd(config, (end - dt.timedelta(seconds=1)).date(), profile), tmp, opts.timeout
        )
        result["product"] = summarize_child(child)
        result["requests"] = dict(server.reset_counts())
        result["extracted"] = count_rows(tmp / "briefs.db", "articles", "body_origin = 'extracted'")
        result["fetched"] = count_rows(tmp / "briefs.db", "pages")
        log("[extract] bare trafilatura floor")
        result["trafilatura"] = floor(["trafilatura", str(pages_dir)], tmp, opts.timeout)
    finally:
        result["load_end"] = os.getloadavg()[0]
        if not opts.keep:
            _rmtree(tmp)
    return result


def _stage(run: dict[str, Any], stage: str) -> str:
    """A stage's seconds, with "w" when part of them ran in worker processes (CPU)."""
    seconds = run["timings"].get(stage)
    return _s(seconds) + (" w" if run.get("elsewhere", {}).get(stage) else "")


def summarize_child(child: Child) -> dict[str, Any]:
    """The figures kept from one product run."""
    return {
        "wall": child.wall,
        "code": child.code,
        "timed_out": child.timed_out,
        "maxrss_mb": child.maxrss_mb,
        "tree_mb": child.tree_mb,
        "cpu": child.cpu,
        "timings": parse_timings(child.stdout),
        "elsewhere": parse_timings(child.stdout, elsewhere=True),
        "stdout": child.stdout[-3000:] if child.code else "",
        "stderr": child.stderr[-3000:] if child.code else "",
    }


def count_rows(db: Path, table: str, where: str = "1") -> int | None:
    """Rows of a table in the product's database (None if the query fails)."""
    if not db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute(f"select count(*) from {table} where {where}").fetchone()[0])
    except sqlite3.Error:
        return None


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# -- the report -------------------------------------------------------------------------------


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def report(results: list[dict[str, Any]], extraction: dict[str, Any] | None) -> str:
    """The table: one column per size, one row per figure."""
    rows: list[tuple[str, list[str]]] = []

    def row(name: str, fn: Any) -> None:
        cells = []
        for r in results:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("—")
        rows.append((name, cells))

    def first(r: dict[str, Any]) -> dict[str, Any]:
        return dict(r["first"])

    row("articles (stored)", lambda r: f"{r['articles']:,}")
    row("feeds", lambda r: f"{r['feeds']:,}")
    row("events / shards", lambda r: f"{r['events']:,} / {r['shards']}")
    row("stories stored", lambda r: f"{r['stories']:,}")
    row("feed bytes", lambda r: f"{r['feed_mb']:.0f} MB")
    row(
        "total (wall, process)",
        lambda r: _s(first(r)["wall"]) + ("  TIMEOUT" if first(r)["timed_out"] else ""),
    )
    row("  CPU (user+sys)", lambda r: _s(first(r)["cpu"]))
    row(
        "  sum of stages",
        lambda r: _s(sum(first(r)["timings"].values()) - sum(first(r)["elsewhere"].values())),
    )
    for stage in STAGES:
        row(f"  {stage}", lambda r, st=stage: _stage(first(r), st))
    others = sorted(
        {k for r in results if "first" in r for k in r["first"]["timings"]} - set(STAGES)
    )
    for stage in others:
        row(f"  {stage}", lambda r, st=stage: _stage(first(r), st))
    row("articles/s", lambda r: f"{r['articles'] / first(r)['wall']:.0f}")
    row("peak memory (maxrss)", lambda r: f"{first(r)['maxrss_mb']:.0f} MB")
    row("  whole process tree", lambda r: f"{first(r).get('tree_mb', 0):.0f} MB")
    row("database size", lambda r: f"{r['db_bytes'] / 1e6:.1f} MB")
    row("  per 10k articles", lambda r: f"{r['db_bytes'] / 1e6 / r['articles'] * 10_000:.1f} MB")
    if any("baseline" in r for r in results):
        row("baseline: total (wall)", lambda r: _s(r["baseline"]["wall"]))
        row("  CPU (user+sys)", lambda r: _s(r["baseline"]["cpu"]))
        row("  parse (w)", lambda r: _stage(r["baseline"], "parse"))
        row("  whole process tree", lambda r: f"{r['baseline'].get('tree_mb', 0):.0f} MB")
        row("  total / baseline", lambda r: _x(first(r)["wall"] / r["baseline"]["wall"]))
    row("floor: feedparser.parse", lambda r: _s(r["feedparser"]["seconds"]))
    row("  total / floor (goal <= 1)", lambda r: _x(first(r)["wall"] / r["feedparser"]["seconds"]))
    row("  parse / floor", lambda r: _x(first(r)["timings"]["parse"] / r["feedparser"]["seconds"]))
    row("floor: fastfeedparser.parse", lambda r: _s(r["fastfeedparser"]["seconds"]))
    row("  total / that floor", lambda r: _x(first(r)["wall"] / r["fastfeedparser"]["seconds"]))
    if any("feedparser_nosanitize" in r for r in results):  # the product's own setting
        row("floor: feedparser, no sanitize", lambda r: _s(r["feedparser_nosanitize"]["seconds"]))
        row(
            "  total / that floor",
            lambda r: _x(first(r)["wall"] / r["feedparser_nosanitize"]["seconds"]),
        )
    row(
        "floor: sumy LexRank",
        lambda r: _s(r["lexrank"]["seconds"]) + (" est." if r["lexrank"]["estimated"] else ""),
    )
    row("  stories (scope)", lambda r: f"{r['lexrank']['stories']:,} ({r['lexrank']['scope']})")
    row(
        "  summarize / floor",
        lambda r: _x(first(r)["timings"]["summarize"] / r["lexrank"]["seconds"]),
    )
    row("second run (all 304)", lambda r: _s(r["second"]["wall"]))
    row(
        "  % of first (goal < 5)", lambda r: f"{100 * r['second']['wall'] / first(r)['wall']:.1f} %"
    )
    row(
        "  feeds answered 304",
        lambda r: f"{r['second_requests'].get('f:304', 0):,} / {r['feeds']:,}",
    )
    row("load avg (start/end)", lambda r: f"{r['load_start']:.1f} / {r['load_end']:.1f}")

    width = max(len(name) for name, _ in rows) + 2
    cols = [max(10, *(len(c[i]) for _, c in rows)) for i in range(len(results))]
    lines = [
        "".ljust(width) + "  ".join(r["size"].rjust(cols[i]) for i, r in enumerate(results)),
    ]
    for name, cells in rows:
        lines.append(name.ljust(width) + "  ".join(c.rjust(cols[i]) for i, c in enumerate(cells)))

    lines += ["", "Second run stages (s)"]
    for r in results:
        if "second" in r:
            stages = " ".join(f"{k}={v:.2f}" for k, v in r["second"]["timings"].items())
            lines.append(f"  {r['size']:>5}  {stages}")

    by = {r["size"]: r for r in results}
    if "5k" in by and "50k" in by and "first" in by["5k"] and "first" in by["50k"]:
        a, b = by["5k"]["first"], by["50k"]["first"]
        lines += [
            "",
            "Scaling 5k -> 50k (10x the articles; goal: total <= 12, no stage super-linear)",
        ]
        lines.append(f"  total (wall)  {b['wall'] / a['wall']:6.1f}")
        for stage in [s for s in (*STAGES, *others) if s in a["timings"] and s in b["timings"]]:
            if a["timings"][stage] >= 0.01:
                ratio = b["timings"][stage] / a["timings"][stage]
                flag = "  super-linear" if ratio > 12 else ""
                lines.append(f"  {stage:<12}  {ratio:6.1f}{flag}")
        lines.append(f"  peak memory   {b['maxrss_mb'] / a['maxrss_mb']:6.1f}")

    if extraction is not None:
        lines += ["", "Full-text extraction (teaser feeds; each item's page fetched and extracted)"]
        tr = extraction.get("trafilatura", {})
        prod = extraction.get("product", {})
        t = prod.get("timings", {})
        n = extraction.get("extracted")
        lines.append(
            f"  pages served            {extraction['pages']:,} "
            f"({extraction.get('page_mb', 0):.0f} MB)"
        )
        if "seconds" in tr:
            lines.append(
                f"  bare trafilatura        {tr['pages'] / tr['seconds']:.1f} pages/s "
                f"({tr['seconds']:.1f} s, one process)"
            )
        pages = extraction.get("fetched")
        if not n or not pages or "extract" not in t:
            lines.append(
                f"  product                 n/a: {n or 0} articles stored with extracted text"
                + ("" if "extract" in t else ", no extract stage in --timings")
            )
        else:
            ingest = sum(t.get(s, 0.0) for s in ("fetch", "parse", "extract", "store"))
            lines.append(
                f"  product (fetch+parse+extract+store) {pages / ingest:.1f} pages/s "
                f"({pages} pages in {ingest:.1f} s, {n} stored with text: {n / ingest:.1f}/s;"
                f" whole run {prod['wall']:.1f} s)"
            )
            if "seconds" in tr:
                lines.append(
                    f"  product / bare          "
                    f"{(pages / ingest) / (tr['pages'] / tr['seconds']):.2f}x"
                    " (goal > 1 with both cores)"
                )
        lines.append(f"  requests                {extraction.get('requests')}")
    return "\n".join(lines)


def serve_only(opts: argparse.Namespace, texts: list[Any]) -> int:
    """Generate one size, serve it until interrupted; run the product by hand against it.

    ``--serve extraction`` serves the extraction benchmark's teaser site instead
    (``--extraction-pages`` pages over ``--extraction-feeds`` feeds).
    """
    tmp = Path(tempfile.mkdtemp(prefix=f"briefs-serve-{opts.serve}-", dir=opts.tmp))
    with SiteServer(opts.hosts) as server:
        if opts.serve == "extraction":
            end = dt.datetime(2025, 3, 12, tzinfo=dt.UTC)
            site = build_teaser_site(
                opts.extraction_pages,
                opts.extraction_feeds,
                data_dir=find_data_dir(opts.data),
                base_urls=server.base_urls,
                end=end,
            )
            server.publish(
                (path, Resource.make(markup, "text/html; charset=utf-8", end, opts.gzip))
                for path, markup in site.pages.items()
            )
            feeds, date = site.feeds, (end - dt.timedelta(seconds=1)).date()
            config = write_config(tmp, feeds, "Extraction benchmark", tags=False)
        else:
            n, m = SIZES[opts.serve] if opts.serve in SIZES else map(int, opts.serve.split(":"))
            corpus = build_corpus(
                n, m, days=opts.days, texts=texts, base_urls=server.base_urls, seed=opts.seed
            )
            feeds, date = corpus.feeds, corpus.edition_date
            config = write_config(tmp, feeds, f"Benchmark {opts.serve}")
        server.publish(
            (f.path, Resource.make(f.data, RSS_TYPE, f.last_modified, opts.gzip)) for f in feeds
        )
        print(f"config: {config}\nedition: {date}", flush=True)
        print(f"run: python -m briefs --config {config} run --date {date} --timings", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(
        description="briefs end-to-end benchmark",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="1k,5k,10k,50k",
        help="comma-separated sizes: 1k, 5k, 10k, 50k, or N:FEEDS (default: %(default)s)",
    )
    parser.add_argument("--days", type=int, default=2, help="days the articles span (default 2)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--data", help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--hosts", type=int, default=16, help="loopback addresses to serve on")
    parser.add_argument("--no-gzip", dest="gzip", action="store_false", help="serve uncompressed")
    parser.add_argument("--no-second-run", dest="second_run", action="store_false")
    parser.add_argument(
        "--no-product-floor",
        dest="product_floor",
        action="store_false",
        help="skip the second feedparser floor (sanitize_html=False, the product's own setting)",
    )
    parser.add_argument(
        "--lexrank-budget",
        type=float,
        default=120.0,
        help="seconds of LexRank before extrapolating (0 skips the floor)",
    )
    parser.add_argument(
        "--lexrank-scope",
        choices=("edition", "candidates"),
        default="edition",
        help="the stories the edition carries, or every candidate story of its window",
    )
    parser.add_argument("--extraction-pages", type=int, default=300, help="0 skips it")
    parser.add_argument("--extraction-feeds", type=int, default=20)
    parser.add_argument(
        "--extraction-config",
        default="",
        help='extra [fetch] lines for the extraction run, e.g. "extract_workers = 0"',
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="per product run")
    parser.add_argument(
        "--profile", type=Path, help="run the first briefs run under cProfile into DIR"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also run the product from this source tree (e.g. an earlier commit's checkout) on"
        " each size, right after the first run: before/after in one invocation",
    )
    parser.add_argument(
        "--serve",
        metavar="SIZE",
        help="only generate and serve SIZE (or 'extraction': the teaser site), print the config"
        " path, and wait (for profiling)",
    )
    parser.add_argument("--tmp", help="where to make temporary folders (default: system temp)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--database",
        help="a PostgreSQL URL (of a database such as postgres, whose user may create "
        "databases): every product run on a fresh database of that server, not a SQLite file",
    )
    parser.add_argument(
        "--pollers",
        default="",
        help="comma-separated numbers of poller processes to time at each size, e.g. 1,2,4",
    )
    opts = parser.parse_args(argv)
    opts.pollers = [int(n) for n in opts.pollers.split(",") if n.strip()]
    if opts.profile:
        opts.profile.mkdir(parents=True, exist_ok=True)
    sizes: list[tuple[str, int, int]] = []
    for item in opts.sizes.split(","):
        item = item.strip()
        if item in SIZES:
            sizes.append((item, *SIZES[item]))
        elif re.fullmatch(r"\d+:\d+", item):
            n, m = map(int, item.split(":"))
            sizes.append((item, n, m))
        elif item:
            parser.error(f"unknown size {item!r} (1k, 5k, 10k, 50k or N:FEEDS)")
    data_dir = find_data_dir(opts.data)
    texts = load_texts(data_dir)
    log(f"{len(texts)} source texts from {data_dir}; load average {os.getloadavg()[0]:.1f}")
    if opts.serve:
        return serve_only(opts, texts)
    results: list[dict[str, Any]] = []
    extraction = None
    with SiteServer(opts.hosts) as server:
        for label, n, m in sizes:
            results.append(bench_size(label, n, m, opts, server, texts))
            if opts.json:
                opts.json.write_text(json.dumps({"sizes": results}, indent=1, default=str))
        if opts.extraction_pages > 0:
            extraction = bench_extraction(opts, server, data_dir)
    table = report(results, extraction)
    print(table)
    if opts.json:
        opts.json.write_text(
            json.dumps(
                {"sizes": results, "extraction": extraction, "table": table}, indent=1, default=str
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
