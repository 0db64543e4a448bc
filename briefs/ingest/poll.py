"""Poll sources once: fetch or read each, parse it, and report a PollResult per source.

One bad source never stops the others: every failure is caught here, recorded in the source's
FeedState and returned as the result's ``error``. What each answer means for the source:

==================  ==========================================================================
200                 parsed; validators (ETag, Last-Modified) kept for the next conditional GET;
                    next poll after max(interval, the feed's ``<ttl>`` / Cache-Control max-age)
301/308 (chain)     as 200, and the source's stored URL moves to the new address
304                 nothing to parse; next poll as for 200
410                 the source is disabled (shown by ``briefs sources list``)
429, 503            Retry-After is honoured: no request before that time (even by a one-off run)
anything else       a failure: retried after interval * 2**(failures - 1) with jitter, at most
                    ``max_backoff_hours``; never dropped
==================  ==========================================================================
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import http
import logging
import random
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

import httpx

from briefs.config import FetchSettings
from briefs.errors import ParseError, SourceError, UnsafeURLError
from briefs.ingest.bounds import MAX_FLOOR_MINUTES, MAX_RETRY_AFTER, bounded_int, cap
from briefs.ingest.clean import clean_text
from briefs.ingest.fetch import FetchResult, HostLimiter, fetch_url, make_client
from briefs.ingest.files import read_seed_folder
from briefs.ingest.parse import ParsedAndSketched, parse_and_sketch
from briefs.ingest.progress import NullProgress, Progress
from briefs.ingest.workers import WorkerPool, worker_ready
from briefs.models import Article, FeedState, PollResult, Sketch, Source
from briefs.timing import Timings

__all__ = [
    "cache_max_age",
    "failure_result",
    "parse_retry_after",
    "poll_sources",
    "select_sources",
    "unexpected",
]

log = logging.getLogger(__name__)

# A poll of at least this many sources over HTTP parses in worker processes (settings
# ``parse_workers``): starting them costs about half a second of CPU each, which a poll of a
# hundred feeds (one to two seconds of parsing) repays; a smaller one parses in a thread.
PROCESS_POLL_MIN = 100

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)


def select_sources(
    sources: Sequence[Source], states: dict[str, FeedState], now: dt.datetime, *, due: bool
) -> tuple[list[Source], list[tuple[Source, str]]]:
    """Split sources into those to poll now and those skipped (with the reason).

    Disabled sources (by the config or after a 410) are skipped, and so is a source whose
    server asked us to wait (Retry-After) until a later time. With ``due`` (the daemon), a
    source is also skipped until its next poll time; without it (a one-off run) every other
    source is polled.
    """
    todo: list[Source] = []
    skipped: list[tuple[Source, str]] = []
    for source in sources:
        state = _current_state(source, states.get(source.id))
        if not source.enabled:
            skipped.append((source, "disabled in the configuration"))
        elif state.disabled:
            skipped.append((source, f"disabled: {state.last_error or 'gone'}"))
        elif state.retry_until is not None and state.retry_until > now:
            skipped.append((source, f"server asked to wait until {state.retry_until:%H:%M} UTC"))
        elif due and state.next_poll is not None and state.next_poll > now:
            skipped.append((source, f"not due until {state.next_poll:%Y-%m-%d %H:%M} UTC"))
        else:
            todo.append(source)
    return todo, skipped


def poll_sources(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    settings: FetchSettings,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    due: bool = False,
    progress: Progress | None = None,
    rng: random.Random | None = None,
    timings: Timings | None = None,
    on_result: Callable[[PollResult], None] | None = None,
) -> list[PollResult]:
    """Poll the sources :func:`select_sources` picks, once each; one result per polled source.

    ``transport`` replaces the HTTP transport (tests, benchmarks); ``rng`` the source of
    backoff jitter; ``timings`` gets the time spent parsing as its "parse" stage. With
    ``on_result``, each result is handed to it as soon as its source is done (in the order
    sources finish) and not kept: the list returned is then empty, and a caller that stores
    results as they come holds a few sources' articles at a time instead of the whole poll's.
    """
    todo, skipped = select_sources(sources, states, now, due=due)
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
            settings,
            now,
            transport,
            progress or NullProgress(),
            rng,
            timings,
            on_result,
        )
    )


async def _poll_all(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    settings: FetchSettings,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None,
    progress: Progress,
    rng: random.Random | None,
    timings: Timings | None = None,
    on_result: Callable[[PollResult], None] | None = None,
) -> list[PollResult]:
    limiter = HostLimiter(settings.concurrency, settings.per_host)
    rand = rng or random.Random()
    progress.start("poll", len(sources))

    async def one(client: httpx.AsyncClient, source: Source) -> PollResult | None:
        state = _current_state(source, states.get(source.id))
        result = await _poll_one(client, limiter, parser, source, state, settings, now, rand)
        progress.advance("poll", source.id)
        if on_result is None:
            return result
        on_result(result)
        return None

    remote = sum(1 for s in sources if "://" in s.location and not s.location.startswith("file:"))
    parser = _Parser(parse_workers(settings, remote), timings, settings.parse_timeout)
    try:
        async with make_client(settings, transport) as client:
            results = await asyncio.gather(*(one(client, s) for s in sources))
            return [r for r in results if r is not None]
    finally:
        parser.shutdown()
        progress.finish("poll")


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


class _Parser:
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
        """Stop the thread and the worker processes (pending work is cancelled)."""
        self.thread.shutdown(wait=False, cancel_futures=True)
        if self.processes is not None:
            self.processes.shutdown(wait=True, cancel_futures=True)


def _current_state(source: Source, state: FeedState | None) -> FeedState:
    """The stored state, unless it belongs to a location the config no longer names."""
    if state is None or (state.source_url is not None and state.source_url != source.location):
        return FeedState(source.id, source_url=source.location)
    return replace(state, source_url=source.location)


async def _poll_one(
    client: httpx.AsyncClient,
    limiter: HostLimiter,
    parser: _Parser,
    source: Source,
    state: FeedState,
    settings: FetchSettings,
    now: dt.datetime,
    rng: random.Random,
) -> PollResult:
    try:
        if source.kind == "files":
            articles, errors = await asyncio.to_thread(read_seed_folder, source, now)
            for error in errors:
                log.warning("%s: %s", source.id, error)
            return _ok(source, state, now, tuple(articles), "ok", settings)
        if "://" not in source.location or source.location.startswith("file://"):
            path = source.location.removeprefix("file://")
            data = await asyncio.to_thread(_read_local, path, settings.max_bytes)
            uri = Path(path).as_uri()
            parsed = await parser.parse(data, source, uri, now, None, settings.max_entries)
            return _parsed(source, state, now, parsed, "ok", settings, None)
        url = state.url or source.location
        try:
            result = await fetch_url(
                client,
                url,
                settings,
                etag=state.etag,
                last_modified=state.last_modified,
                limiter=limiter,
                trusted=source.location,
            )
        except UnsafeURLError:
            if state.url is not None:
                # A new home the guard refuses (an older briefs followed a 301 there): the next
                # poll goes back to the configured address.
                state = replace(state, url=None)
            raise
        return await _answer(parser, source, state, now, result, settings, rng)
    except SourceError as exc:
        return _failed(source, state, now, str(exc), settings, rng)
    except Exception as exc:  # the per-source fault barrier (see the docstring)
        log.debug("%s: unexpected failure", source.id, exc_info=True)
        return _failed(source, state, now, unexpected(exc), settings, rng)


def failure_result(
    source: Source,
    prior: FeedState | None,
    now: dt.datetime,
    error: str,
    settings: FetchSettings,
    rng: random.Random | None = None,
) -> PollResult:
    """A poll of ``source`` that failed after the fact (its result could not be stored):
    no articles, the failure counted against the state it had before (``prior``)."""
    state = _current_state(source, prior)
    return _failed(source, state, now, error, settings, rng or random.Random())


def unexpected(exc: BaseException) -> str:
    """One line for a failure nothing anticipated (hostile input found a new way to break a
    library): the exception's class and the start of its message."""
    if isinstance(exc, RecursionError):
        return "nested too deeply to process (RecursionError)"
    if isinstance(exc, MemoryError):
        return "too large to process (MemoryError)"
    detail = _one_line(str(exc), 200)
    name = exc.__class__.__name__
    return f"cannot process this source: {name}: {detail}" if detail else f"{name}"


