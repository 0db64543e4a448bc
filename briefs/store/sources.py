"""Polling state per source (ETag, Last-Modified, health, schedule): the ``feed_state`` table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from briefs.models import FeedState
from briefs.store.base import StoreBase, chunks, naive, upsert, utc
from briefs.store.schema import feed_state


class FeedStates(StoreBase):
    """Each source's polling state."""

    def feed_state(self, source_id: str) -> FeedState | None:
        """The stored polling state of one source, if it was ever polled."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(feed_state).where(feed_state.c.source_id == source_id)
            ).one_or_none()
        return self._state(row) if row is not None else None

    def feed_states(self) -> dict[str, FeedState]:
        """Every stored polling state, by source id."""
        with self._read() as conn:
            rows = conn.execute(sa.select(feed_state)).all()
        return {row.source_id: self._state(row) for row in rows}

    @staticmethod
    def _state(row: Any) -> FeedState:
        return FeedState(
            source_id=row.source_id,
            url=row.url,
            etag=row.etag,
            last_modified=row.last_modified,
            last_status=row.last_status,
            last_polled=utc(row.last_polled),
            next_poll=utc(row.next_poll),
            consecutive_failures=row.consecutive_failures or 0,
            last_error=row.last_error,
            disabled=bool(row.disabled),
            source_url=row.source_url,
            last_success=utc(row.last_success),
            retry_until=utc(row.retry_until),
            floor_minutes=row.floor_minutes,
            site_url=row.site_url,
            feed_title=row.feed_title,
            parser=row.parser,
            parser_fallback=row.parser_fallback,
        )

    def save_feed_state(self, state: FeedState) -> None:
        """Insert or replace one source's polling state."""
        self.save_feed_states([state])

    def save_feed_states(self, states: Iterable[FeedState]) -> None:
        """Insert or replace sources' polling states (one upsert for them all)."""
        rows = {
            s.source_id: {
                "source_id": s.source_id,
                "url": s.url,
                "etag": s.etag,
                "last_modified": s.last_modified,
                "last_status": s.last_status,
                "last_polled": naive(s.last_polled),
                "next_poll": naive(s.next_poll),
                "consecutive_failures": s.consecutive_failures,
                "last_error": s.last_error,
                "disabled": s.disabled,
                "source_url": s.source_url,
                "last_success": naive(s.last_success),
                "retry_until": naive(s.retry_until),
                "floor_minutes": s.floor_minutes,
                "site_url": s.site_url,
                "feed_title": s.feed_title,
                "parser": s.parser,
                "parser_fallback": s.parser_fallback,
            }
            for s in states
        }
        if not rows:
            return
        columns = [c.name for c in feed_state.c if c.name != "source_id"]
        with self._write() as c:
            for chunk in chunks(list(rows.values()), 500):
                upsert(c, feed_state, chunk, ("source_id",), columns)
