"""Claims on sources: which poller polls a source now, until when (a lease).

Several pollers (``briefs daemon --role poller``, on any hosts) share the sources through this
table: a poller claims due sources, polls them, stores what it fetched and deletes its claims.
A claim is taken with one upsert that succeeds only where no claim exists or the existing one
has expired, so two pollers never both hold one source, and a killed poller's claims are taken
over once their lease runs out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from briefs.store.base import StoreBase, chunks, naive, upsert, utc
from briefs.store.schema import source_claims

__all__ = ["Claims"]


class Claims(StoreBase):
    """The ``source_claims`` table."""

    def claim_sources(
        self, ids: Sequence[str], owner: str, now: dt.datetime, lease: dt.timedelta
    ) -> set[str]:
        """Claim these sources for ``owner`` until ``now + lease``; return those it got.

        A source claimed by another owner whose lease has not run out is not taken; one
        already ``owner``'s is renewed.
        """
        rows = [
            {"source_id": i, "owner": owner, "expires": naive(now + lease)}
            for i in sorted(set(ids))
        ]
        free = (source_claims.c.expires <= naive(now)) | (source_claims.c.owner == owner)
        got: set[str] = set()
        with self._write() as c:
            for chunk in chunks(rows, 500):
                result = upsert(
                    c,
                    source_claims,
                    chunk,
                    ("source_id",),
                    ("owner", "expires"),
                    returning=("source_id",),
                    where=free,
                )
                if result is not None:
                    got.update(result.scalars())
        return got

    def release_sources(self, ids: Iterable[str], owner: str) -> None:
        """Drop ``owner``'s claims on these sources (done with them)."""
        with self._write() as c:
            for chunk in chunks(sorted(set(ids)), 500):
                c.execute(
                    source_claims.delete().where(
                        source_claims.c.source_id.in_(chunk), source_claims.c.owner == owner
                    )
                )

    def source_claims(self, now: dt.datetime) -> dict[str, tuple[str, dt.datetime]]:
        """The claims in force at ``now``: source id -> (owner, until when)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(source_claims).where(source_claims.c.expires > naive(now))
            ).all()
        return {r.source_id: (r.owner, utc(r.expires) or now) for r in rows}
