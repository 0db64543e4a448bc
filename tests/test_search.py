"""Full-text search: the query language, the SQLite FTS5 index kept in step by the store, its
ranking, and the migration that adds it to an older database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.errors import SearchError
from briefs.models import Article
from briefs.searchquery import MAX_QUERY_CHARS, Term, parse_query
from briefs.store import SCHEMA_VERSION, Store, open_store
from briefs.store.search import fts5_match
from tests.builders import article
from tests.rawdb import raw_sqlite

T0 = dt.datetime(2024, 4, 6, 9, 0, tzinfo=dt.UTC)


def art(aid: str, title: str, body: str, hours: float = 0, source: str = "wire") -> Article:
    url = f"https://news.test/{aid}"
    return article(
        aid,
        title,
        at=T0,
        hours=hours,
        fetched=T0,
        source=source,
        outlet=source.title(),
        url=url,
        body=body,
    )


def sample() -> list[Article]:
    return [
        art(
            "flood",
            "Floods in Valencia",
            "Heavy rain flooded Valencia. The prime minister visited.",
        ),
        art(
            "vote",
            "Elections held",
            "The election results were read by the prime minister.",
            -24 * 90,
        ),
        art("storm", "Storm warning", "A storm is coming; ministers met.", -2, source="paper"),
        art("minister", "Minister prime", "The minister spoke of prime numbers.", -1),
    ]


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    """The sample articles stored on each engine (SQLite's FTS5, PostgreSQL's tsvector)."""
    s = open_store(database)
    s.add_articles(sample())
    yield s
    s.close()


def ids(store: Store, text: str, **kw: object) -> list[str]:
    return [h.article_id for h in store.search_articles(parse_query(text), now=T0, **kw)]  # type: ignore[arg-type]


def test_query_language_reads_words_phrases_prefixes_or_and_exclusions() -> None:
    q = parse_query('flood* "Prime Minister" storms OR rain -football U.S.')
    assert q.groups == (
        (Term(("flood",), prefix=True),),
        (Term(("prime", "minister")),),
        (Term(("storms",)), Term(("rain",))),
        (Term(("u", "s")),),
    )
    assert q.excluded == (Term(("football",)),)
    # every term is quoted: FTS5 reads no operator, column filter or NEAR from the input
    assert fts5_match(q) == (
        '(("flood"*) AND ("prime minister") AND ("storms" OR "rain") AND ("u s")) NOT "football"'
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"unclosed phrase', "quotation mark is not closed"),
        ("OR floods", "OR needs a term on each side"),
        ("floods OR", "OR needs a term on each side"),
        ("-floods", "only excluded terms"),
        ("*** ::: ()", "no words"),
        ("", "no words"),
        ("x" * (MAX_QUERY_CHARS + 1), "too long"),
        ("a " * 30, "too many terms"),
    ],
)
def test_a_query_it_cannot_read_says_why(text: str, reason: str) -> None:
    with pytest.raises(SearchError, match=reason):
        parse_query(text)


# Queries written to break a full-text engine's syntax (tests/test_search_engines.py adds more).
HOSTILE_QUERIES = [
    "title:floods NEAR(a b) AND (",
    "floods) OR (1=1",
    "'; DROP TABLE articles; --",
    "<script>alert(1)</script>",
    "floods\x00\u202e",
    '"" * - OR- --x',
]


@pytest.mark.parametrize("hostile", HOSTILE_QUERIES)
def test_hostile_queries_never_reach_the_engine_as_syntax(store: Store, hostile: str) -> None:
    try:
        found = ids(store, hostile)
    except SearchError as exc:
        assert str(exc)  # a reason for the person, never sqlite3's own error
        return
    assert isinstance(found, list)
    assert ids(store, "floods") == ["flood"]  # the table is still there


def test_phrase_prefix_or_not_and_stemming(store: Store) -> None:
    assert ids(store, "valencia") == ["flood"]
    assert set(ids(store, '"prime minister"')) == {"flood", "vote"}  # not "minister ... prime"
    assert set(ids(store, "prime minister")) == {"flood", "vote", "minister"}
    assert ids(store, "valen*") == ["flood"]
    assert set(ids(store, "storm OR valencia")) == {"flood", "storm"}
    assert set(ids(store, "prime -numbers")) == {"flood", "vote"}
    assert ids(store, "elections") == ["vote"]
    assert set(ids(store, "minister")) == {"flood", "vote", "minister", "storm"}  # ministers


def test_since_and_sources_filter(store: Store) -> None:
    assert set(ids(store, "prime", since=T0 - dt.timedelta(days=1))) == {"flood", "minister"}
    assert ids(store, "minister", sources={"paper"}) == ["storm"]
    assert ids(store, "minister", sources=set()) == []


def test_ranking_weighs_relevance_by_recency(database: str) -> None:
    s = open_store(database)
    body = "The budget was debated in parliament today."
    s.add_articles(
        [art(f"old{i}", "Budget", body, -24 * 365) for i in range(3)]
        + [art("new", "Budget", body, -1)]
        + [art("title-only", "Unrelated", "A budget.", -1)]
        + [art(f"pad{i}", "Other", "Nothing to see.", -5) for i in range(20)]
    )
    hits = s.search_articles(parse_query("budget"), now=T0)
    assert hits[0].article_id == "new"  # same text, a year newer
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].score > 0
    s.close()


def test_snippets_mark_the_match_and_keep_text_raw(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "b.db"))
    store.add_articles(sample())
    s2 = store
    s2.add_articles(
        [art("markup", "Markup <b>story</b>", "x <script>alert(1)</script> valencia y")]
    )
    hit = next(
        h for h in s2.search_articles(parse_query("valencia"), now=T0) if h.article_id == "markup"
    )
    assert ("valencia", True) in hit.snippet
    assert "<script>" in "".join(t for t, _ in hit.snippet)  # raw: whoever shows it escapes it


def test_the_index_follows_text_changes_and_deletes(store: Store) -> None:
    sqlite = store.engine.dialect.name == "sqlite"
    store.set_article_text("flood", "Now about drought only.", "extracted", "h2")
    assert ids(store, "drought") == ["flood"]
    assert ids(store, "rain") == []
    assert ids(store, "valencia") == ["flood"]  # the title is unchanged
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM articles WHERE id = 'flood'")
    assert ids(store, "drought") == []
    if not sqlite:
        return  # the column is generated: nothing to check against
    with store.engine.begin() as conn:  # integrity: the index matches the content table
        conn.exec_driver_sql(
            "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
        )


def test_migration_from_schema_10_creates_and_fills_the_index(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    s = open_store(str(path))
    s.add_articles([art("a", "Harbour strike", "Dockers walked out at the harbour.")])
    s.close()
    with raw_sqlite(path) as con:
        con.executescript(
            "DROP TRIGGER articles_fts_insert; DROP TRIGGER articles_fts_delete;"
            "DROP TRIGGER articles_fts_update; DROP TABLE articles_fts;"
            "UPDATE meta SET value = '10' WHERE key = 'schema_version';"
        )
    s = open_store(str(path))
    assert s.schema_version() == SCHEMA_VERSION
    assert ids(s, "dockers") == ["a"]  # back-filled
    s.add_articles([art("b", "Harbour reopens", "Ships sail again.")])
    assert ids(s, "ships") == ["b"]  # and kept in step
    # the step is idempotent: run again over an indexed database, nothing changes
    from briefs.store.migrations import MIGRATIONS

    with s.engine.begin() as conn:
        MIGRATIONS[11](conn)
    assert sorted(ids(s, "harbour")) == ["a", "b"]
    s.close()


def test_an_engine_without_an_index_says_search_is_unavailable(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "b.db"))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE articles_fts")
    assert not store.search_available()
    with pytest.raises(SearchError, match="no full-text index"):
        ids(store, "floods")
