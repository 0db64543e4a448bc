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
import functools
import zoneinfo
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefs.config import Config
from briefs.errors import SearchError
from briefs.models import SearchHit
from briefs.render import Renderer
from briefs.searchquery import MAX_QUERY_CHARS, SearchResults, StoryResult, parse_query
from briefs.store import Store
from briefs.storypages import story_page_name

__all__ = [
    "SearchPage",
    "SearchResults",
    "StoryResult",
    "desk_pages",
    "parse_since",
    "results_json",
    "search",
    "search_pages",
]

# Articles asked of the index per story shown: stories gather several matching articles.
_FETCH_PER_RESULT = 4


def search(
    store: Store,
    text: str,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    sources: Collection[str] | None = None,
    pages: Path | Mapping[str, Path] | None = None,
    limit: int = 20,
    per_story: int = 2,
) -> SearchResults:
    """Search for ``text`` (SearchError if the query cannot be read or the database has no
    index); ``pages``: the output folder whose story pages the results link to, or folders by
    the prefix of their links (several briefs: ``{"wire/": root / "wire"}``; the first that
    holds a story's page is linked)."""
    folders = {"": pages} if isinstance(pages, Path) else dict(pages or {})
    query = parse_query(text)
    hits = store.search_articles(
        query,
        now=now,
        since=since,
        sources=sources,
        limit=limit * _FETCH_PER_RESULT,
        snippets=False,
    )
    grouped: dict[str, list[SearchHit]] = {}
    for hit in hits:
        grouped.setdefault(hit.story_id or f"article:{hit.article_id}", []).append(hit)
    titles = store.story_titles([h.story_id for h in hits if h.story_id])
    shown = {key: members[:per_story] for key, members in list(grouped.items())[:limit]}
    cut = {
        h.article_id: h
        for h in store.search_snippets(query, [h for m in shown.values() for h in m])
    }
    results: list[StoryResult] = []
    for key, members in list(grouped.items())[:limit]:
        story_id = None if key.startswith("article:") else key
        name = story_page_name(story_id) if story_id else None
        page = next(
            (prefix + name for prefix, d in folders.items() if name and (d / name).is_file()), None
        )
        headline = (titles.get(story_id, "") if story_id else "") or members[0].title
        results.append(
            StoryResult(
                story_id=story_id,
                headline=headline,
                score=members[0].score,
                hits=tuple(cut.get(h.article_id, h) for h in members[:per_story]),
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


@dataclass(frozen=True, slots=True)
class _Scope:
    """What one search page searches: the sources (None: every one) and the folders whose story
    pages its results link to (link prefix, relative to the page: folder)."""

    sources: frozenset[str] | None
    pages: Mapping[str, Path]


def desk_pages(config: Config) -> dict[str, Path]:
    """Every brief's folder by its link prefix from the output folder (``wire/``)."""
    return {f"{b.output}/" if b.output else "": config.root / b.output for b in config.desk}


class SearchPage:
    """A search page of ``briefs serve`` over the store and the output folder.

    A brief's own page (``desk`` False) searches its sources and links to its story pages;
    the desk's (``desk`` True, ``/search`` with several briefs) searches every brief's, links
    into each brief's folder, and ``brief=ID`` narrows it to one brief.

    ``respond`` answers a request's query parameters with a status and the page: 200 with the
    results (or the bare form), 400 with the reason when the query cannot be read (a
    :class:`SearchError`), 404 for a brief there is not (never an exception out of here).
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        sources: Collection[str] | None = None,
        *,
        desk: bool = False,
    ):
        settings = config.brief
        self.config = config
        self.store = store
        self.desk = desk
        self.title = "All briefs" if desk else settings.title
        self.up = "../" if config.several and config.current.output and not desk else ""
        everything = _Scope(None, desk_pages(config)) if desk else None
        self.scope = everything or _Scope(
            None if sources is None else frozenset(sources), {"": config.output}
        )
        self.briefs: dict[str, tuple[str, _Scope]] = {}
        if desk:
            for spec in config.desk:
                one = config.for_brief(spec.id)
                prefix = f"{spec.output}/" if spec.output else ""
                scope = _Scope(one.brief_sources(), {prefix: one.output})
                self.briefs[spec.id] = (spec.title, scope)
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
        """The status and HTML answering ``?q=...&since=YYYY-MM-DD[&brief=ID]``."""
        text = (params.get("q") or [""])[0]
        since_text = (params.get("since") or [""])[0]
        brief = (params.get("brief") or [""])[0] if self.desk else ""
        shown = text[:MAX_QUERY_CHARS]
        page = functools.partial(
            self.renderer.search_page,
            self.title,
            shown,
            since=since_text[:10],
            all_briefs=self.desk,
            brief=brief[:60] if brief in self.briefs else "",
            briefs=[(k, f"{next(iter(s.pages))}search", t) for k, (t, s) in self.briefs.items()],
            up=self.up,
        )
        scope = self.scope
        if brief:
            if brief not in self.briefs:
                known = ", ".join(self.briefs)
                return 404, page(None, error=f"there is no brief {brief[:60]!r} (briefs: {known})")
            scope = self.briefs[brief][1]
        if not text.strip():
            return 200, page(None)
        try:
            since = parse_since(since_text, self.config.brief.timezone) if since_text else None
            results = search(
                self.store,
                text,
                now=now or dt.datetime.now(dt.UTC),
                since=since,
                sources=scope.sources,
                pages=scope.pages,
            )
        except SearchError as exc:
            return 400, page(None, error=str(exc))
        return 200, page(results)


def search_pages(config: Config, store: Store) -> dict[str, SearchPage]:
    """The search pages of ``briefs serve`` by their paths: ``/search`` (with several briefs,
    the desk's: every brief's reports) and ``/<folder>/search`` for each brief in a folder of
    its own (its reports only; a folder's relative links resolve from there); none where the
    database has no full-text index."""
    if not store.search_available():
        return {}
    if not config.several:
        return {"/search": SearchPage(config, store, config.brief_sources())}
    out = {"/search": SearchPage(config, store, desk=True)}
    for spec in config.desk:
        one = config.for_brief(spec.id)
        out[f"/{spec.output}/search" if spec.output else "/search"] = SearchPage(
            one, store, one.brief_sources()
        )
    return out
