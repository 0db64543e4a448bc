from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from briefs.errors import StoreError
from briefs.models import Article, Edition, FeedState, PageRecord, Story, StoryLink
from briefs.store import SCHEMA_VERSION, open_store
from tests.builders import article
from tests.rawdb import raw_database, raw_sqlite

T0 = dt.datetime(2024, 4, 5, 9, tzinfo=dt.UTC)


def art(i: int, url: str | None = None, **kw: object) -> Article:
    url = f"https://x.example/{i}" if url is None else url
    return article(f"a{i}", f"Title {i}", at=T0, hours=i, fetched=T0, outlet="X", url=url, **kw)


def test_fresh_database_has_schema_version(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "b.db"))
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    with raw_sqlite(tmp_path / "b.db") as conn:  # the file itself
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(database: str) -> None:
    open_store(database).close()
    with raw_database(database) as run:  # as a newer briefs would leave it
        run("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer than this briefs"):
        open_store(database)


def test_migrations_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefs.store import migrations

    open_store(str(tmp_path / "b.db")).close()
    ran: list[int] = []
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(migrations.MIGRATIONS, SCHEMA_VERSION, lambda conn: ran.append(1))
    store = open_store(str(tmp_path / "b.db"))
    assert ran == [1]
    assert store.schema_version() == SCHEMA_VERSION + 1


def test_articles_are_added_once(database: str) -> None:
    store = open_store(database)
    assert [a.id for a in store.add_articles([art(1), art(2)])] == ["a1", "a2"]
    assert store.add_articles([art(1), art(2)]) == []
    # same canonical URL under another id (e.g. the GUID changed): not added again
    assert store.add_articles([art(9, url="https://x.example/1")]) == []
    # two documents without URLs are different articles
    assert len(store.add_articles([art(3, url=""), art(4, url="")])) == 2
    assert store.article_count() == 4
    back = store.articles(["a2", "a1", "missing"])
    assert [a.id for a in back] == ["a2", "a1"]
    assert back[0].published == T0 + dt.timedelta(hours=2)
    assert back[0].published.tzinfo is not None
    store.close()


def test_articles_read_for_their_leads(database: str) -> None:
    store = open_store(database)
    body = "Wörds of the body, " * 20
    store.add_articles([art(1, summary="A teaser.", body=body), art(2, body=body)])
    teaser, bare = store.articles(["a1", "a2"], lead_chars=30)
    assert (teaser.summary, teaser.body) == ("A teaser.", "")  # a teaser is the lead
    assert (bare.summary, bare.body) == ("", body[:30])  # else the body's start, by characters
    assert [a.body for a in store.articles(["a1", "a2"])] == [body, body]
    store.close()


def test_naive_datetimes_are_refused(database: str) -> None:
    store = open_store(database)
    bad = Article(
        id="n",
        source_id="s",
        url="https://x.example/n",
        title="t",
        published=dt.datetime(2024, 1, 1),
        fetched=T0,
        outlet="X",
    )
    with pytest.raises(StoreError, match="naive"):
        store.add_articles([bad])
    store.close()


def test_feed_state_round_trip(database: str) -> None:
    store = open_store(database)
    state = FeedState(
        "s",
        url="https://x.example/feed",
        etag='"abc"',
        last_status="200",
        last_polled=T0,
        next_poll=T0 + dt.timedelta(hours=1),
        consecutive_failures=2,
        last_error="boom",
    )
    store.save_feed_state(state)
    assert store.feed_state("s") == state
    store.save_feed_state(FeedState("s", etag='"def"'))
    assert store.feed_state("s").etag == '"def"'  # type: ignore[union-attr]
    assert store.feed_state("nope") is None
    store.close()


