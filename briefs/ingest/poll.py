"""Poll sources once: each is read by the reader of its kind, and reported as a PollResult.

The facade over the readers (:mod:`briefs.ingest.readers`): which sources are polled
(:mod:`briefs.ingest.due`), one HTTP client and one parsing pool (:mod:`briefs.ingest.parsing`)
shared by every reader, and the per-source fault barrier. One bad source never stops the
others: every failure is caught here, recorded in the source's FeedState and returned as the
result's ``error``; what each HTTP answer means for the source is :mod:`briefs.ingest.outcome`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from briefs.config import FetchSettings
from briefs.errors import SourceError, UnsafeURLError
from briefs.ingest.due import current_state, select_sources
from briefs.ingest.fetch import HostLimiter, fetch_url, make_client
from briefs.ingest.outcome import (
    answered,
    cache_max_age,
    failed,
    parsed,
    succeeded,
    unexpected,
    validated,
)
from briefs.ingest.parsing import ParsePool, parse_workers
from briefs.ingest.progress import NullProgress, Progress
from briefs.ingest.readers import reader_for
from briefs.models import Article, FeedState, PollResult, Source
from briefs.timing import Timings

__all__ = ["poll_sources"]

log = logging.getLogger(__name__)

T = TypeVar("T")


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
) -> list[PollResult]:
    """Poll the sources :func:`briefs.ingest.due.select_sources` picks (``due``, ``jitter``:
    as there), once each; one result per polled source.

    ``transport`` replaces the HTTP transport (tests, benchmarks); ``rng`` the source of
    backoff jitter; ``timings`` gets the time spent parsing as its "parse" stage. With
    ``on_result``, each result is handed to it as soon as its source is done (in the order
    sources finish) and not kept: the list returned is then empty, and a caller that stores
    results as they come holds a few sources' articles at a time instead of the whole poll's.
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
            _Poll(settings, now, rng or random.Random(), timings),
            transport,
            progress or NullProgress(),
            on_result,
        )
    )


async def _poll_all(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    poll: _Poll,
    transport: httpx.AsyncBaseTransport | None,
    progress: Progress,
    on_result: Callable[[PollResult], None] | None,
) -> list[PollResult]:
    progress.start("poll", len(sources))
    remote = sum(1 for s in sources if "://" in s.location and not s.location.startswith("file:"))
    settings = poll.settings
    parser = ParsePool(parse_workers(settings, remote), poll.timings, settings.parse_timeout)

    async def one(io: _SourceIO, source: Source) -> PollResult | None:
        result = await io.poll(source, current_state(source, states.get(source.id)))
        progress.advance("poll", source.id)
        if on_result is None:
            return result
        on_result(result)
        return None

    try:
        async with make_client(settings, transport) as client:
            limiter = HostLimiter(settings.concurrency, settings.per_host)
            io = _SourceIO(poll, parser, client, limiter)
            results = await asyncio.gather(*(one(io, s) for s in sources))
            return [r for r in results if r is not None]
    finally:
        parser.shutdown()
        progress.finish("poll")


@dataclass(frozen=True, slots=True)
class _Poll:
    """One poll's settings, clock, backoff jitter and timings."""

    settings: FetchSettings
    now: dt.datetime
    rng: random.Random
    timings: Timings | None


class _SourceIO:
    """What the readers are given (:class:`briefs.ingest.readers.PollIO`), and the fault
    barrier around each of them."""

    def __init__(
        self, poll: _Poll, parser: ParsePool, client: httpx.AsyncClient, limiter: HostLimiter
    ) -> None:
        self._poll = poll
        self._parser = parser
        self._client = client
        self._limiter = limiter

    @property
    def now(self) -> dt.datetime:
        return self._poll.now

    async def poll(self, source: Source, state: FeedState) -> PollResult:
        """The source read by its reader; any failure becomes the result's error."""
        p = self._poll
        try:
            return await reader_for(source).read(self, source, state)
        except _Refused as refused:
            return failed(source, refused.state, p.now, str(refused.error), p.settings, p.rng)
        except SourceError as exc:
            return failed(source, state, p.now, str(exc), p.settings, p.rng)
        except Exception as exc:  # the per-source fault barrier (see the docstring)
            log.debug("%s: unexpected failure", source.id, exc_info=True)
            return failed(source, state, p.now, unexpected(exc), p.settings, p.rng)

    async def in_thread(self, func: Callable[..., T], /, *args: Any) -> T:
        return await asyncio.to_thread(func, *args)

    def succeeded(
        self, source: Source, state: FeedState, articles: tuple[Article, ...], status: str
    ) -> PollResult:
        return succeeded(source, state, self._poll.now, articles, status, self._poll.settings)

    async def parse_file(self, source: Source, state: FeedState, path: str) -> PollResult:
        p = self._poll
        data = await asyncio.to_thread(_read_local, path, p.settings.max_bytes)
        uri = Path(path).as_uri()
        document = await self._parser.parse(data, source, uri, p.now, None, p.settings.max_entries)
        return parsed(source, state, p.now, document, "ok", p.settings, None)

    async def fetch_feed(self, source: Source, state: FeedState) -> PollResult:
        p = self._poll
        url = state.url or source.location
        try:
            result = await fetch_url(
                self._client,
                url,
                p.settings,
                etag=state.etag,
                last_modified=state.last_modified,
                limiter=self._limiter,
                trusted=source.location,
            )
        except UnsafeURLError as exc:
            if state.url is None:
                raise
            # A new home the guard refuses (an older briefs followed a 301 there): the next
            # poll goes back to the configured address.
            raise _Refused(exc, replace(state, url=None)) from exc
        done = answered(source, state, p.now, result, p.settings, p.rng)
        if done is not None:
            return done
        state = validated(source, state, result)
        max_age = cache_max_age(result.cache_control)
        document = await self._parser.parse(
            result.content, source, result.url, p.now, result.content_type, p.settings.max_entries
        )
        return parsed(source, state, p.now, document, str(result.status), p.settings, max_age)


class _Refused(UnsafeURLError):
    """A refused URL to record against another state than the one the poll started from."""

    def __init__(self, error: UnsafeURLError, state: FeedState) -> None:
        super().__init__(str(error))
        self.error = error
        self.state = state


def _read_local(path: str, max_bytes: int) -> bytes:
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise SourceError(f"{path} is over the {max_bytes}-byte limit (fetch.max_bytes)")
    return data
