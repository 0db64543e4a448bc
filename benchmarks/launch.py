"""Run one command and report its own peak memory: ``python launch.py RESULT.json -- CMD ...``.

ru_maxrss as ``wait4`` reports it survives fork and exec: a child forked from a large process
starts with that process's high-water mark. The benchmark process holds the whole corpus, so it
starts this small launcher, and the launcher (a fresh interpreter of a few MB) starts the
command: the figure it writes is the command's own. stdout and stderr pass through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> int:
    """Run the command after ``--``; write wall time, exit code and ru_maxrss (KiB) as JSON."""
    result_path, sep, *cmd = sys.argv[1:]
    if sep != "--" or not cmd:
        raise SystemExit("usage: launch.py RESULT.json -- CMD ...")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "wall": time.perf_counter() - start,
                "code": proc.returncode,
                "maxrss_kib": usage.ru_maxrss,
                "user": usage.ru_utime,
                "system": usage.ru_stime,
            },
            fh,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
