"""Concurrency: two `briefs run` at once, daemon plus `run`, daemon plus `send`.

No corruption, no duplicate articles or emails; the loser waits (default) or, told not to wait,
exits with a clear message.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from briefs.store import open_store
from tests.adversarial.corpus import build_feeds, config_text, serve
from tests.rawdb import raw_sqlite
from tests.servers import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
FEEDS, PER_FEED = 10, 15


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BRIEFS_CONFIG", None)
    return env


def _briefs(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "briefs", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )


def _check_db(db: Path) -> int:
    with raw_sqlite(db) as conn:  # the file itself, after concurrent writers
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, distinct = conn.execute(
            "select count(*), count(distinct url) from articles"
        ).fetchone()
        assert total == distinct, "duplicate articles"
        return int(total)


@pytest.fixture
def corpus() -> object:
    docs = build_feeds(5, FEEDS, PER_FEED, dt.datetime(2024, 4, 5, 6, tzinfo=dt.UTC))
    with serve(docs) as base:
        yield base


@pytest.mark.slow
def test_two_runs_at_once_one_waits(tmp_path: Path, corpus: str) -> None:
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(config_text(corpus, FEEDS))
    procs = [_briefs(cfg, "run", "--date", "2024-04-05") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    news = sorted(int(o[0].split("New articles: ")[1].split()[0]) for o in outs)
    total = _check_db(tmp_path / "briefs.db")
    assert news == [0, total]  # the second run found everything stored by the first


def test_a_run_that_will_not_wait_exits_with_a_clear_message(tmp_path: Path, corpus: str) -> None:
    from briefs.config import load_config
    from briefs.lock import named_lock

    cfg = tmp_path / "briefs.toml"
    cfg.write_text(config_text(corpus, FEEDS))
    # Another process (here: this test, as a daemon would) is building right now.
    with named_lock(load_config(cfg), "build").hold(0, doing="a daemon build"):
        second = _briefs(cfg, "run", "--date", "2024-04-05", "--wait", "0")
        _out, err = second.communicate(timeout=120)
    assert second.returncode == 1
    assert err.startswith("briefs: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err and "a daemon build" in err
    assert not (tmp_path / "out").exists()  # it wrote nothing


def _daemon_config(tmp_path: Path, base: str, smtp_port: int | None = None) -> Path:
    extra = (
        '[schedule]\neditions = ["*/3 * * * * *"]\ngrace_minutes = 1\npoll_tick = 1\njitter = 0\n'
    )
    if smtp_port:
        extra += (
            f'[email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
            'sender = "desk@briefs.example"\nrecipients = ["a@reader.example", "b@reader.example"]\n'
            "retry_delay = 1\n"
        )
    cfg = tmp_path / "briefs.toml"
    text = config_text(base, FEEDS).replace("[fetch]", extra + "[fetch]", 1)
    cfg.write_text(text)
    return cfg


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 0


@pytest.mark.slow
def test_daemon_and_run_at_once(tmp_path: Path, corpus: str) -> None:
    cfg = _daemon_config(tmp_path, corpus)
    daemon = _briefs(cfg, "daemon")
    try:
        time.sleep(1.0)
        run = _briefs(cfg, "run")
        _out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        time.sleep(3.5)  # let the daemon build on its schedule too
    finally:
        _stop(daemon)
    _check_db(tmp_path / "briefs.db")


@pytest.mark.slow
def test_daemon_and_send_at_once_nobody_gets_it_twice(tmp_path: Path, corpus: str) -> None:
    with SmtpServer() as smtp:
        cfg = _daemon_config(tmp_path, corpus, smtp.port)
        daemon = _briefs(cfg, "daemon")
        try:
            deadline = time.monotonic() + 60
            db = tmp_path / "briefs.db"
            while time.monotonic() < deadline:
                if db.exists():
                    with raw_sqlite(db, readonly=True) as conn:  # watched while it runs
                        try:
                            if conn.execute("select count(*) from editions").fetchone()[0]:
                                break
                        except sqlite3.OperationalError:
                            pass
                time.sleep(0.2)
            senders = [_briefs(cfg, "send") for _ in range(2)]
            for s in senders:
                s.communicate(timeout=120)
            time.sleep(2)
        finally:
            _stop(daemon)
        with open_store(str(tmp_path / "briefs.db")) as store:
            editions = store.edition_ids()
        assert editions
        for rcpt in ("a@reader.example", "b@reader.example"):
            subjects = [str(r.message["Subject"]) for r in smtp.inbox.to(rcpt)]
            assert subjects, f"{rcpt} got nothing"
            assert len(subjects) == len(set(subjects)), f"{rcpt} got an edition twice: {subjects}"
        _check_db(tmp_path / "briefs.db")
