"""What is sent: the email deliveries and the notifications of editions, and their reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from briefs.models.editions import DEFAULT_BRIEF

__all__ = [
    "Delivery",
    "DeliveryReport",
    "DeliveryStatus",
    "Notification",
    "NotificationStatus",
    "NotifyReport",
]


# pending: to send (again); sending: handed to the SMTP server, outcome not yet recorded;
# sent; failed: refused for good or gave up; uncertain: a crash while sending (not resent).
DeliveryStatus = Literal["pending", "sending", "sent", "failed", "uncertain"]
# A notification is "held" until it is to be sent: composed when its edition was built by hand,
# released by `briefs notify` (the daemon releases its own editions' at once).
NotificationStatus = Literal["held", "pending", "sending", "sent", "failed", "uncertain"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """The email of one edition to one recipient, as recorded in the store."""

    edition_id: str
    recipient: str
    status: DeliveryStatus
    attempts: int = 0
    created: dt.datetime | None = None
    last_attempt: dt.datetime | None = None
    next_attempt: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    message_id: str | None = None
    error: str | None = None
    brief: str = DEFAULT_BRIEF  # the brief whose edition it is


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did for one edition."""

    edition_id: str
    sent: tuple[str, ...] = ()
    already_sent: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    uncertain: tuple[str, ...] = ()
    written: tuple[str, ...] = ()  # .eml files of a dry run

    @property
    def ok(self) -> bool:
        """True when every recipient has the edition (or a dry run wrote every file)."""
        return not (self.failed or self.pending or self.uncertain)


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification of one target about one edition, and its delivery as recorded.

    ``kind`` is "edition", "story" (``item``: the story id) or "failures"; ``markdown`` and
    ``text`` are the same body in both forms (the service's takes one), composed when the
    edition was built, so a retry sends what the first attempt sent.
    """

    edition_id: str
    target: str
    kind: str
    item: str
    title: str
    markdown: str
    text: str
    status: NotificationStatus = "held"
    attempts: int = 0
    created: dt.datetime | None = None
    last_attempt: dt.datetime | None = None
    next_attempt: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    error: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(edition, target, kind, item): what is notified once."""
        return (self.edition_id, self.target, self.kind, self.item)

    @property
    def label(self) -> str:
        """How logs and reports name it: "2024-04-06 to phone (story 3f2a...)"."""
        about = f"{self.kind} {self.item[:12]}" if self.item else self.kind
        return f"{self.edition_id} to {self.target} ({about})"


@dataclass(frozen=True, slots=True)
class NotifyReport:
    """What one notification run did (notifications named by :attr:`Notification.label`)."""

    sent: tuple[str, ...] = ()
    already_sent: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    uncertain: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every notification asked for has been sent."""
        return not (self.failed or self.pending or self.uncertain)
