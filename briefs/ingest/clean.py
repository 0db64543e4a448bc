"""HTML to plain text, for titles, summaries and feed-supplied article bodies."""

from __future__ import annotations

import html
import re

from lxml import etree

__all__ = ["html_to_text", "plain_text"]

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
# Plain lxml elements: lxml.html's element class lookup took a third of the time of a feed body.
_HTML_PARSER = etree.HTMLParser()
_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.IGNORECASE)


def plain_text(value: str) -> str:
    """One line of plain text from a title-like value that may hold entities or tags."""
    if _TAGGISH.search(value or ""):
        value = html_to_text(value)
    else:
        value = html.unescape(value or "")
    return " ".join(value.split())


def html_to_text(markup: str) -> str:
    """Readable text from an HTML fragment: paragraphs separated by blank lines, no markup."""
    if not markup or not markup.strip():
        return ""
    if not _TAGGISH.search(markup):
        return html.unescape(markup).strip()
    if "<!--" in markup:
        markup = _OPEN_COMMENT.sub("", _COMMENT.sub("", markup))
    try:
        root = _fragment(markup)
    except (etree.ParserError, ValueError):
        return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", markup)).split())
    for bad in list(root.iter(*_DROP)):
        if bad.getparent() is not None:
            _drop_tree(bad)
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


def _fragment(markup: str) -> etree._Element:
    """``lxml.html.fragment_fromstring(markup, create_parent="div")``, with plain elements."""
    if not _FULL_HTML.match(markup):
        markup = f"<html><body>{markup}</body></html>"
    doc = etree.fromstring(markup, _HTML_PARSER)
    if doc is None:
        raise etree.ParserError("Document is empty")
    bodies = [el for el in doc if el.tag == "body"]
    if len(bodies) != 1:
        raise etree.ParserError("not one body")
    root = etree.Element("div")
    body = bodies[0]
    if body.text and body.text.strip():
        root.text = body.text
    root.extend(list(body))
    return root


def _drop_tree(el: etree._Element) -> None:
    """Remove ``el`` and its children; its tail joins the previous sibling or the parent's text
    (lxml.html's ``drop_tree``)."""
    parent = el.getparent()
    assert parent is not None
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)
