"""Delivery of the email edition: the state machine, in one place.

The email edition is the .eml a build wrote (:mod:`briefs.mail`); delivering it addresses one
copy per recipient, hands each to a transport (:mod:`briefs.transport`: SMTP, or files for a
dry run) and records each outcome in the store, so a crash between recipients resumes and
nobody gets an edition twice:

    pending --claim--> sending --sent--> sent
       ^                  |  \\--refused (5xx) / gave up--> failed
       |                  |
       +--temporary (4xx, connection lost): retry after email.retry_delay * 2**(n-1)
    (a crash while "sending" leaves the row "uncertain": never resent)

The daemon's side is here too: planning a scheduled edition's deliveries
(:func:`plan_delivery`) and sending whatever is due (:func:`deliver_due`), pausing longer each
time a failure concerns every recipient (:class:`MailPause`: login refused, no .eml).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from briefs.address import header_text, recipient_key
from briefs.config import Config, EmailSettings
from briefs.errors import (
    DeliveryError,
    LockError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from briefs.lock import named_lock
from briefs.mail import address_message, load_message
from briefs.models import Delivery, DeliveryReport
from briefs.outputs import site_host
from briefs.publish import Publisher
from briefs.store import Store
from briefs.transport import FileTransport, Transport, transport_for

__all__ = [
    "EXAMPLE_RECIPIENT",
    "MailPause",
    "deliver_due",
    "deliver_edition",
    "plan_delivery",
]

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

# The address a dry run writes its one example message to when no recipient is configured
# (.invalid never resolves: nothing can be sent to it by mistake).
EXAMPLE_RECIPIENT = "reader@example.invalid"
# The longest pause of the daemon's deliveries after failures for every recipient (seconds).
MAX_MAIL_PAUSE = 3600.0
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def deliver_edition(
    config: Config,
    store: Store,
    edition_id: str,
    *,
    recipients: Sequence[str] | None = None,
    resend: bool = False,
    dry_run: bool = False,
    wait: bool = True,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    transport: Transport | None = None,
    lock_timeout: float = 60.0,
) -> DeliveryReport:
    """Email an edition to ``recipients`` (default: email.recipients) and record each outcome.

    Recipients who already have it are skipped (unless ``resend``); temporary failures are
    retried after ``email.retry_delay`` seconds, doubling, up to ``email.max_attempts`` (waiting
    here when ``wait``, else left for the next call); permanent ones are recorded as failed.
    ``transport``: the channel (default SMTP with the [email] settings). ``dry_run`` uses the
    file transport: one .eml per recipient under ``outbox/``, nothing recorded; with no
    recipients at all it writes one example message (to EXAMPLE_RECIPIENT).
    """
    clock = clock or (lambda: dt.datetime.now(dt.UTC))
    if dry_run and transport is None:
        transport = FileTransport(Publisher(config.output), edition_id)
    copies = transport is not None and not transport.records
    wanted, refused = _recipients(config.email, recipients, edition_id, example=copies)
    if not wanted:
        return DeliveryReport(edition_id, failed=tuple(refused))
    addressed = _addresser(config, edition_id, wanted, clock)
    if transport is not None and not transport.records:
        # copies to look at (the dry run's files): no lock, nothing recorded, no retries
        written = _copies(transport, wanted, addressed)
        return DeliveryReport(edition_id, written=written, failed=tuple(refused))
    if not config.email.enabled:
        raise DeliveryError(
            "email is not configured: set host, sender and recipients in [email] "
            "(or use --dry-run to write the messages)"
        )
    brief = config.brief_id
    if store.edition_built_at(edition_id, brief) is None:
        raise DeliveryError(f"edition {edition_id} is not in the database; build it first")
    channel = transport or transport_for(config.email)
    run = _Run(store, config.email, channel, addressed, clock, stop, brief)
    with named_lock(config, "mail").hold(lock_timeout, stop, doing=f"briefs: sending {edition_id}"):
        for d in store.mark_interrupted_deliveries():
            log.warning(
                "%s to %s: interrupted while sending; not resent", d.edition_id, d.recipient
            )
        store.plan_deliveries(edition_id, list(wanted), clock(), resend=resend, brief=brief)
        run.until_done(edition_id, set(wanted), wait)
    return _report(store, edition_id, set(wanted), refused, run.sent, brief)


def _copies(
    transport: Transport, wanted: dict[str, str], addressed: Callable[[str], EmailMessage]
) -> tuple[str, ...]:
    """Every recipient's copy through a transport that records nothing; the files written."""
    transport.connect()
    try:
        for key in wanted:
            transport.send(addressed(key), key)
    finally:
        transport.close()
    return transport.written if isinstance(transport, FileTransport) else ()


