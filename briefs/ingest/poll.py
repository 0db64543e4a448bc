"""Poll sources once: each is read by the reader of its kind, and reported as a PollResult.

The facade over the readers (:mod:`briefs.ingest.readers`): which sources are polled
(:mod:`briefs.ingest.due`), one HTTP client and one parsing pool (:mod:`briefs.ingest.parsing`)
handed to every reader (:mod:`briefs.ingest.sourceio`), and the per-source fault barrier. One
bad source never stops the others: every failure is caught here, recorded in the source's
FeedState and returned as the result's ``error``; what each HTTP answer means for the source
is :mod:`briefs.ingest.outcome`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence

import httpx

from briefs.config import FetchSettings
from briefs.errors import SourceError, about
from briefs.ingest.due import current_state, select_sources
from briefs.ingest.fetch import HostLimiter, make_client
from briefs.ingest.outcome import (
    failed,
    unexpected,
)
from briefs.ingest.parsing import ParsePool, parse_workers
from briefs.ingest.progress import NullProgress, Progress
from briefs.ingest.readers import reader_for
from briefs.ingest.sourceio import Memory, PollRun, RefusedMove, SourceIO
from briefs.models import FeedState, PollResult, Source
from briefs.timing import Timings

__all__ = ["poll_sources"]

log = logging.getLogger(__name__)


def poll_sources(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    settings: FetchSettings,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    due: bool = False,
    jitter: float = 0,
    progress: Progress | None = None,
    rng: random.Random | None = None,
    timings: Timings | None = None,
    on_result: Callable[[PollResult], None] | None = None,
    memory: Memory | None = None,
) -> list[PollResult]:
    """Poll the sources :func:`briefs.ingest.due.select_sources` picks (``due``, ``jitter``:
    as there), once each; one result per polled source.

    ``transport`` replaces the HTTP transport (tests, benchmarks); ``rng`` the source of
    backoff jitter; ``timings`` gets the time spent parsing as its "parse" stage. With
    ``on_result``, each result is handed to it as soon as its source is done (in the order
    sources finish) and not kept: the list returned is then empty, and a caller that stores
    results as they come holds a few sources' articles at a time instead of the whole poll's.
    ``memory`` says what each mailbox source has read before (without it, every message of a
    mailbox is new).
    """
    todo, skipped = select_sources(sources, states, now, due=due, jitter=jitter)
    for source, reason in skipped:
        if source.enabled and not reason.startswith("not due"):
            log.warning("%s: skipped: %s", source.id, reason)
        else:
            log.debug("%s: skipped: %s", source.id, reason)
    if not todo:
        return []
    return asyncio.run(
        _poll_all(
            todo,
            states,
            PollRun(settings, now, rng or random.Random(), timings),
            transport,
            progress or NullProgress(),
            on_result,
            memory,
        )
    )


async def _poll_all(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    poll: PollRun,
    transport: httpx.AsyncBaseTransport | None,
    progress: Progress,
    on_result: Callable[[PollResult], None] | None,
    memory: Memory | None,
) -> list[PollResult]:
    progress.start("poll", len(sources))
    remote = sum(1 for s in sources if "://" in s.location and not s.location.startswith("file:"))
    settings = poll.settings
    parser = ParsePool(parse_workers(settings, remote), poll.timings, settings.parse_timeout)

    async def one(io: SourceIO, source: Source) -> PollResult | None:
        result = await _poll_one(io, source, current_state(source, states.get(source.id)))
        progress.advance("poll", source.id)
        if on_result is None:
            return result
        on_result(result)
        return None

    try:
        async with make_client(settings, transport) as client:
            limiter = HostLimiter(settings.concurrency, settings.per_host)
            io = SourceIO(poll, parser, client, limiter, memory)
            results = await asyncio.gather(*(one(io, s) for s in sources))
            return [r for r in results if r is not None]
    finally:
        parser.shutdown()
        progress.finish("poll")


async def _poll_one(io: SourceIO, source: Source, state: FeedState) -> PollResult:
    """The source read by its reader; any failure becomes the result's error."""
    p = io.run
    try:
        return await reader_for(source).read(io, source, state)
    except RefusedMove as refused:
        return failed(source, refused.state, p.now, str(refused.error), p.settings, p.rng)
    except SourceError as exc:
        about(exc, source=source.id)
        log.debug("%s (%s): %s", exc.source, exc.url or source.location, exc)
        return failed(source, state, p.now, str(exc), p.settings, p.rng)
    except Exception as exc:  # the per-source fault barrier (see the docstring)
        log.debug("%s: unexpected failure", source.id, exc_info=True)
        return failed(source, state, p.now, unexpected(exc), p.settings, p.rng)
