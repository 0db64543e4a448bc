"""Text made safe for where it goes: feed text as one clean line, URLs that are absolute http(s)
only, Markdown with nothing that a feed could turn into a link, HTML or a block, plain text
wrapped for email. The templates use these as filters (see :class:`briefs.render.Renderer`).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from briefs.text import clean_line, strip_controls

__all__ = ["finalize", "last_word", "md_escape", "md_url", "safe_url", "text", "wrap"]

# Never valid unencoded in a URL (RFC 3986) and the usual tools of attribute injection.
_NOT_IN_URLS = frozenset('"<>\\`')
_MD_ALWAYS = re.compile(r"([\\`*\[\]<>~])")
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_MD_LINK_PAREN = re.compile(r"(?<=\\\])\(")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_HASH_RUN = re.compile(r"(?:(?<=\s)|^)(#+)(?=\s|$)")
_MD_BLOCK_START = re.compile(r"^(\d{1,9})([.)])|^([-+=>#])")


def safe_url(value: str | None) -> str:
    """The URL if it is an absolute http(s) URL, else an empty string (never javascript:, data:)."""
    if not value:
        return ""
    value = value.strip()
    if any(ord(c) < 33 or ord(c) == 127 or c in _NOT_IN_URLS for c in value):
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return value


def text(value: Any) -> str:
    """Feed text as one clean line: control and bidi characters dropped, whitespace collapsed."""
    return clean_line(value)


def finalize(value: Any) -> Any:
    """Every ``{{ ... }}`` a template prints, user templates included: no control or bidi
    characters reach a page, a Markdown file or an email, whatever filter was (not) used."""
    if isinstance(value, Markup):
        return Markup(strip_controls(str(value)))
    if isinstance(value, str):
        return strip_controls(value)
    return value


def md_escape(value: Any) -> str:
    """Escape text for CommonMark so that feed text cannot become links, HTML, emphasis or blocks.

    Escapes only what CommonMark (and GitHub's extensions) would interpret, so the Markdown stays
    readable in a terminal: ``AT&T`` and ``snake_case`` are left alone, ``&amp;`` and ``_x_`` not.
    """
    out = _MD_ALWAYS.sub(r"\\\1", text(value))
    out = _MD_UNDERSCORE.sub(r"\\_", out)
    out = _MD_ENTITY.sub(r"\\&", out)
    out = _MD_LINK_PAREN.sub(r"\\(", out)
    out = _MD_HASH_RUN.sub(lambda m: "\\#" * len(m.group(1)), out)
    return _MD_BLOCK_START.sub(
        lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", out, count=1
    )


def md_url(value: str | None) -> str:
    """A URL safe inside a Markdown ``<...>`` link destination (http(s) only)."""
    url = safe_url(value)
    for char, code in (("\\", "%5C"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        url = url.replace(char, code)
    return url


def wrap(value: Any, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Plain text wrapped for email; URLs are never broken."""
    return textwrap.fill(
        text(value),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def last_word(value: str) -> tuple[str, str]:
    """Split off the last word, to keep it on one line with the citation after it."""
    head, _, tail = value.rpartition(" ")
    return (head + " ", tail) if head else ("", tail)
