"""Built editions: for the archive, the feeds, and growth between editions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from briefs.models import Edition, EditionRecord
from briefs.store.base import StoreBase, naive, upsert, utc
from briefs.store.schema import editions, meta_table


def _edition_record(row: Any) -> EditionRecord:
    counts = {str(k): int(v) for k, v in json.loads(row.story_counts).items()}
    return EditionRecord(
        edition=Edition(row.date, row.slot),
        built_at=utc(row.built_at) or dt.datetime.now(dt.UTC),
        title=row.title,
        content_html=row.content_html,
        summary=row.summary,
        story_count=len(counts),
        story_counts=tuple(counts.items()),
    )


class Editions(StoreBase):
    """The ``editions`` table."""

    def record_edition(
        self,
        edition: Edition,
        built_at: dt.datetime,
        title: str,
        story_counts: dict[str, int],
        content_html: str = "",
        summary: str = "",
    ) -> None:
        """Remember that an edition was built, how big each of its stories was, and its HTML."""
        values = {
            "id": edition.id,
            "date": edition.date,
            "slot": edition.slot,
            "built_at": naive(built_at),
            "title": title,
            "story_counts": json.dumps(story_counts),  # in edition order
            "content_html": content_html,
            "summary": summary,
        }
        with self._write() as c:
            upsert(c, editions, [values], ("id",), [k for k in values if k != "id"])

    def recent_editions(self, limit: int) -> list[EditionRecord]:
        """The newest built editions (at most ``limit``), newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(editions)
                .order_by(editions.c.date.desc(), editions.c.id.desc())
                .limit(limit)
            ).all()
        return [_edition_record(r) for r in rows]

    def edition_built_at(self, edition_id: str) -> dt.datetime | None:
        """When an edition was last built, or None if it never was."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(editions.c.built_at).where(editions.c.id == edition_id)
            ).scalar_one_or_none()
        return utc(value)

    def edition_ids(self) -> list[str]:
        """Every built edition id, newest first."""
        with self._read() as conn:
            return list(
                conn.execute(sa.select(editions.c.id).order_by(editions.c.id.desc())).scalars()
            )

    def delete_edition(self, edition_id: str) -> bool:
        """Forget a built edition and its up-to-date stamp; False if it was never built.

        Its delivery records stay: who received it is history, not part of the edition.
        """
        with self._write() as conn:
            gone = conn.execute(editions.delete().where(editions.c.id == edition_id)).rowcount
            conn.execute(meta_table.delete().where(meta_table.c.key == f"built:{edition_id}"))
        return bool(gone)
