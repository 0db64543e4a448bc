"""What mailbox sources have read: the ``seen_messages`` table (see its comment in schema)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from briefs.models import MailboxMemory, SeenMessage
from briefs.store.base import StoreBase, chunks, naive
from briefs.store.schema import seen_messages


class SeenMessages(StoreBase):
    """The messages each mailbox source has read."""

    def mailbox_memory(self, source_id: str) -> MailboxMemory:
        """What the source has read before (empty for a source never polled)."""
        t = seen_messages
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.c.message_id, t.c.name).where(t.c.source_id == source_id)
            ).all()
            highest = conn.execute(
                sa.select(t.c.uidvalidity, sa.func.max(t.c.uid))
                .where(t.c.source_id == source_id, t.c.uidvalidity.is_not(None))
                .group_by(t.c.uidvalidity)
            ).all()
        return MailboxMemory(
            message_ids=frozenset(r.message_id for r in rows),
            names=frozenset(r.name for r in rows if r.name),
            last_uid=tuple((int(v), int(uid)) for v, uid in highest if uid is not None),
        )

    def remember_messages(self, messages: Iterable[SeenMessage]) -> None:
        """Remember messages as read; one already remembered keeps its first record."""
        batch = {(m.source_id, m.message_id): m for m in messages}
        if not batch:
            return
        t = seen_messages
        with self._write() as c:
            known: set[tuple[str, str]] = set()
            for source_id in {sid for sid, _ in batch}:
                ids = [mid for sid, mid in batch if sid == source_id]
                for chunk in chunks(ids, 500):
                    found = c.execute(
                        sa.select(t.c.message_id).where(
                            t.c.source_id == source_id, t.c.message_id.in_(chunk)
                        )
                    ).scalars()
                    known.update((source_id, mid) for mid in found)
            rows = [
                {
                    "source_id": m.source_id,
                    "message_id": m.message_id,
                    "seen": naive(m.seen),
                    "uidvalidity": m.uidvalidity,
                    "uid": m.uid,
                    "name": m.name,
                }
                for key, m in batch.items()
                if key not in known
            ]
            if rows:
                c.execute(t.insert(), rows)
