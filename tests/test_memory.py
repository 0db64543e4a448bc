"""briefs.memory: freed heap pages go back to the system between stages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from briefs import memory

glibc = pytest.mark.skipif(
    memory._malloc_trim() is None, reason="malloc_trim is glibc's: this C library has none"
)

# In a fresh interpreter, so that the heap's layout is this script's alone (in a process that
# has run other tests the freed blocks may sit where glibc gives them back by itself).
_STAGE = """
import json, os
from pathlib import Path
from briefs import memory

def resident():
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

kept, freed = [], []
for i in range(1500):
    freed.append(bytes([i % 251]) * 60_000)  # below glibc's mmap threshold: on the heap
    kept.append(bytes([i % 241]) * 600)
before = resident()
del freed
after_free = resident()
released = memory.release()
after_release = resident()
intact = len(kept) == 1500 and kept[7] == bytes([7]) * 600
print(json.dumps([before, after_free, after_release, released, intact]))
"""


@glibc
def test_release_returns_the_pages_a_stage_freed() -> None:
    # A stage's objects freed between ones that stay (as a run's articles between the
    # grouping's state): glibc keeps the holes resident until it is asked to give them back.
    out = subprocess.run(
        [sys.executable, "-c", _STAGE], capture_output=True, text=True, check=True, timeout=60
    )
    before, after_free, after_release, released, intact = json.loads(out.stdout)
    assert released is True
    assert before - after_free < 20  # freeing alone gives back next to nothing
    assert after_free - after_release > 60  # of about 86 MB freed
    assert intact  # what is in use stays


def test_release_without_glibc_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    assert memory.release() is False
