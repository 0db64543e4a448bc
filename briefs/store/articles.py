"""Stored articles: adding a poll's new ones once, their texts, copies and look-ups."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from briefs.models import Article, word_count
from briefs.store.base import StoreBase, chunks, naive, storable, upsert, utc
from briefs.store.schema import STORED_RANGE, articles, pages

log = logging.getLogger(__name__)


def _article_row(a: Article) -> dict[str, Any]:
    return {
        "id": a.id,
        "source_id": a.source_id,
        "url": a.url,
        "guid": a.guid,
        "title": a.title,
        "published": naive(a.published),
        "fetched": naive(a.fetched),
        "outlet": a.outlet,
        "author": a.author,
        "language": a.language,
        "summary": a.summary,
        "body": a.body,
        "body_origin": a.body_origin,
        "image_url": a.image_url,
        "content_hash": a.content_hash,
        "duplicate_of": a.duplicate_of,
        "words": word_count(a.text),
        "tags": "\n".join(a.tags),
    }


def _article(row: Any) -> Article:
    return Article(
        id=row.id,
        source_id=row.source_id,
        url=row.url,
        title=row.title,
        published=utc(row.published) or dt.datetime.now(dt.UTC),
        fetched=utc(row.fetched) or dt.datetime.now(dt.UTC),
        outlet=row.outlet,
        guid=row.guid,
        author=row.author,
        language=row.language,
        summary=getattr(row, "summary", ""),
        body=getattr(row, "body", ""),
        body_origin=row.body_origin,
        image_url=row.image_url,
        content_hash=row.content_hash,
        duplicate_of=row.duplicate_of,
        tags=tuple(t for t in (getattr(row, "tags", None) or "").split("\n") if t),
    )


class Articles(StoreBase):
    """The ``articles`` table."""

    def add_articles(self, items: Iterable[Article]) -> list[Article]:
        """Store articles not seen before; return the ones that were new.

        An article is "seen" when its id (hash of canonical URL or GUID) or its canonical URL is
        already stored, or when its source already has an article with the same GUID (the
        publisher changed the link but not the GUID). A GUID shared by several different entries
        of one batch is not trusted as an identity. Re-running a poll adds nothing twice.
        """
        batch: dict[str, Article] = {}
        for a in items:
            batch.setdefault(a.id, a)
        if not batch:
            return []
        new: list[Article] = []
        inserted: set[str] = set()
        with self._write() as c:
            known_ids, known_urls, known_guids = _known(c, batch)
            seen_urls: set[str] = set()
            for a in batch.values():
                if not (storable(a.published) and storable(a.fetched)):
                    log.warning(
                        "%s: refusing article %s dated %s (outside %s..%s)",
                        a.source_id,
                        a.id,
                        a.published,
                        f"{STORED_RANGE[0]:%Y}",
                        f"{STORED_RANGE[1]:%Y}",
                    )
                    continue
                if a.id in known_ids or (a.url and (a.url in known_urls or a.url in seen_urls)):
                    continue
                if a.guid and (a.source_id, a.guid) in known_guids:
                    continue
                if a.url:
                    seen_urls.add(a.url)
                new.append(a)
            # ON CONFLICT DO NOTHING: another poller may have stored one of them meanwhile;
            # only the rows this insert wrote are new.
            for chunk in chunks(new, 1000):
                result = upsert(
                    c, articles, [_article_row(a) for a in chunk], ("id",), returning=("id",)
                )
                if result is not None:
                    inserted.update(result.scalars())
        return [a for a in new if a.id in inserted]

    def articles_needing_text(
        self, since: dt.datetime, now: dt.datetime, max_words: int
    ) -> list[Article]:
        """Feed articles fetched since ``since`` whose text is a teaser, newest first.

        Only articles with an http(s) link, a text (the body, else the summary) of fewer than
        ``max_words`` words, and no cached page outcome that forbids another try (an extracted
        page, a permanent failure, or a transient one whose retry time has not come) are
        returned. The words are counted when an article is stored (``words``), so the scan
        fetches and counts no text; only rows stored before counts existed are counted here.
        """
        blocked = sa.exists().where(
            pages.c.url == articles.c.url,
            sa.or_(pages.c.next_try.is_(None), pages.c.next_try > naive(now)),
        )
        uncounted = articles.c.words.is_(None)
        query = sa.select(
            articles.c.id,
            articles.c.published,
            articles.c.words,
            # read only where no count was stored (CASE evaluates the branch it takes)
            sa.case((uncounted, articles.c.body), else_=sa.null()).label("body"),
            sa.case((uncounted, articles.c.summary), else_=sa.null()).label("summary"),
        ).where(
            articles.c.fetched >= naive(since),
            articles.c.body_origin.in_(("none", "feed")),
            sa.or_(articles.c.url.startswith("http://"), articles.c.url.startswith("https://")),
            sa.or_(uncounted, articles.c.words < max_words),
            ~blocked,
        )
        # Sorted here, not by ORDER BY: SQLite would then walk the whole published index
        # rather than the fetched range, and the teasers are few.
        with self._read() as conn:
            found = [
                r
                for r in conn.execute(query)
                if r.words is not None or word_count(r.body or r.summary or "") < max_words
            ]
        found.sort(key=lambda r: r.id)
        found.sort(key=lambda r: r.published, reverse=True)
        return self.articles([r.id for r in found])

    def set_article_text(
        self,
        article_id: str,
        body: str,
        origin: str,
        content_hash: str,
    ) -> None:
        """Replace an article's body (e.g. with the text extracted from its page)."""
        # An empty body leaves the summary as the text: counted by the next scan that needs it.
        words = word_count(body) if body else None
        with self._write() as c:
            c.execute(
                articles.update()
                .where(articles.c.id == article_id)
                .values(body=body, body_origin=origin, content_hash=content_hash, words=words)
            )

    def articles(
        self, ids: Sequence[str], *, texts: bool = True, lead_chars: int = 0
    ) -> list[Article]:
        """Stored articles by id, in the order asked (missing ids are skipped).

        With ``texts=False`` their body and summary are left empty (not read): for ranking a
        window's stories, whose texts are only needed for the few that are summarized. With
        ``lead_chars``, what a lead needs is read: the summary, and only where there is none the
        body, up to that many characters (its start).
        """
        found: dict[str, Article] = {}
        columns: list[sa.ColumnElement[Any]] = [
            c for c in articles.c if texts or c.name not in ("body", "summary")
        ]
        if texts and lead_chars > 0:
            body = sa.func.substr(articles.c.body, 1, lead_chars)
            cut = sa.case((articles.c.summary == "", body), else_="").label("body")
            columns = [cut if c.name == "body" else c for c in columns]
        with self._read() as conn:
            for chunk in chunks(list(ids), 500):
                for row in conn.execute(sa.select(*columns).where(articles.c.id.in_(chunk))):
                    found[row.id] = _article(row)
        return [found[i] for i in ids if i in found]

    def published_since(self, since: dt.datetime) -> list[str]:
        """Ids of the articles published at or after ``since``."""
        with self._read() as conn:
            return list(
                conn.execute(
                    sa.select(articles.c.id).where(articles.c.published >= naive(since))
                ).scalars()
            )

    def ungrouped_articles(self) -> list[Article]:
        """Articles not yet assigned to a story, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(articles)
                .where(articles.c.story_id.is_(None))
                .order_by(articles.c.published, articles.c.id)
            ).all()
        return [_article(r) for r in rows]

    def published_order(self, ids: Iterable[str]) -> list[tuple[str, dt.datetime]]:
        """The given articles as (id, published), oldest first (ties by id); unknown ids dropped."""
        out: list[tuple[str, dt.datetime]] = []
        with self._read() as conn:
            for chunk in chunks(sorted(set(ids)), 500):
                rows = conn.execute(
                    sa.select(articles.c.id, articles.c.published).where(articles.c.id.in_(chunk))
                )
                out.extend((r.id, utc(r.published) or dt.datetime.now(dt.UTC)) for r in rows)
        return sorted(out, key=lambda item: (item[1], item[0]))

    def ungrouped_ids(self) -> set[str]:
        """Ids of the articles not yet assigned to a story (stored, not yet fully processed)."""
        with self._read() as conn:
            return set(
                conn.execute(
                    sa.select(articles.c.id).where(articles.c.story_id.is_(None))
                ).scalars()
            )

    def article_count(self) -> int:
        """How many articles are stored."""
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar_one())

    def latest_published(self) -> dt.datetime | None:
        """The publication time of the newest stored article."""
        with self._read() as conn:
            value = conn.execute(sa.select(sa.func.max(articles.c.published))).scalar_one()
        return utc(value)

    def article_counts_since(self, since: dt.datetime) -> dict[str, int]:
        """Articles published since a time, per source id."""
        query = (
            sa.select(articles.c.source_id, sa.func.count())
            .where(articles.c.published >= naive(since))
            .group_by(articles.c.source_id)
        )
        with self._read() as conn:
            return {str(row[0]): int(row[1]) for row in conn.execute(query)}


def _known(
    conn: Connection, batch: dict[str, Article]
) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """Of a batch's identities, those already stored: ids, URLs and trusted (source, GUID)s.

    A GUID is trusted when only one entry of the batch carries it in its source.
    """
    guid_uses: dict[tuple[str, str], int] = {}
    for a in batch.values():
        if a.guid:
            key = (a.source_id, a.guid)
            guid_uses[key] = guid_uses.get(key, 0) + 1
    known_ids: set[str] = set()
    known_urls: set[str] = set()
    known_guids: set[tuple[str, str]] = set()
    for chunk in chunks(list(batch), 500):
        known_ids.update(
            conn.execute(sa.select(articles.c.id).where(articles.c.id.in_(chunk))).scalars()
        )
    for chunk in chunks(list({a.url for a in batch.values() if a.url}), 500):
        known_urls.update(
            conn.execute(sa.select(articles.c.url).where(articles.c.url.in_(chunk))).scalars()
        )
    by_source: dict[str, list[str]] = {}
    for (source_id, guid), uses in guid_uses.items():
        if uses == 1:
            by_source.setdefault(source_id, []).append(guid)
    for source_id, guids in by_source.items():
        for chunk in chunks(guids, 500):
            query = sa.select(articles.c.guid).where(
                articles.c.source_id == source_id, articles.c.guid.in_(chunk)
            )
            known_guids.update((source_id, g) for g in conn.execute(query).scalars())
    return known_ids, known_urls, known_guids
