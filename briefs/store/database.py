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
from briefs.store.base import ENGINES
from briefs.store.claims import Claims
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

__all__ = ["Store", "describe_database", "missing_driver", "open_store"]


class Store(
    FeedStates,
    Claims,
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

    A URL whose driver is not installed, an engine other than SQLite or PostgreSQL, a server
    that cannot be reached (one line naming the host, never the password), a file that is not
    a database, and a database that holds other tables but none of briefs' (someone else's)
    are StoreErrors saying so.
    """
    url = url_or_path if "://" in url_or_path else f"sqlite:///{url_or_path}"
    shown = describe_database(url_or_path)
    try:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() not in ENGINES:
            raise StoreError(
                f"cannot open database {shown}: the {parsed.get_backend_name()} engine is not "
                "supported (SQLite, or PostgreSQL: postgresql+psycopg://...)"
            )
        # pre_ping: a connection the server dropped (a restart) is replaced, not used
        engine = sa.create_engine(url, pool_pre_ping=parsed.get_backend_name() != "sqlite")
        try:
            # before the pragmas, which would switch someone else's file to WAL
            _refuse_foreign(engine, shown)
            engine.dispose()  # later connections get the pragmas
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            store = Store(engine)
            store.migrate()
            store.quarantine_implausible()
        except BaseException:
            engine.dispose()  # no connection is left open behind the error
            raise
    except ImportError as exc:
        raise StoreError(missing_driver(shown, exc)) from exc
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"cannot open database {shown}: not a database URL: {exc}") from exc
    except sa.exc.OperationalError as exc:
        if "://" not in url_or_path:
            raise StoreError(f"cannot open database {shown}: {_detail(exc, url)}") from exc
        raise StoreError(f"cannot connect to database {shown}: {_detail(exc, url)}") from exc
    except sa.exc.SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise StoreError(
            f"cannot open database {shown}: {detail.__class__.__name__}: {_detail(exc, url)}"
        ) from exc
    return store


def missing_driver(shown: str, exc: ImportError) -> str:
    """The message for a database URL whose driver is not installed: what to install."""
    name = getattr(exc, "name", None) or "its driver"
    hint = _DRIVERS.get(name, name)
    return f"cannot open database {shown}: its driver ({name}) is not installed: pip install {hint}"


def describe_database(url_or_path: str) -> str:
    """A database as messages name it: the path, or "name on host:port (user x)" for a server
    URL; never its password."""
    if "://" not in url_or_path:
        return url_or_path
    try:
        url = sa.make_url(url_or_path)
    except sa.exc.ArgumentError:
        return "(an unreadable URL)"
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = ",".join(host)
    where = f"{host}:{url.port}" if url.port else host
    user = f" as {url.username}" if url.username else ""
    return f"{url.database or '(default)'} on {where}{user} ({url.get_backend_name()})"


def _detail(exc: BaseException, url: str) -> str:
    """The first line of a driver's error, with the URL's password blotted out if it shows."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    line = detail[0].strip() if detail else exc.__class__.__name__
    try:
        password = sa.make_url(url).password
    except sa.exc.ArgumentError:
        password = None
    if password:
        line = line.replace(str(password), "***")
    return line


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
