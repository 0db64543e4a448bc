"""Reading a briefs database in tests: through the store, and raw only where a test must go around it.

Tests read what briefs stored through :class:`briefs.store.Store`, as the product does
(:func:`stored_articles`). A few tests deliberately go around the store, and say so by using
:func:`raw_sqlite`:

- they check the file itself (SQLite's integrity check after a kill, the journal mode, that a
  failed creation left no tables, that someone else's database was not touched);
- they make it into something this briefs would never write (an older schema version, a row
  an older briefs stored, a trigger that refuses inserts, delivery rows lost in a crash);
- they watch it from outside while another process runs (opening a store would migrate it),
  or look at what was stored before opening a store repairs it (out-of-range rows quarantined);
- they read what briefs keeps only for the operator to query (the quarantine table).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from briefs.models import Article
from briefs.store import STORED_RANGE, Store, open_store

__all__ = ["raw_database", "raw_sqlite", "stored_articles"]


@contextmanager
def raw_sqlite(path: Path | str, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    """The SQLite file itself, bypassing the store (see the module docstring for when).

    Committed when the block ends without an error; ``readonly`` opens it read-only, for
    watching a file another process writes (no journal or WAL files are created by it).
    """
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    else:
        conn = sqlite3.connect(path)
    with closing(conn), conn:
        yield conn


@contextmanager
def raw_database(where: str) -> Iterator[Callable[[str], None]]:
    """Run SQL on a database (a SQLite path or a SQLAlchemy URL) around the store, for the
    same reasons as :func:`raw_sqlite`: ``with raw_database(db) as run: run("UPDATE ...")``.
    Committed when the block ends without an error."""
    if "://" not in where:
        with raw_sqlite(where) as conn:

            def run_sqlite(sql: str) -> None:
                conn.execute(sql)

            yield run_sqlite
        return
    import sqlalchemy as sa

    engine = sa.create_engine(where)
    try:
        with engine.begin() as server:

            def run_server(sql: str) -> None:
                server.exec_driver_sql(sql)

            yield run_server
    finally:
        engine.dispose()


def stored_articles(store_or_path: Store | Path | str) -> list[Article]:
    """Every stored article (through the store), oldest first."""
    if isinstance(store_or_path, Store):
        return _all(store_or_path)
    with open_store(str(store_or_path)) as store:
        return _all(store)


def _all(store: Store) -> list[Article]:
    ids = [aid for aid, _ in store.published_order(store.published_since(STORED_RANGE[0]))]
    return store.articles(ids)
