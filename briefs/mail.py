"""The email edition: a standard ``EmailMessage`` (multipart/alternative) built from a Brief.

The HTML part has its CSS inlined (css-inline) for mail clients that drop ``<style>``; the plain
text part is rendered from the same model, not stripped from the HTML. The message stays under
Gmail's clipping size by showing fewer stories in full (the rest listed by headline, or left out
and counted), never by cutting the footer.

Sending (below :func:`build_message`): the edition's message is addressed to one recipient at a
time (:func:`address_message`) and handed to an SMTP server over STARTTLS or implicit TLS with
authentication (:class:`SmtpMailer`). Replies are classified: 4xx and lost connections are
:class:`TransientDeliveryError` (retry later), 5xx is :class:`PermanentDeliveryError` (record and
report), anything that would fail for every recipient (login refused, certificate not trusted) is
a plain :class:`DeliveryError` that stops the run.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import email
import email.policy
import email.utils
import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

import css_inline

from briefs.address import check_address, header_text, recipient_key
from briefs.config import EmailSettings
from briefs.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from briefs.models import Brief
from briefs.render import Renderer

__all__ = [
    "MAX_EMAIL_BYTES",
    "SmtpMailer",
    "address_message",
    "build_message",
    "load_message",
    "smtp_password",
]

log = logging.getLogger(__name__)

# Gmail clips messages whose HTML is larger than about 102 KB; stay clear of it.
MAX_EMAIL_BYTES = 100_000


def _inline(html: str) -> str:
    return css_inline.inline(
        html, load_remote_stylesheets=False, keep_at_rules=True, minify_css=True
    )


def build_message(
    brief: Brief,
    renderer: Renderer,
    *,
    sender: str = "briefs@localhost",
    recipients: Sequence[str] = (),
    domain: str = "localhost",
    list_unsubscribe: str | None = None,
    max_bytes: int = MAX_EMAIL_BYTES,
) -> EmailMessage:
    """The email edition of ``brief``: multipart/alternative, under ``max_bytes`` in total.

    When the whole edition is too big, the top stories are kept in full (in rank order) and the
    others are listed by headline, linking to the web edition: all of them when that costs at
    most a quarter of the stories that could be kept in full otherwise, else as many as still
    fit. The message says how many stories it left out; the masthead and footer are never cut.
    """
    unsubscribe = list_unsubscribe or ""
    stories = brief.stories
    n = len(stories)

    def build(full: int, listed: int) -> tuple[EmailMessage, int]:
        shown, more = stories[:full], stories[full : full + listed]
        html = renderer.email_html(brief, shown, more=more, unsubscribe=unsubscribe)
        text = renderer.email_text(brief, shown, more=more, unsubscribe=unsubscribe)
        msg = _message(brief, _inline(html), text, sender, recipients, domain, list_unsubscribe)
        return msg, len(msg.as_bytes(policy=email.policy.SMTP))

    def largest(fits: Callable[[int], EmailMessage | None], hi: int) -> tuple[int, EmailMessage]:
        """The largest x in [0, hi] whose message fits (sizes grow with x), and that message."""
        found = fits(0)
        if found is None:
            raise DeliveryError(f"email edition is over {max_bytes} bytes even without stories")
        lo, best = 1, 0
        while lo <= hi:
            mid = (lo + hi) // 2
            msg = fits(mid)
            if msg is None:
                hi = mid - 1
            else:
                found, best, lo = msg, mid, mid + 1
        return best, found

    def fitting(full: int, listed: int) -> EmailMessage | None:
        msg, size = build(full, listed)
        return msg if size <= max_bytes else None

    whole = fitting(n, 0)
    if whole is not None:
        return whole
    alone, msg = largest(lambda k: fitting(k, 0), n - 1)
    listed_all = fitting(0, n)
    if listed_all is not None:
        with_list, msg_list = largest(lambda k: fitting(k, n - k), n - 1)
        if with_list * 4 >= alone * 3:
            log.info("email edition: %s of %s stories in full, the rest by headline", with_list, n)
            return msg_list
    more, msg = largest(lambda m: fitting(alone, m), n - alone)
    log.info("email edition: %s of %s stories in full, %s by headline", alone, n, more)
    return msg


def _message(
    brief: Brief,
    html: str,
    text: str,
    sender: str,
    recipients: Sequence[str],
    domain: str,
    list_unsubscribe: str | None,
) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    when = brief.edition.date.strftime("%A %d %B %Y").replace(" 0", " ")
    slot = f" ({brief.edition.slot})" if brief.edition.slot else ""
    msg["Subject"] = header_text(f"{brief.title}: {when}{slot}")
    msg["From"] = check_address(sender)
    if recipients:
        msg["To"] = ", ".join(check_address(r) for r in recipients)
    msg["Date"] = email.utils.format_datetime(brief.generated_at)
    msg["Message-ID"] = email.utils.make_msgid(f"briefs.{brief.edition.id}", domain=domain)
    if list_unsubscribe:
        msg["List-Unsubscribe"] = f"<{header_text(list_unsubscribe)}>"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def trimmed(brief: Brief, keep: int) -> Brief:
    """The brief with only its first ``keep`` stories (for previews)."""
    return dataclasses.replace(brief, stories=brief.stories[:keep])


# -- sending ----------------------------------------------------------------------------------


def load_message(path: Path) -> EmailMessage:
    """The email edition written by a build (``output/<edition>.eml``)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DeliveryError(
            f"{path} does not exist: the email edition is written when email is configured "
            "or asked for (briefs build --email --date ...); see the build's log for why not"
        ) from None
    except OSError as exc:
        raise DeliveryError(f"cannot read {path}: {exc.strerror or exc}") from exc
    msg = email.message_from_bytes(data, _class=EmailMessage, policy=email.policy.SMTP)
    if not isinstance(msg, EmailMessage) or not msg.is_multipart():
        raise DeliveryError(f"{path} is not an email edition written by briefs")
    return msg


