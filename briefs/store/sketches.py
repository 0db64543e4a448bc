"""Near-duplicate sketches: MinHash signatures and their LSH band index (briefs.ingest.dedupe)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from briefs.models import Article, Printing, Sketch
from briefs.store.base import StoreBase, chunks, insert_many, naive, utc
from briefs.store.schema import SKETCH_BATCH, articles, pages, sketch_bands, sketches

# An article as near-duplicate linking sees it (no text), for those with a sketch.
_PRINTINGS = sa.select(
    articles.c.id,
    articles.c.source_id,
    articles.c.published,
    articles.c.duplicate_of,
    sketches.c.signature,
).join(sketches, sketches.c.article_id == articles.c.id)


# The band keys a lookup asks for (sketch_candidates), in a table of the connection's own that
# lives for one lookup; keys are inserted this many at a time (each a Python tuple meanwhile).
_LOOKUP = sa.Table(
    "band_lookup", sa.MetaData(), sa.Column("band_key", sa.BigInteger), prefixes=["TEMPORARY"]
)
_LOOKUP_BATCH = 20_000


def _printing(row: Any) -> Printing:
    published = utc(row.published) or dt.datetime.now(dt.UTC)
    return Printing(row.id, row.source_id, published, row.duplicate_of, bytes(row.signature))


class Sketches(StoreBase):
    """The ``sketches`` and ``sketch_bands`` tables, and the copies linked through them."""

    def save_sketches(self, items: Sequence[tuple[str, dt.datetime, bytes, Sequence[int]]]) -> None:
        """Remember many articles' signatures and band keys: (id, published, signature, keys).

        Batched: a few statements for the lot (a day of news is tens of thousands of sketches).
        With no keys, the sketch is kept but not in the band index (see :meth:`index_sketches`).
        A sketch saved again replaces the old one and its band rows.
        """
        latest = {item[0]: item for item in items}
        ids = list(latest)
        with self._write() as c:
            # Chunks bound the statement parameters held at once (a day is ~1.6M band rows).
            for chunk in chunks(ids, SKETCH_BATCH):
                old = sa.select(sketches.c.num).where(sketches.c.article_id.in_(chunk))
                c.execute(sketch_bands.delete().where(sketch_bands.c.sketch.in_(old)))
                c.execute(sketches.delete().where(sketches.c.article_id.in_(chunk)))
                c.execute(
                    sketches.insert(),
                    [
                        {"article_id": aid, "published": naive(when), "signature": signature}
                        for aid, when, signature, _ in (latest[i] for i in chunk)
                    ],
                )
            _index(c, [(item[0], item[3]) for item in latest.values() if item[3]])

    def save_sketches_of(
        self, items: Iterable[Article], made: Mapping[str, Sketch], *, indexed: bool = True
    ) -> None:
        """Remember the sketches ``made`` of these articles (by id), in the band index or not
        yet (``indexed=False``: linking indexes them once it has linked them)."""
        if not made:
            return
        published = {a.id: a.published for a in items}
        self.save_sketches(
            [
                (aid, published[aid], s.signature, s.band_keys if indexed else ())
                for aid, s in made.items()
            ]
        )

    def index_sketches(self, items: Sequence[tuple[str, Iterable[int]]]) -> None:
        """Put stored sketches into the band index: (article id, band keys) pairs.

        Articles are indexed once linked, so that looking up a day's new articles finds the
        articles they may copy, not each other. Indexing an article again replaces its rows.
        """
        with self._write() as c:
            _index(c, items)

    def set_duplicates(self, links: Mapping[str, str]) -> None:
        """Mark articles as copies: article id -> id of the original it duplicates."""
        if not links:
            return
        with self._write() as c:
            c.execute(
                articles.update()
                .where(articles.c.id == sa.bindparam("b_article"))
                .values(duplicate_of=sa.bindparam("b_original")),
                [{"b_article": a, "b_original": o} for a, o in links.items()],
            )

    def record_copies(
        self,
        links: Mapping[str, str],
        indexed: Sequence[tuple[str, Iterable[int]]],
        prune_before: dt.datetime | None = None,
    ) -> None:
        """Record one batch of linking in one transaction: its copies (article id -> original)
        marked, its articles put in the band index (see :meth:`index_sketches`) and, with
        ``prune_before``, the ingest caches older than that forgotten first."""
        with self.transaction():
            if prune_before is not None:
                self.prune_ingest_caches(prune_before)
            self.set_duplicates(links)
            self.index_sketches(indexed)

    def sketch_version(self) -> str | None:
        """The sketch format of the stored sketches (``briefs.ingest.dedupe.SKETCH_VERSION``)."""
        return self.get_meta("sketch_version")

    def set_sketch_version(self, version: int) -> None:
        """Remember that the stored sketches are of this format."""
        self.set_meta("sketch_version", str(version))

    def printings(self, ids: Iterable[str]) -> dict[str, Printing]:
        """Those of ``ids`` that have a stored sketch, as near-duplicate linking sees them."""
        found: dict[str, Printing] = {}
        with self._read() as c:
            for chunk in chunks(sorted(set(ids)), 500):
                rows = c.execute(_PRINTINGS.where(sketches.c.article_id.in_(chunk)))
                found.update((r.id, _printing(r)) for r in rows)
        return found

    def sketch_candidates(self, band_keys: Iterable[int], since: dt.datetime) -> list[Printing]:
        """Stored articles published since ``since`` that share an LSH band key (no text).

        The keys (a day's 1.6 million at 50,000 articles; NumPy integers too) go into a
        temporary table joined with the band index: one query, where an IN list of 500 keys at
        a time cost SQLAlchemy more to compile than SQLite to answer, and a set of the keys
        held a hundred bytes each.
        """
        with self._read() as c:
            # It may outlive a lookup on a pooled connection (SQLite creates it outside the
            # transaction that inserts into it and would roll its drop back): emptied instead.
            c.execute(sa.schema.CreateTable(_LOOKUP, if_not_exists=True))
            c.execute(_LOOKUP.delete())
            try:
                keys = iter(band_keys)
                while batch := [(int(k),) for k in itertools.islice(keys, _LOOKUP_BATCH)]:
                    insert_many(c, _LOOKUP, ("band_key",), batch)
                numbers = (
                    sa.select(sketch_bands.c.sketch)
                    .join(_LOOKUP, _LOOKUP.c.band_key == sketch_bands.c.band_key)
                    .distinct()
                )
                query = _PRINTINGS.where(
                    sketches.c.num.in_(numbers), sketches.c.published >= naive(since)
                )
                return [_printing(r) for r in c.execute(query)]
            finally:
                c.execute(_LOOKUP.delete())

    def prune_ingest_caches(self, before: dt.datetime) -> int:
        """Forget page outcomes fetched, and sketches of articles published, before a time.

        Both only matter for recent articles (pages are fetched for articles stored in the last
        days; copies are looked for within a week), so old rows are dead weight.
        """
        cutoff = naive(before)
        with self._write() as c:
            old = sa.select(sketches.c.num).where(sketches.c.published < cutoff)
            c.execute(sketch_bands.delete().where(sketch_bands.c.sketch.in_(old)))
            removed = c.execute(sketches.delete().where(sketches.c.published < cutoff)).rowcount
            removed += c.execute(pages.delete().where(pages.c.fetched < cutoff)).rowcount
        return int(removed or 0)


def _plain(keys: Iterable[int]) -> set[int]:
    """Band keys as a set of Python ints (a NumPy array's converted at once: the driver binds
    no NumPy integers)."""
    tolist = getattr(keys, "tolist", None)
    return set(tolist() if tolist is not None else keys)


def _index(conn: Connection, items: Sequence[tuple[str, Iterable[int]]]) -> None:
    """Replace the band rows of stored sketches: (article id, band keys) pairs."""
    keys_of = {aid: keys for aid, keys in items}
    for chunk in chunks(list(keys_of), SKETCH_BATCH):
        numbers = {
            row.article_id: row.num
            for row in conn.execute(
                sa.select(sketches.c.article_id, sketches.c.num).where(
                    sketches.c.article_id.in_(chunk)
                )
            )
        }
        conn.execute(sketch_bands.delete().where(sketch_bands.c.sketch.in_(list(numbers.values()))))
        bands = sorted((key, num) for aid, num in numbers.items() for key in _plain(keys_of[aid]))
        insert_many(conn, sketch_bands, ("band_key", "sketch"), bands)