def _one_line(text: str, limit: int = 500) -> str:
    """An error as one bounded line (a server's reason phrase or a library's message can be
    long or carry line breaks)."""
    line = " ".join(clean_text(text, inline=True).split())
    return cap(line, limit)


async def _answer(
    parser: _Parser,
    source: Source,
    state: FeedState,
    now: dt.datetime,
    result: FetchResult,
    settings: FetchSettings,
    rng: random.Random,
) -> PollResult:
    status = result.status
    max_age = cache_max_age(result.cache_control)
    if result.not_modified:
        floor = _floor(state.floor_minutes, max_age)
        new_state = replace(state, floor_minutes=floor)
        return _ok(source, new_state, now, (), "304", settings, not_modified=True)
    if status == 410:
        return _gone(source, state, now, result)
    if status in (429, 503):
        until = parse_retry_after(result.retry_after, now)
        return _failed(
            source, state, now, _http_error(result), settings, rng, status=str(status), until=until
        )
    if not 200 <= status < 300:
        return _failed(source, state, now, _http_error(result), settings, rng, status=str(status))
    parsed = await parser.parse(
        result.content, source, result.url, now, result.content_type, settings.max_entries
    )
    new_state = replace(
        state,
        url=result.permanent_redirect or state.url,
        etag=_validator(result.etag),
        last_modified=_validator(result.last_modified),
    )
    if result.permanent_redirect:
        log.warning("%s: moved permanently to %s", source.id, result.permanent_redirect)
    return _parsed(source, new_state, now, parsed, str(status), settings, max_age)


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified worth sending back: printable ASCII, at most 1,024 characters
    (anything else would be refused by the next request's own header check, every time)."""
    if value is None or len(value) > 1024 or not value.isascii() or not value.isprintable():
        return None
    return value


def _http_error(result: FetchResult) -> str:
    try:
        phrase = result.reason or http.HTTPStatus(result.status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {result.status} {phrase}".strip()


def _read_local(path: str, max_bytes: int) -> bytes:
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise SourceError(f"{path} is over the {max_bytes}-byte limit (fetch.max_bytes)")
    return data


def cache_max_age(cache_control: str | None) -> int | None:
    """The max-age of a Cache-Control header, in seconds (None when absent or no-cache),
    at most MAX_FLOOR_MINUTES (30 days)."""
    if not cache_control or "no-cache" in cache_control.lower():
        return None
    match = _MAX_AGE.search(cache_control[:4096])
    return bounded_int(match.group(1), 0, MAX_FLOOR_MINUTES * 60) if match else None


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """The time a Retry-After header (seconds or an HTTP date) points to, capped at 7 days
    ahead (MAX_RETRY_AFTER); a date in the past is now. None when it is neither."""
    if not value:
        return None
    value = value.strip()[:256]
    limit = now + MAX_RETRY_AFTER
    seconds = bounded_int(value, 0, int(MAX_RETRY_AFTER.total_seconds()))
    if seconds is not None:
        return now + dt.timedelta(seconds=seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return min(max(when.astimezone(dt.UTC), now), limit)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _floor(ttl_minutes: int | None, max_age_seconds: int | None) -> int | None:
    """The feed's own minimum interval in minutes: the larger of <ttl> and max-age."""
    candidates = [m for m in (ttl_minutes, -(-(max_age_seconds or 0) // 60)) if m]
    return max(candidates) if candidates else None


def _parsed(
    source: Source,
    state: FeedState,
    now: dt.datetime,
    parsed: ParsedAndSketched,
    status: str,
    settings: FetchSettings,
    max_age: int | None,
) -> PollResult:
    feed = parsed.feed
    new_state = replace(
        state,
        floor_minutes=_floor(feed.ttl_minutes, max_age),
        site_url=feed.site_url or state.site_url,
        feed_title=feed.title or state.feed_title,
        parser=feed.parser,
        parser_fallback=feed.fallback,
    )
    if parsed.entries > len(feed.articles):
        status = f"{status}, kept the newest {len(feed.articles)} of {parsed.entries} entries"
        log.warning("%s: %s", source.id, status)
    if feed.skipped:
        status = (
            f"{status}, skipped {feed.skipped} unreadable "
            f"entr{'y' if feed.skipped == 1 else 'ies'} ({feed.skip_reason})"
        )
        log.warning("%s: %s", source.id, status)
    return _ok(source, new_state, now, feed.articles, status, settings, sketches=parsed.sketches)


def _ok(
    source: Source,
    state: FeedState,
    now: dt.datetime,
    articles: tuple[Article, ...],
    status: str,
    settings: FetchSettings,
    not_modified: bool = False,
    sketches: dict[str, Sketch] | None = None,
) -> PollResult:
    # The feed's own floor counts, but never beyond the longest we would ever wait.
    longest = _minutes(settings.max_backoff_hours * 60)
    floor = min(_minutes(state.floor_minutes or 0), longest)
    interval = max(_minutes(source.interval_minutes), floor)
    new_state = replace(
        state,
        last_status=status,
        last_polled=now,
        last_success=now,
        next_poll=now + interval,
        consecutive_failures=0,
        last_error=None,
        retry_until=None,
        disabled=False,
    )
    log.info("%s: %s, %d entries", source.id, status, len(articles))
    return PollResult(source, articles, new_state, None, not_modified, sketches or {})


def _minutes(value: float) -> dt.timedelta:
    """Minutes as a timedelta, within [0, MAX_FLOOR_MINUTES * 12] (a year: no stored or
    configured number can overflow the date arithmetic of a poll)."""
    number = float(value)
    if number != number:  # NaN
        number = 0.0
    return dt.timedelta(minutes=min(max(number, 0.0), MAX_FLOOR_MINUTES * 12.0))


def _gone(source: Source, state: FeedState, now: dt.datetime, result: FetchResult) -> PollResult:
    error = (
        f"{_http_error(result)}: the feed was removed; source disabled "
        f"(re-enable with: briefs sources enable {source.id})"
    )
    new_state = replace(
        state,
        last_status="410",
        last_polled=now,
        next_poll=None,
        consecutive_failures=state.consecutive_failures + 1,
        last_error=error,
        disabled=True,
    )
    log.warning("%s: %s", source.id, error)
    return PollResult(source, (), new_state, error)


def _failed(
    source: Source,
    state: FeedState,
    now: dt.datetime,
    error: str,
    settings: FetchSettings,
    rng: random.Random,
    *,
    status: str = "error",
    until: dt.datetime | None = None,
) -> PollResult:
    error = _one_line(error)
    failures = state.consecutive_failures + 1
    longest = _minutes(settings.max_backoff_hours * 60)
    base = _minutes(source.interval_minutes * 2 ** min(failures - 1, 30))
    delay = min(base, longest)
    # "Equal jitter": half the delay fixed, half random, so failing feeds do not retry in step.
    delay = delay / 2 + delay / 2 * rng.random()
    next_poll = now + delay
    if until is not None:
        next_poll = max(next_poll, until)
        error = f"{error} (Retry-After: not before {until:%Y-%m-%d %H:%M} UTC)"
    new_state = replace(
        state,
        last_status=status,
        last_polled=now,
        next_poll=next_poll,
        consecutive_failures=failures,
        last_error=error,
        retry_until=until,
    )
    log.warning("%s: failed: %s", source.id, error)
    return PollResult(source, (), new_state, error)