def address_message(
    template: EmailMessage,
    *,
    sender: str,
    recipient: str,
    domain: str,
    edition_id: str,
    now: dt.datetime,
    list_unsubscribe: str = "",
) -> EmailMessage:
    """A copy of the edition's message for one recipient, with its own Message-ID.

    Every header value goes through the same validation as :func:`build_message` and the SMTP
    policy refuses CR/LF in header values, so a hostile title or address cannot add a header.
    """
    msg = copy.deepcopy(template)
    for name in ("From", "To", "Cc", "Bcc", "Date", "Message-ID", "List-Unsubscribe"):
        del msg[name]
    msg["From"] = check_address(sender)
    msg["To"] = check_address(recipient)
    msg["Date"] = email.utils.format_datetime(now.astimezone(dt.UTC))
    msg["Message-ID"] = email.utils.make_msgid(f"briefs.{header_text(edition_id)}", domain=domain)
    if list_unsubscribe:
        msg["List-Unsubscribe"] = f"<{header_text(list_unsubscribe)}>"
    return msg


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


class SmtpMailer:
    """One SMTP session: connect, secure, log in, then :meth:`send` messages one by one.

    Use as a context manager. ``password`` comes from :func:`smtp_password`.
    """

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

    def __enter__(self) -> SmtpMailer:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
                        'set email.security = "tls" (port 465) if it expects implicit TLS'
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, self.password or "")
        except DeliveryError:
            _quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(smtp)
            raise DeliveryError(
                f"{self.where} refused the login of {s.username!r}: {_reply(exc)}"
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            _quietly_close(smtp)
            raise DeliveryError(
                f"{self.where}: TLS certificate not trusted ({exc.verify_message}); "
                "set email.cafile if the server uses a private CA"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            _quietly_close(smtp)
            raise DeliveryError(
                f"{self.where}: {exc}; check email.security and email.username"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            _quietly_close(smtp)
            if 400 <= exc.smtp_code < 500:
                raise TransientDeliveryError(
                    f"{self.where}: {_reply(exc)}", connection_lost=True
                ) from exc
            raise DeliveryError(f"{self.where}: {_reply(exc)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            _quietly_close(smtp)
            raise TransientDeliveryError(
                f"cannot reach {self.where}: {exc.__class__.__name__}: {exc}",
                connection_lost=True,
            ) from exc
        self._smtp = smtp

    def send(self, msg: EmailMessage, recipient: str) -> None:
        """Hand ``msg`` to the server for one recipient (raises a DeliveryError subclass)."""
        if self._smtp is None:
            self.connect()
        smtp = self._smtp
        if smtp is None:  # connect() either sets it or raises
            raise DeliveryError(f"no SMTP session with {self.where}")
        try:
            smtp.send_message(msg, from_addr=self.envelope_sender or None, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _by_code(code, f"{recipient} refused: {code} {_text(text)}") from exc
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientDeliveryError(f"sender refused: {_reply(exc)}") from exc
            raise DeliveryError(
                f"{self.where} refused the sender {exc.sender!r}: {_reply(exc)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing the session
                self.close()
                raise TransientDeliveryError(
                    f"{self.where}: {_reply(exc)}", connection_lost=True
                ) from exc
            raise _by_code(exc.smtp_code, f"{recipient}: {_reply(exc)}") from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TransientDeliveryError(
                f"connection to {self.where} lost: {exc.__class__.__name__}: {exc}",
                connection_lost=True,
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


def _by_code(code: int, message: str) -> DeliveryError:
    if 400 <= code < 500:
        return TransientDeliveryError(message)
    return PermanentDeliveryError(message)
