"""Test data builders: the one place tests make an Article.

A test states what matters to it (the text, the outlet, when it was published) and takes the
defaults for the rest of the required fields. Test modules that call it often keep a short
adapter for their own argument order (``art(aid, title, summary)``), not a copy of Article's
fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from briefs.models import Article

T0 = dt.datetime(2024, 4, 5, 8, tzinfo=dt.UTC)


def article(
    aid: str,
    title: str | None = None,
    *,
    at: dt.datetime = T0,
    hours: float = 0.0,
    minutes: float = 0.0,
    fetched: dt.datetime | None = None,
    source: str = "s",
    outlet: str | None = None,
    url: str | None = None,
    **fields: Any,
) -> Article:
    """An Article published at ``at`` plus ``hours`` and ``minutes``.

    Defaults: fetched when published, titled by its id, at ``https://news.example/ID``, from
    source "s" and outlet "Outlet ID"; ``fields`` are any other Article fields (summary, body,
    body_origin, language, duplicate_of, ...).
    """
    published = at + dt.timedelta(hours=hours, minutes=minutes)
    return Article(
        id=aid,
        source_id=source,
        url=f"https://news.example/{aid}" if url is None else url,
        title=aid if title is None else title,
        published=published,
        fetched=published if fetched is None else fetched,
        outlet=f"Outlet {aid}" if outlet is None else outlet,
        **fields,
    )