def test_stories_round_trip_across_runs(database: str) -> None:
    path = database
    store = open_store(path)
    store.add_articles([art(1), art(2), art(3)])
    story = Story("st1", ("a1", "a2"), T0, T0 + dt.timedelta(hours=2), "Title 1", ("alpha", "beta"))
    store.save_stories([story])
    store.close()
    store = open_store(path)
    assert store.story("st1") == Story(
        "st1", ("a1", "a2"), T0, T0 + dt.timedelta(hours=2), "Title 1", ("alpha", "beta")
    )
    assert [a.id for a in store.ungrouped_articles()] == ["a3"]
    assert [s.id for s in store.stories_updated_since(T0 + dt.timedelta(hours=1))] == ["st1"]
    assert store.stories_updated_since(T0 + dt.timedelta(hours=3)) == []
    store.close()


def test_editions_remember_story_sizes(database: str) -> None:
    store = open_store(database)
    e1, e2 = Edition(dt.date(2024, 4, 5)), Edition(dt.date(2024, 4, 6))
    store.record_edition(e1, T0, "one", {"st1": 2}, "<p>1</p>")
    store.record_edition(e2, T0, "two", {"st1": 3}, "<p>2</p>")
    store.record_edition(e2, T0, "two again", {"st1": 4}, "<p>2b</p>")
    records = store.recent_editions(10)
    assert [r.title for r in records] == ["two again", "one"]
    assert [dict(r.story_counts) for r in records] == [{"st1": 4}, {"st1": 2}]
    assert store.edition_ids() == ["2024-04-06", "2024-04-05"]
    store.close()


def test_migration_from_schema_1_keeps_everything(database: str) -> None:
    with raw_database(database) as run:  # a database of the first schema version
        text = (Path(__file__).parent / "data" / "schema_v1.sql").read_text()
        ddl = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        if "://" in database:  # the same tables in PostgreSQL's words
            ddl = ddl.replace("DATETIME", "TIMESTAMP WITHOUT TIME ZONE")
        for statement in ddl.split(";"):
            if statement.strip():
                run(statement)
        run(
            "INSERT INTO feed_state (source_id, url, etag, last_status, consecutive_failures, "
            "disabled, next_poll) VALUES ('s', 'https://x.example/new', '\"e\"', '200', 2, '0', "
            "'2024-04-05 10:00:00.000000')"
        )
        run(
            "INSERT INTO articles VALUES ('a1', 's', 'https://x.example/1', 'g1', 'Title', "
            "'2024-04-05 09:00:00.000000', '2024-04-05 09:30:00.000000', 'X', '', 'en', "
            "'Teaser.', '', 'none', NULL, '', NULL, NULL)"
        )
    path = database
    store = open_store(str(path))
    # 1 -> 2 (deliveries) -> 3 (ingest) -> 4 (story links) -> 5 (numbered sketches)
    # -> 6 (quarantine) -> 7 (parser columns) -> 8 (embeddings, story changes)
    # -> 9 (word counts) -> 10 (article categories) -> 11 (mailbox messages read)
    # -> 12 (search index) -> 13 (editions and deliveries per brief)
    # -> 14 (source claims) -> 15 (notifications) -> 16 (PostgreSQL's search index)
    # -> 17 (PostgreSQL's search vectors in a table of their own)
    assert store.schema_version() == SCHEMA_VERSION == 17
    assert store.notifications() == []
    store.save_embeddings({"a1": b"\x00\x3c" * 4}, "m")
    assert store.embeddings(["a1", "a2"], "m") == {"a1": b"\x00\x3c" * 4}
    assert store.embeddings(["a1"], "another model") == {}
    state = store.feed_state("s")
    assert state == FeedState(
        "s",
        url="https://x.example/new",
        etag='"e"',
        last_status="200",
        consecutive_failures=2,
        next_poll=dt.datetime(2024, 4, 5, 10, tzinfo=dt.UTC),
    )
    assert [(a.title, a.tags) for a in store.articles(["a1"])] == [("Title", ())]
    day = dt.datetime(2024, 4, 5, tzinfo=dt.UTC)
    # stored without a word count: the teaser scan counts its words itself
    assert [a.id for a in store.articles_needing_text(day, day + dt.timedelta(hours=12), 60)] == [
        "a1"
    ]
    # the new columns and tables work on the migrated file
    first = store.articles(["a1"])[0]
    tagged = dataclasses.replace(
        first, id="a2", url="https://x.example/2", guid="g2", tags=("Sport", "Calder Bay")
    )
    store.add_articles([tagged])
    assert [a.tags for a in store.articles(["a2"])] == [("Sport", "Calder Bay")]
    assert [a.tags for a in store.articles(["a2"], texts=False)] == [("Sport", "Calder Bay")]
    store.save_feed_state(dataclasses.replace(state, retry_until=T0, floor_minutes=15))
    assert store.feed_state("s") == dataclasses.replace(state, retry_until=T0, floor_minutes=15)
    store.save_page(PageRecord("https://x.example/1", "refused", T0, error="nope"))
    assert store.page("https://x.example/1") == PageRecord(
        "https://x.example/1", "refused", T0, error="nope"
    )
    store.save_sketches([("a1", T0, b"\0" * 512, [1, 2, 3])])
    assert [p.id for p in store.sketch_candidates([2], T0 - dt.timedelta(days=1))] == ["a1"]
    story = Story("s1", ("a1",), T0, T0, "Title", ("Title",), (StoryLink("a1", 0.0),))
    store.save_stories([story])
    assert store.story("s1") == story
    store.close()
    if "://" not in path:
        with raw_sqlite(path) as conn:  # the file itself, after the migrations
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


