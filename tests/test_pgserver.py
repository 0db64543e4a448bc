"""The throwaway cluster of tests/pgserver.py does not outlive a pytest killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pgserver import _skip_reason

ROOT = Path(__file__).resolve().parent.parent

# A stand-in for pytest: starts a cluster, says where, and waits to be killed.
CHILD = """
import sys, time
from tests.pgserver import postgres_server
with postgres_server() as server:
    print(server if isinstance(server, str) else server.folder, flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too (it has no parent here that reaps it at once)
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(
    bool(os.environ.get("BRIEFS_TEST_POSTGRES")) or _skip_reason() is not None,
    reason=f"no cluster of our own to start: {_skip_reason() or 'BRIEFS_TEST_POSTGRES is set'}",
)
def test_a_killed_pytest_leaves_no_cluster_running() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        folder = Path(child.stdout.readline().strip())
        pid_file = folder / "data" / "postmaster.pid"
        assert pid_file.exists(), f"no running cluster: {folder}"
        postmaster = int(pid_file.read_text().split()[0])
        assert _alive(postmaster)
        child.send_signal(signal.SIGKILL)
        child.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (_alive(postmaster) or folder.exists()):
            time.sleep(0.1)
        assert not _alive(postmaster), "the postmaster outlived the killed process"
        assert not folder.exists(), "the cluster's folder was left behind"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
