"""JSON Feed 1.0/1.1, read directly: its items adapted to the entry shape entries reads."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from briefs.errors import ParseError
from briefs.ingest.bounds import (
    MAX_OUTLET,
    cap,
)
from briefs.ingest.clean import plain_text
from briefs.ingest.entries import ParsedFeed, entry_articles, error_reason, feed_site
from briefs.ingest.names import publisher_name
from briefs.models import Source


def parse_json_feed(data: bytes, source: Source, *, url: str, now: dt.datetime) -> ParsedFeed:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"invalid JSON Feed: {exc}") from exc
    except RecursionError:
        raise ParseError("invalid JSON Feed: nested too deeply to decode") from None
    except MemoryError:
        raise ParseError("invalid JSON Feed: too large to decode") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ParseError(f"invalid JSON Feed: {error_reason(exc)}") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseError("not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed without an items list")
    feed_title = cap(plain_text(_json_str(doc.get("title"))), MAX_OUTLET)
    site = feed_site(_json_str(doc.get("home_page_url")), url)
    base = site or url
    outlet = source.title or cap(publisher_name(feed_title, site, url), MAX_OUTLET) or source.id
    entries = [item for item in items if isinstance(item, dict)]
    read = functools.partial(_json_entry, doc=doc)
    out, (skipped, reason) = entry_articles(entries, source, outlet, base, now, read=read)
    return ParsedFeed(
        feed_title,
        tuple(out),
        site_url=site or None,
        skipped=skipped,
        skip_reason=reason,
        parser="jsonfeed",
    )


def _json_str(value: Any) -> str:
    """A JSON value that should be a string, as one (a number or a string; else "")."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _json_entry(item: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """A JSON Feed item as the entry dict :mod:`briefs.ingest.entries` reads."""
    entry: dict[str, Any] = {
        "id": _json_str(item.get("id")),
        "link": _json_str(item.get("url")) or _json_str(item.get("external_url")),
        "title": _json_str(item.get("title")),
        "summary": _json_str(item.get("summary")),
        "content": [],
        "author": _json_author(item, doc),
        "language": _json_str(item.get("language")) or _json_str(doc.get("language")),
    }
    if _json_str(item.get("content_html")):
        entry["content"].append({"type": "text/html", "value": _json_str(item["content_html"])})
    elif _json_str(item.get("content_text")):
        entry["content"].append({"type": "text/plain", "value": _json_str(item["content_text"])})
    for key, target in (
        ("date_published", "published_parsed"),
        ("date_modified", "updated_parsed"),
    ):
        stamp = _iso_time(item.get(key))
        if stamp is not None:
            entry[target] = stamp.utctimetuple()
    image = _json_str(item.get("image")) or _json_str(item.get("banner_image"))
    if image:
        entry["image"] = {"href": image}
    return entry


def _json_author(item: dict[str, Any], doc: dict[str, Any]) -> str:
    authors = item.get("authors") or doc.get("authors") or []
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        return _json_str(authors[0].get("name"))
    author = item.get("author")
    if isinstance(author, dict):
        return _json_str(author.get("name"))
    return ""


def _iso_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value[:64].replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # not a date, or one whose UTC is past year 9999
        return None
