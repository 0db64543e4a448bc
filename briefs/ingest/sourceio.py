"""What a reader is given for one poll (:class:`briefs.ingest.readers.PollIO`): the shared
HTTP client and per-host limits, the parsing pool, the clock, and the outcome of an answer
(:mod:`briefs.ingest.outcome`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from briefs.config import FetchSettings
from briefs.errors import SourceError, UnsafeURLError
from briefs.ingest.fetch import HostLimiter, fetch_url
from briefs.ingest.outcome import answered, cache_max_age, failed, parsed, succeeded, validated
from briefs.ingest.parsing import ParsePool
from briefs.models import Article, FeedState, MailboxMemory, PollResult, Source
from briefs.timing import Timings

__all__ = ["Memory", "PollRun", "RefusedMove", "SourceIO"]

T = TypeVar("T")
# what a mailbox source has read before, by source id (the store's ``mailbox_memory``)
Memory = Callable[[str], MailboxMemory]


@dataclass(frozen=True, slots=True)
class PollRun:
    """One poll's settings, clock, backoff jitter and timings."""

    settings: FetchSettings
    now: dt.datetime
    rng: random.Random
    timings: Timings | None


class SourceIO:
    """What the readers are given (:class:`briefs.ingest.readers.PollIO`) for one poll."""

    def __init__(
        self,
        poll: PollRun,
        parser: ParsePool,
        client: httpx.AsyncClient,
        limiter: HostLimiter,
        memory: Memory | None = None,
    ) -> None:
        self._poll = poll
        self._parser = parser
        self._client = client
        self._limiter = limiter
        self._memory = memory

    @property
    def now(self) -> dt.datetime:
        return self._poll.now

    @property
    def run(self) -> PollRun:
        """The poll's settings, clock and jitter."""
        return self._poll

    async def in_thread(self, func: Callable[..., T], /, *args: Any) -> T:
        return await asyncio.to_thread(func, *args)

    def succeeded(
        self, source: Source, state: FeedState, articles: tuple[Article, ...], status: str
    ) -> PollResult:
        return succeeded(source, state, self._poll.now, articles, status, self._poll.settings)

    def failed(self, source: Source, state: FeedState, error: str) -> PollResult:
        p = self._poll
        return failed(source, state, p.now, error, p.settings, p.rng)

    def mailbox_memory(self, source: Source) -> MailboxMemory:
        return self._memory(source.id) if self._memory is not None else MailboxMemory()

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
            raise RefusedMove(exc, replace(state, url=None)) from exc
        done = answered(source, state, p.now, result, p.settings, p.rng)
        if done is not None:
            return done
        state = validated(source, state, result)
        max_age = cache_max_age(result.cache_control)
        document = await self._parser.parse(
            result.content, source, result.url, p.now, result.content_type, p.settings.max_entries
        )
        return parsed(source, state, p.now, document, str(result.status), p.settings, max_age)


class RefusedMove(UnsafeURLError):
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
