"""Seed documents: plain-text articles in a folder.

Format: optional header lines ``title:``, ``url:``, ``source:``, ``author:`` and ``tags:``
(comma-separated categories; one that names a configured section places the document there),
then the text.
The first non-blank line of the text may be ``date YYYY-MM-DD``, followed on the same line by a
dateline such as ``(Bloomberg) --`` and the first sentence. Paragraphs are separated by blank lines.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from briefs.errors import ParseError
from briefs.ingest.bounds import clean_article
from briefs.ingest.parse import content_hash
from briefs.ingest.urls import article_id, canonical_url
from briefs.models import Article, Source
from briefs.text import split_paragraphs, split_sentences

__all__ = ["parse_seed_document", "read_seed_folder"]

MAX_DOCUMENT_BYTES = 5_000_000
_HEADER = re.compile(r"^(title|url|source|author|date|tags)\s*:\s*(.*)$", re.IGNORECASE)
_DATE_LINE = re.compile(r"^date\s+(\d{4}-\d{2}-\d{2})\b\s*(.*)$", re.IGNORECASE | re.DOTALL)
# "(Bloomberg) --", "LONDON (Reuters) -", "(AP) —"
_DATELINE = re.compile(r"^\s*(?:[A-Z][A-Z .,'-]{1,40}\s)?\(([^()\n]{2,60})\)\s*(?:--|—|–|-)\s*")
HEADLINE_WORDS = 16


def parse_seed_document(text: str, source: Source, name: str, now: dt.datetime) -> Article:
    """One seed document -> an Article; ``name`` is its file name within the folder."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    headers: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        match = _HEADER.match(line)
        if not match or match.group(1).lower() in headers:
            break
        headers[match.group(1).lower()] = match.group(2).strip()
        i += 1
    rest = "\n".join(lines[i:]).strip()
    published: dt.datetime | None = None
    if "date" in headers:
        published = _date(headers["date"], name)
    match = _DATE_LINE.match(rest)
    if match:
        published = _date(match.group(1), name)
        rest = match.group(2).strip()
    outlet = headers.get("source", "")
    dateline = _DATELINE.match(rest)
    if dateline:
        outlet = outlet or dateline.group(1).strip()
        rest = rest[dateline.end() :]
    body = "\n\n".join(split_paragraphs(rest))
    if not body:
        raise ParseError(f"{name}: empty seed document")
    title = headers.get("title") or _headline(body)
    url = canonical_url(headers.get("url", ""))
    if not url.startswith(("http://", "https://")):
        url = ""
    article = Article(
        id=article_id(url, f"files:{source.id}:{name}"),
        source_id=source.id,
        url=url,
        guid=f"{source.id}/{name}",
        title=title,
        published=published or now,
        fetched=now,
        outlet=outlet or source.name,
        author=headers.get("author", ""),
        language="",
        summary="",
        body=body,
        body_origin="file",
        content_hash=content_hash(body),
        tags=tuple(t.strip() for t in headers.get("tags", "").split(",") if t.strip()),
    )
    cleaned = clean_article(article, now)
    if not cleaned.body.strip():
        # nothing but control characters, which cleaning turns into spaces
        raise ParseError(f"{name}: empty seed document (no printable text)")
    return cleaned


def _date(value: str, name: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ParseError(f"{name}: bad date {value!r} (expected YYYY-MM-DD)") from None
    # A date without a time is taken as noon UTC: the middle of the day in most time zones.
    return dt.datetime.combine(day, dt.time(12, 0), dt.UTC)


def _headline(body: str) -> str:
    """A headline from the text itself: the first sentence, shortened at a word boundary."""
    first = split_sentences(body.split("\n\n", 1)[0])
    sentence = first[0] if first else body
    words = sentence.rstrip(".!?").split()
    if len(words) <= HEADLINE_WORDS:
        return " ".join(words)
    cut = words[:HEADLINE_WORDS]
    # Prefer to end before a trailing function word ("... agreed to" reads badly).
    while len(cut) > 8 and cut[-1].lower() in {
        "to",
        "and",
        "the",
        "a",
        "an",
        "of",
        "in",
        "at",
        "on",
        "for",
        "with",
        "that",
        "as",
        "by",
        "from",
    }:
        cut.pop()
    return " ".join(cut) + "…"


def read_seed_folder(source: Source, now: dt.datetime) -> tuple[list[Article], list[str]]:
    """Every ``*.txt`` document in the source folder; returns articles and per-file errors."""
    folder = Path(source.location)
    if not folder.is_dir():
        raise ParseError(f"{folder}: not a folder")
    articles: list[Article] = []
    errors: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise ParseError(f"{path.name}: larger than {MAX_DOCUMENT_BYTES} bytes, skipped")
            text = path.read_text(encoding="utf-8", errors="replace")
            articles.append(parse_seed_document(text, source, path.name, now))
        except OSError as exc:
            errors.append(f"{path.name}: cannot read: {exc.strerror or exc}")
        except ParseError as exc:
            errors.append(str(exc))
    return articles, errors
