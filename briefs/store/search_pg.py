"""The full-text index on PostgreSQL: a table of ``tsvector`` rows beside ``articles``, with a
GIN index.

``article_search`` holds one vector per article, made from the title (weight A), the feed
summary (B) and the text (C) by a trigger on ``articles`` that fires when an article is stored
and when one of those three columns is written, so PostgreSQL keeps it in step with every
write, whoever makes it; nothing in the store's write path knows of it. The vectors are not a
column of ``articles`` (schema 16 had a generated column): PostgreSQL computes a generated
column again on every UPDATE of its row, and grouping and linking copies update every new
article (its story, its original), which made each of those updates re-read the article's
words and write new GIN entries (50k articles: 18 s of the server per pass, against under a
second without). Words are read by the text-search configuration ``briefs_search``: the
English Snowball stemmer with no stop words (FTS5 keeps every word, so must this: ``"state of
the art"`` is a phrase of four words on both engines) and, where the ``unaccent`` extension can
be created, diacritics folded as FTS5's ``remove_diacritics`` does. A database that cannot
hold the configuration (no right to create one) has no index, and a search says so.

A :class:`briefs.searchquery.Query` becomes a ``tsquery`` built here from its words (each in
single quotes, letters and digits only: nothing typed is read as tsquery syntax), joined by
``<->`` (a phrase), ``|`` (OR), ``&`` and ``!``; ``to_tsquery`` then only stems each quoted word.
Ranking: ``ts_rank`` with the weights 4 / 2 / 1 of the SQLite index, divided by ``1 + age /
RECENCY_DAYS`` as there. Snippets: ``ts_headline`` of the text (else the summary, else the
title: the first whose part of the stored vector, by its weight, matches) with the same
private-use marks as FTS5's, so that the page escapes the text itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from briefs.models import SearchHit
from briefs.searchquery import Query, Term
from briefs.store.base import utc

__all__ = ["CONFIG", "TABLE", "Postgres", "filtered", "search_hit", "tsquery"]

log = logging.getLogger(__name__)

CONFIG = "briefs_search"
TABLE = "article_search"  # (article_id, vector)
_INDEX = "article_search_vector"
_FUNCTION = "briefs_article_search"
_TRIGGER = "article_search_write"
_OLD_COLUMN = "search_vector"  # schema 16: a generated column of articles
_WEIGHTS = "{0.0, 0.25, 0.5, 1.0}"  # D, C (text), B (summary), A (title): 1, 2, 4
_TOKENS = (
    "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, "
    "hword_numpart"
)


class Filters(Protocol):
    """What narrows a search (``briefs.store.search._Filters``)."""

    @property
    def now(self) -> dt.datetime: ...
    @property
    def since(self) -> dt.datetime | None: ...
    @property
    def sources(self) -> frozenset[str] | None: ...
    @property
    def limit(self) -> int: ...
    @property
    def recency(self) -> float: ...


def _term(term: Term) -> str:
    # words are letters and digits only (searchquery._WORD): nothing to escape in the quotes
    words = [f"'{w}'" for w in term.words]
    if term.prefix:
        words[-1] += ":*"
    return "(" + " <-> ".join(words) + ")"


def tsquery(query: Query, *, excluded: bool = True) -> str:
    """A query in ``to_tsquery``'s syntax (every word quoted, so no input is an operator);
    without ``excluded``, its terms to find only (``ts_rank`` ranks a ``!term`` query 0)."""
    out = " & ".join("(" + " | ".join(_term(t) for t in group) + ")" for group in query.groups)
    for term in query.excluded if excluded else ():
        out += " & !" + _term(term)
    return out


def _words(column: str) -> str:
    """A column's words as the index reads them: ASCII punctuation is a space, as it is to
    FTS5's tokenizer and to the query language (``U.S.`` is ``U S``, ``<b>`` is ``b``), where
    PostgreSQL's parser would read hosts, paths, tags and e-mail addresses as single tokens."""
    spaced = f"regexp_replace(coalesce({column}, ''), '[[:punct:]]+', ' ', 'g')"
    return f"to_tsvector('{CONFIG}'::regconfig, {spaced})"


def _vector(column: str, weight: str) -> str:
    return f"setweight({_words(column)}, '{weight}')"


# An article's vector: ``{row}`` is the articles' row (``NEW`` in the trigger).
_VECTOR = " || ".join(
    (_vector("{row}.title", "A"), _vector("{row}.summary", "B"), _vector("{row}.body", "C"))
)
_WRITE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {TABLE} (article_id, vector) VALUES (NEW.id, {_VECTOR.format(row="NEW")})
  ON CONFLICT (article_id) DO UPDATE SET vector = excluded.vector;
  RETURN NULL;
END $$
"""

_RANKED = f"""
SELECT a.id, a.story_id, a.source_id, a.title, a.outlet, a.url, a.published,
       ts_rank(CAST(:weights AS real[]), s.vector, to_tsquery('{CONFIG}', :wanted))
         / (1.0 + greatest(0.0, extract(epoch FROM (:now - a.published)) / 86400.0) / :recency)
         AS score
FROM {TABLE} AS s JOIN articles AS a ON a.id = s.article_id, to_tsquery('{CONFIG}', :query) AS q(q)
WHERE s.vector @@ q.q {{filters}}
ORDER BY score DESC, a.published DESC LIMIT :limit
"""

_SNIPPETS = f"""
SELECT a.id,
  ts_headline('{CONFIG}',
    CASE WHEN ts_filter(s.vector, '{{c}}') @@ q.q THEN a.body
         WHEN ts_filter(s.vector, '{{b}}') @@ q.q THEN a.summary
         ELSE a.title END,
    to_tsquery('{CONFIG}', :wanted), :options) AS snip
