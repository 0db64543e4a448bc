"""The schema version chain: create a fresh database at the latest version, or bring an older
one there a step at a time, each step in its own transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from briefs.errors import StoreError
from briefs.store.schema import (
    articles,
    deliveries,
    editions,
    embeddings,
    feed_state,
    meta_table,
    metadata,
    notifications,
    pages,
    quarantine,
    seen_messages,
    sketch_bands,
    sketches,
    source_claims,
    story_changes,
    story_links,
)
from briefs.store.search import create_search_index

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 17


def _add_deliveries(conn: Connection) -> None:
    """Issue 7 (daemon and email): per edition and recipient delivery records."""
    deliveries.create(conn)


def _add_columns(conn: Connection, table: sa.Table, names: Sequence[str]) -> None:
    """ALTER TABLE ... ADD COLUMN for each named column the table does not have yet."""
    present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for name in names:
        if name in present:
            continue
        column = table.c[name]
        ddl = column.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} {ddl}"))


def _migrate_2_to_3(conn: Connection) -> None:
    """Issue 3 (ingestion): feed health columns, the page cache, near-duplicate sketches."""
    _add_columns(
        conn,
        feed_state,
        ("source_url", "last_success", "retry_until", "floor_minutes", "site_url", "feed_title"),
    )
    metadata.create_all(conn, tables=[pages, sketches, sketch_bands])


def _add_story_links(conn: Connection) -> None:
    """Issue 4 (grouping): why each article is in its story (idempotent: safe if renumbered)."""
    metadata.create_all(conn, tables=[story_links], checkfirst=True)


def _renumber_sketches(conn: Connection) -> None:
    """Issue 8 (scale): sketches numbered, band index keyed by number (see ``sketch_bands``).

    The old rows are dropped, not converted: their signatures were made with the previous hash
    functions (dedupe.SKETCH_VERSION 1) and cannot be compared with new ones. The pipeline
    sketches the articles of the duplicate window again (meta ``sketch_version``).
    """
    conn.execute(sa.text("DROP TABLE IF EXISTS sketch_bands"))
    conn.execute(sa.text("DROP TABLE IF EXISTS sketches"))
    metadata.create_all(conn, tables=[sketches, sketch_bands])


def _add_quarantine(conn: Connection) -> None:
    """Issue 13 (reliability): the quarantine for rows later stages cannot process."""
    metadata.create_all(conn, tables=[quarantine], checkfirst=True)


def _add_parser_columns(conn: Connection) -> None:
    """Issue 21 (fast parsing): which parser read each source's last document, and why."""
    _add_columns(conn, feed_state, ("parser", "parser_fallback"))


def _add_embeddings(conn: Connection) -> None:
    """Issue 14 (grouping): stored article embeddings, story splits and merges (idempotent:
    safe if renumbered)."""
    metadata.create_all(conn, tables=[embeddings, story_changes], checkfirst=True)


def _add_word_counts(conn: Connection) -> None:
    """Issue 16 (re-poll cost): each article's word count, for the teaser scan.

    Rows stored before keep NULL (the scan counts their words itself): counting every stored
    text here would make the upgrade of a large database slow for rows the scan, which looks
    at the last two days, soon never sees again.
    """
    _add_columns(conn, articles, ("words",))


def _add_article_tags(conn: Connection) -> None:
    """Issue 16 (sections): each article's own categories (older rows get none)."""
    _add_columns(conn, articles, ("tags",))


def _add_seen_messages(conn: Connection) -> None:
    """Issue 20 (newsletters): the messages mailbox sources have read (idempotent: safe if
    renumbered)."""
    metadata.create_all(conn, tables=[seen_messages], checkfirst=True)


def _search_beside_articles(conn: Connection) -> None:
    """PostgreSQL's vectors move from a generated column of ``articles`` (computed again on
    every update of an article: its story, its original) to a table of their own kept by a
    trigger (briefs.store.search_pg); SQLite's FTS5 index already was. Idempotent."""
    create_search_index(conn)


def _add_search_index(conn: Connection) -> None:
    """Issue 19 (search): the full-text index of the articles and the triggers that keep it in
    step, filled from the articles stored (idempotent: safe if renumbered)."""
    create_search_index(conn)


