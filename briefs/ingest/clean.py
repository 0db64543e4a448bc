"""HTML to plain text, for titles, summaries and feed-supplied article bodies."""

from __future__ import annotations

import html
import re

from lxml import etree

from briefs.text import BIDI_CONTROLS, CONTROL_CHARS

__all__ = ["clean_text", "html_to_text", "plain_text"]

# Control characters each become a space; bidi controls, BOMs and noncharacters are removed
# (briefs.text's sets, which every output boundary strips again).
_CONTROLS = CONTROL_CHARS
_INVISIBLE = BIDI_CONTROLS
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\n\t\u2028\u2029]")


def clean_text(value: str, *, inline: bool = False) -> str:
    """Text any later stage can handle: valid Unicode (a lone surrogate, which cannot be
    encoded, becomes U+FFFD), no control characters (spaces instead), no bidi controls.

    ``inline`` (titles, names, URLs) turns tabs and line breaks (U+2028 and U+2029 too) into
    spaces as well.
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
        value = _LINE_BREAKS.sub(" ", value)
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
# Plain lxml elements: lxml.html's element class lookup took a third of the time of a feed body.
_HTML_PARSER = etree.HTMLParser()
_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.IGNORECASE)


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
    text = _simple_text(markup)
    if text is not None:
        return _paragraphs(text)
    return _tree_text(markup)


def _paragraphs(text: str) -> str:
    """Blank-line separated paragraphs, each on one line with single spaces."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _tree_text(markup: str) -> str:
    """The text of any HTML fragment, as lxml's HTML parser reads it (blocks as paragraphs)."""
    # libxml2 passes C0 control characters through, and lxml then refuses them in a tail that
    # dropping an element joins to its neighbour (ValueError): they are no text anyway
    markup = _XML_INVALID.sub("", markup)
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
    return _paragraphs("".join(chunks))


# The markup of most feed bodies (paragraphs, links, emphasis) is read without building a tree:
# each block tag becomes a paragraph break, each inline tag nothing. Only tags whose text
# libxml2's HTML parser keeps in place, whitespace included (its "allowPCData" elements), and
# only entities both it and html.unescape read alike; anything else takes the tree
# (tests/test_clean.py checks the two give the same text).
_SIMPLE_BLOCK = {"p", "div", "br", "li", "ul", "ol", "blockquote", "hr", "dd", "dt"} | {
    f"h{n}" for n in range(1, 7)
}
_SIMPLE_INLINE = {"a", "em", "strong", "b", "i", "u", "span", "small", "abbr", "cite", "code", "q"}
_VOID = {"br", "hr"}
_SELF_CLOSING = {"li", "dd", "dt"}
_SIMPLE_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^<>]*)>")
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|nbsp)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")


def _simple_text(markup: str) -> str | None:
    """The text of simple markup with paragraph breaks, or None when it is not that simple."""
    if _CONTROL.search(markup):
        return None
    parts: list[str] = []
    pos = 0
    blocks: list[str] = []  # the open block elements, which must nest as written
    for tag in _SIMPLE_TAG.finditer(markup):
        name = tag.group(2).lower()
        if name in _SIMPLE_BLOCK:
            separator = "\n\n"
            if name in _VOID:
                if tag.group(1):
                    return None
            elif tag.group(1):
                if not blocks or blocks.pop() != name:
                    return None  # a stray or crossed end tag: the parser decides what it closes
            elif blocks and (blocks[-1] == "p" or (name in _SELF_CLOSING and name in blocks)):
                return None  # the parser would close the paragraph (or list item) here
            else:
                blocks.append(name)
        elif name in _SIMPLE_INLINE:
            separator = ""
        else:
            return None
        attributes = tag.group(3)
        if attributes.count('"') % 2 or attributes.count("'") % 2:
            return None  # a quoted ">" inside the tag: let the parser read it
        parts += (markup[pos : tag.start()], separator)
        pos = tag.end()
    parts.append(markup[pos:])
    text = "".join(parts)
    if "<" in text or ">" in text:
        return None
    if "&" in text:
        entities = _ENTITY.findall(text)
        if text.count("&") != len(entities) or not all(map(_plain_reference, entities)):
            return None
        text = html.unescape(text)
    return text


def _plain_reference(entity: tuple[str, str, str]) -> bool:
    """A character reference that means the same character to libxml2 and html.unescape."""
    name, decimal, hexadecimal = entity
    if name:
        return True
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return 32 <= code < 127 or 160 <= code < 0xD800 or 0xE000 <= code < 0xFFFE


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
