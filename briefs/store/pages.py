"""The page cache: the outcome of fetching each article page for its full text, per URL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from briefs.models import PageRecord
from briefs.store.base import StoreBase, naive, upsert, utc
from briefs.store.schema import articles, pages


class Pages(StoreBase):
    """The ``pages`` table."""

    def page(self, url: str) -> PageRecord | None:
        """The cached outcome of fetching one article page, if it was ever fetched."""
        with self._read() as conn:
            row = conn.execute(sa.select(pages).where(pages.c.url == url)).one_or_none()
        if row is None:
            return None
        return PageRecord(
            url=row.url,
            status=row.status,
            fetched=utc(row.fetched) or dt.datetime.now(dt.UTC),
            text=row.text,
            error=row.error,
            http_status=row.http_status,
            attempts=row.attempts,
            next_try=utc(row.next_try),
        )

    def save_page(self, page: PageRecord) -> None:
        """Insert or replace the cached outcome of fetching one article page."""
        values = {
            "url": page.url,
            "status": page.status,
            "fetched": naive(page.fetched),
            "http_status": page.http_status,
            "attempts": page.attempts,
            "next_try": naive(page.next_try),
            "text": page.text,
            "error": page.error,
        }
        with self._write() as c:
            upsert(c, pages, [values], ("url",), [k for k in values if k != "url"])

    def forget_pages(self, statuses: Sequence[str], source_id: str | None = None) -> int:
        """Forget the cached outcomes with these statuses (of one source's articles); the
        pages are fetched again by the next run. Returns how many were forgotten."""
        query = pages.delete().where(pages.c.status.in_(list(statuses)))
        if source_id is not None:
            urls = sa.select(articles.c.url).where(articles.c.source_id == source_id)
            query = query.where(pages.c.url.in_(urls))
        with self._write() as conn:
            return int(conn.execute(query).rowcount)

    def refused_pages(self, since: dt.datetime) -> tuple[int, PageRecord | None]:
        """How many article pages were refused (by the address guard) since a time, and one
        of them (the first by URL) as an example."""
        query = sa.select(pages).where(pages.c.status == "refused", pages.c.fetched >= naive(since))
        with self._read() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).select_from(query.subquery())
            ).scalar_one()
            first = conn.execute(query.order_by(pages.c.url).limit(1)).first()
        if first is None:
            return int(count), None
        example = PageRecord(
            url=first.url,
            status="refused",
            fetched=utc(first.fetched) or since,
            error=first.error,
            attempts=first.attempts,
        )
        return int(count), example

    def forget_refused_pages(self) -> int:
        """Drop every cached "refused" page outcome, so those pages are judged again."""
        with self._write() as c:
            return int(c.execute(pages.delete().where(pages.c.status == "refused")).rowcount or 0)
