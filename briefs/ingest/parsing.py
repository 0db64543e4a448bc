"""Where feeds are parsed: worker processes for a large poll or a large document, else a
thread of briefs (with a time budget per document in the workers)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from briefs.config import FetchSettings
from briefs.errors import ParseError
from briefs.ingest.parse import ParsedAndSketched, parse_and_sketch
from briefs.ingest.workers import WorkerPool, stop_fork_server, worker_ready
from briefs.models import Source
from briefs.timing import Timings

__all__ = ["PARSE_PROCESS_BYTES", "PROCESS_POLL_MIN", "ParsePool", "parse_workers"]

log = logging.getLogger(__name__)

# A poll of at least this many sources over HTTP parses in worker processes (settings
# ``parse_workers``): starting them costs about half a second of CPU each, which a poll of a
# hundred feeds (one to two seconds of parsing) repays; a smaller one parses in a thread.
PROCESS_POLL_MIN = 100


def parse_workers(settings: FetchSettings, sources: int) -> int:
    """How many worker processes parse a poll of ``sources`` feeds; 0: one thread of briefs.

    ``parse_workers`` (one per core by default), from PROCESS_POLL_MIN feeds on; 1 is no
    better than the thread.
    """
    wanted = settings.parse_workers if sources >= PROCESS_POLL_MIN else 0
    return wanted if wanted > 1 else 0


# Feed documents at least this large are parsed in a worker process, where a hard time limit
# (fetch.parse_timeout) can stop them, even in a small poll; smaller ones, whose parse time is
# bounded by their size, parse in a thread of briefs unless the poll uses workers anyway.
PARSE_PROCESS_BYTES = 256 * 1024


class ParsePool:
    """Where feeds are parsed: worker processes for a large poll or a large document, else a
    thread.

    Parsing is CPU-bound and holds the GIL: in a thread, one keeps the event loop free for the
    downloads without several parsers fighting over the GIL; worker processes use the other
    cores (:class:`briefs.ingest.workers.WorkerPool`) and bound each parse in time: a parse
    over ``budget`` seconds is ended by killing the workers (the feed's failure; the other
    feeds they had are parsed again in fresh workers). If the workers die on their own
    (killed, out of memory), parsing goes on in the thread. With ``timings``, parsing and
    sketching CPU go to the "parse" and "sketch" stages (marked as spent in other processes
    when they were).
    """

    def __init__(self, workers: int, timings: Timings | None, budget: float = 30.0) -> None:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="briefs-parse")
        self.workers = workers if workers > 1 else 0
        self.processes: WorkerPool | None = None
        self.killed: set[int] = set()  # ids of pools killed for an overrun
        self.broken = False  # the workers died on their own: the thread from now on
        self.timings = timings
        self.budget = max(budget, 0.001)
        self._slots = asyncio.Semaphore(max(self.workers, 1))
        self._starting = asyncio.Lock()

    async def parse(
        self,
        data: bytes,
        source: Source,
        url: str,
        now: dt.datetime,
        content_type: str | None,
        max_entries: int,
    ) -> ParsedAndSketched:
        """Parse (and sketch) one feed document where this parser parses."""
        call = functools.partial(
            parse_and_sketch, data, source, url, now, content_type, max_entries
        )
        if not self.broken and (self.workers or len(data) >= PARSE_PROCESS_BYTES):
            # Workers sketch as well: spare CPU there, and the main process need not.
            parsed = await self._in_worker(call)
            if parsed is not None:
                self._time(parsed, elsewhere=True)
                return parsed
        # In this process, only the new articles are sketched, later (copies.link_copies).
        loop = asyncio.get_running_loop()
        parsed = await loop.run_in_executor(self.thread, functools.partial(call, sketch=False))
        self._time(parsed, elsewhere=False)
        return parsed

    async def _in_worker(self, call: Callable[[], ParsedAndSketched]) -> ParsedAndSketched | None:
        """``call`` in a worker within the budget; None once the workers are broken."""
        loop = asyncio.get_running_loop()
        # One parse per worker at a time, so the budget measures parsing, not queueing.
        async with self._slots:
            while not self.broken:
                pool = await self._pool()
                try:
                    return await asyncio.wait_for(
                        loop.run_in_executor(pool, call), timeout=self.budget
                    )
                except TimeoutError:
                    self.killed.add(id(pool))
                    if self.processes is pool:
                        self.processes = None
                    pool.kill()
                    raise ParseError(
                        f"parsing took longer than {self.budget:g} s (fetch.parse_timeout); stopped"
                    ) from None
                except (BrokenProcessPool, asyncio.CancelledError) as exc:
                    ours = id(pool) in self.killed
                    task = asyncio.current_task()
                    if isinstance(exc, asyncio.CancelledError) and (
                        not ours or (task is not None and task.cancelling())
                    ):
                        raise  # the poll itself is being cancelled
                    if ours:
                        # Killed for another feed's overrun (running, or still queued and
                        # cancelled with the pool): parse it again in new workers.
                        continue
                    log.warning("the parsing processes stopped; parsing goes on in this process")
                    self.broken = True
                    self.processes = None
                    pool.shutdown(wait=False, cancel_futures=True)
        return None

    async def _pool(self) -> WorkerPool:
        """The worker pool, started (and each worker ready) on first use or after a kill."""
        async with self._starting:
            if self.processes is None:
                size = max(self.workers, 1)
                pool = WorkerPool(size)
                loop = asyncio.get_running_loop()
                await asyncio.gather(
                    *(loop.run_in_executor(pool, worker_ready) for _ in range(size))
                )
                self.processes = pool
            return self.processes

    def _time(self, parsed: ParsedAndSketched, *, elsewhere: bool) -> None:
        if self.timings is not None:
            self.timings.add("parse", parsed.parse_seconds, elsewhere=elsewhere)
            if parsed.sketches:
                self.timings.add("sketch", parsed.sketch_seconds, elsewhere=elsewhere)

    def shutdown(self) -> None:
        """Stop the thread and the worker processes (pending work is cancelled), and the fork
        server that started them: nothing needs a worker after the poll until the next one."""
        self.thread.shutdown(wait=False, cancel_futures=True)
        if self.processes is not None:
            self.processes.shutdown(wait=True, cancel_futures=True)
            self.processes = None
        stop_fork_server()