def _recipients(
    settings: EmailSettings, given: Sequence[str] | None, edition_id: str, *, example: bool
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Recipient key (bare address) -> how To: shows it, and the addresses refused.

    A bare address (e.g. from the delivery records) gets its display name back from
    email.recipients. An address that is not one (a typo, or CR/LF smuggling a header) fails
    on its own: the others still get the edition.
    """
    configured = {recipient_key(raw): raw for raw in settings.recipients}
    wanted: dict[str, str] = {}
    refused: list[tuple[str, str]] = []
    for raw in given if given else settings.recipients:
        try:
            key = recipient_key(raw)
        except DeliveryError as exc:
            log.warning("%s: %s", edition_id, exc)
            refused.append((header_text(raw, 100), str(exc)))
            continue
        wanted.setdefault(key, configured.get(key, raw) if raw == key else raw)
    if not wanted and not refused:
        if not example:
            raise DeliveryError(
                "no recipients: set email.recipients in the config or pass --to ADDR"
            )
        # a dry run on a config without recipients (the demo) still shows what would be sent
        wanted[EXAMPLE_RECIPIENT] = f"Example Reader <{EXAMPLE_RECIPIENT}>"
    return wanted, refused


def _addresser(
    config: Config, edition_id: str, wanted: dict[str, str], clock: Clock
) -> Callable[[str], EmailMessage]:
    """The edition's message addressed to one recipient (by key), with its own Message-ID."""
    template = load_message(Publisher(config.output).path(f"{edition_id}.eml"))
    settings = config.email
    domain = site_host(config.brief.site_url)
    sender = settings.sender or str(template["From"] or "briefs@localhost")

    def addressed(key: str) -> EmailMessage:
        return address_message(
            template,
            sender=sender,
            recipient=wanted.get(key, key),
            domain=domain,
            edition_id=edition_id,
            now=clock(),
            list_unsubscribe=settings.list_unsubscribe,
        )

    return addressed


def _report(
    store: Store,
    edition_id: str,
    wanted: set[str],
    refused: list[tuple[str, str]],
    sent_now: list[str],
    brief: str,
) -> DeliveryReport:
    rows = [d for d in store.deliveries(edition_id, brief=brief) if d.recipient in wanted]
    return DeliveryReport(
        edition_id,
        sent=tuple(d.recipient for d in rows if d.recipient in sent_now),
        already_sent=tuple(
            d.recipient for d in rows if d.status == "sent" and d.recipient not in sent_now
        ),
        failed=(
            *refused,
            *((d.recipient, d.error or "") for d in rows if d.status == "failed"),
        ),
        pending=tuple((d.recipient, d.error or "") for d in rows if d.status == "pending"),
        uncertain=tuple(d.recipient for d in rows if d.status == "uncertain"),
    )


@dataclass
class _Run:
    """One delivery run of one edition over one transport."""

    store: Store
    settings: EmailSettings
    transport: Transport
    addressed: Callable[[str], EmailMessage]
    clock: Clock
    stop: threading.Event | None
    brief: str
    sent: list[str] = field(default_factory=list)
    connected: bool = False

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def until_done(self, edition_id: str, wanted: set[str], wait: bool) -> None:
        """Send what is due until nothing is pending (or, without ``wait``, once)."""
        store = self.store
        while not self.stopping():
            now = self.clock()
            pending = [
                d
                for d in store.deliveries(edition_id, "pending", brief=self.brief)
                if d.recipient in wanted
            ]
            due = [d for d in pending if d.next_attempt is None or d.next_attempt <= now]
            if due:
                self.send_due(due)
            waiting = [
                d
                for d in store.deliveries(edition_id, "pending", brief=self.brief)
                if d.recipient in wanted
            ]
            if not waiting or not wait:
                break
            earliest = min(d.next_attempt or now for d in waiting)
            self.pause((earliest - self.clock()).total_seconds())

    def pending(self, edition_id: str, wanted: set[str]) -> list[Delivery]:
        """The edition's pending deliveries to these recipients."""
        rows = self.store.deliveries(edition_id, "pending", brief=self.brief)
        return [d for d in rows if d.recipient in wanted]

    def pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.stop is not None:
            self.stop.wait(seconds)
        else:
            time.sleep(seconds)

    def disconnect(self) -> None:
        if self.connected:
            self.transport.close()
            self.connected = False

    def send_due(self, due: list[Delivery]) -> None:
        """One pass over the due deliveries, on as few sessions as the transport allows (the
        session is closed after the pass: the next may come after a long wait)."""
        try:
            self._send_each(due)
        finally:
            self.disconnect()

    def _send_each(self, due: list[Delivery]) -> None:
        for i, d in enumerate(due):
            if self.stopping():
                break
            msg = self.addressed(d.recipient)
            if not self.connected:
                try:
                    self.transport.connect()
                except TransientDeliveryError as exc:
                    # The server cannot be reached: a failed attempt for everyone still due.
                    for rest in due[i:]:
                        attempt = self.store.claim_delivery(
                            rest.edition_id, rest.recipient, self.clock(), brief=self.brief
                        )
                        if attempt is not None:
                            self.retry_later(rest, attempt, str(exc))
                    return
                self.connected = True
            self.send_one(d, msg)

    def send_one(self, d: Delivery, msg: EmailMessage) -> None:
        store = self.store
        attempt = store.claim_delivery(d.edition_id, d.recipient, self.clock(), brief=self.brief)
        if attempt is None:
            return
        # From here until finish_delivery the row says "sending": a crash now leaves it
        # "uncertain" (not resent), because the server may already have accepted it.
        try:
            self.transport.send(msg, d.recipient)
        except PermanentDeliveryError as exc:
            store.finish_delivery(
                d.edition_id, d.recipient, "failed", error=str(exc), brief=self.brief
            )
            log.warning("%s to %s: refused: %s", d.edition_id, d.recipient, exc)
            return
        except TransientDeliveryError as exc:
            self.retry_later(d, attempt, str(exc))
            if exc.connection_lost:
                self.disconnect()
            return
        except DeliveryError as exc:
            # A failure for every recipient (e.g. the sender is refused): stop the run.
            store.finish_delivery(
                d.edition_id, d.recipient, "pending", error=str(exc), brief=self.brief
            )
            raise
        store.finish_delivery(
            d.edition_id,
            d.recipient,
            "sent",
            sent_at=self.clock(),
            message_id=str(msg["Message-ID"]),
            brief=self.brief,
        )
        self.sent.append(d.recipient)
        log.debug("%s to %s: sent", d.edition_id, d.recipient)

    def retry_later(self, d: Delivery, attempt: int, error: str) -> None:
        settings, now = self.settings, self.clock()
        if attempt >= settings.max_attempts:
            error = f"gave up after {attempt} attempts: {error}"
            self.store.finish_delivery(
                d.edition_id, d.recipient, "failed", error=error, brief=self.brief
            )
            log.warning("%s to %s: %s", d.edition_id, d.recipient, error)
            return
        delay = dt.timedelta(seconds=settings.retry_delay * 2 ** (attempt - 1))
        self.store.finish_delivery(
            d.edition_id,
            d.recipient,
            "pending",
            error=error,
            brief=self.brief,
            next_attempt=now + delay,
        )
        log.info(
            "%s to %s: attempt %d failed, retrying in %s: %s",
            d.edition_id,
            d.recipient,
            attempt,
            delay,
            error,
        )


# -- the daemon's side -----------------------------------------------------------------------


def plan_delivery(config: Config, store: Store, edition_id: str, now: dt.datetime) -> None:
    """Plan a scheduled edition's delivery to every configured recipient (sent by
    :func:`deliver_due`)."""
    recipients = [recipient_key(r) for r in config.email.recipients]
    store.plan_deliveries(edition_id, recipients, now, brief=config.brief_id)


@dataclass
class MailPause:
    """How long the daemon leaves deliveries alone after a failure for every recipient (login
    refused, certificate not trusted, no .eml): longer each time, up to MAX_MAIL_PAUSE."""

    failures: int = 0
    until: dt.datetime = _NEVER

    def failed(self, now: dt.datetime, base_seconds: float) -> dt.timedelta:
        """Count a failure at ``now``; the pause it starts."""
        self.failures += 1
        seconds = min(base_seconds * 2 ** (self.failures - 1), MAX_MAIL_PAUSE)
        pause = dt.timedelta(seconds=seconds)
        self.until = now + pause
        return pause


def deliver_due(
    config: Config,
    store: Store,
    pause: MailPause,
    *,
    clock: Clock,
    stop: threading.Event,
    transport: Transport | None = None,
) -> list[DeliveryReport]:
    """Send every planned delivery whose (next) attempt is due, edition by edition (each as
    its brief's: its message, its readers)."""
    now = clock()
    if not config.email.enabled or now < pause.until:
        return []
    by_edition: dict[tuple[str, str], list[str]] = {}
    known = {b.id for b in config.desk}
    for d in store.due_deliveries(now):
        if d.brief in known:  # a brief no longer configured has nobody to send to
            by_edition.setdefault((d.brief, d.edition_id), []).append(d.recipient)
    reports = []
    for (brief, edition_id), recipients in by_edition.items():
        if stop.is_set():
            break
        start = time.perf_counter()
        try:
            report = deliver_edition(
                config.for_brief(brief),
                store,
                edition_id,
                recipients=recipients,
                wait=False,
                clock=clock,
                stop=stop,
                transport=transport,
                lock_timeout=0,
            )
        except LockError:
            log.info("deliver %s: another process is sending; trying later", edition_id)
            break
        except DeliveryError as exc:
            base = max(config.email.retry_delay, config.schedule.poll_tick)
            wait = pause.failed(now, base)
            log.error("deliver %s: %s; trying again in %s", edition_id, exc, wait)
            break
        pause.failures = 0
        log.info(
            "deliver %s: %d sent, %d already had it, %d failed, %d to retry, %.2f s",
            edition_id,
            len(report.sent),
            len(report.already_sent),
            len(report.failed),
            len(report.pending),
            time.perf_counter() - start,
        )
        reports.append(report)
    return reports