FROM {TABLE} AS s JOIN articles AS a ON a.id = s.article_id, to_tsquery('{CONFIG}', :query) AS q(q)
WHERE a.id IN :ids
"""


def filtered(sql: str, filters: Filters, since: object) -> tuple[sa.TextClause, dict[str, object]]:
    """A ranking statement with its ``{filters}`` filled in (``a``: the articles) from the
    filters, and their parameters (``since`` as the engine compares it)."""
    where = ""
    params: dict[str, object] = {}
    if filters.since is not None:
        where += " AND a.published >= :since"
        params["since"] = since
    if filters.sources is not None:
        where += " AND a.source_id IN :sources"
        params["sources"] = sorted(filters.sources)
    statement = sa.text(sql.format(filters=where))
    if filters.sources is not None:
        statement = statement.bindparams(sa.bindparam("sources", expanding=True))
    return statement, params


def search_hit(row: Any, published: dt.datetime, score: float) -> SearchHit:
    """A hit from a row of the articles (id, story_id, source_id, title, outlet, url)."""
    return SearchHit(
        article_id=row.id,
        story_id=row.story_id,
        source_id=row.source_id,
        title=row.title,
        outlet=row.outlet,
        url=row.url,
        published=published,
        score=score,
    )


class Postgres:
    """A table of ``tsvector`` rows kept by a trigger on ``articles``, with a GIN index."""

    def __init__(self, open_mark: str, close_mark: str, tokens: int) -> None:
        self.options = (
            f'StartSel="{open_mark}", StopSel="{close_mark}", MaxWords={tokens}, '
            f'MinWords={tokens // 2}, ShortWord=0, MaxFragments=0, FragmentDelimiter=" … "'
        )

    def create(self, conn: Connection) -> bool:
        if self.available(conn):
            return True
        try:
            with conn.begin_nested():
                self._configuration(conn)
                # schema 16's generated column (and its index with it): see the module's doc
                conn.exec_driver_sql(f"ALTER TABLE articles DROP COLUMN IF EXISTS {_OLD_COLUMN}")
                conn.exec_driver_sql(
                    f"CREATE TABLE {TABLE} (article_id varchar(40) PRIMARY KEY "
                    "REFERENCES articles (id) ON DELETE CASCADE, vector tsvector NOT NULL)"
                )
                conn.exec_driver_sql(_WRITE_FUNCTION)
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {_TRIGGER} AFTER INSERT OR UPDATE OF title, summary, body "
                    f"ON articles FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()"
                )
                self._fill(conn)
                conn.exec_driver_sql(f"CREATE INDEX {_INDEX} ON {TABLE} USING gin (vector)")
        except sa.exc.DBAPIError as exc:
            log.warning("no full-text index (search is unavailable): %s", exc.orig or exc)
            return False
        return True

    def _fill(self, conn: Connection) -> None:
        """A vector for every stored article that has none."""
        conn.exec_driver_sql(
            f"INSERT INTO {TABLE} (article_id, vector) SELECT a.id, {_VECTOR.format(row='a')} "
            f"FROM articles AS a ON CONFLICT (article_id) DO NOTHING"
        )

    def _configuration(self, conn: Connection) -> None:
        """The text-search configuration (English stems, no stop words, accents folded where
        ``unaccent`` can be had), made once per database."""
        made = conn.exec_driver_sql(
            "SELECT 1 FROM pg_ts_config WHERE cfgname = %(name)s", {"name": CONFIG}
        ).first()
        if made:
            return
        dictionaries = f"{CONFIG}_stem"
        conn.exec_driver_sql(
            f"CREATE TEXT SEARCH DICTIONARY {CONFIG}_stem (TEMPLATE = snowball, Language = english)"
        )
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
            dictionaries = f"unaccent, {dictionaries}"
        except sa.exc.DBAPIError as exc:
            log.info("search on PostgreSQL without unaccent (diacritics kept): %s", exc.orig)
        conn.exec_driver_sql(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = simple)")
        conn.exec_driver_sql(
            f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR {_TOKENS} "
            f"WITH {dictionaries}"
        )

    def available(self, conn: Connection) -> bool:
        found = conn.exec_driver_sql(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name = %(name)s",
            {"name": TABLE},
        ).first()
        return found is not None

    def rebuild(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"TRUNCATE {TABLE}")
        self._fill(conn)
        conn.exec_driver_sql(f"REINDEX INDEX {_INDEX}")

    def search(self, conn: Connection, query: Query, filters: Filters) -> list[SearchHit]:
        params: dict[str, object] = {
            "query": tsquery(query),
            "wanted": tsquery(query, excluded=False),
            "now": filters.now.astimezone(dt.UTC).replace(tzinfo=None),
            "recency": filters.recency,
            "limit": filters.limit,
            "weights": _WEIGHTS,
        }
        since = None if filters.since is None else filters.since.astimezone(dt.UTC)
        statement, more = filtered(_RANKED, filters, since and since.replace(tzinfo=None))
        return [
            search_hit(row, utc(row.published) or filters.now, float(row.score))
            for row in conn.execute(statement, params | more)
        ]

    def snippets(self, conn: Connection, query: Query, ids: Sequence[str]) -> dict[str, str]:
        rows = conn.execute(
            sa.text(_SNIPPETS).bindparams(sa.bindparam("ids", expanding=True)),
            {
                "query": tsquery(query),
                "wanted": tsquery(query, excluded=False),
                "options": self.options,
                "ids": list(ids),
            },
        )
        return {row.id: row.snip or "" for row in rows}
