"""Email deliveries: one row per edition and recipient, and its state machine."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from briefs.models import DEFAULT_BRIEF, Delivery, DeliveryStatus
from briefs.store.base import StoreBase, attempt_fields, chunks, naive, upsert
from briefs.store.schema import deliveries


class Deliveries(StoreBase):
    """The ``deliveries`` table: every row is of one brief's edition (``brief``, its id)."""

    def plan_deliveries(
        self,
        edition_id: str,
        recipients: Sequence[str],
        now: dt.datetime,
        resend: bool = False,
        *,
        brief: str = DEFAULT_BRIEF,
    ) -> None:
        """Record that a brief's edition is to be sent to these recipients (existing rows are
        kept).

        With ``resend``, rows of these recipients go back to pending whatever their state.
        """
        of_edition = (deliveries.c.brief == brief) & (deliveries.c.edition_id == edition_id)
        with self._write() as c:
            known = set(c.execute(sa.select(deliveries.c.recipient).where(of_edition)).scalars())
            new = [r for r in dict.fromkeys(recipients) if r not in known]
            # ON CONFLICT: a row another process planned meanwhile is kept as it is
            upsert(
                c,
                deliveries,
                [
                    {
                        "brief": brief,
                        "edition_id": edition_id,
                        "recipient": r,
                        "status": "pending",
                        "attempts": 0,
                        "created": naive(now),
                    }
                    for r in new
                ],
                ("brief", "edition_id", "recipient"),
            )
            again = [r for r in recipients if r in known] if resend else []
            for chunk in chunks(again, 500):
                c.execute(
                    deliveries.update()
                    .where(of_edition)
                    .where(deliveries.c.recipient.in_(chunk))
                    .values(status="pending", attempts=0, next_attempt=None, error=None)
                )

    def deliveries(
        self,
        edition_id: str | None = None,
        status: DeliveryStatus | None = None,
        *,
        brief: str | None = None,
    ) -> list[Delivery]:
        """Delivery records (of one brief, one edition of the brief (the default brief's
        without ``brief``), in one state), oldest first."""
        query = sa.select(deliveries).order_by(deliveries.c.created, deliveries.c.recipient)
        if edition_id is not None:
            query = query.where(deliveries.c.edition_id == edition_id)
            query = query.where(deliveries.c.brief == (brief or DEFAULT_BRIEF))
        elif brief is not None:
            query = query.where(deliveries.c.brief == brief)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        with self._read() as conn:
            return [self._delivery(r) for r in conn.execute(query)]

    def due_deliveries(self, now: dt.datetime) -> list[Delivery]:
        """Pending deliveries whose next attempt has come."""
        query = (
            sa.select(deliveries)
            .where(deliveries.c.status == "pending")
            .where(
                sa.or_(deliveries.c.next_attempt.is_(None), deliveries.c.next_attempt <= naive(now))
            )
            .order_by(deliveries.c.created, deliveries.c.recipient)
        )
        with self._read() as conn:
            return [self._delivery(r) for r in conn.execute(query)]

    def claim_delivery(
        self, edition_id: str, recipient: str, now: dt.datetime, *, brief: str = DEFAULT_BRIEF
    ) -> int | None:
        """Mark a pending delivery as being sent; return its attempt number (None if not pending).

        The state change is committed before the message goes out, so a crash while sending
        leaves "sending" behind (see :meth:`mark_interrupted_deliveries`), never "pending".
        """
        key = (
            (deliveries.c.brief == brief)
            & (deliveries.c.edition_id == edition_id)
            & (deliveries.c.recipient == recipient)
        )
        with self._write() as c:
            claimed = c.execute(
                deliveries.update()
                .where(key & (deliveries.c.status == "pending"))
                .values(
                    status="sending",
                    attempts=deliveries.c.attempts + 1,
                    last_attempt=naive(now),
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
        brief: str = DEFAULT_BRIEF,
    ) -> None:
        """Record the outcome of one attempt."""
        with self._write() as c:
            c.execute(
                deliveries.update()
                .where(deliveries.c.brief == brief)
                .where(deliveries.c.edition_id == edition_id)
                .where(deliveries.c.recipient == recipient)
                .values(
                    status=status,
                    error=error,
                    next_attempt=naive(next_attempt),
                    sent_at=naive(sent_at),
                    message_id=message_id,
                )
            )

    def mark_interrupted_deliveries(self) -> list[Delivery]:
        """Turn "sending" rows left by a crash into "uncertain"; return them.

        Call only while holding the mail lock, when no other process can be sending.
        """
        with self._write() as c:
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
            message_id=row.message_id,
            brief=row.brief,
            **attempt_fields(row),
        )
