"""Search on both engines: PostgreSQL's generated ``tsvector`` column (GIN index) answers the
same queries with the same articles as SQLite's FTS5, hostile queries included, and the
migration step that adds it to a PostgreSQL database made before it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from briefs.errors import SearchError
from briefs.models import Story
from briefs.searchquery import parse_query
from briefs.store import SCHEMA_VERSION, Store, open_store
from briefs.store.migrations import MIGRATIONS
from briefs.store.search_pg import CONFIG, TABLE, tsquery
from tests.pgserver import PostgresServer
from tests.test_search import HOSTILE_QUERIES, T0, art, sample

EXTRA = [
    art("art", "State of the art", "A state of the art harbour crane, the city's first.", -3),
    art("cafe", "Café reopens", "The café on the quay reopened; coffee was free.", -4),
    art("num", "Budget 2024", "The 2024 budget: 3 billion for schools and U.S. trade.", -5),
    art("hyphen", "Well-known dockers", "The well-known dockers' union struck at 06:00.", -6),
    art("markup", "Markup <b>story</b>", "x <script>alert(1)</script> valencia y", -7),
    art("other", "Harbour strike", "Dockers walked out at the harbour; ships waited.", -30 * 24),
]
QUERIES = [
    "valencia",
    '"prime minister"',
    "prime minister",
    "minist*",
    "valen*",
    "storm OR valencia",
    "prime -numbers",
    "elections",
    '"state of the art"',
    "the",
    "cafe",
    "café",
    "2024 budget",
    "dockers",
    "harbour -crane",
    '"well known"',
    "known",
    "u.s.",
    "harbour OR quay -ships",
    '"harbour crane"*',
    "script",
    "nothingmatches",
]
HOSTILE = [
    *HOSTILE_QUERIES,
    "a:* & !b | (c <-> d)",
    "valencia:A & 'x'",
    "\\' OR '1'='1",
    "x" * 10_000,
    " ".join(["harbour"] * 2_000),
]


def _both(tmp_path: Path, postgres: PostgresServer) -> dict[str, Store]:
    stores = {
        "sqlite": open_store(str(tmp_path / "b.db")),
        "pg": open_store(postgres.new_database()),
    }
    for store in stores.values():
        store.add_articles(sample() + EXTRA)
    return stores


def _found(store: Store, text: str) -> set[str]:
    return {h.article_id for h in store.search_articles(parse_query(text), now=T0)}


def test_both_engines_find_the_same_articles(tmp_path: Path, postgres: PostgresServer) -> None:
    stores = _both(tmp_path, postgres)
    for text in QUERIES:
        found = {name: _found(store, text) for name, store in stores.items()}
        assert found["sqlite"] == found["pg"], text
    # and the queries do find things: the comparison is not of empty sets
    assert _found(stores["pg"], '"state of the art"') == {"art"}
    assert _found(stores["pg"], "cafe") == {"cafe"}  # diacritics folded, as FTS5's
    assert _found(stores["pg"], "the") >= {"flood", "vote", "art", "cafe"}  # no stop words
    assert _found(stores["pg"], "harbour -crane") == {"other"}
    for store in stores.values():
        store.close()


def test_postgres_ranks_by_relevance_and_recency(tmp_path: Path, postgres: PostgresServer) -> None:
    store = open_store(postgres.new_database())
    body = "The budget was debated in parliament today."
    store.add_articles(
        [
            art("old", "Budget", body, -24 * 365),
            art("new", "Budget", body, -1),
            art("body-only", "Unrelated", "A budget.", -1),
        ]
    )
    hits = store.search_articles(parse_query("budget"), now=T0)
    assert hits[0].article_id == "new"
    assert hits[-1].article_id == "old"  # the same text, a year older
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.score > 0 for h in hits)
    excluded = store.search_articles(parse_query("budget -parliament"), now=T0)
    assert [h.article_id for h in excluded] == ["body-only"] and excluded[0].score > 0
    store.close()


def test_postgres_snippets_mark_the_match(postgres: PostgresServer) -> None:
    store = open_store(postgres.new_database())
    store.add_articles(sample() + EXTRA)
    hit = next(
        h for h in store.search_articles(parse_query("valencia"), now=T0) if h.article_id == "flood"
    )
    assert ("Valencia", True) in hit.snippet
    assert "Heavy rain flooded" in "".join(t for t, _ in hit.snippet)
    title_only = store.search_articles(parse_query("unrelatedtitle"), now=T0)
    assert title_only == []
    # a match in the title only: the snippet is cut from the title
    store.add_articles([art("t", "Lighthouse keeper retires", "He kept it for forty years.")])
    (hit,) = store.search_articles(parse_query("lighthouse"), now=T0)
    assert ("Lighthouse", True) in hit.snippet
    store.close()


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_on_postgres(postgres: PostgresServer, hostile: str) -> None:
    store = open_store(postgres.new_database())
    store.add_articles(sample())
    try:
        found = _found(store, hostile)
    except SearchError as exc:
        assert "psycopg" not in str(exc) and "tsquery" not in str(exc) and str(exc)
    else:
        assert isinstance(found, set)
    assert _found(store, "valencia") == {"flood"}  # the database is as it was
    store.close()


def test_every_query_is_quoted_for_to_tsquery() -> None:
    q = parse_query('flood* "Prime Minister" storms OR rain -football')
    assert tsquery(q) == (
        "(('flood':*)) & (('prime' <-> 'minister')) & (('storms') | ('rain')) & !('football')"
    )


def test_schema_16s_generated_column_becomes_a_table_of_its_own(
    postgres: PostgresServer,
) -> None:
    """A database of schema 16 kept its vectors in a generated column of ``articles``, which
    PostgreSQL computed again on every update of an article (its story, its original): the
    migration moves them to ``article_search`` and drops the column; search finds the same."""
    url = postgres.new_database()
    store = open_store(url)
    store.add_articles([art("a", "Harbour strike", "Dockers walked out at the harbour.")])
    with store.engine.begin() as conn:  # as schema 16 left it
        conn.exec_driver_sql(f"DROP TABLE {TABLE}")
        conn.exec_driver_sql("DROP FUNCTION briefs_article_search() CASCADE")
        conn.exec_driver_sql(
            "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            f"(to_tsvector('{CONFIG}'::regconfig, coalesce(title, ''))) STORED"
        )
        conn.exec_driver_sql(
            "CREATE INDEX articles_search_vector ON articles USING gin (search_vector)"
        )
        conn.exec_driver_sql("UPDATE meta SET value = '16' WHERE key = 'schema_version'")
    store.close()
    store = open_store(url)
    assert store.schema_version() == SCHEMA_VERSION
    with store.engine.connect() as conn:
        columns = sa.inspect(conn).get_columns("articles")
        assert "search_vector" not in {c["name"] for c in columns}
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar_one() == 1
    assert _found(store, "dockers") == {"a"}  # the body too, not only the old column's title
    store.save_stories([Story("s1", ("a",), T0, T0, "Harbour strike", ("harbour",), ())])
    assert _found(store, "harbour") == {"a"}  # an article's story written: still found once
    store.close()


def test_migration_adds_the_index_to_a_postgres_database(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    store = open_store(url)
    store.add_articles([art("a", "Harbour strike", "Dockers walked out at the harbour.")])
    with store.engine.begin() as conn:  # as a database made before the index was
        conn.exec_driver_sql(f"DROP TABLE {TABLE}")
        conn.exec_driver_sql("DROP FUNCTION briefs_article_search() CASCADE")
        conn.exec_driver_sql(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}")
        conn.exec_driver_sql(f"DROP TEXT SEARCH DICTIONARY {CONFIG}_stem")
        conn.exec_driver_sql("UPDATE meta SET value = '15' WHERE key = 'schema_version'")
    assert not store.search_available()
    with pytest.raises(SearchError, match="no full-text index"):
        _found(store, "dockers")
    store.close()
    store = open_store(url)
    assert store.schema_version() == SCHEMA_VERSION
    assert _found(store, "dockers") == {"a"}  # filled from the stored articles
    store.add_articles([art("b", "Harbour reopens", "Ships sail again.")])
    assert _found(store, "ships") == {"b"}  # and kept in step
    with store.engine.begin() as conn:  # the step is idempotent
        MIGRATIONS[15](conn)
    assert _found(store, "harbour") == {"a", "b"}
    store.set_article_text("a", "Now about drought only.", "extracted", "h2")
    assert _found(store, "drought") == {"a"} and _found(store, "dockers") == set()
    store.close()


def test_since_and_sources_on_postgres(postgres: PostgresServer) -> None:
    store = open_store(postgres.new_database())
    store.add_articles(sample())
    hits = store.search_articles(parse_query("prime"), now=T0, since=T0 - dt.timedelta(days=1))
    assert {h.article_id for h in hits} == {"flood", "minister"}
    hits = store.search_articles(parse_query("minister"), now=T0, sources={"paper"})
    assert [h.article_id for h in hits] == ["storm"]
    store.close()


def test_the_search_page_escapes_markup_on_postgres(
    seeds_copy: Path, postgres: PostgresServer
) -> None:
    """Markup in a document and in the query comes out escaped on the page, as on SQLite
    (tests/test_search_serve.py): ts_headline's snippet is text, the template escapes it."""
    import dataclasses

    from briefs.config import load_config
    from briefs.search import SearchPage

    url = postgres.new_database()
    config = dataclasses.replace(load_config(seeds_copy / "briefs.toml"), database=url)
    store = open_store(url)
    store.add_articles(
        [
            art("evil", 'Quayside <script>alert("t")</script> protest', "x", -1),
            art(
                "evil2", "Harbour", 'The quayside <img src=x onerror="alert(2)"> &amp; protest', -2
            ),
        ]
    )
    for q in ("quayside", "<b>quayside</b>", '"quayside protest"', "script", "onerror"):
        status, page = SearchPage(config, store).respond({"q": [q]}, now=T0)
        assert status == 200, (q, page)
        assert (
            "<script>alert" not in page and "<img src=x" not in page and "<b>quayside" not in page
        )
    status, page = SearchPage(config, store).respond({"q": ["quayside"]}, now=T0)
    assert "&lt;script&gt;alert" in page  # the title, escaped
    assert page.count("<mark>") >= 2  # the matches, marked
    store.close()
