"""Run the briefs CLI in a child process and report its own peak memory.

The peak is the child's VmHWM from /proc (reset at exec), not ru_maxrss: on Linux ru_maxrss
survives fork and exec, so a child of a large test process would report its parent's size.
"""

from __future__ import annotations

CHILD = """
import sys
from briefs.cli import main

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

try:
    main()
finally:
    print("PEAK_MB", peak_mb(), file=sys.stderr)
"""


def peak_of(stderr: str) -> int:
    """The peak (MB) a CHILD run printed last on its standard error."""
    return int(stderr.rsplit("PEAK_MB", 1)[1].split()[0])
