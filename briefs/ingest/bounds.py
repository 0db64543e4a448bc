"""The bounds of everything a source hands briefs, applied where the value enters.

A feed, a seed document or an HTTP header can carry any number, date or text. Each is parsed
into a bounded range here, once, at ingest, so no later stage ever sees a value it cannot
handle (a ``timedelta`` overflow, a 200 KB headline, a terminal escape):

=====================  =====================================================================
numbers (counts,       :func:`bounded_int`: ASCII digits only (no signs, no Unicode digits;
durations)             over 12 digits is the top of the range), clamped into ``[low, high]``;
                       garbage is ``None``
a feed's own interval  ``<ttl>``, the syndication period and Cache-Control ``max-age``: at
                       most MAX_FLOOR_MINUTES (30 days; polling caps it again at
                       ``fetch.max_backoff_hours``)
Retry-After            at most MAX_RETRY_AFTER (7 days) ahead
dates                  :func:`plausible_time`: before EARLIEST (1970-01-01, the epoch that
                       undated items fall back to) clamped up to it; later than the fetch
                       time plus FUTURE_SLACK (2 h) taken as the fetch time. The store
                       refuses, and quarantines, dates outside ``briefs.store.STORED_RANGE``
text                   valid Unicode (lone surrogates become U+FFFD), without C0/C1 control
                       characters, bidi embeddings/overrides/isolates, BOMs and
                       noncharacters (:func:`briefs.ingest.clean.clean_text`)
lengths                titles MAX_TITLE, authors MAX_AUTHOR, outlet names MAX_OUTLET
                       characters, feed summaries MAX_SUMMARY and bodies MAX_BODY, each cut
                       at a word boundary with an ellipsis; URLs over MAX_URL are dropped
=====================  =====================================================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re

from briefs.ingest.clean import clean_text
from briefs.models import Article

__all__ = [
    "EARLIEST",
    "FUTURE_SLACK",
    "MAX_AUTHOR",
    "MAX_BODY",
    "MAX_FLOOR_MINUTES",
    "MAX_OUTLET",
    "MAX_RETRY_AFTER",
    "MAX_SUMMARY",
    "MAX_TAG",
    "MAX_TAGS",
    "MAX_TITLE",
    "MAX_URL",
    "bounded_int",
    "cap",
    "clean_article",
    "clean_guid",
    "plausible_time",
]

MAX_TITLE = 300
MAX_AUTHOR = 200
MAX_TAGS = 20  # an item's categories kept (feeds that tag every entity run to dozens)
MAX_TAG = 80
MAX_OUTLET = 120
MAX_SUMMARY = 20_000
MAX_BODY = 1_000_000
MAX_URL = 4096
MAX_GUID = 512
MAX_FLOOR_MINUTES = 30 * 24 * 60
MAX_RETRY_AFTER = dt.timedelta(days=7)
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(hours=2)

_DIGITS = re.compile(r"\s*\+?([0-9]+)\s*")
_MAX_DIGITS = 12


def bounded_int(value: object, low: int, high: int) -> int | None:
    """A whole number from untrusted text, clamped into ``[low, high]``; None for garbage.

    Only ASCII digits count (``int()`` would take ``'١٢'``, ``'1_0'`` and 5,000-digit strings,
    the last with a ValueError of its own); more than twelve digits is simply ``high``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return min(max(value, low), high)
    match = _DIGITS.fullmatch(str(value)) if value is not None else None
    if match is None:
        return None
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return high
    return min(max(int(digits), low), high)


def plausible_time(when: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """A publication time briefs can store and compute with (see the module's table)."""
    if when is None:
        return now
    try:
        when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return now
    if when > now + FUTURE_SLACK:
        return now
    return max(when, EARLIEST)


def cap(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ", limit // 2)
    if space > 0:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _url(value: str | None) -> str:
    text = clean_text(value or "", inline=True).strip()
    return "" if len(text) > MAX_URL or " " in text else text


def clean_guid(value: str) -> str:
    """A GUID as stored: clean text; a very long one keeps its start and a hash of the whole
    (it is an identity: two long GUIDs that share a prefix must stay two)."""
    text = clean_text(value, inline=True).strip()
    if len(text) <= MAX_GUID:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    return f"{text[: MAX_GUID - 41]}#{digest}"


def clean_article(article: Article, now: dt.datetime) -> Article:
    """The article with every field inside its bounds: text cleaned, lengths capped, the
    publication time plausible for an article fetched at ``now``."""
    image = _url(article.image_url) or None
    return dataclasses.replace(
        article,
        url=_url(article.url),
        guid=clean_guid(article.guid),
        title=cap(" ".join(clean_text(article.title, inline=True).split()), MAX_TITLE),
        outlet=cap(" ".join(clean_text(article.outlet, inline=True).split()), MAX_OUTLET),
        author=cap(" ".join(clean_text(article.author, inline=True).split()), MAX_AUTHOR),
        language=clean_text(article.language, inline=True)[:16],
        summary=cap(clean_text(article.summary), MAX_SUMMARY),
        body=cap(clean_text(article.body), MAX_BODY),
        image_url=image,
        published=plausible_time(article.published, now),
        fetched=plausible_time(article.fetched, now),
        tags=_tags(article.tags),
    )


def _tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    """Categories as one-line names, each once (first spelling kept), at most MAX_TAGS."""
    seen: dict[str, str] = {}
    for tag in tags:
        name = cap(" ".join(clean_text(tag, inline=True).split()), MAX_TAG)
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return tuple(seen.values())[:MAX_TAGS]
