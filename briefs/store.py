"""The database: a SQLite file by default, any SQLAlchemy URL for bigger installs.

Written with SQLAlchemy 2 Core so that a database server can replace SQLite. The schema has a
version; a fresh database is created at the latest version, an older one is migrated step by step
inside one transaction per step. Every write happens in a transaction, so a crash at any point
leaves the database consistent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from briefs.errors import StoreError
from briefs.models import (
    Article,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionRecord,
    FeedState,
    PageRecord,
    Printing,
    Story,
    StoryLink,
)

__all__ = ["SCHEMA_VERSION", "Store", "open_store"]

log = logging.getLogger(__name__)

metadata = sa.MetaData()

meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

feed_state = sa.Table(
    "feed_state",
    metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("url", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_status", sa.Text),
    sa.Column("last_polled", sa.DateTime),
    sa.Column("next_poll", sa.DateTime),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    # schema 3
    sa.Column("source_url", sa.Text),
    sa.Column("last_success", sa.DateTime),
    sa.Column("retry_until", sa.DateTime),
    sa.Column("floor_minutes", sa.Integer),
    sa.Column("site_url", sa.Text),
    sa.Column("feed_title", sa.Text),
    # schema 7
    sa.Column("parser", sa.Text),
    sa.Column("parser_fallback", sa.Text),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("guid", sa.Text, nullable=False, default=""),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("published", sa.DateTime, nullable=False),
    sa.Column("fetched", sa.DateTime, nullable=False),
    sa.Column("outlet", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("language", sa.String(16), nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("body", sa.Text, nullable=False, default=""),
    sa.Column("body_origin", sa.String(16), nullable=False, default="none"),
    sa.Column("image_url", sa.Text),
    sa.Column("content_hash", sa.String(40), nullable=False, default=""),
    sa.Column("duplicate_of", sa.String(40)),
    sa.Column("story_id", sa.String(40)),
    sa.Index("ix_articles_url", "url"),
    sa.Index("ix_articles_source_guid", "source_id", "guid"),
    sa.Index("ix_articles_published", "published"),
    sa.Index("ix_articles_fetched", "fetched"),
    sa.Index("ix_articles_story", "story_id"),
    sa.Index("ix_articles_hash", "content_hash"),
)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_updated", sa.DateTime, nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("terms", sa.Text, nullable=False, default="[]"),
    sa.Index("ix_stories_updated", "last_updated"),
)

# Why each article is in its story (written when grouping places it; see models.StoryLink).
story_links = sa.Table(
    "story_links",
    metadata,
    sa.Column("article_id", sa.String(40), primary_key=True),
    sa.Column("story_id", sa.String(40), nullable=False),
    sa.Column("similarity", sa.Float, nullable=False, default=0.0),
    sa.Column("via", sa.String(40)),
    sa.Column("shared", sa.Text, nullable=False, default="[]"),
    sa.Column("duplicate", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_story_links_story", "story_id"),
)

editions = sa.Table(
    "editions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("slot", sa.String(32), nullable=False, default=""),
    sa.Column("built_at", sa.DateTime, nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    # story id -> number of member articles when this edition was built (growth between editions)
    sa.Column("story_counts", sa.Text, nullable=False, default="{}"),
    # the edition's rendered HTML fragment, for the feeds that carry past editions
    sa.Column("content_html", sa.Text, nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
)

# The email of one edition to one recipient: at most one row each, so nobody gets an edition
# twice. Rows are created ("planned") when an edition is due to be sent and move
# pending -> sending -> sent | failed | pending (retry later); "sending" left by a crash becomes
# "uncertain" and is not resent without being asked.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("edition_id", sa.String(64), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("last_attempt", sa.DateTime),
    sa.Column("next_attempt", sa.DateTime),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("message_id", sa.Text),
    sa.Column("error", sa.Text),
    sa.Index("ix_deliveries_status", "status", "next_attempt"),
)

# Schema 3: the outcome of every article page fetched for its full text, cached per URL, so
# no page is ever fetched twice.
pages = sa.Table(
    "pages",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("fetched", sa.DateTime, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("next_try", sa.DateTime),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("error", sa.Text),
)

# Schema 3: MinHash signatures of article texts and their LSH band keys, to find syndicated
# copies of an article among everything stored without comparing against every article.
# Schema 5: each sketch has an integer number, and the band index is a WITHOUT ROWID table of
# (band key, sketch number): one B-tree keyed for the lookup, plus an index by sketch number
# that new sketches append to. A tenth of the old size and a third of the insert time of
# (band key, 40-character article id) rows with their two indexes.
sketches = sa.Table(
    "sketches",
    metadata,
    sa.Column("num", sa.Integer, primary_key=True),
    sa.Column("article_id", sa.String(40), nullable=False, unique=True),
    sa.Column("published", sa.DateTime, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
    sa.Index("ix_sketches_published", "published"),
)
sketch_bands = sa.Table(
    "sketch_bands",
    metadata,
    sa.Column("band_key", sa.BigInteger, primary_key=True),
    sa.Column("sketch", sa.Integer, primary_key=True),
    sa.Index("ix_sketch_bands_sketch", "sketch"),
    sqlite_with_rowid=False,
)

# Schema 6: rows a later stage could not process (an article dated in year 1 makes every
# window computation overflow), moved out of the way with the reason and the row as JSON, so
# one bad row never stops every later run and nothing is silently destroyed.
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("num", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(32), nullable=False),
    sa.Column("row_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("quarantined", sa.DateTime, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)

# Articles whose sketches are written per statement (each has 32 band rows).
SKETCH_BATCH = 2000

SCHEMA_VERSION = 7

# The dates the store accepts and keeps (see briefs.ingest.bounds.STORED_RANGE): far enough
# from datetime's limits that no stage's window arithmetic can overflow.
STORED_RANGE = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(9000, 1, 1, tzinfo=dt.UTC))


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


# MIGRATIONS[n] brings a database from version n to n + 1. A fresh database is created from the
# table definitions above at SCHEMA_VERSION, so migrations only ever run on older files.
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


MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _add_deliveries,
    2: _migrate_2_to_3,
    3: _add_story_links,
    4: _renumber_sketches,
    5: _add_quarantine,
    6: _add_parser_columns,
}


def _insert_many(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT many rows of plain values (ints, strings) through the driver's executemany.

    For the hundreds of thousands of (integer, integer) band rows of a day, SQLAlchemy's
    per-row parameter processing costs more than SQLite's own insert (2.5 s of 3 s per 10,000
    articles). The statement is still SQLAlchemy's, compiled for the connection's dialect, so
    its placeholders are the driver's own; only values that need no type processing may pass.
    """
    if not rows:
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


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    """Datetimes are stored as naive UTC so every backend compares them the same way."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise StoreError(f"refusing to store a naive datetime: {value!r}")
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _storable(when: dt.datetime) -> bool:
    """True for a time inside STORED_RANGE (a naive one is left for _naive to refuse)."""
    return when.tzinfo is None or STORED_RANGE[0] <= when < STORED_RANGE[1]


def _article_row(a: Article) -> dict[str, Any]:
    return {
        "id": a.id,
        "source_id": a.source_id,
        "url": a.url,
        "guid": a.guid,
        "title": a.title,
        "published": _naive(a.published),
        "fetched": _naive(a.fetched),
        "outlet": a.outlet,
        "author": a.author,
        "language": a.language,
        "summary": a.summary,
        "body": a.body,
        "body_origin": a.body_origin,
        "image_url": a.image_url,
        "content_hash": a.content_hash,
        "duplicate_of": a.duplicate_of,
    }


def _article(row: Any) -> Article:
    return Article(
        id=row.id,
        source_id=row.source_id,
        url=row.url,
        title=row.title,
        published=_utc(row.published) or dt.datetime.now(dt.UTC),
        fetched=_utc(row.fetched) or dt.datetime.now(dt.UTC),
        outlet=row.outlet,
        guid=row.guid,
        author=row.author,
        language=row.language,
        summary=getattr(row, "summary", ""),
        body=getattr(row, "body", ""),
        body_origin=row.body_origin,
        image_url=row.image_url,
        content_hash=row.content_hash,
        duplicate_of=row.duplicate_of,
    )


# An article as near-duplicate linking sees it (no text), for those with a sketch.
_PRINTINGS = sa.select(
    articles.c.id,
    articles.c.source_id,
    articles.c.published,
    articles.c.duplicate_of,
    sketches.c.signature,
).join(sketches, sketches.c.article_id == articles.c.id)


def _printing(row: Any) -> Printing:
    published = _utc(row.published) or dt.datetime.now(dt.UTC)
    return Printing(row.id, row.source_id, published, row.duplicate_of, bytes(row.signature))


def _edition_record(row: Any) -> EditionRecord:
    counts = {str(k): int(v) for k, v in json.loads(row.story_counts).items()}
    return EditionRecord(
        edition=Edition(row.date, row.slot),
        built_at=_utc(row.built_at) or dt.datetime.now(dt.UTC),
        title=row.title,
        content_html=row.content_html,
        summary=row.summary,
        story_count=len(counts),
        story_counts=tuple(counts.items()),
    )


class Store:
    """Typed access to the database. Create with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- schema -----------------------------------------------------------------------------
    def migrate(self) -> int:
        """Create or upgrade the schema; return the version now in place.

        A fresh database is created in one transaction, tables and version row together (on
        SQLite an explicit ``BEGIN IMMEDIATE``: the driver would otherwise commit each CREATE
        TABLE on its own), so a full disk or a kill leaves either nothing or all of it. A file
        left half-created by an older briefs (tables, no version) is named as such.
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite" and not sa.inspect(conn).has_table("meta"):
                # Take the write lock first, then look again: another process may have been
                # creating it at the same moment.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            inspector = sa.inspect(conn)
            if not inspector.has_table("meta"):
                ours = [t for t in inspector.get_table_names() if t in metadata.tables]
                if ours:
                    raise StoreError(self._half_created(ours))
                metadata.create_all(conn)
                conn.execute(
                    meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                )
                return SCHEMA_VERSION
            version = self._version(conn)
            if version == 0:
                raise StoreError(self._half_created(["meta"]))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this briefs ({SCHEMA_VERSION}); "
                "upgrade briefs"
            )
        while version < SCHEMA_VERSION:
            step = MIGRATIONS[version]
            with self.engine.begin() as conn:
                step(conn)
                version += 1
                conn.execute(
                    meta_table.update()
                    .where(meta_table.c.key == "schema_version")
                    .values(value=str(version))
                )
            log.info("migrated database to schema version %s", version)
        return version

    def _half_created(self, tables: Sequence[str]) -> str:
        where = self.engine.url.database or str(self.engine.url)
        return (
            f"database {where} was left half-created (table {', '.join(sorted(tables)[:3])} "
            "but no schema version: a full disk or a kill during its first run); "
            "delete it (or move it aside) and run again"
        )

    @staticmethod
    def _version(conn: Connection) -> int:
        value = conn.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).scalar_one_or_none()
        return int(value) if value is not None else 0

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self.engine.connect() as conn:
            return self._version(conn)

    # -- feed state -------------------------------------------------------------------------
    def feed_state(self, source_id: str) -> FeedState | None:
        """The stored polling state of one source, if it was ever polled."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(feed_state).where(feed_state.c.source_id == source_id)
            ).one_or_none()
        return self._state(row) if row is not None else None

    def feed_states(self) -> dict[str, FeedState]:
        """Every stored polling state, by source id."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(feed_state)).all()
        return {row.source_id: self._state(row) for row in rows}

    @staticmethod
    def _state(row: Any) -> FeedState:
        return FeedState(
            source_id=row.source_id,
            url=row.url,
            etag=row.etag,
            last_modified=row.last_modified,
            last_status=row.last_status,
            last_polled=_utc(row.last_polled),
            next_poll=_utc(row.next_poll),
            consecutive_failures=row.consecutive_failures or 0,
            last_error=row.last_error,
            disabled=bool(row.disabled),
            source_url=row.source_url,
            last_success=_utc(row.last_success),
            retry_until=_utc(row.retry_until),
            floor_minutes=row.floor_minutes,
            site_url=row.site_url,
            feed_title=row.feed_title,
            parser=row.parser,
            parser_fallback=row.parser_fallback,
        )

    def save_feed_state(self, state: FeedState, conn: Connection | None = None) -> None:
        """Insert or replace one source's polling state."""
        self.save_feed_states([state], conn)

    def save_feed_states(self, states: Iterable[FeedState], conn: Connection | None = None) -> None:
        """Insert or replace sources' polling states (batched: a few statements for them all)."""
        rows = {
            s.source_id: {
                "b_source": s.source_id,
                "url": s.url,
                "etag": s.etag,
                "last_modified": s.last_modified,
                "last_status": s.last_status,
                "last_polled": _naive(s.last_polled),
                "next_poll": _naive(s.next_poll),
                "consecutive_failures": s.consecutive_failures,
                "last_error": s.last_error,
                "disabled": s.disabled,
                "source_url": s.source_url,
                "last_success": _naive(s.last_success),
                "retry_until": _naive(s.retry_until),
                "floor_minutes": s.floor_minutes,
                "site_url": s.site_url,
                "feed_title": s.feed_title,
                "parser": s.parser,
                "parser_fallback": s.parser_fallback,
            }
            for s in states
        }
        if not rows:
            return
        with self._conn(conn) as c:
            known: set[str] = set()
            for chunk in _chunks(list(rows), 500):
                known.update(
                    c.execute(
                        sa.select(feed_state.c.source_id).where(feed_state.c.source_id.in_(chunk))
                    ).scalars()
                )
            updates = [r for sid, r in rows.items() if sid in known]
            inserts = [
                {"source_id": sid, **{k: v for k, v in r.items() if k != "b_source"}}
                for sid, r in rows.items()
                if sid not in known
            ]
            if updates:
                columns = [k for k in updates[0] if k != "b_source"]
                c.execute(
                    feed_state.update()
                    .where(feed_state.c.source_id == sa.bindparam("b_source"))
                    .values({k: sa.bindparam(k) for k in columns}),
                    updates,
                )
            if inserts:
                c.execute(feed_state.insert(), inserts)

    # -- articles ---------------------------------------------------------------------------
    def add_articles(
        self, items: Iterable[Article], conn: Connection | None = None
    ) -> list[Article]:
        """Store articles not seen before; return the ones that were new.

        An article is "seen" when its id (hash of canonical URL or GUID) or its canonical URL is
        already stored, or when its source already has an article with the same GUID (the
        publisher changed the link but not the GUID). A GUID shared by several different entries
        of one batch is not trusted as an identity. Re-running a poll adds nothing twice.
        """
        batch: dict[str, Article] = {}
        for a in items:
            batch.setdefault(a.id, a)
        if not batch:
            return []
        guid_uses: dict[tuple[str, str], int] = {}
        for a in batch.values():
            if a.guid:
                key = (a.source_id, a.guid)
                guid_uses[key] = guid_uses.get(key, 0) + 1
        trusted = {key for key, n in guid_uses.items() if n == 1}
        new: list[Article] = []
        with self._conn(conn) as c:
            known_ids: set[str] = set()
            known_urls: set[str] = set()
            known_guids: set[tuple[str, str]] = set()
            ids = list(batch)
            urls = list({a.url for a in batch.values() if a.url})
            for chunk in _chunks(ids, 500):
                known_ids.update(
                    c.execute(sa.select(articles.c.id).where(articles.c.id.in_(chunk))).scalars()
                )
            for chunk in _chunks(urls, 500):
                known_urls.update(
                    c.execute(sa.select(articles.c.url).where(articles.c.url.in_(chunk))).scalars()
                )
            by_source: dict[str, list[str]] = {}
            for source_id, guid in trusted:
                by_source.setdefault(source_id, []).append(guid)
            for source_id, guids in by_source.items():
                for chunk in _chunks(guids, 500):
                    known_guids.update(
                        (source_id, g)
                        for g in c.execute(
                            sa.select(articles.c.guid).where(
                                articles.c.source_id == source_id, articles.c.guid.in_(chunk)
                            )
                        ).scalars()
                    )
            seen_urls: set[str] = set()
            for a in batch.values():
                if not (_storable(a.published) and _storable(a.fetched)):
                    log.warning(
                        "%s: refusing article %s dated %s (outside %s..%s)",
                        a.source_id,
                        a.id,
                        a.published,
                        f"{STORED_RANGE[0]:%Y}",
                        f"{STORED_RANGE[1]:%Y}",
                    )
                    continue
                if a.id in known_ids or (a.url and (a.url in known_urls or a.url in seen_urls)):
                    continue
                if a.guid and (a.source_id, a.guid) in known_guids:
                    continue
                if a.url:
                    seen_urls.add(a.url)
                new.append(a)
            if new:
                c.execute(articles.insert(), [_article_row(a) for a in new])
        return new

    def quarantine_implausible(self) -> int:
        """Move rows whose dates lie outside STORED_RANGE into the quarantine; return how many.

        Such rows were stored by an older briefs (today's refuses them at the door): an
        article dated in year 1 made dedupe and grouping overflow on ``published - window``
        in every later run. Its sketch, band rows and story link go with it; a story dated
        out of range is dissolved (its members are grouped again). One indexed query when
        there is nothing to do.
        """
        low, high = (_naive(t) for t in STORED_RANGE)
        raw = [sa.type_coerce(c, sa.Text).label(c.name) for c in articles.c]
        bad_articles = sa.or_(
            articles.c.published < low,
            articles.c.published >= high,
            articles.c.fetched < low,
            articles.c.fetched >= high,
        )
        bad_stories = sa.or_(
            stories.c.first_seen < low,
            stories.c.first_seen >= high,
            stories.c.last_updated < low,
            stories.c.last_updated >= high,
        )
        now = _naive(dt.datetime.now(dt.UTC))
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(*raw).where(bad_articles)).all()
            story_rows = conn.execute(
                sa.select(*[sa.type_coerce(c, sa.Text).label(c.name) for c in stories.c]).where(
                    bad_stories
                )
            ).all()
            if not rows and not story_rows:
                return 0
            entries = [
                {
                    "table_name": "articles",
                    "row_id": r.id,
                    "reason": f"published {r.published}, fetched {r.fetched}: outside "
                    f"{STORED_RANGE[0]:%Y-%m-%d}..{STORED_RANGE[1]:%Y-%m-%d}",
                    "quarantined": now,
                    "data": json.dumps(dict(r._mapping), ensure_ascii=False, default=str),
                }
                for r in rows
            ] + [
                {
                    "table_name": "stories",
                    "row_id": r.id,
                    "reason": f"first seen {r.first_seen}, updated {r.last_updated}: out of range",
                    "quarantined": now,
                    "data": json.dumps(dict(r._mapping), ensure_ascii=False, default=str),
                }
                for r in story_rows
            ]
            conn.execute(quarantine.insert(), entries)
            ids = [r.id for r in rows]
            story_ids = [r.id for r in story_rows]
            for chunk in _chunks(ids, 500):
                nums = sa.select(sketches.c.num).where(sketches.c.article_id.in_(chunk))
                conn.execute(sketch_bands.delete().where(sketch_bands.c.sketch.in_(nums)))
                conn.execute(sketches.delete().where(sketches.c.article_id.in_(chunk)))
                conn.execute(story_links.delete().where(story_links.c.article_id.in_(chunk)))
                conn.execute(articles.update().where(articles.c.duplicate_of.in_(chunk))
                             .values(duplicate_of=None))  # fmt: skip
                conn.execute(articles.delete().where(articles.c.id.in_(chunk)))
            for chunk in _chunks(story_ids, 500):
                members = sa.select(articles.c.id).where(articles.c.story_id.in_(chunk))
                conn.execute(story_links.delete().where(story_links.c.article_id.in_(members)))
                conn.execute(
                    articles.update().where(articles.c.story_id.in_(chunk)).values(story_id=None)
                )
                conn.execute(stories.delete().where(stories.c.id.in_(chunk)))
        example = entries[0]
        log.warning(
            "quarantined %d stored rows that cannot be processed (e.g. %s %s: %s); they are "
            "kept in the table 'quarantine'",
            len(entries),
            example["table_name"],
            example["row_id"],
            example["reason"],
        )
        return len(entries)

    def articles_needing_text(
        self,
        since: dt.datetime,
        now: dt.datetime,
        max_chars: int,
        *,
        is_teaser: Callable[[str], bool] | None = None,
    ) -> list[Article]:
        """Feed articles fetched since ``since`` whose text may be a teaser, newest first.

        Only articles with an http(s) link, no body or a body shorter than ``max_chars``
        characters, and no cached page outcome that forbids another try (an extracted page, a
        permanent failure, or a transient one whose retry time has not come) are returned.
        With ``is_teaser``, only those whose text (the body, else the summary) it accepts: it
        is applied to the texts alone, so the full articles of a day's non-teasers (most of
        them) are never built.
        """
        blocked = sa.exists().where(
            pages.c.url == articles.c.url,
            sa.or_(pages.c.next_try.is_(None), pages.c.next_try > _naive(now)),
        )
        conditions = (
            articles.c.fetched >= _naive(since),
            articles.c.body_origin.in_(("none", "feed")),
            sa.or_(articles.c.url.startswith("http://"), articles.c.url.startswith("https://")),
            sa.func.length(articles.c.body) < max_chars,
            ~blocked,
        )
        order = (articles.c.published.desc(), articles.c.id)
        with self.engine.connect() as conn:
            if is_teaser is None:
                query = sa.select(articles).where(*conditions).order_by(*order)
                return [_article(r) for r in conn.execute(query)]
            texts = sa.select(articles.c.id, articles.c.body, articles.c.summary)
            ids = [
                r.id
                for r in conn.execute(texts.where(*conditions).order_by(*order))
                if is_teaser(r.body or r.summary)
            ]
        return self.articles(ids)

    def set_article_text(
        self,
        article_id: str,
        body: str,
        origin: str,
        content_hash: str,
        conn: Connection | None = None,
    ) -> None:
        """Replace an article's body (e.g. with the text extracted from its page)."""
        with self._conn(conn) as c:
            c.execute(
                articles.update()
                .where(articles.c.id == article_id)
                .values(body=body, body_origin=origin, content_hash=content_hash)
            )

    def set_duplicates(self, links: dict[str, str], conn: Connection | None = None) -> None:
        """Mark articles as copies: article id -> id of the original it duplicates."""
        if not links:
            return
        with self._conn(conn) as c:
            c.execute(
                articles.update()
                .where(articles.c.id == sa.bindparam("b_article"))
                .values(duplicate_of=sa.bindparam("b_original")),
                [{"b_article": a, "b_original": o} for a, o in links.items()],
            )

    def articles(self, ids: Sequence[str], *, texts: bool = True) -> list[Article]:
        """Stored articles by id, in the order asked (missing ids are skipped).

        With ``texts=False`` their body and summary are left empty (not read): for ranking a
        window's stories, whose texts are only needed for the few that are summarized.
        """
        found: dict[str, Article] = {}
        columns = [c for c in articles.c if texts or c.name not in ("body", "summary")]
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                for row in conn.execute(sa.select(*columns).where(articles.c.id.in_(chunk))):
                    found[row.id] = _article(row)
        return [found[i] for i in ids if i in found]

    def published_since(self, since: dt.datetime) -> list[str]:
        """Ids of the articles published at or after ``since``."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(articles.c.id).where(articles.c.published >= _naive(since))
                ).scalars()
            )

    def ungrouped_articles(self) -> list[Article]:
        """Articles not yet assigned to a story, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(articles)
                .where(articles.c.story_id.is_(None))
                .order_by(articles.c.published, articles.c.id)
            ).all()
        return [_article(r) for r in rows]

    def published_order(self, ids: Iterable[str]) -> list[tuple[str, dt.datetime]]:
        """The given articles as (id, published), oldest first (ties by id); unknown ids dropped."""
        out: list[tuple[str, dt.datetime]] = []
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(ids)), 500):
                rows = conn.execute(
                    sa.select(articles.c.id, articles.c.published).where(articles.c.id.in_(chunk))
                )
                out.extend((r.id, _utc(r.published) or dt.datetime.now(dt.UTC)) for r in rows)
        return sorted(out, key=lambda item: (item[1], item[0]))

    def ungrouped_ids(self) -> set[str]:
        """Ids of the articles not yet assigned to a story (stored, not yet fully processed)."""
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    sa.select(articles.c.id).where(articles.c.story_id.is_(None))
                ).scalars()
            )

    def article_count(self) -> int:
        """How many articles are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar_one())

    def articles_since(self, since: dt.datetime, source_id: str | None = None) -> int:
        """How many articles were published since a time (for one source, or all)."""
        query = (
            sa.select(sa.func.count())
            .select_from(articles)
            .where(articles.c.published >= _naive(since))
        )
        if source_id is not None:
            query = query.where(articles.c.source_id == source_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def latest_published(self) -> dt.datetime | None:
        """The publication time of the newest stored article."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(articles.c.published))).scalar_one()
        return _utc(value)

    def article_counts_since(self, since: dt.datetime) -> dict[str, int]:
        """Articles published since a time, per source id."""
        query = (
            sa.select(articles.c.source_id, sa.func.count())
            .where(articles.c.published >= _naive(since))
            .group_by(articles.c.source_id)
        )
        with self.engine.connect() as conn:
            return {str(row[0]): int(row[1]) for row in conn.execute(query)}

    # -- article pages (full text) ----------------------------------------------------------
    def page(self, url: str) -> PageRecord | None:
        """The cached outcome of fetching one article page, if it was ever fetched."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(pages).where(pages.c.url == url)).one_or_none()
        if row is None:
            return None
        return PageRecord(
            url=row.url,
            status=row.status,
            fetched=_utc(row.fetched) or dt.datetime.now(dt.UTC),
            text=row.text,
            error=row.error,
            http_status=row.http_status,
            attempts=row.attempts,
            next_try=_utc(row.next_try),
        )

    def save_page(self, page: PageRecord, conn: Connection | None = None) -> None:
        """Insert or replace the cached outcome of fetching one article page."""
        values = {
            "status": page.status,
            "fetched": _naive(page.fetched),
            "http_status": page.http_status,
            "attempts": page.attempts,
            "next_try": _naive(page.next_try),
            "text": page.text,
            "error": page.error,
        }
        with self._conn(conn) as c:
            if not c.execute(
                pages.update().where(pages.c.url == page.url).values(**values)
            ).rowcount:
                c.execute(pages.insert().values(url=page.url, **values))

    def forget_pages(self, statuses: Sequence[str], source_id: str | None = None) -> int:
        """Forget the cached outcomes with these statuses (of one source's articles); the
        pages are fetched again by the next run. Returns how many were forgotten."""
        query = pages.delete().where(pages.c.status.in_(list(statuses)))
        if source_id is not None:
            urls = sa.select(articles.c.url).where(articles.c.source_id == source_id)
            query = query.where(pages.c.url.in_(urls))
        with self.engine.begin() as conn:
            return int(conn.execute(query).rowcount)

    def refused_pages(self, since: dt.datetime) -> tuple[int, PageRecord | None]:
        """How many article pages were refused (by the address guard) since a time, and one
        of them (the first by URL) as an example."""
        query = sa.select(pages).where(
            pages.c.status == "refused", pages.c.fetched >= _naive(since)
        )
        with self.engine.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).select_from(query.subquery())
            ).scalar_one()
            first = conn.execute(query.order_by(pages.c.url).limit(1)).first()
        if first is None:
            return int(count), None
        example = PageRecord(
            url=first.url,
            status="refused",
            fetched=_utc(first.fetched) or since,
            error=first.error,
            attempts=first.attempts,
        )
        return int(count), example

    def forget_refused_pages(self, conn: Connection | None = None) -> int:
        """Drop every cached "refused" page outcome, so those pages are judged again."""
        with self._conn(conn) as c:
            return int(c.execute(pages.delete().where(pages.c.status == "refused")).rowcount or 0)

    # -- near-duplicate sketches ------------------------------------------------------------
    def save_sketch(
        self,
        article_id: str,
        published: dt.datetime,
        signature: bytes,
        band_keys: Sequence[int],
        conn: Connection | None = None,
    ) -> None:
        """Remember an article's MinHash signature and its LSH band keys."""
        self.save_sketches([(article_id, published, signature, band_keys)], conn)

    def save_sketches(
        self,
        items: Sequence[tuple[str, dt.datetime, bytes, Sequence[int]]],
        conn: Connection | None = None,
    ) -> None:
        """Remember many articles' signatures and band keys: (id, published, signature, keys).

        Batched: a few statements for the lot (a day of news is tens of thousands of sketches).
        With no keys, the sketch is kept but not in the band index (see :meth:`index_sketches`).
        A sketch saved again replaces the old one and its band rows.
        """
        latest = {item[0]: item for item in items}
        ids = list(latest)
        with self._conn(conn) as c:
            # Chunks bound the statement parameters held at once (a day is ~1.6M band rows).
            for chunk in _chunks(ids, SKETCH_BATCH):
                old = sa.select(sketches.c.num).where(sketches.c.article_id.in_(chunk))
                c.execute(sketch_bands.delete().where(sketch_bands.c.sketch.in_(old)))
                c.execute(sketches.delete().where(sketches.c.article_id.in_(chunk)))
                c.execute(
                    sketches.insert(),
                    [
                        {"article_id": aid, "published": _naive(when), "signature": signature}
                        for aid, when, signature, _ in (latest[i] for i in chunk)
                    ],
                )
            self.index_sketches([(item[0], item[3]) for item in latest.values() if item[3]], c)

    def index_sketches(
        self, items: Sequence[tuple[str, Sequence[int]]], conn: Connection | None = None
    ) -> None:
        """Put stored sketches into the band index: (article id, band keys) pairs.

        Articles are indexed once linked, so that looking up a day's new articles finds the
        articles they may copy, not each other. Indexing an article again replaces its rows.
        """
        keys_of = {aid: keys for aid, keys in items}
        with self._conn(conn) as c:
            for chunk in _chunks(list(keys_of), SKETCH_BATCH):
                numbers = {
                    row.article_id: row.num
                    for row in c.execute(
                        sa.select(sketches.c.article_id, sketches.c.num).where(
                            sketches.c.article_id.in_(chunk)
                        )
                    )
                }
                c.execute(
                    sketch_bands.delete().where(sketch_bands.c.sketch.in_(list(numbers.values())))
                )
                bands = sorted(
                    (key, num) for aid, num in numbers.items() for key in set(keys_of[aid])
                )
                _insert_many(c, sketch_bands, ("band_key", "sketch"), bands)

    def printings(self, ids: Iterable[str], conn: Connection | None = None) -> dict[str, Printing]:
        """Those of ``ids`` that have a stored sketch, as near-duplicate linking sees them."""
        found: dict[str, Printing] = {}
        with self._conn(conn) as c:
            for chunk in _chunks(sorted(set(ids)), 500):
                rows = c.execute(_PRINTINGS.where(sketches.c.article_id.in_(chunk)))
                found.update((r.id, _printing(r)) for r in rows)
        return found

    def sketch_candidates(
        self, band_keys: Sequence[int], since: dt.datetime, conn: Connection | None = None
    ) -> list[Printing]:
        """Stored articles published since ``since`` that share an LSH band key (no text)."""
        numbers: set[int] = set()
        with self._conn(conn) as c:
            for chunk in _chunks(sorted(set(band_keys)), 500):
                numbers.update(
                    c.execute(
                        sa.select(sketch_bands.c.sketch)
                        .where(sketch_bands.c.band_key.in_(chunk))
                        .distinct()
                    ).scalars()
                )
            out: list[Printing] = []
            for chunk in _chunks(sorted(numbers), 500):
                rows = c.execute(
                    _PRINTINGS.where(
                        sketches.c.num.in_(chunk), sketches.c.published >= _naive(since)
                    )
                )
                out.extend(_printing(r) for r in rows)
        return out

    def prune_ingest_caches(self, before: dt.datetime, conn: Connection | None = None) -> int:
        """Forget page outcomes fetched, and sketches of articles published, before a time.

        Both only matter for recent articles (pages are fetched for articles stored in the last
        days; copies are looked for within a week), so old rows are dead weight.
        """
        cutoff = _naive(before)
        with self._conn(conn) as c:
            old = sa.select(sketches.c.num).where(sketches.c.published < cutoff)
            c.execute(sketch_bands.delete().where(sketch_bands.c.sketch.in_(old)))
            removed = c.execute(sketches.delete().where(sketches.c.published < cutoff)).rowcount
            removed += c.execute(pages.delete().where(pages.c.fetched < cutoff)).rowcount
        return int(removed or 0)

    # -- stories ----------------------------------------------------------------------------
    def save_stories(self, items: Iterable[Story], conn: Connection | None = None) -> None:
        """Insert or update stories, point their member articles at them, record their links.

        Batched: one statement per kind of write (executemany), however many stories changed.
        """
        batch = {s.id: s for s in items}
        if not batch:
            return
        rows = [
            {
                "b_id": s.id,
                "first_seen": _naive(s.first_seen),
                "last_updated": _naive(s.last_updated),
                "title": s.title,
                "terms": json.dumps(list(s.terms), ensure_ascii=False),
            }
            for s in batch.values()
        ]
        with self._conn(conn) as c:
            known: set[str] = set()
            for chunk in _chunks(list(batch), 500):
                known.update(
                    c.execute(sa.select(stories.c.id).where(stories.c.id.in_(chunk))).scalars()
                )
            inserts = [
                {"id": r["b_id"], **{k: v for k, v in r.items() if k != "b_id"}}
                for r in rows
                if r["b_id"] not in known
            ]
            updates = [r for r in rows if r["b_id"] in known]
            if inserts:
                c.execute(stories.insert(), inserts)
            if updates:
                c.execute(
                    stories.update()
                    .where(stories.c.id == sa.bindparam("b_id"))
                    .values(
                        first_seen=sa.bindparam("first_seen"),
                        last_updated=sa.bindparam("last_updated"),
                        title=sa.bindparam("title"),
                        terms=sa.bindparam("terms"),
                    ),
                    updates,
                )
            members = [
                {"b_article": aid, "b_story": s.id} for s in batch.values() for aid in s.article_ids
            ]
            if members:
                # Only rows whose story changes are written: a grown story re-lists every member.
                c.execute(
                    articles.update()
                    .where(
                        articles.c.id == sa.bindparam("b_article"),
                        sa.or_(
                            articles.c.story_id.is_(None),
                            articles.c.story_id != sa.bindparam("b_story"),
                        ),
                    )
                    .values(story_id=sa.bindparam("b_story")),
                    members,
                )
            links = {link.article_id: (s.id, link) for s in batch.values() for link in s.links}
            for chunk in _chunks(list(links), 500):
                c.execute(story_links.delete().where(story_links.c.article_id.in_(chunk)))
            if links:
                c.execute(
                    story_links.insert(),
                    [
                        {
                            "article_id": link.article_id,
                            "story_id": story_id,
                            "similarity": link.similarity,
                            "via": link.via,
                            "shared": json.dumps(list(link.shared), ensure_ascii=False),
                            "duplicate": link.duplicate,
                        }
                        for story_id, link in links.values()
                    ],
                )

    def story_links(self, story_id: str) -> list[StoryLink]:
        """Why each member of a story is in it (members grouped before links existed have none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(story_links).where(story_links.c.story_id == story_id)
            ).all()
        return [
            StoryLink(
                article_id=r.article_id,
                similarity=float(r.similarity),
                via=r.via,
                shared=tuple(json.loads(r.shared)),
                duplicate=bool(r.duplicate),
            )
            for r in rows
        ]

    def stories_published_between(self, start: dt.datetime, end: dt.datetime) -> list[Story]:
        """Stories with a member article published in [start, end), newest update first."""
        with self.engine.connect() as conn:
            ids = (
                sa.select(articles.c.story_id)
                .where(
                    articles.c.published >= _naive(start),
                    articles.c.published < _naive(end),
                    articles.c.story_id.is_not(None),
                )
                .distinct()
            )
            rows = conn.execute(
                sa.select(stories)
                .where(stories.c.id.in_(ids))
                .order_by(stories.c.last_updated.desc(), stories.c.id)
            ).all()
            return self._with_members(conn, rows)

    def stories_updated_since(self, since: dt.datetime) -> list[Story]:
        """Stories with an article added at or after ``since``, with their member ids."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(stories).where(stories.c.last_updated >= _naive(since))
            ).all()
            return self._with_members(conn, rows)

    def story(self, story_id: str) -> Story | None:
        """One story by id (a unique prefix of the id also works)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(stories)
                .where(stories.c.id.startswith(story_id, autoescape=True))
                .limit(2)
            ).all()
            if len(rows) != 1:
                return None
            story = self._with_members(conn, rows)[0]
        return dataclasses.replace(story, links=tuple(self.story_links(story.id)))

    def _with_members(self, conn: Connection, rows: Sequence[Any]) -> list[Story]:
        members: dict[str, list[str]] = {r.id: [] for r in rows}
        for chunk in _chunks(list(members), 500):
            for arow in conn.execute(
                sa.select(articles.c.id, articles.c.story_id)
                .where(articles.c.story_id.in_(chunk))
                .order_by(articles.c.published, articles.c.id)
            ):
                members[arow.story_id].append(arow.id)
        return [
            Story(
                id=r.id,
                article_ids=tuple(members[r.id]),
                first_seen=_utc(r.first_seen) or dt.datetime.now(dt.UTC),
                last_updated=_utc(r.last_updated) or dt.datetime.now(dt.UTC),
                title=r.title,
                terms=tuple(json.loads(r.terms)),
            )
            for r in rows
        ]

    # -- editions ---------------------------------------------------------------------------
    def record_edition(
        self,
        edition: Edition,
        built_at: dt.datetime,
        title: str,
        story_counts: dict[str, int],
        content_html: str = "",
        summary: str = "",
    ) -> None:
        """Remember that an edition was built, how big each of its stories was, and its HTML."""
        values = {
            "date": edition.date,
            "slot": edition.slot,
            "built_at": _naive(built_at),
            "title": title,
            "story_counts": json.dumps(story_counts),  # in edition order
            "content_html": content_html,
            "summary": summary,
        }
        with self.engine.begin() as c:
            if not c.execute(
                editions.update().where(editions.c.id == edition.id).values(**values)
            ).rowcount:
                c.execute(editions.insert().values(id=edition.id, **values))

    def previous_edition_counts(self, edition: Edition) -> dict[str, int]:
        """Story sizes in the latest edition built before this one (empty if none)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(editions.c.story_counts)
                .where(editions.c.id < edition.id)
                .order_by(editions.c.id.desc())
                .limit(1)
            ).one_or_none()
        return {str(k): int(v) for k, v in json.loads(row[0]).items()} if row else {}

    def recent_editions(self, limit: int) -> list[EditionRecord]:
        """The newest built editions (at most ``limit``), newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(editions)
                .order_by(editions.c.date.desc(), editions.c.id.desc())
                .limit(limit)
            ).all()
        return [_edition_record(r) for r in rows]

    def edition_built_at(self, edition_id: str) -> dt.datetime | None:
        """When an edition was last built, or None if it never was."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(editions.c.built_at).where(editions.c.id == edition_id)
            ).scalar_one_or_none()
        return _utc(value)

    def edition_ids(self) -> list[str]:
        """Every built edition id, newest first."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(sa.select(editions.c.id).order_by(editions.c.id.desc())).scalars()
            )

    def delete_edition(self, edition_id: str) -> bool:
        """Forget a built edition and its up-to-date stamp; False if it was never built.

        Its delivery records stay: who received it is history, not part of the edition.
        """
        with self.engine.begin() as conn:
            gone = conn.execute(editions.delete().where(editions.c.id == edition_id)).rowcount
            conn.execute(meta_table.delete().where(meta_table.c.key == f"built:{edition_id}"))
        return bool(gone)

    # -- deliveries -------------------------------------------------------------------------
    def plan_deliveries(
        self,
        edition_id: str,
        recipients: Sequence[str],
        now: dt.datetime,
        resend: bool = False,
    ) -> None:
        """Record that an edition is to be sent to these recipients (existing rows are kept).

        With ``resend``, rows of these recipients go back to pending whatever their state.
        """
        with self.engine.begin() as c:
            known = set(
                c.execute(
                    sa.select(deliveries.c.recipient).where(deliveries.c.edition_id == edition_id)
                ).scalars()
            )
            new = [r for r in dict.fromkeys(recipients) if r not in known]
            if new:
                c.execute(
                    deliveries.insert(),
                    [
                        {
                            "edition_id": edition_id,
                            "recipient": r,
                            "status": "pending",
                            "attempts": 0,
                            "created": _naive(now),
                        }
                        for r in new
                    ],
                )
            again = [r for r in recipients if r in known] if resend else []
            for chunk in _chunks(again, 500):
                c.execute(
                    deliveries.update()
                    .where(deliveries.c.edition_id == edition_id)
                    .where(deliveries.c.recipient.in_(chunk))
                    .values(status="pending", attempts=0, next_attempt=None, error=None)
                )

    def deliveries(
        self, edition_id: str | None = None, status: DeliveryStatus | None = None
    ) -> list[Delivery]:
        """Delivery records (of one edition, in one state), oldest first."""
        query = sa.select(deliveries).order_by(deliveries.c.created, deliveries.c.recipient)
        if edition_id is not None:
            query = query.where(deliveries.c.edition_id == edition_id)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        with self.engine.connect() as conn:
            return [self._delivery(r) for r in conn.execute(query)]

    def due_deliveries(self, now: dt.datetime) -> list[Delivery]:
        """Pending deliveries whose next attempt has come."""
        query = (
            sa.select(deliveries)
            .where(deliveries.c.status == "pending")
            .where(
                sa.or_(
                    deliveries.c.next_attempt.is_(None), deliveries.c.next_attempt <= _naive(now)
                )
            )
            .order_by(deliveries.c.created, deliveries.c.recipient)
        )
        with self.engine.connect() as conn:
            return [self._delivery(r) for r in conn.execute(query)]

    def claim_delivery(self, edition_id: str, recipient: str, now: dt.datetime) -> int | None:
        """Mark a pending delivery as being sent; return its attempt number (None if not pending).

        The state change is committed before the message goes out, so a crash while sending
        leaves "sending" behind (see :meth:`mark_interrupted_deliveries`), never "pending".
        """
        key = (deliveries.c.edition_id == edition_id) & (deliveries.c.recipient == recipient)
        with self.engine.begin() as c:
            claimed = c.execute(
                deliveries.update()
                .where(key & (deliveries.c.status == "pending"))
                .values(
                    status="sending",
                    attempts=deliveries.c.attempts + 1,
                    last_attempt=_naive(now),
                )
            ).rowcount
            if not claimed:
                return None
            return int(c.execute(sa.select(deliveries.c.attempts).where(key)).scalar_one())

    def finish_delivery(
        self,
        edition_id: str,
        recipient: str,
        status: DeliveryStatus,
        *,
        error: str | None = None,
        next_attempt: dt.datetime | None = None,
        sent_at: dt.datetime | None = None,
        message_id: str | None = None,
    ) -> None:
        """Record the outcome of one attempt."""
        with self.engine.begin() as c:
            c.execute(
                deliveries.update()
                .where(deliveries.c.edition_id == edition_id)
                .where(deliveries.c.recipient == recipient)
                .values(
                    status=status,
                    error=error,
                    next_attempt=_naive(next_attempt),
                    sent_at=_naive(sent_at),
                    message_id=message_id,
                )
            )

    def mark_interrupted_deliveries(self) -> list[Delivery]:
        """Turn "sending" rows left by a crash into "uncertain"; return them.

        Call only while holding the mail lock, when no other process can be sending.
        """
        with self.engine.begin() as c:
            rows = c.execute(sa.select(deliveries).where(deliveries.c.status == "sending")).all()
            if rows:
                c.execute(
                    deliveries.update()
                    .where(deliveries.c.status == "sending")
                    .values(
                        status="uncertain",
                        error="interrupted while sending: it may or may not have arrived",
                    )
                )
        return [dataclasses.replace(self._delivery(r), status="uncertain") for r in rows]

    @staticmethod
    def _delivery(row: Any) -> Delivery:
        return Delivery(
            edition_id=row.edition_id,
            recipient=row.recipient,
            status=row.status,
            attempts=row.attempts or 0,
            created=_utc(row.created),
            last_attempt=_utc(row.last_attempt),
            next_attempt=_utc(row.next_attempt),
            sent_at=_utc(row.sent_at),
            message_id=row.message_id,
            error=row.error,
        )

    # -- small facts ------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A value remembered under ``key`` in the meta table (None if never set)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == key)
            ).scalar_one_or_none()
        return str(value) if value is not None else None

    def set_meta(self, key: str, value: str, conn: Connection | None = None) -> None:
        """Remember ``value`` under ``key`` (replacing what was there)."""
        if len(key) > 64:
            raise StoreError(f"meta key longer than 64 characters: {key!r}")
        with self._conn(conn) as c:
            if not c.execute(
                meta_table.update().where(meta_table.c.key == key).values(value=value)
            ).rowcount:
                c.execute(meta_table.insert().values(key=key, value=value))

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for several writes (all or nothing)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _conn(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as c:
                yield c

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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