def _rekey_by_brief(conn: Connection, table: sa.Table) -> None:
    """The table again with ``brief`` in its primary key, its rows copied as the default
    brief's (a primary key cannot be altered in place on SQLite). Idempotent: a table that
    already has the column is left alone."""
    present = [c["name"] for c in sa.inspect(conn).get_columns(table.name)]
    if "brief" in present:
        return
    scratch = f"{table.name}_by_brief"
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {scratch}"))
    copy = table.to_metadata(sa.MetaData(), name=scratch)
    for index in list(copy.indexes):
        copy.indexes.discard(index)  # made again under their own names below
    copy.create(conn)
    names = ", ".join(c for c in present if c in table.c)
    conn.execute(
        sa.text(f"INSERT INTO {scratch} (brief, {names}) SELECT 'default', {names} FROM {table}")
    )
    conn.execute(sa.text(f"DROP TABLE {table.name}"))
    conn.execute(sa.text(f"ALTER TABLE {scratch} RENAME TO {table.name}"))
    for index in table.indexes:
        index.create(conn, checkfirst=True)


def _add_briefs(conn: Connection) -> None:
    """Issue 19 (several briefs): editions and deliveries kept per brief; the rows there are
    stay the default brief's."""
    _rekey_by_brief(conn, editions)
    _rekey_by_brief(conn, deliveries)


def _add_source_claims(conn: Connection) -> None:
    """Issue 18 (several pollers): the leases of sources being polled (idempotent: safe if
    renumbered)."""
    metadata.create_all(conn, tables=[source_claims], checkfirst=True)


def _add_notifications(conn: Connection) -> None:
    """Issue 20 (notifications): per edition, target and kind notification records
    (idempotent: safe if renumbered)."""
    metadata.create_all(conn, tables=[notifications], checkfirst=True)


# MIGRATIONS[n] brings a database from version n to n + 1. A fresh database is created from the
# table definitions (briefs.store.schema) at SCHEMA_VERSION, so migrations only ever run on
# older files.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _add_deliveries,
    2: _migrate_2_to_3,
    3: _add_story_links,
    4: _renumber_sketches,
    5: _add_quarantine,
    6: _add_parser_columns,
    7: _add_embeddings,
    8: _add_word_counts,
    9: _add_article_tags,
    10: _add_seen_messages,
    11: _add_search_index,
    12: _add_briefs,
    13: _add_source_claims,
    14: _add_notifications,
    15: _add_search_index,  # PostgreSQL's (step 11 added SQLite's only); idempotent
    16: _search_beside_articles,
}


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema; return the version now in place.

    A fresh database is created in one transaction, tables and version row together (on
    SQLite an explicit ``BEGIN IMMEDIATE``: the driver would otherwise commit each CREATE
    TABLE on its own), so a full disk or a kill leaves either nothing or all of it. A file
    left half-created by an older briefs (tables, no version) is named as such.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite" and not sa.inspect(conn).has_table("meta"):
            # Take the write lock first, then look again: another process may have been
            # creating it at the same moment.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        inspector = sa.inspect(conn)
        if not inspector.has_table("meta"):
            ours = [t for t in inspector.get_table_names() if t in metadata.tables]
            if ours:
                raise StoreError(_half_created(engine, ours))
            metadata.create_all(conn)
            create_search_index(conn)  # not a table of the metadata: an engine's own index
            conn.execute(
                meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
            )
            return SCHEMA_VERSION
        version = schema_version(conn)
        if version == 0:
            raise StoreError(_half_created(engine, ["meta"]))
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this briefs ({SCHEMA_VERSION}); "
            "upgrade briefs"
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS[version]
        with engine.begin() as conn:
            step(conn)
            version += 1
            conn.execute(
                meta_table.update()
                .where(meta_table.c.key == "schema_version")
                .values(value=str(version))
            )
        log.info("migrated database to schema version %s", version)
    return version


def _half_created(engine: Engine, tables: Sequence[str]) -> str:
    where = engine.url.database or str(engine.url)
    return (
        f"database {where} was left half-created (table {', '.join(sorted(tables)[:3])} "
        "but no schema version: a full disk or a kill during its first run); "
        "delete it (or move it aside) and run again"
    )


def schema_version(conn: Connection) -> int:
    """The version recorded in the database (0: none recorded)."""
    value = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).scalar_one_or_none()
    return int(value) if value is not None else 0