def test_articles_needing_text_skip_cached_pages(database: str) -> None:
    store = open_store(database)
    store.add_articles(
        [
            art(1, summary="Teaser."),
            art(2, summary="Teaser."),
            art(3, summary="Teaser."),
            art(4, body="long " * 500, body_origin="feed"),
            art(5, url="", summary="no link"),
            art(6, body="From a file.", body_origin="file"),
        ]
    )
    store.save_page(PageRecord("https://x.example/1", "ok", T0, text="Full."))
    store.save_page(
        PageRecord("https://x.example/2", "failed", T0, next_try=T0 + dt.timedelta(hours=6))
    )
    later = T0 + dt.timedelta(hours=1)
    ids = [a.id for a in store.articles_needing_text(T0 - dt.timedelta(days=1), later, 100)]
    assert ids == ["a3"]  # a4's 500 words are no teaser
    retry_time = T0 + dt.timedelta(hours=7)
    ids = [a.id for a in store.articles_needing_text(T0 - dt.timedelta(days=1), retry_time, 100)]
    assert ids == ["a3", "a2"]  # newest first; the transient failure's retry time has come
    store.set_article_text("a3", "Extracted text.", "extracted", "h")
    assert store.articles(["a3"])[0].body_origin == "extracted"
    assert store.article_counts_since(T0) == {"s": 6}
    store.close()


def test_old_pages_and_sketches_are_pruned(database: str) -> None:
    store = open_store(database)
    store.add_articles([art(1), art(2)])
    store.save_sketches(
        [("a1", T0, b"\0" * 512, [7, 8]), ("a2", T0 + dt.timedelta(days=40), b"\0" * 512, [8, 9])]
    )
    store.save_page(PageRecord("https://x.example/1", "ok", T0, text="old"))
    store.save_page(PageRecord("https://x.example/2", "ok", T0 + dt.timedelta(days=40)))
    assert store.prune_ingest_caches(T0 + dt.timedelta(days=30)) == 2
    later = T0 - dt.timedelta(days=1)
    assert [p.id for p in store.sketch_candidates([7, 8, 9], later)] == ["a2"]
    assert store.page("https://x.example/1") is None
    assert store.page("https://x.example/2") is not None
    store.close()
