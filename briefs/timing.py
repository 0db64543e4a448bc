"""Seconds per stage, for ``briefs run --timings`` and the benchmarks.

The pipeline owns one :class:`Timings` per run and hands it to the stages that do several things
inside one call (polling fetches and parses), so each part is reported on its own line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

__all__ = ["Timings", "timed"]

log = logging.getLogger(__name__)


class Timings(dict[str, float]):
    """Seconds spent per stage, in the order the stages first ran."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the time spent inside the block to ``name`` (a stage may run several times)."""
        log.debug("stage %s started", name)
        self.setdefault(name, 0.0)  # keep the order in which stages start, not finish
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] += time.perf_counter() - start

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to a stage measured elsewhere (e.g. in another thread); not logged."""
        self[name] = self.get(name, 0.0) + seconds


def timed(timings: Timings | None, name: str) -> AbstractContextManager[None]:
    """``timings.stage(name)``, or nothing when no timings are being kept."""
    return timings.stage(name) if timings is not None else nullcontext()
