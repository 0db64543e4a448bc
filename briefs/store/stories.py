"""Stories: their rows, their members, why each member is in (links), splits and merges."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from briefs.models import Story, StoryChange, StoryLink
from briefs.store.base import StoreBase, chunks, naive, upsert, utc
from briefs.store.schema import articles, stories, story_changes, story_links


class Stories(StoreBase):
    """The ``stories``, ``story_links`` and ``story_changes`` tables."""

    def save_stories(self, items: Iterable[Story]) -> None:
        """Insert or update stories, point their member articles at them, record their links.

        Batched: one statement per kind of write (executemany), however many stories changed.
        """
        batch = {s.id: s for s in items}
        if not batch:
            return
        with self._write() as c:
            _write_story_rows(c, batch)
            members = [
                {"b_article": aid, "b_story": s.id} for s in batch.values() for aid in s.article_ids
            ]
            if members:
                # Only rows whose story changes are written: a grown story re-lists every member.
                c.execute(
                    articles.update()
                    .where(
                        articles.c.id == sa.bindparam("b_article"),
                        sa.or_(
                            articles.c.story_id.is_(None),
                            articles.c.story_id != sa.bindparam("b_story"),
                        ),
                    )
                    .values(story_id=sa.bindparam("b_story")),
                    members,
                )
            _write_links(c, batch)
            changes = [
                {"story_id": s.id, "kind": ch.kind, "other": ch.other, "at": naive(ch.at)}
                for s in batch.values()
                for ch in s.changes
            ]
            if changes:
                c.execute(story_changes.insert(), changes)
            emptied = [s.id for s in batch.values() if not s.article_ids]
            for chunk in chunks(emptied, 500):  # merged into another story of this batch
                c.execute(stories.delete().where(stories.c.id.in_(chunk)))

    def story_changes(self, story_id: str) -> list[StoryChange]:
        """The splits and merges recorded for a story, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(story_changes)
                .where(story_changes.c.story_id == story_id)
                .order_by(story_changes.c.id)
            ).all()
        return [StoryChange(r.kind, r.other, utc(r.at) or dt.datetime.min) for r in rows]

    def story_links(self, story_id: str) -> list[StoryLink]:
        """Why each member of a story is in it (members grouped before links existed have none)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(story_links).where(story_links.c.story_id == story_id)
            ).all()
        return [
            StoryLink(
                article_id=r.article_id,
                similarity=float(r.similarity),
                via=r.via,
                shared=tuple(json.loads(r.shared)),
                duplicate=bool(r.duplicate),
            )
            for r in rows
        ]

    def stories_published_between(self, start: dt.datetime, end: dt.datetime) -> list[Story]:
        """Stories with a member article published in [start, end), newest update first."""
        with self._read() as conn:
            ids = (
                sa.select(articles.c.story_id)
                .where(
                    articles.c.published >= naive(start),
                    articles.c.published < naive(end),
                    articles.c.story_id.is_not(None),
                )
                .distinct()
            )
            rows = conn.execute(
                sa.select(stories)
                .where(stories.c.id.in_(ids))
                .order_by(stories.c.last_updated.desc(), stories.c.id)
            ).all()
            return self._with_members(conn, rows)

    def stories_updated_since(self, since: dt.datetime) -> list[Story]:
        """Stories with an article added at or after ``since``, with their member ids."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(stories).where(stories.c.last_updated >= naive(since))
            ).all()
            return self._with_members(conn, rows)

    def story(self, story_id: str) -> Story | None:
        """One story by id (a unique prefix of the id also works)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(stories)
                .where(stories.c.id.startswith(story_id, autoescape=True))
                .limit(2)
            ).all()
            if len(rows) != 1:
                return None
            story = self._with_members(conn, rows)[0]
        return dataclasses.replace(
            story,
            links=tuple(self.story_links(story.id)),
            changes=tuple(self.story_changes(story.id)),
        )

    def _with_members(self, conn: Connection, rows: Sequence[Any]) -> list[Story]:
        members: dict[str, list[str]] = {r.id: [] for r in rows}
        for chunk in chunks(list(members), 500):
            for arow in conn.execute(
                sa.select(articles.c.id, articles.c.story_id)
                .where(articles.c.story_id.in_(chunk))
                .order_by(articles.c.published, articles.c.id)
            ):
                members[arow.story_id].append(arow.id)
        return [
            Story(
                id=r.id,
                article_ids=tuple(members[r.id]),
                first_seen=utc(r.first_seen) or dt.datetime.now(dt.UTC),
                last_updated=utc(r.last_updated) or dt.datetime.now(dt.UTC),
                title=r.title,
                terms=tuple(json.loads(r.terms)),
            )
            for r in rows
        ]


def _write_story_rows(conn: Connection, batch: dict[str, Story]) -> None:
    """Insert the new stories' rows, update the known ones' (one upsert)."""
    rows = [
        {
            "id": s.id,
            "first_seen": naive(s.first_seen),
            "last_updated": naive(s.last_updated),
            "title": s.title,
            "terms": json.dumps(list(s.terms), ensure_ascii=False),
        }
        for s in batch.values()
    ]
    for chunk in chunks(rows, 500):
        upsert(conn, stories, chunk, ("id",), ("first_seen", "last_updated", "title", "terms"))


def _write_links(conn: Connection, batch: dict[str, Story]) -> None:
    """Replace the links of the batch's linked articles (why each is in its story)."""
    links = {link.article_id: (s.id, link) for s in batch.values() for link in s.links}
    rows = [
        {
            "article_id": link.article_id,
            "story_id": story_id,
            "similarity": link.similarity,
            "via": link.via,
            "shared": json.dumps(list(link.shared), ensure_ascii=False),
            "duplicate": link.duplicate,
        }
        for story_id, link in links.values()
    ]
    update = [c.name for c in story_links.c if c.name != "article_id"]
    for chunk in chunks(rows, 500):
        upsert(conn, story_links, chunk, ("article_id",), update)
