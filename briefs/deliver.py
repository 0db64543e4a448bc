"""Delivery of the email edition (issue 7): the SMTP state machine.

The email edition is the .eml a build wrote; delivering it addresses one copy per recipient and
records each outcome, so a crash between recipients resumes and nobody gets an edition twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage

from briefs.address import header_text, recipient_key
from briefs.config import Config, EmailSettings
from briefs.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from briefs.lock import named_lock
from briefs.mail import SmtpMailer, address_message, load_message, smtp_password
from briefs.models import Delivery, DeliveryReport
from briefs.outputs import site_host
from briefs.publish import Publisher
from briefs.store import Store

__all__ = ["EXAMPLE_RECIPIENT", "deliver_edition"]

log = logging.getLogger(__name__)

# The address a dry run writes its one example message to when no recipient is configured
# (.invalid never resolves: nothing can be sent to it by mistake).
EXAMPLE_RECIPIENT = "reader@example.invalid"

# The email edition is the .eml a build wrote; delivering it addresses one copy per recipient and
# records each outcome, so a crash between recipients resumes and nobody gets an edition twice.


def deliver_edition(
    config: Config,
    store: Store,
    edition_id: str,
    *,
    recipients: Sequence[str] | None = None,
    resend: bool = False,
    dry_run: bool = False,
    wait: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
    stop: threading.Event | None = None,
    mailer_factory: Callable[[], SmtpMailer] | None = None,
    lock_timeout: float = 60.0,
) -> DeliveryReport:
    """Email an edition to ``recipients`` (default: email.recipients) and record each outcome.

    Recipients who already have it are skipped (unless ``resend``); temporary failures are
    retried after ``email.retry_delay`` seconds, doubling, up to ``email.max_attempts`` (waiting
    here when ``wait``, else left for the next call); permanent ones are recorded as failed.
    ``dry_run`` writes one .eml per recipient under ``outbox/`` instead and records nothing;
    with no recipients at all it writes one example message (to EXAMPLE_RECIPIENT).
    """
    clock = clock or (lambda: dt.datetime.now(dt.UTC))
    settings = config.email
    # recipient key (bare address) -> how To: shows it; a bare address (e.g. from the delivery
    # records) gets its display name back from email.recipients
    configured = {recipient_key(raw): raw for raw in settings.recipients}
    wanted: dict[str, str] = {}
    # An address that is not one (a typo, or CR/LF smuggling a header) fails on its own: the
    # others still get the edition.
    refused: list[tuple[str, str]] = []
    for raw in recipients if recipients else settings.recipients:
        try:
            key = recipient_key(raw)
        except DeliveryError as exc:
            log.warning("%s: %s", edition_id, exc)
            refused.append((header_text(raw, 100), str(exc)))
            continue
        wanted.setdefault(key, configured.get(key, raw) if raw == key else raw)
    if not wanted and not refused:
        if not dry_run:
            raise DeliveryError(
                "no recipients: set email.recipients in the config or pass --to ADDR"
            )
        # a dry run on a config without recipients (the demo) still shows what would be sent
        wanted[EXAMPLE_RECIPIENT] = f"Example Reader <{EXAMPLE_RECIPIENT}>"
    if not wanted:
        return DeliveryReport(edition_id, failed=tuple(refused))
    template = load_message(Publisher(config.output).path(f"{edition_id}.eml"))
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

    if dry_run:
        out = Publisher(config.output)
        for i, key in enumerate(wanted, 1):
            safe = re.sub(r"[^A-Za-z0-9@._-]", "_", key)
            out.write(f"outbox/{edition_id}/{i:03d}-{safe}.eml", addressed(key).as_bytes())
        return DeliveryReport(
            edition_id, written=tuple(str(p) for p in out.written), failed=tuple(refused)
        )

    if not settings.enabled:
        raise DeliveryError(
            "email is not configured: set host, sender and recipients in [email] "
            "(or use --dry-run to write the messages)"
        )
    if store.edition_built_at(edition_id) is None:
        raise DeliveryError(f"edition {edition_id} is not in the database; build it first")
    password = smtp_password(settings)
    factory = mailer_factory or (lambda: SmtpMailer(settings, password))
    sent_now: list[str] = []
    lock = named_lock(config, "mail")
    with lock.hold(lock_timeout, stop, doing=f"briefs: sending {edition_id}"):
        for d in store.mark_interrupted_deliveries():
            log.warning(
                "%s to %s: interrupted while sending; not resent", d.edition_id, d.recipient
            )
        store.plan_deliveries(edition_id, list(wanted), clock(), resend=resend)
        while not (stop is not None and stop.is_set()):
            now = clock()
            due = [
                d
                for d in store.deliveries(edition_id, "pending")
                if d.recipient in wanted and (d.next_attempt is None or d.next_attempt <= now)
            ]
            if due:
                sent_now += _send_due(store, settings, factory, due, addressed, clock, stop)
            waiting = [d for d in store.deliveries(edition_id, "pending") if d.recipient in wanted]
            if not waiting or not wait:
                break
            earliest = min(d.next_attempt or now for d in waiting)
            pause = (earliest - clock()).total_seconds()
            if pause > 0:
                if stop is not None:
                    stop.wait(pause)
                else:
                    time.sleep(pause)
    rows = [d for d in store.deliveries(edition_id) if d.recipient in wanted]
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


def _send_due(
    store: Store,
    settings: EmailSettings,
    factory: Callable[[], SmtpMailer],
    due: list[Delivery],
    addressed: Callable[[str], EmailMessage],
    clock: Callable[[], dt.datetime],
    stop: threading.Event | None,
) -> list[str]:
    """One pass over the due deliveries on (at most a few) SMTP sessions; return who got it."""
    sent: list[str] = []
    mailer: SmtpMailer | None = None
    try:
        for i, d in enumerate(due):
            if stop is not None and stop.is_set():
                break
            msg = addressed(d.recipient)
            if mailer is None:
                mailer = factory()
                try:
                    mailer.connect()
                except TransientDeliveryError as exc:
                    # The server cannot be reached: a failed attempt for everyone still due.
                    for rest in due[i:]:
                        attempt = store.claim_delivery(rest.edition_id, rest.recipient, clock())
                        if attempt is not None:
                            _retry_later(store, settings, rest, attempt, str(exc), clock())
                    mailer = None
                    break
            attempt = store.claim_delivery(d.edition_id, d.recipient, clock())
            if attempt is None:
                continue
            # From here until finish_delivery the row says "sending": a crash now leaves it
            # "uncertain" (not resent), because the server may already have accepted it.
            try:
                mailer.send(msg, d.recipient)
            except PermanentDeliveryError as exc:
                store.finish_delivery(d.edition_id, d.recipient, "failed", error=str(exc))
                log.warning("%s to %s: refused: %s", d.edition_id, d.recipient, exc)
                continue
            except TransientDeliveryError as exc:
                _retry_later(store, settings, d, attempt, str(exc), clock())
                if exc.connection_lost:
                    mailer.close()
                    mailer = None
                continue
            except DeliveryError as exc:
                # A failure for every recipient (e.g. the sender is refused): stop the run.
                store.finish_delivery(d.edition_id, d.recipient, "pending", error=str(exc))
                raise
            store.finish_delivery(
                d.edition_id,
                d.recipient,
                "sent",
                sent_at=clock(),
                message_id=str(msg["Message-ID"]),
            )
            sent.append(d.recipient)
            log.debug("%s to %s: sent", d.edition_id, d.recipient)
    finally:
        if mailer is not None:
            mailer.close()
    return sent


def _retry_later(
    store: Store,
    settings: EmailSettings,
    d: Delivery,
    attempt: int,
    error: str,
    now: dt.datetime,
) -> None:
    if attempt >= settings.max_attempts:
        store.finish_delivery(
            d.edition_id,
            d.recipient,
            "failed",
            error=f"gave up after {attempt} attempts: {error}",
        )
        log.warning(
            "%s to %s: gave up after %d attempts: %s", d.edition_id, d.recipient, attempt, error
        )
        return
    delay = dt.timedelta(seconds=settings.retry_delay * 2 ** (attempt - 1))
    store.finish_delivery(
        d.edition_id, d.recipient, "pending", error=error, next_attempt=now + delay
    )
    log.info(
        "%s to %s: attempt %d failed, retrying in %s: %s",
        d.edition_id,
        d.recipient,
        attempt,
        delay,
        error,
    )
