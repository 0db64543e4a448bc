"""The email edition: a standard ``EmailMessage`` (multipart/alternative) built from a Brief.

The HTML part has its CSS inlined (css-inline) for mail clients that drop ``<style>``; the plain
text part is rendered from the same model, not stripped from the HTML. The message stays under
Gmail's clipping size by showing fewer stories in full (the rest listed by headline, or left out
and counted), never by cutting the footer.
"""

from __future__ import annotations

import dataclasses
import email.policy
import email.utils
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from email.headerregistry import Address
from email.message import EmailMessage

import css_inline

from briefs.errors import DeliveryError
from briefs.models import Brief
from briefs.render import Renderer

__all__ = ["MAX_EMAIL_BYTES", "build_message", "check_address", "header_text"]

log = logging.getLogger(__name__)

# Gmail clips messages whose HTML is larger than about 102 KB; stay clear of it.
MAX_EMAIL_BYTES = 100_000


def header_text(value: str, limit: int = 200) -> str:
    """Text safe for a header value: one line, no control characters, bounded length.

    Line and paragraph separators and control characters become spaces. An RFC 2047
    encoded-word lookalike ("=?utf-8?q?...?=") in feed text would be *decoded* by the email
    package when assigned to a header, smuggling CR/LF back in; a word joiner between "=" and
    "?" keeps it literal text.
    """
    cleaned = "".join(" " if unicodedata.category(c) in _BREAKING else c for c in value)
    cleaned = " ".join(cleaned.split()).replace("=?", "=\u2060?")
    return cleaned[:limit]


# Control characters, line/paragraph separators and format characters: never in a header.
_BREAKING = frozenset({"Cc", "Zl", "Zp", "Cs"})
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_DOMAIN = re.compile(r"^(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?$")


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


def check_address(value: str) -> str:
    """Validate one address ("Name <a@b.example>" or "a@b.example"); return it as a header string.

    Refuses anything that could smuggle a second address or header: control characters, line
    separators, several addresses, a local part or domain outside the plain syntax. Raises
    DeliveryError naming the address.
    """
    if not value or any(unicodedata.category(c) in _BREAKING for c in value):
        raise DeliveryError(f"not an email address: {value!r}")
    found = email.utils.getaddresses([value])
    if len(found) != 1:
        raise DeliveryError(f"not an email address: {value!r}")
    name, addr = found[0]
    local, at, host = addr.rpartition("@")
    if not at or not _LOCAL.match(local) or not _DOMAIN.match(host):
        raise DeliveryError(f"not an email address: {value!r}")
    try:
        return str(Address(display_name=header_text(name), username=local, domain=host))
    except (ValueError, IndexError) as exc:
        raise DeliveryError(f"not an email address: {value!r}") from exc


def trimmed(brief: Brief, keep: int) -> Brief:
    """The brief with only its first ``keep`` stories (for previews)."""
    return dataclasses.replace(brief, stories=brief.stories[:keep])
