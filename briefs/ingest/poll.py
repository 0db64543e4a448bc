"""Poll sources once: fetch or read each, parse it, and report a PollResult per source.

One bad source never stops the others: every failure is caught here, recorded in the source's
FeedState and returned as the result's ``error``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

import httpx

from briefs.config import FetchSettings
from briefs.errors import SourceError
from briefs.ingest.fetch import fetch_url, make_client
from briefs.ingest.files import read_seed_folder
from briefs.ingest.parse import parse_feed
from briefs.models import FeedState, PollResult, Source

__all__ = ["poll_sources"]

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=24)


def poll_sources(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    settings: FetchSettings,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[PollResult]:
    """Poll every enabled source once and return one result per source, in order."""
    return asyncio.run(_poll_all(sources, states, settings, now, transport))


async def _poll_all(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    settings: FetchSettings,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None,
) -> list[PollResult]:
    async with make_client(settings, transport) as client:
        tasks = [
            _poll_one(client, src, states.get(src.id) or FeedState(src.id), settings, now)
            for src in sources
            if src.enabled
        ]
        return list(await asyncio.gather(*tasks))


async def _poll_one(
    client: httpx.AsyncClient,
    source: Source,
    state: FeedState,
    settings: FetchSettings,
    now: dt.datetime,
) -> PollResult:
    try:
        if source.kind == "files":
            articles, errors = await asyncio.to_thread(read_seed_folder, source, now)
            for error in errors:
                log.warning("%s: %s", source.id, error)
            return _ok(source, state, now, tuple(articles), "ok")
        if "://" not in source.location:
            data = await asyncio.to_thread(_read_local, source.location)
            parsed = parse_feed(data, source, url=Path(source.location).as_uri(), now=now)
            return _ok(source, state, now, parsed.articles, "ok")
        url = state.url or source.location
        result = await fetch_url(
            client, url, settings, etag=state.etag, last_modified=state.last_modified
        )
        if result.not_modified:
            return _ok(source, state, now, (), "304", not_modified=True)
        if result.status >= 400:
            raise SourceError(f"HTTP {result.status}")
        parsed = parse_feed(
            result.content, source, url=result.url, now=now, content_type=result.content_type
        )
        new_state = FeedState(
            source_id=source.id,
            url=result.permanent_redirect or state.url,
            etag=result.etag,
            last_modified=result.last_modified,
        )
        return _ok(source, new_state, now, parsed.articles, str(result.status))
    except SourceError as exc:
        return _failed(source, state, now, str(exc))


def _read_local(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _ok(
    source: Source,
    state: FeedState,
    now: dt.datetime,
    articles: tuple[object, ...],
    status: str,
    not_modified: bool = False,
) -> PollResult:
    new_state = FeedState(
        source_id=source.id,
        url=state.url,
        etag=state.etag,
        last_modified=state.last_modified,
        last_status=status,
        last_polled=now,
        next_poll=now + dt.timedelta(minutes=source.interval_minutes),
        consecutive_failures=0,
        last_error=None,
    )
    log.info("%s: %s, %d entries", source.id, status, len(articles))
    return PollResult(source, articles, new_state, None, not_modified)  # type: ignore[arg-type]


def _failed(source: Source, state: FeedState, now: dt.datetime, error: str) -> PollResult:
    failures = state.consecutive_failures + 1
    delay = min(dt.timedelta(minutes=source.interval_minutes) * 2 ** (failures - 1), MAX_BACKOFF)
    new_state = FeedState(
        source_id=source.id,
        url=state.url,
        etag=state.etag,
        last_modified=state.last_modified,
        last_status="error",
        last_polled=now,
        next_poll=now + delay,
        consecutive_failures=failures,
        last_error=error,
        disabled=state.disabled,
    )
    log.warning("%s: failed: %s", source.id, error)
    return PollResult(source, (), new_state, error)
