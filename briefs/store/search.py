"""The full-text index of stored articles, and searching it.

On SQLite, an FTS5 table over the articles' title, feed summary and text, as an *external
content* index (``content='articles'``): it holds the inverted index only, the text stays in
``articles``, and snippets are cut from there. Triggers on ``articles`` keep it in step with
every write, whoever makes it (insert, a text replaced by the extracted page, a row deleted or
quarantined); updates of other columns (story, copy links) do not touch it. Words are cut by
``unicode61`` with diacritics folded and stemmed by Porter's English stemmer (``elections``
finds ``election``). The index keys articles by their rowid, so a ``VACUUM`` (which may
renumber the rowids of a table without an integer key) is followed by
:meth:`Search.rebuild_search_index`.

The engines are a small registry (:data:`_ENGINES`, by SQLAlchemy dialect name): each creates
its index (:func:`create_search_index`, called for a fresh database and by the migration that
adds it) and answers a :class:`briefs.searchquery.Query` compiled to its own syntax:
PostgreSQL's (``tsvector`` rows in a table beside the articles, with a GIN index) is in
:mod:`briefs.store.search_pg`. A database on any other engine has no index and a search says
so (:class:`briefs.errors.SearchError`).

Ranking: BM25 (title weighed 4, summary 2, text 1) divided by ``1 + age / RECENCY_DAYS``: a
report ``RECENCY_DAYS`` old needs twice the relevance of one published now to rank with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from briefs.errors import SearchError
from briefs.models import SearchHit
from briefs.searchquery import Query, Term
from briefs.store.base import StoreBase, chunks, utc
from briefs.store.schema import stories
from briefs.store.search_pg import Postgres, filtered, search_hit

__all__ = ["RECENCY_DAYS", "Search", "create_search_index", "search_engine"]

log = logging.getLogger(__name__)

RECENCY_DAYS = 30.0
# Marks around matched words in a snippet: private-use characters, split out again below.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SNIPPET_TOKENS = 24
_FTS = "articles_fts"


class _Engine(Protocol):
    def create(self, conn: Connection) -> bool:
        """Create the index if missing (filling it from the stored articles); False if this
        database cannot hold one."""

    def available(self, conn: Connection) -> bool:
        """Whether the index is there to search."""

    def search(self, conn: Connection, query: Query, filters: _Filters) -> list[SearchHit]:
        """The best matches, best first, with their snippets."""

    def rebuild(self, conn: Connection) -> None:
        """Build the index again from the stored articles."""

    def snippets(self, conn: Connection, query: Query, ids: Sequence[str]) -> dict[str, str]:
        """A marked snippet of each of these articles' text around the query's matches."""


@dataclass(frozen=True, slots=True)
class _Filters:
    now: dt.datetime
    since: dt.datetime | None
    sources: frozenset[str] | None
    limit: int
    recency: float = RECENCY_DAYS


def _fts_term(term: Term) -> str:
    # words are letters and digits only (searchquery._WORD): nothing to escape in the quotes
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def fts5_match(query: Query) -> str:
    """A query in FTS5's syntax (every term quoted, so no input is read as an operator)."""
    groups = ["(" + " OR ".join(_fts_term(t) for t in group) + ")" for group in query.groups]
    match = "(" + " AND ".join(groups) + ")"
    for term in query.excluded:
        match += " NOT " + _fts_term(term)
    return match


_CREATE = (
    f"CREATE VIRTUAL TABLE {_FTS} USING fts5(title, summary, body, content='articles', "
    "content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')"
)
# new./old. columns named as the index's: the external content's rows
_TRIGGERS = (
    f"""CREATE TRIGGER IF NOT EXISTS {_FTS}_insert AFTER INSERT ON articles BEGIN
  INSERT INTO {_FTS}(rowid, title, summary, body)
  VALUES (new.rowid, new.title, new.summary, new.body);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {_FTS}_delete AFTER DELETE ON articles BEGIN
  INSERT INTO {_FTS}({_FTS}, rowid, title, summary, body)
  VALUES ('delete', old.rowid, old.title, old.summary, old.body);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {_FTS}_update AFTER UPDATE OF title, summary, body
ON articles BEGIN
  INSERT INTO {_FTS}({_FTS}, rowid, title, summary, body)
  VALUES ('delete', old.rowid, old.title, old.summary, old.body);
  INSERT INTO {_FTS}(rowid, title, summary, body)
  VALUES (new.rowid, new.title, new.summary, new.body);
END""",
)

