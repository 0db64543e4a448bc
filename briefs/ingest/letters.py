"""Newsletters: one email message -> its articles (pure; the mailboxes are :mod:`.mailbox`).

==================  ==========================================================================
title               the Subject, its encoded-words decoded, control and bidi characters
                    removed, cut to ``MAX_TITLE`` (no subject: the first words of the text)
outlet              the sender's display name (From), else the sender's domain, else the
                    source's name
text                the HTML part's main text (trafilatura, as for article pages), else the
                    plain-text part, else the HTML's whole text, less its short "view in
                    browser" and "unsubscribe" lines; never any markup: scripts,
                    styles and images (tracking pixels) are dropped with it, and a newsletter
                    has no picture (``image_url`` is None): no remote image is ever fetched
                    because of a newsletter
url                 the first link to the web version ("View in browser", "view online", ...)
published           the Date header, checked as feeds' dates are (``plausible_time``: a date
                    in the future is the time the message was read, one before 1970 is 1970)
digests             an HTML newsletter with at least two headings (of one level) that are
                    links is a digest: one article per heading (its text, its link, the text
                    up to the next heading); the greeting before the first is left out, and so
                    is the footer after the last (from its first "unsubscribe" line on)
==================  ==========================================================================

A message that cannot be read (no text part, malformed MIME, nothing but attachments) raises
:class:`~briefs.errors.ParseError` naming why: the mailbox counts it, and reads the next one.
Articles are ``body_origin = "mail"``: their pages are never fetched for a fuller text (the
links of a newsletter are often tracking redirects that report the reader).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr

from lxml import etree
from lxml import html as lxml_html

from briefs.errors import ParseError
from briefs.ingest.bounds import MAX_GUID, MAX_OUTLET, MAX_TITLE, cap, clean_article, plausible_time
from briefs.ingest.clean import clean_text, html_to_text
from briefs.ingest.maintext import extract_text
from briefs.ingest.parse import content_hash
from briefs.ingest.urls import article_id, canonical_url
from briefs.models import Article, Source

__all__ = ["Letter", "message_key", "parse_message", "read_letter"]

# A digest has at least this many linked headings of one level.
MIN_DIGEST_ITEMS = 2
# Words of the text that stand in for a missing subject.
_SUBJECT_WORDS = 12
# A paragraph this short that says "view in browser" or "unsubscribe" is the letter's chrome.
_CHROME_WORDS = 15
# MIME parts looked at in one message (a message of thousands of parts is hostile).
MAX_PARTS = 200
_WEB_VERSION = re.compile(
    r"\b(?:view|read|open|see)\b[^\n]{0,40}?\b(?:in|on)\s+(?:your|a|the)?\s*(?:web\s*)?browser\b"
    r"|\b(?:view|read)\s+(?:it\s+|this\s+(?:email|newsletter|issue)\s+)?online\b"
    r"|\bweb\s+version\b|\bview\s+as\s+(?:a\s+)?web\s*page\b|\bonline\s+version\b",
    re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_FOOTER = re.compile(r"\bunsubscribe\b|\bmanage\s+(?:your\s+)?(?:preferences|subscription)", re.I)
_HEADINGS = ("h1", "h2", "h3", "h4")
_SKIP = {"script", "style", "noscript", "head", "title", "template", "svg", "iframe", "object"}
_BLOCKS = {"p", "div", "li", "tr", "td", "table", "blockquote", "section", "article", "br", "hr"}
_BLOCKS.update(_HEADINGS, ("h5", "h6", "ul", "ol", "pre", "header", "footer"))
_PARSER = BytesParser(policy=email.policy.default)


@dataclass(frozen=True, slots=True)
class Letter:
    """One message read: its key (see :func:`message_key`) and the articles it makes."""

    key: str
    articles: tuple[Article, ...]


def parse_message(raw: bytes) -> EmailMessage:
    """The message of ``raw`` (the email package's lenient parser: damage becomes defects)."""
    try:
        message = _PARSER.parsebytes(raw)
    except (RecursionError, MemoryError) as exc:
        raise ParseError(f"malformed MIME: {type(exc).__name__}") from exc
    if not isinstance(message, EmailMessage):  # the default policy always makes one
        raise ParseError("malformed MIME: not an email message")
    return message


def message_key(message: Message) -> str:
    """The message's identity: its Message-ID, else a hash of its From, Date and Subject."""
    raw = _header(message, "message-id").strip()
    found = re.search(r"<([^<>\s]{1,500})>", raw)
    if found:
        return found.group(1)
    if raw and len(raw) <= MAX_GUID and " " not in raw:
        return raw
    headers = "\n".join(_header(message, h) for h in ("from", "date", "subject"))
    return "sha1:" + hashlib.sha1(headers.encode("utf-8", "replace")).hexdigest()


def read_letter(message: EmailMessage, source: Source, now: dt.datetime) -> Letter:
    """The articles of one message (:func:`parse_message`; perhaps of only its first bytes:
    a part cut short is read as far as it goes, an attachment never)."""
    key = message_key(message)
    html_part, plain_part = _text_parts(message)
    if html_part is None and plain_part is None:
        raise ParseError(_unreadable(message))
    outlet = _outlet(message, source)
    published = _published(message, now)
    title = cap(" ".join(clean_text(_header(message, "subject"), inline=True).split()), MAX_TITLE)
    web = ""
    body = ""
    if html_part is not None:
        doc = _document(html_part)
        web = _web_link(doc) if doc is not None else ""
        items = _digest(doc, web) if doc is not None else []
        if len(items) >= MIN_DIGEST_ITEMS:
            articles = tuple(
                _article(source, now, f"{key}#{i}", url, head, text, outlet, published)
                for i, (head, url, text) in enumerate(items, 1)
            )
            return Letter(key, articles)
        body = extract_text(html_part)
    if not body and plain_part is not None:
        body = _plain_body(plain_part)
    if not web and plain_part is not None:
        web = _web_link_in_text(plain_part)
    if not body and html_part is not None:
        body = html_to_text(html_part)
    body = _without_chrome(body)
    if not body.strip() and not title:
        raise ParseError("no text in the message")
    title = title or _first_words(body)
    return Letter(key, (_article(source, now, key, web, title, body, outlet, published),))


def _article(
    source: Source,
    now: dt.datetime,
    guid: str,
    url: str,
    title: str,
    body: str,
    outlet: str,
    published: dt.datetime,
) -> Article:
    guid = cap(guid, MAX_GUID)
    article = Article(
        id=article_id(url, f"{source.id}:{guid}"),
        source_id=source.id,
        url=url,
        guid=guid,
        title=title or _first_words(body),
        published=published,
        fetched=now,
        outlet=outlet,
        body=body,
        body_origin="mail",
        content_hash=content_hash(body),
    )
    return clean_article(article, now)


def _header(message: Message, name: str) -> str:
    """A header's value as text ("" when absent or when even the lenient parser fails on it:
    hostile headers have found ways to break the email package's header classes)."""
    try:
        value = message.get(name)
        return str(value) if value is not None else ""
    except (ValueError, TypeError, IndexError, LookupError, AttributeError, RecursionError):
        return ""


def _text_parts(message: EmailMessage) -> tuple[str | None, str | None]:
    """The first HTML and the first plain-text part that are not attachments, decoded."""
    html_part: str | None = None
    plain_part: str | None = None
    for n, part in enumerate(_walk(message)):
        if n >= MAX_PARTS or (html_part is not None and plain_part is not None):
            break
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment":
            continue
        subtype = part.get_content_subtype()
        if subtype == "html" and html_part is None:
            html_part = _decoded(part)
        elif subtype == "plain" and plain_part is None:
            plain_part = _decoded(part)
    return html_part, plain_part


def _walk(message: Message) -> Iterator[Message]:
    """The message's parts, depth first, without recursion (a message nested a thousand deep
    is hostile, not a newsletter)."""
    todo: list[Message] = [message]
    while todo:
        part = todo.pop()
        yield part
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                todo.extend(reversed([c for c in children if isinstance(c, Message)]))


def _decoded(part: Message) -> str:
    """A text part's content: its transfer encoding undone, its charset decoded (an unknown or
    lying charset is read as UTF-8, with replacement characters)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _unreadable(message: EmailMessage) -> str:
    defects = [type(d).__name__ for p in _walk(message) for d in getattr(p, "defects", ())]
    if defects:
        return f"malformed MIME ({', '.join(sorted(set(defects))[:3])}) and no text part"
    kinds = sorted({p.get_content_type() for p in _walk(message) if not p.is_multipart()})
    return f"no text part (only {', '.join(kinds[:3])})" if kinds else "no text part"


def _outlet(message: Message, source: Source) -> str:
    name, address = _sender(message)
    name = " ".join(clean_text(name, inline=True).split()).strip("\"' ")
    if not name and "@" in address:
        name = address.rpartition("@")[2].lower()
    return cap(name, MAX_OUTLET) or source.name


def _sender(message: Message) -> tuple[str, str]:
    """The From header's first display name and address (its encoded-words decoded)."""
    try:
        addresses = getattr(message.get("from"), "addresses", ())
        if addresses:
            return str(addresses[0].display_name), str(addresses[0].addr_spec)
    except (ValueError, TypeError, IndexError, LookupError, AttributeError, RecursionError):
        pass
    name, address = parseaddr(_header(message, "from"))
    return name, address


def _published(message: Message, now: dt.datetime) -> dt.datetime:
    try:
        value = message.get("date")
        when = getattr(value, "datetime", None)
    except (ValueError, TypeError, IndexError, LookupError, AttributeError, OverflowError):
        when = None
    return plausible_time(when if isinstance(when, dt.datetime) else None, now)


def _document(markup: str) -> etree._Element | None:
    if not markup.strip():
        return None
    try:
        return lxml_html.document_fromstring(clean_text(markup))
    except (etree.ParserError, ValueError, RecursionError):
        return None


def _links(doc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    for a in doc.iter("a"):
        href = canonical_url(clean_text(str(a.get("href") or ""), inline=True).strip())
        if href.startswith(("http://", "https://")):
            yield a, href


def _web_link(doc: etree._Element) -> str:
    """The first link whose text (or title) says it opens the newsletter on the web."""
    for a, href in _links(doc):
        words = " ".join(a.text_content().split()) + " " + str(a.get("title") or "")
        if _WEB_VERSION.search(words):
            return href
    # "Having trouble reading this? <a>Click here</a>": the sentence around the link says it
    for a, href in _links(doc):
        parent = a.getparent()
        if parent is not None and _WEB_VERSION.search(" ".join(parent.text_content().split())):
            return href
    return ""


def _web_link_in_text(text: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines[:200]):
        if _WEB_VERSION.search(line):
            for candidate in (line, *lines[i + 1 : i + 3]):
                found = _URL_IN_TEXT.search(candidate)
                if found:
                    return canonical_url(found.group(0).rstrip(".,;"))
    return ""


def _without_chrome(body: str) -> str:
    """The text without the newsletter's own short lines: "View in browser", "Unsubscribe"."""
    kept = [
        p
        for p in body.split("\n\n")
        if len(p.split()) > _CHROME_WORDS or not (_WEB_VERSION.search(p) or _FOOTER.search(p))
    ]
    return "\n\n".join(kept)


def _plain_body(text: str) -> str:
    paragraphs = re.split(r"\n\s*\n", clean_text(text))
    kept = [" ".join(p.split()) for p in paragraphs]
    return "\n\n".join(p for p in kept if p)


def _first_words(text: str) -> str:
    words = text.split()
    return " ".join(words[:_SUBJECT_WORDS]) + ("…" if len(words) > _SUBJECT_WORDS else "")


def _item_headings(doc: etree._Element, web: str) -> list[etree._Element]:
    """The linked headings of the level that has the most (the higher level on a tie)."""
    linked: dict[str, list[etree._Element]] = {}
    for level in _HEADINGS:
        for heading in doc.iter(level):
            href = next((h for _, h in _links(heading)), "")
            text = " ".join(heading.text_content().split())
            if href and href != web and text and not _WEB_VERSION.search(text):
                linked.setdefault(level, []).append(heading)
    if not linked:
        return []
    level = max(linked, key=lambda lv: (len(linked[lv]), -_HEADINGS.index(lv)))
    return linked[level]


def _digest(doc: etree._Element, web: str) -> list[tuple[str, str, str]]:
    """The items of a digest: (heading, its link, the text up to the next item), or [] when
    the newsletter is not one (fewer than MIN_DIGEST_ITEMS linked headings of one level)."""
    heads = _item_headings(doc, web)
    if len(heads) < MIN_DIGEST_ITEMS:
        return []
    marks = {id(h): i for i, h in enumerate(heads)}
    texts: list[list[str]] = [[] for _ in heads]
    current = -1
    footer = False
    line: list[str] = []

    def end_line() -> None:
        nonlocal footer
        text = " ".join(" ".join(line).split())
        line.clear()
        if not text or current < 0 or footer:
            return
        if _FOOTER.search(text) or _WEB_VERSION.search(text):
            footer = footer or current == len(heads) - 1
            return
        texts[current].append(text)

    def walk(el: etree._Element) -> None:
        nonlocal current
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP:
            line.append(" ")  # its tail is read by the caller
            return
        if id(el) in marks:
            end_line()
            current = marks[id(el)]
            return  # the heading is the item's title, not its text
        block = tag in _BLOCKS
        if block:
            end_line()
        if el.text and tag:
            line.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                line.append(child.tail)
        if block:
            end_line()

    walk(doc)
    end_line()
    items = []
    for head, paragraphs in zip(heads, texts, strict=True):
        title = cap(" ".join(clean_text(head.text_content(), inline=True).split()), MAX_TITLE)
        url = next(h for _, h in _links(head))
        items.append((title, url, "\n\n".join(paragraphs)))
    return items
