"""The email edition: a standard ``EmailMessage`` (multipart/alternative) built from a Brief.

The HTML part has its CSS inlined (css-inline) for mail clients that drop ``<style>``; the plain
text part is rendered from the same model, not stripped from the HTML. The message stays under
Gmail's clipping size by showing fewer stories in full (the rest listed by headline, or left out
and counted), never by cutting the footer.

For delivery, the message a build wrote is read back (:func:`load_message`) and addressed to one
recipient at a time (:func:`address_message`); the channels that carry it are
:mod:`briefs.transport`, the state machine that drives them :mod:`briefs.deliver`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import email
import email.policy
import email.utils
import logging
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from pathlib import Path

import css_inline

from briefs.address import check_address, header_text
from briefs.errors import DeliveryError
from briefs.models import Brief
from briefs.render import Renderer

__all__ = [
    "MAX_EMAIL_BYTES",
    "address_message",
    "build_message",
    "load_message",
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
        html, text = renderer.email(brief, shown, more=more, unsubscribe=unsubscribe)
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


# -- delivery -------------------------------------------------------------------------------


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
