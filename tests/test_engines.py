"""Both engines under several processes: the locks (flock files, PostgreSQL advisory locks),
pollers sharing sources through claims, and a database server that goes away mid-run.

Each test runs on a SQLite file and on a database of the session's PostgreSQL cluster
(``database`` fixture, tests/pgserver.py), unless it is about the server itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import Config, load_config
from briefs.errors import LockError
from briefs.lock import named_lock
from briefs.schedule import Daemon
from briefs.store import open_store
from tests.adversarial.corpus import build_feeds
from tests.conftest import ROOT
from tests.pgserver import PostgresServer

NOW = dt.datetime(2024, 4, 5, 6, tzinfo=dt.UTC)


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BRIEFS_CONFIG", None)
    return env


def write_config(folder: Path, database: str, base: str, feeds: int, schedule: str = "") -> Path:
    """A briefs.toml polling ``feeds`` feeds of the corpus at ``base``, into ``database``."""
    lines = [
        f'database = "{database}"',
        'output = "out"',
        "[brief]",
        'title = "Engines Brief"',
        "[fetch]",
        "allow_private = true",
        "fetch_full_text = false",
        "timeout = 60",
        "[schedule]",
        "poll_tick = 1",
        "jitter = 0",
        schedule,
    ]
    for f in range(feeds):
        lines += ["[[sources]]", f'id = "outlet{f}"', f'url = "{base}/feed/{f}.xml"']
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "briefs.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def query(database: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql``, read around the store (the database is watched while others write)."""
    url = database if "://" in database else f"sqlite:///{database}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


class CountingFeeds:
    """The corpus on loopback, counting requests per feed; each answer waits ``delay`` s."""

    def __init__(self, documents: dict[str, bytes], delay: float = 0.0) -> None:
        import http.server

        self.documents = documents
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self.first_hit: dict[str, float] = {}
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner.lock:
                    owner.hits[self.path] += 1
                    owner.first_hit.setdefault(self.path, time.monotonic())
                    delay = owner.delay
                time.sleep(delay)
                body = owner.documents.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client killed mid-answer (the point of some tests)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CountingFeeds:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Logs(list[str]):
    """The stderr of each process, once they have ended."""


