"""Seconds per stage, for ``briefs run --timings`` and the benchmarks.

The pipeline owns one :class:`Timings` per run and hands it to the stages that do several things
inside one call (polling fetches, parses and stores), so each part is reported on its own line.

Stages that overlap (polling: the parsing thread parses while the event loop fetches and stores)
are measured in CPU time of the thread doing them (``time.thread_time``): wall time there would
count each thread's waits for the other's GIL twice. The poll's wall time minus those is what the
fetching cost, so the stages still add up to the run's wall time.

A large poll parses (and sketches) in worker processes instead: their CPU seconds are added to
the stage as well and also kept in :attr:`Timings.elsewhere`, because they ran alongside the
main process and are not part of its wall time. So is storing a poll, done by a writer thread
beside the fetching (:meth:`Timings.alongside`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

__all__ = ["Timings", "timed"]

log = logging.getLogger(__name__)


class Timings(dict[str, float]):
    """Seconds spent per stage, in the order the stages first ran.

    ``elsewhere`` holds the part of a stage's seconds spent alongside the main thread's work (CPU
    time of worker processes or of another thread).
    """

    def __init__(self) -> None:
        super().__init__()
        self.elsewhere: dict[str, float] = {}

    def here(self, name: str) -> float:
        """The seconds of ``name`` spent in this process."""
        return self.get(name, 0.0) - self.elsewhere.get(name, 0.0)

    @contextmanager
    def stage(self, name: str, clock: Callable[[], float] = time.perf_counter) -> Iterator[None]:
        """Add the time spent inside the block to ``name`` (a stage may run several times).

        ``clock`` is wall time by default; ``time.thread_time`` for a stage that overlaps others.
        """
        log.debug("stage %s started", name)
        self.setdefault(name, 0.0)  # keep the order in which stages start, not finish
        start = clock()
        try:
            yield
        finally:
            self[name] += clock() - start

    def add(self, name: str, seconds: float, *, elsewhere: bool = False) -> None:
        """Add ``seconds`` to a stage measured elsewhere (another thread, or with ``elsewhere``
        another process); not logged."""
        self[name] = self.get(name, 0.0) + seconds
        if elsewhere:
            self.elsewhere[name] = self.elsewhere.get(name, 0.0) + seconds

    @contextmanager
    def alongside(self, name: str, clock: Callable[[], float] = time.thread_time) -> Iterator[None]:
        """Add the time spent inside the block to ``name`` as time spent alongside the main
        thread's work (another thread's CPU time): counted in the stage, not in the run's wall
        time (see :attr:`elsewhere`)."""
        log.debug("stage %s started", name)
        start = clock()
        try:
            yield
        finally:
            self.add(name, clock() - start, elsewhere=True)


def timed(timings: Timings | None, name: str) -> AbstractContextManager[None]:
    """``timings.stage(name)``, or nothing when no timings are being kept."""
    return timings.stage(name) if timings is not None else nullcontext()
