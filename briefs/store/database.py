"""The :class:`Store` facade, composed of one part per concern, and :func:`open_store`.

Each part (articles, sketches, stories, ...) is a class of its own module over the shared
engine (:class:`briefs.store.base.StoreBase`); ``Store`` inherits them all, so callers keep one
object with every method, as Synapse's ``DataStore`` is made of its per-table stores.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from briefs.errors import StoreError
from briefs.store.articles import Articles
from briefs.store.deliveries import Deliveries
from briefs.store.editions import Editions
from briefs.store.embeddings import Embeddings
from briefs.store.mailboxes import SeenMessages
from briefs.store.migrations import migrate, schema_version
from briefs.store.notifications import Notifications
from briefs.store.pages import Pages
from briefs.store.quarantine import Quarantine
from briefs.store.schema import metadata
from briefs.store.search import Search
from briefs.store.sketches import Sketches
from briefs.store.sources import FeedStates
from briefs.store.stories import Stories

__all__ = ["Store", "open_store"]


class Store(
    FeedStates,
    Articles,
    Quarantine,
    Pages,
    Sketches,
    Embeddings,
    Stories,
    Editions,
    Deliveries,
    SeenMessages,
    Search,
    Notifications,
):
    """Typed access to the database. Create with :func:`open_store` (or :meth:`open`)."""

    def migrate(self) -> int:
        """Create or upgrade the schema; return the version now in place."""
        return migrate(self.engine)

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self.engine.connect() as conn:
            return schema_version(conn)

    @classmethod
    def open(cls, url_or_path: str) -> Store:
        """:func:`open_store`: ``with Store.open(config.database) as store:`` closes it after."""
        return open_store(url_or_path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


# Database drivers by the module SQLAlchemy imports, and what to install for it.
_DRIVERS = {
    "psycopg": "briefs[postgres] (the psycopg package)",
    "psycopg2": "psycopg2-binary",
    "pymysql": "PyMySQL",
    "MySQLdb": "mysqlclient",
}


def open_store(url_or_path: str) -> Store:
    """Open (creating and migrating if needed) the database at a path or SQLAlchemy URL.

    A URL whose driver is not installed, a file that is not a database, and a database that
    holds other tables but none of briefs' (someone else's) are StoreErrors saying so.
    """
    url = url_or_path if "://" in url_or_path else f"sqlite:///{url_or_path}"
    try:
        engine = sa.create_engine(url)
        # before the pragmas, which would switch someone else's file to WAL
        _refuse_foreign(engine, url_or_path)
        engine.dispose()  # later connections get the pragmas
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = Store(engine)
        store.migrate()
        store.quarantine_implausible()
    except ImportError as exc:
        name = getattr(exc, "name", None) or "its driver"
        hint = _DRIVERS.get(name, name)
        raise StoreError(
            f"cannot open database {url_or_path}: its driver ({name}) is not installed: "
            f"pip install {hint}"
        ) from exc
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"cannot open database {url_or_path}: not a database URL: {exc}") from exc
    except sa.exc.SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise StoreError(
            f"cannot open database {url_or_path}: {detail.__class__.__name__}: {detail}"
        ) from exc
    return store


def _refuse_foreign(engine: sa.Engine, where: str) -> None:
    """A database with tables but none of briefs' belongs to something else: never add ours."""
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
    if present and not present & set(metadata.tables):
        shown = ", ".join(sorted(present)[:3]) + (", ..." if len(present) > 3 else "")
        raise StoreError(
            f"{where} is not a briefs database (it holds other tables: {shown}); "
            "set `database` to a new file"
        )
