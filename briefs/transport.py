"""Delivery channels behind one protocol (:class:`Transport`): SMTP, and files for a dry run.

A transport holds one session: :meth:`Transport.connect`, then :meth:`Transport.send` one
message to one recipient at a time, then :meth:`Transport.close`. :mod:`briefs.deliver` drives
them (who is due, what is recorded, retries); a new channel (Apprise, a webhook) is a class
here with the same three methods and a way to choose it.

SMTP (:class:`SmtpTransport`) goes over STARTTLS or implicit TLS with authentication. Replies
are classified: 4xx and lost connections are :class:`TransientDeliveryError` (retry later), 5xx
is :class:`PermanentDeliveryError` (record and report), anything that would fail for every
recipient (login refused, certificate not trusted) is a plain :class:`DeliveryError` that stops
the run. Like rss2email's errors, each carries its subject: the recipient it concerns, or the
server (``host:port``) when it concerns every recipient.

:class:`FileTransport` writes each copy under ``outbox/<edition>/`` instead (``briefs send
--dry-run``): nothing is sent and nothing recorded (``records`` is False).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from briefs.address import header_text, recipient_key
from briefs.config import EmailSettings
from briefs.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from briefs.publish import Publisher

__all__ = ["FileTransport", "SmtpTransport", "Transport", "smtp_password", "transport_for"]


class Transport(Protocol):
    """A delivery channel: one session, one message per recipient.

    ``records``: whether what it sends is a delivery (recorded, never sent twice, retried);
    False for copies to look at (the dry run's files).
    """

    records: bool

    def connect(self) -> None:
        """Open the session (TransientDeliveryError when the channel cannot be reached now)."""

    def send(self, msg: EmailMessage, recipient: str) -> None:
        """Hand ``msg`` over for one recipient (a DeliveryError subclass when it fails)."""

    def close(self) -> None:
        """End the session (never raises)."""


class FileTransport:
    """Writes each copy to ``outbox/<edition>/NNN-<address>.eml`` in the output folder."""

    records = False

    def __init__(self, publisher: Publisher, edition_id: str) -> None:
        self.publisher = publisher
        self.folder = f"outbox/{edition_id}"
        self._count = 0

    @property
    def written(self) -> tuple[str, ...]:
        """The files written so far."""
        return tuple(str(p) for p in self.publisher.written)

    def connect(self) -> None:
        """Nothing to open."""

    def send(self, msg: EmailMessage, recipient: str) -> None:
        """Write the copy, numbered in the order of the recipients."""
        self._count += 1
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", recipient)
        self.publisher.write(f"{self.folder}/{self._count:03d}-{safe}.eml", msg.as_bytes())

    def close(self) -> None:
        """Nothing to close."""


def transport_for(settings: EmailSettings) -> Transport:
    """The channel the [email] settings describe (SMTP; the password from the environment)."""
    return SmtpTransport(settings, smtp_password(settings))


def smtp_password(settings: EmailSettings) -> str | None:
    """The SMTP password, from the environment variable named by ``email.password_env``."""
    if not settings.username:
        return None
    value = os.environ.get(settings.password_env, "")
    if not value:
        raise DeliveryError(
            f"email.username is set but ${settings.password_env} is empty: "
            "put the SMTP password in that environment variable (never in the file)"
        )
    return value


_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class SmtpTransport:
    """One SMTP session: connect, secure, log in, then :meth:`send` messages one by one.

    Use as a context manager. ``password`` comes from :func:`smtp_password`.
    """

    records = True

    def __init__(self, settings: EmailSettings, password: str | None) -> None:
        if settings.security == "none" and settings.username and settings.host not in _LOOPBACK:
            raise DeliveryError(
                'email.security = "none" would send the SMTP password unencrypted; '
                'use "starttls" or "tls"'
            )
        self.settings = settings
        self.password = password
        self.envelope_sender = recipient_key(settings.sender) if settings.sender else ""
        self._smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"{self.settings.host}:{self.settings.smtp_port}"

    def __enter__(self) -> SmtpTransport:
        self.connect()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def connect(self) -> None:
        """Open the session (raises TransientDeliveryError if the server cannot be reached)."""
        s = self.settings
        context = ssl.create_default_context(cafile=s.cafile or None)
        smtp: smtplib.SMTP | None = None
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.smtp_port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.smtp_port, timeout=s.timeout)
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"{self.where} does not offer STARTTLS; "
                        'set email.security = "tls" (port 465) if it expects implicit TLS',
                        server=self.where,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, self.password or "")
        except DeliveryError:
            _quietly_close(smtp)
            raise
        except (smtplib.SMTPException, OSError) as exc:
            _quietly_close(smtp)
            raise self._refused(exc) from exc
        self._smtp = smtp

    def _refused(self, exc: smtplib.SMTPException | OSError) -> DeliveryError:
        """What a failure to open the session means: for good (the login, the certificate,
        a 5xx) or to try again (a 4xx, the server not reached)."""
        where = self.where
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            login = self.settings.username
            return DeliveryError(
                f"{where} refused the login of {login!r}: {_reply(exc)}", server=where
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return DeliveryError(
                f"{where}: TLS certificate not trusted ({exc.verify_message}); "
                "set email.cafile if the server uses a private CA",
                server=where,
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return DeliveryError(
                f"{where}: {exc}; check email.security and email.username", server=where
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            if 400 <= exc.smtp_code < 500:
                return TransientDeliveryError(
                    f"{where}: {_reply(exc)}", connection_lost=True, server=where
                )
            return DeliveryError(f"{where}: {_reply(exc)}", server=where)
        return TransientDeliveryError(
            f"cannot reach {where}: {exc.__class__.__name__}: {exc}",
            connection_lost=True,
            server=where,
        )

    def send(self, msg: EmailMessage, recipient: str) -> None:
        """Hand ``msg`` to the server for one recipient (raises a DeliveryError subclass)."""
        if self._smtp is None:
            self.connect()
        smtp = self._smtp
        if smtp is None:  # connect() either sets it or raises
            raise DeliveryError(f"no SMTP session with {self.where}", server=self.where)
        try:
            smtp.send_message(msg, from_addr=self.envelope_sender or None, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            message = f"{recipient} refused: {code} {_text(text)}"
            raise _by_code(code, message, recipient) from exc
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientDeliveryError(
                    f"sender refused: {_reply(exc)}", recipient=recipient, server=self.where
                ) from exc
            raise DeliveryError(
                f"{self.where} refused the sender {exc.sender!r}: {_reply(exc)}",
                server=self.where,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing the session
                self.close()
                raise TransientDeliveryError(
                    f"{self.where}: {_reply(exc)}", connection_lost=True, server=self.where
                ) from exc
            raise _by_code(exc.smtp_code, f"{recipient}: {_reply(exc)}", recipient) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TransientDeliveryError(
                f"connection to {self.where} lost: {exc.__class__.__name__}: {exc}",
                connection_lost=True,
                recipient=recipient,
                server=self.where,
            ) from exc

    def close(self) -> None:
        """End the session politely (errors while quitting are ignored)."""
        smtp, self._smtp = self._smtp, None
        _quietly_close(smtp)


def _quietly_close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return header_text(text, 300)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _by_code(code: int, message: str, recipient: str) -> DeliveryError:
    if 400 <= code < 500:
        return TransientDeliveryError(message, recipient=recipient)
    return PermanentDeliveryError(message, recipient=recipient)
