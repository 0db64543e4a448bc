"""The email edition: a standard ``EmailMessage`` (multipart/alternative) built from a Brief.

The HTML part has its CSS inlined (css-inline) for mail clients that drop ``<style>``; the plain
text part is rendered from the same model, not stripped from the HTML. The message stays under
Gmail's clipping size by dropping whole stories from the end, never the footer.
"""

from __future__ import annotations

import dataclasses
import email.policy
import email.utils
import logging
import re
import unicodedata
from collections.abc import Sequence
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

    When the whole edition is too big, the top stories are kept in full (as many as fit, in
    rank order) and the rest are listed by headline, linking to the web edition; if even the
    headlines do not fit, the last stories are dropped and the message says how many. The
    masthead and the footer are never cut.
    """
    unsubscribe = list_unsubscribe or ""
    stories = brief.stories

    def build(keep: int, listed: bool) -> tuple[EmailMessage, int]:
        full, more = stories[:keep], stories[keep:] if listed else ()
        html = renderer.email_html(brief, full, more=more, unsubscribe=unsubscribe)
        text = renderer.email_text(brief, full, more=more, unsubscribe=unsubscribe)
        msg = _message(brief, _inline(html), text, sender, recipients, domain, list_unsubscribe)
        return msg, len(msg.as_bytes(policy=email.policy.SMTP))

    msg, size = build(len(stories), True)
    if size <= max_bytes:
        return msg
    listed = build(0, True)[1] <= max_bytes
    # Size grows with every story kept in full: binary-search the longest prefix that fits.
    lo, hi = 0, len(stories) - 1
    fitting: EmailMessage | None = None
    kept = 0
    while lo <= hi:
        mid = (lo + hi) // 2
        msg, size = build(mid, listed)
        if size <= max_bytes:
            fitting, kept, lo = msg, mid, mid + 1
        else:
            hi = mid - 1
    if fitting is None:
        raise DeliveryError(
            f"email edition is {size} bytes even without stories (limit {max_bytes})"
        )
    log.info(
        "email edition: %s of %s stories in full%s, to stay under %s bytes",
        kept,
        len(stories),
        ", the rest by headline" if listed else "",
        max_bytes,
    )
    return fitting


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