@contextmanager
def daemons(
    config: Path, *roles: str, logs: Logs | None = None
) -> Iterator[list[subprocess.Popen[str]]]:
    """``briefs daemon --role ROLE`` processes, stopped with SIGTERM at the end (their stderr
    then in ``logs``)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "briefs", "--config", str(config), "daemon", "--role", role],
            env=_env(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in roles
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            if logs is not None:
                logs.append(err)


def _config(tmp_path: Path, database: str) -> Config:
    return load_config(write_config(tmp_path / "cfg", database, "http://127.0.0.1:9", 1))


# -- the same brief ---------------------------------------------------------------------------


def test_the_demo_brief_is_the_same_on_both_engines(
    seeds_copy: Path, tmp_path: Path, postgres: PostgresServer
) -> None:
    from briefs.pipeline import run

    config = load_config(seeds_copy / "briefs.toml")
    now = dt.datetime(2024, 4, 6, 9, tzinfo=dt.UTC)
    outputs = {}
    for engine, database in (("sqlite", str(tmp_path / "b.db")), ("pg", postgres.new_database())):
        out = tmp_path / engine
        engine_config = dataclasses.replace(config, database=database, output=out)
        run(engine_config, date=dt.date(2024, 4, 6), now=now)
        run(engine_config, date=dt.date(2024, 4, 7), now=now + dt.timedelta(days=1))
        outputs[engine] = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}
    assert outputs["sqlite"].keys() == outputs["pg"].keys()
    assert "2024-04-06.md" in outputs["pg"]
    for name, data in outputs["sqlite"].items():
        assert outputs["pg"][name] == data, name


# -- locks ------------------------------------------------------------------------------------


def test_locks_exclude_wait_and_name_their_holder(tmp_path: Path, database: str) -> None:
    config = _config(tmp_path, database)
    lock = named_lock(config, "build")
    lock.acquire(doing="briefs daemon: building 2024-04-06")
    try:
        assert lock.is_locked() and named_lock(config, "build").is_locked()
        assert not named_lock(config, "mail").is_locked()  # the locks are separate
        holder = named_lock(config, "build").holder()
        assert holder is not None and holder.startswith(
            f"briefs daemon: building 2024-04-06 (pid {os.getpid()}"
        )
        assert "since " in holder
        other = named_lock(config, "build")
        started = time.monotonic()
        with pytest.raises(LockError) as refused:
            other.acquire(1, doing="briefs run")
        assert time.monotonic() - started >= 1
        message = str(refused.value)
        assert message.startswith("briefs daemon: building 2024-04-06 (pid ")
        assert "after waiting 1 s; cannot poll or build now, try again later" in message
        where = "the build lock of database" if "://" in database else "b.db.build.lock"
        assert where in message
        assert not other.held
        # released while another waits: it goes ahead
        threading.Timer(0.5, lock.release).start()
        with other.hold(20, doing="briefs run"):
            assert other.held and lock.is_locked()
    finally:
        lock.release()
    assert not named_lock(config, "build").is_locked()
    assert named_lock(config, "build").holder() is None


def test_a_lock_is_released_when_its_holder_dies(tmp_path: Path, database: str) -> None:
    cfg = write_config(tmp_path / "cfg", database, "http://127.0.0.1:9", 1)
    code = (
        "import sys, time\n"
        "from briefs.config import load_config\n"
        "from briefs.lock import named_lock\n"
        f"named_lock(load_config({str(cfg)!r}), 'build').acquire(doing='a doomed build')\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n"
    )
    config = load_config(cfg)
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=_env()
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
            assert named_lock(config, "build").is_locked()
            with pytest.raises(LockError, match="a doomed build"):
                named_lock(config, "build").acquire(0)
        finally:
            proc.kill()
            proc.wait(timeout=10)
    with named_lock(config, "build").hold(timeout=10):  # the server or kernel let it go
        pass


def test_one_builder_per_database_but_any_number_of_pollers(tmp_path: Path, database: str) -> None:
    config = _config(tmp_path, database)
    holder = named_lock(config, "daemon")
    holder.acquire(doing="briefs daemon (builder)")
    try:
        with pytest.raises(LockError, match=r"briefs daemon \(builder\).*cannot run a second"):
            Daemon(config, role="builder").run()
        with pytest.raises(LockError, match="cannot run a second daemon"):
            Daemon(config, role="all").run()
        result = CliRunner().invoke(cli, ["--config", str(config.path), "daemon", "--role", "x"])
        assert result.exit_code == 2 and "'x' is not one of 'all', 'poller', 'builder'" in (
            result.output
        )
    finally:
        holder.release()


# -- several pollers --------------------------------------------------------------------------

FEEDS = 24


@pytest.mark.slow
def test_pollers_share_the_sources_and_poll_each_once(tmp_path: Path, database: str) -> None:
    docs = build_feeds(5, FEEDS, 6, NOW)
    with CountingFeeds(docs, delay=0.5) as feeds:
        cfg = write_config(tmp_path / "p", database, feeds.url, FEEDS, "claim_batch = 2")
        open_store(database).close()  # created before the pollers race to create it
        logs = Logs()
        with daemons(cfg, "poller", "poller", "poller", logs=logs) as procs:
            wait_for(lambda: len(feeds.hits) == FEEDS, 120, "every feed polled")
            time.sleep(3)  # several more ticks: nothing may be polled again
    assert all(p.returncode == 0 for p in procs), logs
    assert "Traceback" not in "".join(logs)
    assert feeds.hits == Counter({f"/feed/{f}.xml": 1 for f in range(FEEDS)})
    polled = [
        sum(int(n) for n in re.findall(r"poll: (\d+) of 24 sources polled", log)) for log in logs
    ]
    assert sum(polled) == FEEDS, logs
    assert sum(1 for n in polled if n) >= 2, polled  # shared, not one poller doing it all
    [(states, ok)] = query(
        database,
        "SELECT count(*), sum(CASE WHEN last_status = '200' THEN 1 ELSE 0 END) FROM feed_state",
    )
    assert (states, ok) == (FEEDS, FEEDS)
    [(count, urls)] = query(database, "SELECT count(*), count(DISTINCT url) FROM articles")
    assert count == urls > FEEDS
    assert query(database, "SELECT count(*) FROM source_claims") == [(0,)]  # all released
    # the builder groups what the pollers stored and builds the edition
    config = load_config(cfg)
    builder = Daemon(config, role="builder", clock=lambda: NOW + dt.timedelta(hours=1))
    assert builder.poll_due() == 0 and builder.store.ungrouped_ids() == set()
    builder.close()


@pytest.mark.slow
def test_a_killed_pollers_sources_are_polled_by_another_after_its_lease(
    tmp_path: Path, database: str
) -> None:
    lease = 4.0
    docs = build_feeds(6, 6, 5, NOW)
    with CountingFeeds(docs, delay=60) as feeds:  # the first poller hangs on every feed
        cfg = write_config(
            tmp_path / "k", database, feeds.url, 6, f"claim_batch = 6\nlease_seconds = {lease}"
        )
        open_store(database).close()
        with daemons(cfg, "poller") as [doomed]:
            # (fetch.per_host: a few of its requests at a time; it has claimed all six)
            wait_for(lambda: feeds.hits, 60, "the first poller's requests")
            claims = query(database, "SELECT owner FROM source_claims")
            assert len(claims) == 6 and all(f":{doomed.pid}:" in str(o) for (o,) in claims)
            doomed.kill()
            doomed.wait(timeout=10)
            killed = time.monotonic()
        with feeds.lock:
            claimed = min(feeds.first_hit.values())  # the claims were taken just before
            feeds.delay = 0
            feeds.hits.clear()
            feeds.first_hit.clear()
        with daemons(cfg, "poller") as [heir]:
            wait_for(lambda: len(feeds.hits) == 6, 60, "the second poller's polls")
            taken_over = min(feeds.first_hit.values())
        assert heir.returncode == 0
    # not before the lease ran out (the claims were taken a moment before the first request),
    # and within a lease (plus start-up and a tick) of the kill
    assert taken_over >= claimed + lease - 2.0
    assert taken_over - killed <= lease + 20
    assert feeds.hits == Counter({f"/feed/{f}.xml": 1 for f in range(6)})
    [(ok,)] = query(database, "SELECT count(*) FROM feed_state WHERE last_status = '200'")
    assert ok == 6
    [(count,)] = query(database, "SELECT count(*) FROM articles")
    assert count == 6 * 5  # nothing lost


# -- the server goes away -------------------------------------------------------------------


@pytest.mark.slow
def test_a_server_stopped_mid_run_fails_the_run_cleanly_and_the_next_recovers(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    if postgres.folder is None:
        pytest.skip("an outside server ($BRIEFS_TEST_POSTGRES) is not ours to stop")
    database = postgres.new_database()
    docs = build_feeds(7, 8, 5, NOW)
    with CountingFeeds(docs, delay=2.0) as feeds:
        cfg = write_config(tmp_path / "s", database, feeds.url, 8)
        run = [sys.executable, "-m", "briefs", "--config", str(cfg), "run", "--date", "2024-04-05"]
        open_store(database).close()
        proc = subprocess.Popen(run, env=_env(), cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: len(feeds.hits) == 8, 60, "the run's requests")
            postgres.stop()  # while the feeds are on their way
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
            postgres.start()
        assert proc.returncode == 1, err
        lines = err.strip().splitlines()
        assert lines[-1].startswith("briefs: error: "), err
        assert "Traceback" not in err
        with feeds.lock:
            feeds.delay = 0
        again = subprocess.run(run, env=_env(), cwd=ROOT, capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
    [(count,)] = query(database, "SELECT count(*) FROM articles")
    assert count == 8 * 5
    assert (tmp_path / "s" / "out" / "2024-04-05.md").is_file()


def test_a_daemon_job_during_a_server_outage_logs_one_line_and_the_next_recovers(
    seeds_copy: Path, postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    if postgres.folder is None:
        pytest.skip("an outside server ($BRIEFS_TEST_POSTGRES) is not ours to stop")
    config = dataclasses.replace(
        load_config(seeds_copy / "briefs.toml"), database=postgres.new_database()
    )
    daemon = Daemon(config, clock=lambda: NOW)
    assert daemon.store.article_count() == 0  # opened (and created) while the server is up
    postgres.stop()
    try:
        with caplog.at_level("ERROR", "briefs.schedule"):
            daemon._job_poll()  # what the scheduler runs every tick
    finally:
        postgres.start()
    [line] = [r.getMessage() for r in caplog.records if r.name == "briefs.schedule"]
    assert line.startswith("poll: ") and "\n" not in line
    assert "connect" in line or "database error" in line
    daemon._job_poll()  # the server is back: the same daemon polls as if nothing happened
    assert daemon.store.article_count() == 39
    daemon.close()
