"""Notifications: one row per edition, target, kind and item, and its state machine.

The states are the email deliveries' (:mod:`briefs.store.deliveries`) plus "held": composed
with a build, not yet to be sent (see :mod:`briefs.notify.send`)::

    held --release--> pending --claim--> sending --sent--> sent
                         ^                  |  \\--refused (4xx) / gave up--> failed
                         +--temporary (5xx, timeout, network)
    (a crash while "sending" leaves the row "uncertain": never resent)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from briefs.models import Notification, NotificationStatus
from briefs.store.base import StoreBase, attempt_fields, naive
from briefs.store.schema import notifications

Key = tuple[str, str, str, str]


def _where(key: Key) -> Any:
    edition_id, target, kind, item = key
    c = notifications.c
    return (c.edition_id == edition_id) & (c.target == target) & (c.kind == kind) & (c.item == item)


class Notifications(StoreBase):
    """The ``notifications`` table."""

    def hold_notifications(self, edition_id: str, items: Sequence[Notification]) -> int:
        """Replace the edition's held notifications by ``items``; return how many are held.

        Rows past "held" are kept as they are (what was sent stays sent), and a story a target
        was already notified of, in any edition, is not held again.
        """
        c = notifications.c
        with self._write() as conn:
            conn.execute(
                notifications.delete().where(c.edition_id == edition_id).where(c.status == "held")
            )
            known = {
                tuple(r)
                for r in conn.execute(
                    sa.select(c.edition_id, c.target, c.kind, c.item).where(
                        c.edition_id == edition_id
                    )
                )
            }
            told = {
                (r.target, r.item)
                for r in conn.execute(
                    sa.select(c.target, c.item).where(c.kind == "story").where(c.status != "held")
                )
            }
            rows = [
                n
                for n in {n.key: n for n in items}.values()
                if n.key not in known and not (n.kind == "story" and (n.target, n.item) in told)
            ]
            if rows:
                conn.execute(notifications.insert(), [self._row(n) for n in rows])
        return len(rows)

    def release_notifications(
        self, edition_id: str, targets: Sequence[str] | None = None, *, resend: bool = False
    ) -> int:
        """Make the edition's held notifications (of ``targets``; default all) pending; with
        ``resend``, the sent, failed and uncertain ones too. Returns how many."""
        c = notifications.c
        states = ["held", "sent", "failed", "uncertain"] if resend else ["held"]
        query = (
            notifications.update()
            .where(c.edition_id == edition_id)
            .where(c.status.in_(states))
            .values(status="pending", attempts=0, next_attempt=None, error=None)
        )
        if targets is not None:
            query = query.where(c.target.in_(list(targets)))
        with self._write() as conn:
            # a story held by two editions built by hand goes out with the first released
            told = {
                (r.target, r.item)
                for r in conn.execute(
                    sa.select(c.target, c.item)
                    .where(c.kind == "story")
                    .where(c.status != "held")
                    .where(c.edition_id != edition_id)
                )
            }
            held = conn.execute(
                sa.select(c.target, c.item)
                .where(c.edition_id == edition_id)
                .where(c.kind == "story")
                .where(c.status == "held")
            ).all()
            for target, item in held:
                if (target, item) in told:
                    conn.execute(
                        notifications.delete().where(_where((edition_id, target, "story", item)))
                    )
            return int(conn.execute(query).rowcount)

    def notifications(
        self, edition_id: str | None = None, status: NotificationStatus | None = None
    ) -> list[Notification]:
        """Notification records (of one edition, in one state), oldest first."""
        c = notifications.c
        query = sa.select(notifications).order_by(c.created, c.target, c.kind, c.item)
        if edition_id is not None:
            query = query.where(c.edition_id == edition_id)
        if status is not None:
            query = query.where(c.status == status)
        with self._read() as conn:
            return [self._notification(r) for r in conn.execute(query)]

    def due_notifications(self, now: dt.datetime) -> list[Notification]:
        """Pending notifications whose next attempt has come, oldest first."""
        c = notifications.c
        query = (
            sa.select(notifications)
            .where(c.status == "pending")
            .where(sa.or_(c.next_attempt.is_(None), c.next_attempt <= naive(now)))
            .order_by(c.created, c.target, c.kind, c.item)
        )
        with self._read() as conn:
            return [self._notification(r) for r in conn.execute(query)]

    def claim_notification(self, key: Key, now: dt.datetime) -> int | None:
        """Mark a pending notification as being sent; its attempt number (None: not pending).

        Committed before it goes out: a crash while sending leaves "sending" behind (see
        :meth:`mark_interrupted_notifications`), never "pending".
        """
        c = notifications.c
        with self._write() as conn:
            claimed = conn.execute(
                notifications.update()
                .where(_where(key) & (c.status == "pending"))
                .values(status="sending", attempts=c.attempts + 1, last_attempt=naive(now))
            ).rowcount
            if not claimed:
                return None
            return int(conn.execute(sa.select(c.attempts).where(_where(key))).scalar_one())

    def finish_notification(
        self,
        key: Key,
        status: NotificationStatus,
        *,
        error: str | None = None,
        next_attempt: dt.datetime | None = None,
        sent_at: dt.datetime | None = None,
    ) -> None:
        """Record the outcome of one attempt."""
        with self._write() as conn:
            conn.execute(
                notifications.update()
                .where(_where(key))
                .values(
                    status=status,
                    error=error,
                    next_attempt=naive(next_attempt),
                    sent_at=naive(sent_at),
                )
            )

    def mark_interrupted_notifications(self) -> list[Notification]:
        """Turn "sending" rows left by a crash into "uncertain"; return them.

        Call only while holding the notify lock, when no other process can be sending.
        """
        c = notifications.c
        with self._write() as conn:
            rows = conn.execute(sa.select(notifications).where(c.status == "sending")).all()
            if rows:
                conn.execute(
                    notifications.update()
                    .where(c.status == "sending")
                    .values(
                        status="uncertain",
                        error="interrupted while sending: it may or may not have arrived",
                    )
                )
        return [dataclasses.replace(self._notification(r), status="uncertain") for r in rows]

    @staticmethod
    def _row(n: Notification) -> dict[str, Any]:
        return {
            "edition_id": n.edition_id,
            "target": n.target,
            "kind": n.kind,
            "item": n.item,
            "status": n.status,
            "attempts": n.attempts,
            "created": naive(n.created or dt.datetime.now(dt.UTC)),
            "title": n.title,
            "markdown": n.markdown,
            "text": n.text,
        }

    @staticmethod
    def _notification(row: Any) -> Notification:
        return Notification(
            edition_id=row.edition_id,
            target=row.target,
            kind=row.kind,
            item=row.item,
            title=row.title,
            markdown=row.markdown,
            text=row.text,
            **attempt_fields(row),
        )
