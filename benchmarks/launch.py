"""Run one command and report its peak memory: ``python launch.py RESULT.json -- CMD ...``.

ru_maxrss as ``wait4`` reports it survives fork and exec: a child forked from a large process
starts with that process's high-water mark. The benchmark process holds the whole corpus, so it
starts this small launcher, and the launcher (a fresh interpreter of a few MB) starts the
command: the figure it writes is the command's own (the largest of its processes).

A run that parses in worker processes uses more memory than its largest process: the launcher
also samples the proportional resident memory (PSS) of the whole process tree every 20 ms and
writes the highest sum it saw (``tree_rss_kib``). It makes itself the "subreaper" of the tree,
so the CPU time it writes includes every descendant (workers, the forkserver) however they
were reaped.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc (Linux)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def _tree_rss_kib(pid: int) -> int:
    """The proportional set size (PSS) of the tree: a page shared by n processes (workers
    forked from one server) counts 1/n in each, so the sum is the memory the tree uses."""
    total = 0
    for each in _descendants(pid):
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except (OSError, IndexError, ValueError):
            continue
    return total


def main() -> int:
    """Run the command after ``--``; write wall time, exit code, ru_maxrss and the tree peak."""
    result_path, sep, *cmd = sys.argv[1:]
    if sep != "--" or not cmd:
        raise SystemExit("usage: launch.py RESULT.json -- CMD ...")
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc").is_dir():
        sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    user, system = usage.ru_utime, usage.ru_stime
    while True:  # orphaned descendants reparented to us: their CPU counts too
        try:
            _, _, orphan = os.wait4(-1, 0)
        except ChildProcessError:
            break
        user, system = user + orphan.ru_utime, system + orphan.ru_stime
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "wall": wall,
                "code": proc.returncode,
                "maxrss_kib": usage.ru_maxrss,
                "tree_rss_kib": peak[0],
                "user": user,
                "system": system,
            },
            fh,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
