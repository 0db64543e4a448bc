"""What every part of the store shares: the engine, its transactions, and how values are stored.

Datetimes are stored as naive UTC (every backend compares them the same way) and read back
aware; long lists of ids are queried in chunks that bound the statement's parameters. A row
that may exist already is written with one upsert (:func:`upsert`, ``INSERT ... ON CONFLICT``
on SQLite and PostgreSQL alike), never "select, then insert the rest": with several writers
(pollers on several hosts) that pair races, and the second insert of a key fails.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult, Engine

from briefs.errors import StoreError
from briefs.store.schema import STORED_RANGE, meta_table


class StoreBase:
    """The engine, its transactions, and the ``meta`` table of small facts; each part of
    :class:`briefs.store.Store` builds on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The unit of work in progress, per thread (see transaction).
        self._unit = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One unit of work: the store's writes inside the block commit together, or none do.

        ``with store.transaction(): store.add_articles(...); store.save_feed_states(...)``. Every
        store method called inside the block (in this thread) works in its transaction, reads
        included; a block inside another joins it. Outside a block, each method is a
        transaction of its own. The connection never leaves the store.
        """
        if self._current() is not None:
            yield
            return
        with self.engine.begin() as conn:
            self._unit.conn = conn
            try:
                yield
            finally:
                self._unit.conn = None

    def _current(self) -> Connection | None:
        conn: Connection | None = getattr(self._unit, "conn", None)
        return conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """The connection of the unit of work in progress, else a transaction of its own."""
        conn = self._current()
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as own:
            yield own

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """The connection of the unit of work in progress, else a connection of its own."""
        conn = self._current()
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as own:
            yield own

    def get_meta(self, key: str) -> str | None:
        """A value remembered under ``key`` in the meta table (None if never set)."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == key)
            ).scalar_one_or_none()
        return str(value) if value is not None else None

    def set_meta(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key`` (replacing what was there)."""
        if len(key) > 64:
            raise StoreError(f"meta key longer than 64 characters: {key!r}")
        with self._write() as c:
            upsert(c, meta_table, [{"key": key, "value": value}], ("key",), ("value",))

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# The engines the store speaks (each has INSERT ... ON CONFLICT through SQLAlchemy's dialect).
ENGINES = ("sqlite", "postgresql")


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
    where: sa.ColumnElement[bool] | None = None,
) -> CursorResult[Any] | None:
    """INSERT rows; a row whose ``keys`` are stored already updates its ``update`` columns to
    the new values (none: it is left alone), if the stored row meets ``where`` (default:
    always). One statement (``INSERT ... ON CONFLICT``).

    Rows are written in key order, so two writers upserting overlapping keys take their row
    locks in the same order and never deadlock. With ``returning``, the result holds those
    columns of the rows actually inserted or updated (a row left alone returns nothing).
    """
    if not rows:
        return None
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: stmt.excluded[name] for name in update},
            where=where,
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    ordered = sorted(rows, key=lambda row: tuple(row[k] for k in keys))
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
    result: CursorResult[Any] = conn.execute(stmt, ordered)
    return result


def insert_many(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT many rows of plain values (ints, strings) through the driver's executemany.

    For the hundreds of thousands of (integer, integer) band rows of a day, SQLAlchemy's
    per-row parameter processing costs more than SQLite's own insert (2.5 s of 3 s per 10,000
    articles). The statement is still SQLAlchemy's, compiled for the connection's dialect, so
    its placeholders are the driver's own; only values that need no type processing may pass.
    On PostgreSQL the rows go through ``COPY`` instead, in the same transaction: psycopg's
    executemany runs one INSERT per row (64,000 band rows: 9.5 s; by COPY well under one).
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        driver: Any = conn.connection.dbapi_connection
        names = ", ".join(columns)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
        ):
            # COPY's text format: plain values (ints, strings without tabs or newlines)
            for chunk in chunks(list(rows), 10_000):
                copy.write("".join("\t".join(map(str, row)) + "\n" for row in chunk))
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(columns))
    positions = compiled.positiontup
    params: Sequence[Any]
    if positions is None:  # a named paramstyle
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    elif list(positions) == list(columns):
        params = rows
    else:
        order = [list(columns).index(name) for name in positions]
        params = [tuple(row[i] for i in order) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def attempt_fields(row: Any) -> dict[str, Any]:
    """The columns every sent thing keeps alike (a delivery, a notification): its status, its
    attempts and their times, and the last error, as the model's fields."""
    return {
        "status": row.status,
        "attempts": row.attempts or 0,
        "created": utc(row.created),
        "last_attempt": utc(row.last_attempt),
        "next_attempt": utc(row.next_attempt),
        "sent_at": utc(row.sent_at),
        "error": row.error,
    }


def naive(value: dt.datetime | None) -> dt.datetime | None:
    """Datetimes are stored as naive UTC so every backend compares them the same way."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise StoreError(f"refusing to store a naive datetime: {value!r}")
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def storable(when: dt.datetime) -> bool:
    """True for a time inside STORED_RANGE (a naive one is left for naive to refuse)."""
    return when.tzinfo is None or STORED_RANGE[0] <= when < STORED_RANGE[1]
