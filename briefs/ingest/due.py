"""Is this source due? The one answer polling, the daemon and ``briefs sources list`` read.

A source is polled unless it is disabled (by the config, or after a 410), its server asked us
to wait (Retry-After) until a later time, or (for the daemon, ``due``) its next poll time, plus
its jitter offset, is still ahead. A source never polled is due at once, so the first edition
has something to say.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import replace

from briefs.models import FeedState, Source

__all__ = ["current_state", "poll_offset", "select_sources", "skip_reason"]


def current_state(source: Source, state: FeedState | None) -> FeedState:
    """The stored state, unless it belongs to a location the config no longer names."""
    if state is None or (state.source_url is not None and state.source_url != source.location):
        return FeedState(source.id, source_url=source.location)
    return replace(state, source_url=source.location)


def poll_offset(source_id: str, jitter: float) -> dt.timedelta:
    """A stable per-source delay in [0, jitter) seconds, so sources are not all polled at
    once (``schedule.jitter``)."""
    spread = int(jitter)
    if spread <= 0:
        return dt.timedelta(0)
    digest = int(hashlib.sha256(source_id.encode()).hexdigest()[:12], 16)
    return dt.timedelta(seconds=digest % spread)


def skip_reason(
    source: Source, state: FeedState, now: dt.datetime, *, due: bool, jitter: float = 0
) -> str | None:
    """Why ``source`` (with its :func:`current_state`) is not polled now; None: poll it."""
    if not source.enabled:
        return "disabled in the configuration"
    if state.disabled:
        return f"disabled: {state.last_error or 'gone'}"
    if state.retry_until is not None and state.retry_until > now:
        return f"server asked to wait until {state.retry_until:%H:%M} UTC"
    if due and state.next_poll is not None:
        when = state.next_poll + poll_offset(source.id, jitter)
        if when > now:
            return f"not due until {when:%Y-%m-%d %H:%M} UTC"
    return None


def select_sources(
    sources: Sequence[Source],
    states: dict[str, FeedState],
    now: dt.datetime,
    *,
    due: bool,
    jitter: float = 0,
) -> tuple[list[Source], list[tuple[Source, str]]]:
    """Split sources into those to poll now and those skipped (with the reason).

    With ``due`` (the daemon), a source is skipped until its next poll time plus its
    :func:`poll_offset`; without it (a one-off run) every source not disabled or asked to
    wait is polled.
    """
    todo: list[Source] = []
    skipped: list[tuple[Source, str]] = []
    for source in sources:
        state = current_state(source, states.get(source.id))
        reason = skip_reason(source, state, now, due=due, jitter=jitter)
        if reason is None:
            todo.append(source)
        else:
            skipped.append((source, reason))
    return todo, skipped
