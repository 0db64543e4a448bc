"""The quarantine: rows a later stage cannot process, moved aside with the reason."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from briefs.store.base import StoreBase, chunks, naive
from briefs.store.schema import (
    STORED_RANGE,
    articles,
    quarantine,
    sketch_bands,
    sketches,
    stories,
    story_links,
)

log = logging.getLogger(__name__)


class Quarantine(StoreBase):
    """Moving implausible rows out of the way."""

    def quarantine_implausible(self) -> int:
        """Move rows whose dates lie outside STORED_RANGE into the quarantine; return how many.

        Such rows were stored by an older briefs (today's refuses them at the door): an
        article dated in year 1 made dedupe and grouping overflow on ``published - window``
        in every later run. Its sketch, band rows and story link go with it; a story dated
        out of range is dissolved (its members are grouped again). One indexed query when
        there is nothing to do.
        """
        low, high = (naive(t) for t in STORED_RANGE)
        raw = [sa.type_coerce(c, sa.Text).label(c.name) for c in articles.c]
        bad_articles = sa.or_(
            articles.c.published < low,
            articles.c.published >= high,
            articles.c.fetched < low,
            articles.c.fetched >= high,
        )
        bad_stories = sa.or_(
            stories.c.first_seen < low,
            stories.c.first_seen >= high,
            stories.c.last_updated < low,
            stories.c.last_updated >= high,
        )
        now = naive(dt.datetime.now(dt.UTC))
        with self._write() as conn:
            rows = conn.execute(sa.select(*raw).where(bad_articles)).all()
            story_rows = conn.execute(
                sa.select(*[sa.type_coerce(c, sa.Text).label(c.name) for c in stories.c]).where(
                    bad_stories
                )
            ).all()
            if not rows and not story_rows:
                return 0
            span = f"outside {STORED_RANGE[0]:%Y-%m-%d}..{STORED_RANGE[1]:%Y-%m-%d}"
            entries = [
                _entry("articles", r, f"published {r.published}, fetched {r.fetched}: {span}")
                for r in rows
            ]
            odd = "out of range"
            entries += [
                _entry("stories", r, f"first seen {r.first_seen}, updated {r.last_updated}: {odd}")
                for r in story_rows
            ]
            for entry in entries:
                entry["quarantined"] = now
            conn.execute(quarantine.insert(), entries)
            _remove(conn, [r.id for r in rows], [r.id for r in story_rows])
        example = entries[0]
        log.warning(
            "quarantined %d stored rows that cannot be processed (e.g. %s %s: %s); they are "
            "kept in the table 'quarantine'",
            len(entries),
            example["table_name"],
            example["row_id"],
            example["reason"],
        )
        return len(entries)


def _entry(table: str, row: Any, reason: str) -> dict[str, Any]:
    """The quarantine row for one stored row: the reason, and the row itself as JSON."""
    return {
        "table_name": table,
        "row_id": row.id,
        "reason": reason,
        "data": json.dumps(dict(row._mapping), ensure_ascii=False, default=str),
    }


def _remove(conn: Connection, ids: list[str], story_ids: list[str]) -> None:
    """Delete quarantined articles (with their sketches and links) and dissolve stories."""
    for chunk in chunks(ids, 500):
        nums = sa.select(sketches.c.num).where(sketches.c.article_id.in_(chunk))
        conn.execute(sketch_bands.delete().where(sketch_bands.c.sketch.in_(nums)))
        conn.execute(sketches.delete().where(sketches.c.article_id.in_(chunk)))
        conn.execute(story_links.delete().where(story_links.c.article_id.in_(chunk)))
        conn.execute(
            articles.update().where(articles.c.duplicate_of.in_(chunk)).values(duplicate_of=None)
        )
        conn.execute(articles.delete().where(articles.c.id.in_(chunk)))
    for chunk in chunks(story_ids, 500):
        members = sa.select(articles.c.id).where(articles.c.story_id.in_(chunk))
        conn.execute(story_links.delete().where(story_links.c.article_id.in_(members)))
        conn.execute(articles.update().where(articles.c.story_id.in_(chunk)).values(story_id=None))
        conn.execute(stories.delete().where(stories.c.id.in_(chunk)))
