"""What one poll's answer means for its source: the new FeedState and the PollResult.

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

import datetime as dt
import email.utils
import http
import logging
import random
import re
from dataclasses import replace

from briefs.config import FetchSettings
from briefs.ingest.bounds import MAX_FLOOR_MINUTES, MAX_RETRY_AFTER, bounded_int, cap
from briefs.ingest.clean import clean_text
from briefs.ingest.due import current_state
from briefs.ingest.fetch import FetchResult
from briefs.ingest.parse import ParsedAndSketched
from briefs.models import Article, FeedState, PollResult, Sketch, Source

__all__ = [
    "answered",
    "cache_max_age",
    "failed",
    "failure_result",
    "parse_retry_after",
    "parsed",
    "succeeded",
    "unexpected",
    "validated",
]

log = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)


def answered(
    source: Source,
    state: FeedState,
    now: dt.datetime,
    result: FetchResult,
    settings: FetchSettings,
    rng: random.Random,
) -> PollResult | None:
    """The poll's result when a fetch's answer leaves nothing to parse (304, 410, 429/503, any
    other non-2xx); None for a document to parse (then :func:`validated` and :func:`parsed`)."""
    status = result.status
    if result.not_modified:
        floor = _floor(state.floor_minutes, cache_max_age(result.cache_control))
        new_state = replace(state, floor_minutes=floor)
        return succeeded(source, new_state, now, (), "304", settings, not_modified=True)
    if status == 410:
        return _gone(source, state, now, result)
    error = _http_error(result)
    if status in (429, 503):
        until = parse_retry_after(result.retry_after, now)
        return failed(source, state, now, error, settings, rng, status=str(status), until=until)
    if not 200 <= status < 300:
        return failed(source, state, now, error, settings, rng, status=str(status))
    return None


def validated(source: Source, state: FeedState, result: FetchResult) -> FeedState:
    """The state after a 2xx answer: its validators kept, a permanent redirect followed."""
    if result.permanent_redirect:
        log.warning("%s: moved permanently to %s", source.id, result.permanent_redirect)
    return replace(
        state,
        url=result.permanent_redirect or state.url,
        etag=_validator(result.etag),
        last_modified=_validator(result.last_modified),
    )


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
    state = current_state(source, prior)
    return failed(source, state, now, error, settings, rng or random.Random())


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


def parsed(
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
    return succeeded(
        source, new_state, now, feed.articles, status, settings, sketches=parsed.sketches
    )


def succeeded(
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


def failed(
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