# The index is asked first, alone (materialized): joined in one query, the planner may walk the
# articles and probe the index for each (a hundred times slower on 5,000 articles).
_RANKED = f"""
WITH m AS MATERIALIZED (
  SELECT rowid AS num, bm25({_FTS}, 4.0, 2.0, 1.0) AS relevance
  FROM {_FTS} WHERE {_FTS} MATCH :match
)
SELECT m.num AS num,
       m.relevance / (1.0 + max(0.0, julianday(:now) - julianday(a.published)) / :recency)
         AS score
FROM m JOIN articles AS a ON a.rowid = m.num
WHERE 1 {{filters}}
ORDER BY score LIMIT :limit
"""


class _Sqlite:
    """FTS5 on SQLite."""

    def create(self, conn: Connection) -> bool:
        if self.available(conn):
            for ddl in _TRIGGERS:
                conn.exec_driver_sql(ddl)
            return True
        try:
            conn.exec_driver_sql(_CREATE)
        except sa.exc.OperationalError as exc:  # an SQLite built without FTS5
            log.warning("no full-text index (search is unavailable): %s", exc.orig or exc)
            return False
        for ddl in _TRIGGERS:
            conn.exec_driver_sql(ddl)
        self.rebuild(conn)
        return True

    def available(self, conn: Connection) -> bool:
        return sa.inspect(conn).has_table(_FTS)

    def rebuild(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')")

    def search(self, conn: Connection, query: Query, filters: _Filters) -> list[SearchHit]:
        params: dict[str, object] = {
            "match": fts5_match(query),
            "now": _sql_time(filters.now),
            "recency": RECENCY_DAYS,
            "limit": filters.limit,
        }
        since = None if filters.since is None else _sql_time(filters.since)
        statement, more = filtered(_RANKED, filters, since)
        params |= more
        ranked = [(row.num, row.score) for row in conn.execute(statement, params)]
        if not ranked:
            return []
        nums = [n for n, _ in ranked]
        rows = conn.execute(
            sa.text(
                """SELECT rowid AS num, id, story_id, source_id, title, outlet, url, published
                FROM articles WHERE rowid IN :nums"""
            ).bindparams(sa.bindparam("nums", expanding=True)),
            {"nums": nums},
        )
        by_num = {row.num: row for row in rows}
        hits = []
        for num, score in ranked:
            row = by_num.get(num)
            if row is None:
                continue
            published = utc(_as_datetime(row.published)) or filters.now
            hits.append(search_hit(row, published, -float(score)))
        return hits

    def snippets(self, conn: Connection, query: Query, ids: Sequence[str]) -> dict[str, str]:
        # cutting a snippet reads and tokenizes the article's text: only for the hits shown;
        # the index asked by rowid alone (a join lets the planner probe it per article)
        nums: dict[int, str] = dict(
            conn.execute(
                sa.text("SELECT rowid, id FROM articles WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": list(ids)},
            ).all()
        )
        if not nums:
            return {}
        rows = conn.execute(
            sa.text(
                f"""SELECT rowid AS num,
                  snippet({_FTS}, -1, :open, :close, '…', {_SNIPPET_TOKENS}) AS snip
                FROM {_FTS} WHERE {_FTS} MATCH :match AND rowid IN :nums"""
            ).bindparams(sa.bindparam("nums", expanding=True)),
            {"match": fts5_match(query), "open": _OPEN, "close": _CLOSE, "nums": list(nums)},
        )
        return {nums[row.num]: row.snip or "" for row in rows}


def _sql_time(value: dt.datetime) -> str:
    """A time as SQLite holds a stored one (SQLAlchemy's text form of naive UTC)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _as_datetime(value: object) -> dt.datetime | None:
    """A stored datetime read by a raw statement (SQLite hands back its text)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return None


def split_snippet(text: str) -> tuple[tuple[str, bool], ...]:
    """A marked snippet as ``(text, matched)`` pieces (the marks removed)."""
    pieces: list[tuple[str, bool]] = []
    rest = text
    while rest:
        start = rest.find(_OPEN)
        if start < 0:
            pieces.append((rest, False))
            break
        end = rest.find(_CLOSE, start)
        end = len(rest) if end < 0 else end
        if start:
            pieces.append((rest[:start], False))
        if end > start + 1:
            pieces.append((rest[start + 1 : end], True))
        rest = rest[end + 1 :]
    return tuple((t.replace(_OPEN, "").replace(_CLOSE, ""), m) for t, m in pieces if t)


_ENGINES: dict[str, _Engine] = {
    "sqlite": _Sqlite(),
    "postgresql": Postgres(_OPEN, _CLOSE, _SNIPPET_TOKENS),
}


def search_engine(dialect: str) -> _Engine | None:
    """The full-text index of a database engine (by SQLAlchemy dialect name), if it has one."""
    return _ENGINES.get(dialect)


def create_search_index(conn: Connection) -> None:
    """Create the full-text index and its triggers where missing, filling it from the stored
    articles (idempotent; nothing on an engine without an index)."""
    engine = search_engine(conn.dialect.name)
    if engine is not None:
        engine.create(conn)


class Search(StoreBase):
    """Full-text search over the stored articles."""

    def _search_engine(self, conn: Connection) -> _Engine:
        name = conn.dialect.name
        engine = search_engine(name)
        if engine is None:
            raise SearchError(
                f"search needs a SQLite or PostgreSQL database: this one is on {name}, "
                "which briefs has no full-text index for"
            )
        if not engine.available(conn):
            why = "its SQLite has no FTS5" if name == "sqlite" else "it could not be created"
            raise SearchError(
                f"this database has no full-text index ({why}): search is unavailable"
            )
        return engine

    def search_articles(
        self,
        query: Query,
        *,
        now: dt.datetime,
        since: dt.datetime | None = None,
        sources: Collection[str] | None = None,
        limit: int = 50,
        snippets: bool = True,
    ) -> list[SearchHit]:
        """The stored articles that match, best first (relevance weighed by recency as of
        ``now``), published since ``since``, from ``sources`` (ids; None: any); without
        ``snippets`` their snippets are left empty (see :meth:`search_snippets`)."""
        filters = _Filters(now, since, None if sources is None else frozenset(sources), limit)
        if filters.sources is not None and not filters.sources:
            return []
        with self._read() as conn:
            engine = self._search_engine(conn)
            hits = engine.search(conn, query, filters)
            if not snippets or not hits:
                return hits
            cut = engine.snippets(conn, query, [h.article_id for h in hits])
        return [
            dataclasses.replace(h, snippet=split_snippet(cut.get(h.article_id, ""))) for h in hits
        ]

    def search_snippets(self, query: Query, hits: Sequence[SearchHit]) -> list[SearchHit]:
        """The hits with their snippets (cut for these only: a snippet reads the whole text)."""
        if not hits:
            return []
        with self._read() as conn:
            cut = self._search_engine(conn).snippets(conn, query, [h.article_id for h in hits])
        return [
            dataclasses.replace(h, snippet=split_snippet(cut.get(h.article_id, ""))) for h in hits
        ]

    def search_available(self) -> bool:
        """Whether this database has a full-text index to search."""
        with self._read() as conn:
            engine = search_engine(conn.dialect.name)
            return engine is not None and engine.available(conn)

    def rebuild_search_index(self) -> None:
        """Build the full-text index again from the stored articles (after a ``VACUUM``)."""
        with self._write() as conn:
            self._search_engine(conn).rebuild(conn)

    def story_titles(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored titles of these stories, by id (stories since merged away are left out)."""
        out: dict[str, str] = {}
        with self._read() as conn:
            for chunk in chunks(list(dict.fromkeys(ids)), 500):
                query = sa.select(stories.c.id, stories.c.title).where(stories.c.id.in_(chunk))
                out.update({row.id: row.title for row in conn.execute(query)})
        return out
