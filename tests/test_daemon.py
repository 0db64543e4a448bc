"""`briefs daemon` as a real process, and the locks that keep processes from interleaving."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import load_config
from briefs.errors import LockError
from briefs.lock import named_lock
from briefs.schedule import Daemon
from tests.conftest import ROOT, SEEDS
from tests.rawdb import raw_sqlite
from tests.servers import StaticHttp, free_port


def feed_config(tmp_path: Path, feeds_url: str, schedule: str) -> Path:
    names = sorted(p.name for p in (SEEDS / "feeds").iterdir())
    sources = "".join(
        f'[[sources]]\nid = "{Path(n).stem}"\nurl = "{feeds_url}{n}"\ninterval = 60\n\n'
        for n in names
    )
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        'database = "state/briefs.db"\noutput = "out"\n\n'
        '[brief]\ntitle = "Loopback Brief"\ntimezone = "Europe/London"\n\n'
        "[fetch]\nallow_private = true\ntimeout = 5\n\n"
        f"[schedule]\n{schedule}\n\n{sources}"
    )
    (tmp_path / "state").mkdir(exist_ok=True)
    return cfg


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with raw_sqlite(db, readonly=True) as conn:  # watched while the daemon runs
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # not created yet


@pytest.mark.slow
def test_daemon_polls_builds_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with StaticHttp(SEEDS / "feeds") as feeds:
        # an edition every 4 seconds: one is due (caught up) at start, then the schedule fires
        cfg = feed_config(
            tmp_path,
            feeds.url,
            'editions = ["*/4 * * * * *"]\ngrace_minutes = 1\npoll_tick = 1\njitter = 0',
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TZ": "America/New_York"}
        env.pop("BRIEFS_CONFIG", None)
        cmd = [sys.executable, "-m", "briefs", "--config", str(cfg)]
        proc = subprocess.Popen(
            [*cmd, "daemon", "--serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        db = tmp_path / "state" / "briefs.db"
        failure: BaseException | None = None
        try:
            wait_for(
                lambda: (
                    len(query(db, "select built_at from editions")) == 1
                    and len(query(db, "select * from feed_state where last_status = '200'")) == 5
                ),
                40,
                "the first poll and edition",
            )
            [(first_build,)] = query(db, "select built_at from editions")
            wait_for(
                lambda: query(db, "select built_at from editions")[0][0] != first_build,
                20,
                "a scheduled rebuild",
            )
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.xml", timeout=5) as resp:
                assert resp.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
                assert b"Loopback Brief" in resp.read()
            # (in this process, to save starting two more interpreters)
            second = CliRunner().invoke(cli, ["--config", str(cfg), "daemon"])
            assert second.exit_code == 1
            assert f"briefs daemon (pid {proc.pid}" in second.output
            assert "daemon.lock" in second.output
            status = CliRunner().invoke(cli, ["--config", str(cfg), "status"])
            assert f"Daemon: running: briefs daemon (pid {proc.pid}" in status.output
        except BaseException as exc:
            failure = exc
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        if failure is not None:
            raise AssertionError(f"{failure}\n--- daemon log ---\n{err}") from failure
        assert proc.returncode == 0, err
    assert "SIGTERM: stopping after the current job" in err
    assert err.rstrip().endswith("stopped")
    # the sources were polled once, by the poll job or by the first build (whichever ran first)
    assert len(re.findall(r"5 (?:of 5 )?sources polled, 0 failed, 36 new articles", err)) == 1
    assert "build " in err and "Traceback" not in err
    # state consistent: an intact database, every article once, complete files, lock released
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "select count(*), count(distinct url) from articles") == [(36, 36)]
    out_dir = tmp_path / "out"
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".")]  # no temporary files
    [(edition_id,)] = query(db, "select id from editions")
    for name in (f"{edition_id}.html", "feed.xml", "index.html"):
        assert (out_dir / name).stat().st_size > 0
    assert not (out_dir / f"{edition_id}.eml").exists()  # no [email]: no email edition
    assert not named_lock(load_config(cfg), "daemon").is_locked()


def test_briefs_run_waits_for_a_build_then_fails_with_a_clear_message(
    seeds_copy: Path, tmp_path: Path
) -> None:
    config = load_config(seeds_copy / "briefs.toml")
    lock = named_lock(config, "build")
    lock.acquire(doing="briefs daemon: building 2024-04-06")
    try:
        started = time.monotonic()
        result = CliRunner().invoke(
            cli, ["--config", str(config.path), "run", "--out", str(tmp_path / "o"), "--wait", "1"]
        )
        assert time.monotonic() - started >= 1
        assert result.exit_code == 1
        assert result.output.startswith("briefs: error: briefs daemon: building 2024-04-06 (pid ")
        assert "briefs.db.build.lock after waiting 1 s; cannot poll or build now" in result.output
        # released while `run` waits: it goes ahead
        threading.Timer(0.5, lock.release).start()
        result = CliRunner().invoke(
            cli, ["--config", str(config.path), "run", "--out", str(tmp_path / "o"), "--wait", "20"]
        )
        assert result.exit_code == 0, result.output
    finally:
        lock.release()


def test_a_second_daemon_refuses_to_start(seeds_copy: Path) -> None:
    config = load_config(seeds_copy / "briefs.toml")
    holder = named_lock(config, "daemon")
    holder.acquire(doing="briefs daemon")
    try:
        with pytest.raises(LockError, match=r"briefs daemon \(pid \d+.*cannot run a second daemon"):
            Daemon(config).run()
    finally:
        holder.release()
    assert not holder.is_locked()


def test_locks_are_released_when_the_holder_dies(seeds_copy: Path) -> None:
    config = load_config(seeds_copy / "briefs.toml")
    path = named_lock(config, "build").path
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
            assert named_lock(config, "build").is_locked()
        finally:
            proc.kill()
            proc.wait(timeout=10)
    with named_lock(config, "build").hold(timeout=5):
        pass
