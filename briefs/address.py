"""Email addresses and header text, checked before anything is built or sent.

A leaf module (it needs only :mod:`briefs.errors` and :mod:`briefs.text`): the config checks
``email.sender`` and ``email.recipients`` with it at load time without importing the email
edition (which imports rendering, which imports ranking, which imports the config).
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from email.headerregistry import Address

from briefs.errors import DeliveryError
from briefs.text import strip_controls

__all__ = ["check_address", "header_text", "recipient_key"]


def header_text(value: str, limit: int = 200) -> str:
    """Text safe for a header value: one line, no control characters, bounded length.

    Line and paragraph separators and control characters become spaces. An RFC 2047
    encoded-word lookalike ("=?utf-8?q?...?=") in feed text would be *decoded* by the email
    package when assigned to a header, smuggling CR/LF back in; a word joiner between "=" and
    "?" keeps it literal text.
    """
    value = strip_controls(value)  # C1 controls and bidi overrides too
    cleaned = "".join(" " if unicodedata.category(c) in _BREAKING else c for c in value)
    cleaned = " ".join(cleaned.split()).replace("=?", "=\u2060?")
    return cleaned[:limit]


# Control characters, line/paragraph separators and format characters: never in a header.
_BREAKING = frozenset({"Cc", "Zl", "Zp", "Cs"})
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_DOMAIN = re.compile(r"^(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?$")


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


def recipient_key(value: str) -> str:
    """The bare address (``local@domain``, domain lower-cased) of a valid one; else DeliveryError.

    Validated by :func:`check_address` (one address, no control characters). The bare form is
    the recipient's key in delivery records, so "Ann <ann@X.example>" and "ann@x.example" are one.
    """
    check_address(value)
    addr = email.utils.getaddresses([value])[0][1]
    local, _, host = addr.rpartition("@")
    return f"{local}@{host.lower()}"
