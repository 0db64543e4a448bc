"""HTML to plain text, for titles, summaries and feed-supplied article bodies."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

__all__ = ["clean_text", "html_to_text", "plain_text"]

# C0 controls but tab and newline, DEL and the C1 controls (ESC, CSI and NEL start terminal
# escapes and line breaks): each becomes a space.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates (they reorder the text around them: a link or a
# file name shown backwards), BOMs and noncharacters: removed. The directional marks (LRM,
# RLM, ALM) stay: they change no order outside their own character and right-to-left text
# needs them.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str, *, inline: bool = False) -> str:
    """Text any later stage can handle: valid Unicode (a lone surrogate, which cannot be
    encoded, becomes U+FFFD), no control characters (spaces instead), no bidi controls.

    ``inline`` (titles, names, URLs) turns tabs and line breaks into spaces as well.
    """
    if not value:
        return ""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _INVISIBLE.sub("", _CONTROLS.sub(" ", value))
    if inline:
        value = value.replace("\n", " ").replace("\t", " ")
    return value


_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "tr",
    "table",
    "pre",
    "figure",
    "header",
    "footer",
    "hr",
    "dd",
    "dt",
}
_DROP = {
    "script",
    "style",
    "noscript",
    "iframe",
    "svg",
    "math",
    "template",
    "button",
    "select",
    "textarea",
    "figcaption",
    "nav",
    "aside",
}
_TAGGISH = re.compile(r"<[a-zA-Z/!?]")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# An unclosed comment ends at the next ">" (as SGML and feedparser read it), else at the end.
_OPEN_COMMENT = re.compile(r"<!--[^>]*>?")


def plain_text(value: str) -> str:
    """One line of plain text from a title-like value that may hold entities or tags."""
    value = clean_text(value)
    if _TAGGISH.search(value or ""):
        value = html_to_text(value)
    else:
        value = html.unescape(value or "")
    return " ".join(value.split())


def html_to_text(markup: str) -> str:
    """Readable text from an HTML fragment: paragraphs separated by blank lines, no markup."""
    if not markup or not markup.strip():
        return ""
    markup = clean_text(markup)
    if not _TAGGISH.search(markup):
        return clean_text(html.unescape(markup)).strip()
    if "<!--" in markup:
        markup = _OPEN_COMMENT.sub("", _COMMENT.sub("", markup))
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", markup)).split())
    for bad in list(root.iter(*_DROP)):
        if bad.getparent() is not None:
            bad.drop_tree()
    chunks: list[str] = []

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _BLOCK:
            chunks.append("\n\n")
        if el.text and tag not in _DROP:
            chunks.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                chunks.append(child.tail)
        if tag in _BLOCK:
            chunks.append("\n\n")

    walk(root)
    text = "".join(chunks)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)
