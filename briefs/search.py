"""Search the stored articles and their stories: ``briefs search`` and ``/search`` of
``briefs serve``.

A query (:mod:`briefs.searchquery`) asks the database's own full-text index
(:mod:`briefs.store.search`) for the best-matching articles, relevance weighed by recency;
they are then gathered by story (a story ranks by its best article, and shows up to
``per_story`` of them), each story with its permanent page when one was written in the output
folder (:func:`briefs.storypages.story_page_name`), else linking to its articles. An article
in no story stands alone.

``sources`` narrows the search to articles of those source ids (a brief's own sources).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefs.config import Config
from briefs.errors import SearchError
from briefs.models import SearchHit
from briefs.render import Renderer
from briefs.searchquery import MAX_QUERY_CHARS, Query, parse_query
from briefs.store import Store
from briefs.storypages import story_page_name

__all__ = ["SearchPage", "SearchResults", "StoryResult", "parse_since", "results_json", "search"]

# Articles asked of the index per story shown: stories gather several matching articles.
_FETCH_PER_RESULT = 4


@dataclass(frozen=True, slots=True)
class StoryResult:
    """One story that matched (or one article in no story: ``story_id`` None), its best
    matching articles first; ``page`` the story page's file name in the output folder, when
    that page was written."""

    story_id: str | None
    headline: str
    score: float
    hits: tuple[SearchHit, ...]
    matched: int
    page: str | None = None


@dataclass(frozen=True, slots=True)
class SearchResults:
    """A search: the query as read, the stories found (best first), the articles matched."""

    query: Query
    stories: tuple[StoryResult, ...]
    articles: int


def search(
    store: Store,
    text: str,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    sources: Collection[str] | None = None,
    pages: Path | None = None,
    limit: int = 20,
    per_story: int = 3,
) -> SearchResults:
    """Search for ``text`` (SearchError if the query cannot be read or the database has no
    index); ``pages``: the output folder whose story pages the results link to."""
    query = parse_query(text)
    hits = store.search_articles(
        query, now=now, since=since, sources=sources, limit=limit * _FETCH_PER_RESULT
    )
    grouped: dict[str, list[SearchHit]] = {}
    for hit in hits:
        grouped.setdefault(hit.story_id or f"article:{hit.article_id}", []).append(hit)
    titles = store.story_titles([h.story_id for h in hits if h.story_id])
    results: list[StoryResult] = []
    for key, members in list(grouped.items())[:limit]:
        story_id = None if key.startswith("article:") else key
        page = story_page_name(story_id) if story_id else None
        if page is not None and (pages is None or not (pages / page).is_file()):
            page = None
        headline = (titles.get(story_id, "") if story_id else "") or members[0].title
        results.append(
            StoryResult(
                story_id=story_id,
                headline=headline,
                score=members[0].score,
                hits=tuple(members[:per_story]),
                matched=len(members),
                page=page,
            )
        )
    return SearchResults(query, tuple(results), len(hits))


def results_json(results: SearchResults) -> dict[str, Any]:
    """The results as plain JSON values (``briefs search --json``)."""
    return {
        "query": results.query.text,
        "articles": results.articles,
        "stories": [
            {
                "story": r.story_id,
                "headline": r.headline,
                "score": round(r.score, 6),
                "page": r.page,
                "matched": r.matched,
                "articles": [
                    {
                        "id": h.article_id,
                        "title": h.title,
                        "outlet": h.outlet,
                        "url": h.url,
                        "published": h.published.isoformat(),
                        "score": round(h.score, 6),
                        "snippet": "".join(t for t, _ in h.snippet),
                        "matches": [t for t, m in h.snippet if m],
                    }
                    for h in r.hits
                ],
            }
            for r in results.stories
        ],
    }


def parse_since(value: str, timezone: str) -> dt.datetime:
    """A ``--since``/``since=`` day (YYYY-MM-DD) as the UTC start of that day in ``timezone``."""
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise SearchError(f"since {value[:40]!r} is not a date in YYYY-MM-DD form") from None
    start = dt.datetime.combine(day, dt.time(0), zoneinfo.ZoneInfo(timezone))
    return start.astimezone(dt.UTC)


class SearchPage:
    """The ``/search`` page of ``briefs serve`` over one brief's store and output folder.

    ``respond`` answers a request's query parameters with a status and the page: 200 with the
    results (or the bare form), 400 with the reason when the query cannot be read (a
    :class:`SearchError`, never an exception out of here for a query).
    """

    def __init__(self, config: Config, store: Store, sources: Collection[str] | None = None):
        settings = config.brief
        self.config = config
        self.store = store
        self.sources = sources
        self.renderer = Renderer(
            config.templates,
            settings.timezone,
            images=False,
            site_url=settings.site_url,
            language=settings.language,
            description=settings.description,
        )

    def respond(
        self, params: Mapping[str, Sequence[str]], now: dt.datetime | None = None
    ) -> tuple[int, str]:
        """The status and HTML answering ``?q=...&since=YYYY-MM-DD``."""
        title = self.config.brief.title
        text = (params.get("q") or [""])[0]
        since_text = (params.get("since") or [""])[0]
        shown = text[:MAX_QUERY_CHARS]
        since_shown = since_text[:10]
        if not text.strip():
            return 200, self.renderer.search_page(title, "", None, since=since_shown)
        try:
            since = parse_since(since_text, self.config.brief.timezone) if since_text else None
            results = search(
                self.store,
                text,
                now=now or dt.datetime.now(dt.UTC),
                since=since,
                sources=self.sources,
                pages=self.config.output,
            )
        except SearchError as exc:
            page = self.renderer.search_page(title, shown, None, error=str(exc), since=since_shown)
            return 400, page
        return 200, self.renderer.search_page(title, shown, results, since=since_shown)
