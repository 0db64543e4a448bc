"""Built editions: for the archive, the feeds, and growth between editions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from briefs.models import DEFAULT_BRIEF, Edition, EditionRecord
from briefs.store.base import StoreBase, naive, utc
from briefs.store.schema import editions, meta_table


def _edition_record(row: Any) -> EditionRecord:
    counts = {str(k): int(v) for k, v in json.loads(row.story_counts).items()}
    return EditionRecord(
        edition=Edition(row.date, row.slot),
        built_at=utc(row.built_at) or dt.datetime.now(dt.UTC),
        title=row.title,
        content_html=getattr(row, "content_html", ""),
        summary=row.summary,
        story_count=len(counts),
        story_counts=tuple(counts.items()),
        brief=row.brief,
    )


class Editions(StoreBase):
    """The ``editions`` table: every edition is one brief's (``brief``, its id)."""

    def record_edition(
        self,
        edition: Edition,
        built_at: dt.datetime,
        title: str,
        story_counts: dict[str, int],
        content_html: str = "",
        summary: str = "",
        *,
        brief: str = DEFAULT_BRIEF,
    ) -> None:
        """Remember that an edition of a brief was built, how big each of its stories was, and
        its HTML."""
        values = {
            "date": edition.date,
            "slot": edition.slot,
            "built_at": naive(built_at),
            "title": title,
            "story_counts": json.dumps(story_counts),  # in edition order
            "content_html": content_html,
            "summary": summary,
        }
        key = (editions.c.brief == brief) & (editions.c.id == edition.id)
        with self._write() as c:
            if not c.execute(editions.update().where(key).values(**values)).rowcount:
                c.execute(editions.insert().values(brief=brief, id=edition.id, **values))

    def recent_editions(
        self, limit: int, brief: str | None = DEFAULT_BRIEF, *, html: bool = True
    ) -> list[EditionRecord]:
        """A brief's newest built editions (at most ``limit``), newest first; ``brief`` None:
        every brief's. Without ``html`` their HTML is not read (``content_html`` is "")."""
        columns = [c for c in editions.c if html or c.name != "content_html"]
        query = sa.select(*columns)
        if brief is not None:
            query = query.where(editions.c.brief == brief)
        with self._read() as conn:
            rows = conn.execute(
                query.order_by(editions.c.date.desc(), editions.c.id.desc()).limit(limit)
            ).all()
        return [_edition_record(r) for r in rows]

    def edition_built_at(self, edition_id: str, brief: str = DEFAULT_BRIEF) -> dt.datetime | None:
        """When a brief's edition was last built, or None if it never was."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(editions.c.built_at)
                .where(editions.c.brief == brief)
                .where(editions.c.id == edition_id)
            ).scalar_one_or_none()
        return utc(value)

    def edition_ids(self, brief: str = DEFAULT_BRIEF) -> list[str]:
        """Every built edition id of a brief, newest first."""
        with self._read() as conn:
            return list(
                conn.execute(
                    sa.select(editions.c.id)
                    .where(editions.c.brief == brief)
                    .order_by(editions.c.id.desc())
                ).scalars()
            )

    def delete_edition(self, edition_id: str, brief: str = DEFAULT_BRIEF) -> bool:
        """Forget a brief's built edition and its up-to-date stamp; False if it was never built.

        Its delivery records stay: who received it is history, not part of the edition.
        """
        key = (editions.c.brief == brief) & (editions.c.id == edition_id)
        with self._write() as conn:
            gone = conn.execute(editions.delete().where(key)).rowcount
            conn.execute(
                meta_table.delete().where(meta_table.c.key == built_key(brief, edition_id))
            )
        return bool(gone)


def built_key(brief: str, edition_id: str) -> str:
    """The meta key of an edition's up-to-date stamp (the default brief's as before briefs)."""
    if brief == DEFAULT_BRIEF:
        return f"built:{edition_id}"
    return f"built:{brief}:{edition_id}"
