"""Where in a run the memory goes: ``python benchmarks/memline.py CMD ...``.

Runs CMD (e.g. the ``briefs run`` that ``run.py --serve SIZE`` prints), samples the PSS of its
process tree and of its main process every 50 ms, passes its stderr through with timestamps,
and prints the timeline at 0.5 s steps and the peak with its time: against the stage timings
of ``--timings`` this says which stage holds the peak.
"""

import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from launch import _descendants


def pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


cmd = sys.argv[1:]
t0 = time.perf_counter()
p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
samples = []


def sample() -> None:
    while p.poll() is None:
        tree = sum(pss(x) for x in _descendants(p.pid))
        samples.append((time.perf_counter() - t0, tree / 1024, pss(p.pid) / 1024))
        time.sleep(0.05)


threading.Thread(target=sample, daemon=True).start()
for line in p.stderr:
    print(f"{time.perf_counter() - t0:8.2f} {line.rstrip()}", flush=True)
p.wait()
peak = max(samples, key=lambda s: s[1])
last = -1.0
for t, tree, main in samples:
    if t - last >= 0.5:
        print(f"MEM {t:8.2f} tree {tree:6.0f} main {main:6.0f}")
        last = t
print(f"PEAK tree {peak[1]:.0f} MB main {peak[2]:.0f} at {peak[0]:.2f} s (of {samples[-1][0]:.2f})")
