"""Story pages: a permanent page for every story that made an edition, ``stories/<id>.html``.

A page shows the story as of the newest edition that carried it: its headline and summary, a
dated timeline of every report (by day, each report with the syndicated copies of it folded
under it), the editions it appeared in, and why its articles are together (the terms they
share, and for each article the member it matched and how well: what ``briefs stories show``
prints). Building an edition writes the pages of its stories, unless a newer edition already
carried the story (rebuilding an old edition never puts an older summary over a newer one);
pages of stories not in the edition stay as they are.

:func:`story_pages` reads what the pages need from the store when the edition is built (the
outputs read no store); :mod:`briefs.outputs` writes them ("story-pages").
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from briefs.errors import RenderError
from briefs.models import Article, Brief, BriefStory, EditionRecord, StoryChange, StoryLink

if TYPE_CHECKING:
    from briefs.store import Store

__all__ = [
    "STORY_FOLDER",
    "Reason",
    "Report",
    "StoryPage",
    "story_page_name",
    "story_pages",
    "timeline",
]

STORY_FOLDER = "stories"
_SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def story_page_name(story_id: str) -> str:
    """The story page's file name in the output folder: ``stories/<id>.html``."""
    if not _SAFE_ID.match(story_id):
        raise RenderError(f"story id {story_id!r} cannot name a page")
    return f"{STORY_FOLDER}/{story_id}.html"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one article is in its story: the member it matched (None: it started the story, or
    no reason was recorded when ``link`` is None)."""

    article: Article
    link: StoryLink | None
    via: Article | None


@dataclass(frozen=True, slots=True)
class StoryPage:
    """What a story page shows: the story as its newest edition carried it, the editions it
    appeared in (newest first), why its articles are together, and its splits and merges."""

    item: BriefStory
    editions: tuple[EditionRecord, ...]
    reasons: tuple[Reason, ...]
    changes: tuple[StoryChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    """One report on the timeline, with the syndicated copies of it that other outlets ran."""

    article: Article
    copies: tuple[Article, ...] = ()


def timeline(item: BriefStory, zone: zoneinfo.ZoneInfo) -> list[tuple[dt.date, list[Report]]]:
    """Every report of the story by local day, oldest first; a syndicated copy is folded under
    its original when the story carries it, else it stands as a report of its own."""
    members = {a.id: a for a in item.articles}
    copies: dict[str, list[Article]] = {}
    originals: list[Article] = []
    for a in sorted(item.articles, key=lambda a: (a.published, a.id)):
        if a.duplicate_of and a.duplicate_of in members:
            copies.setdefault(a.duplicate_of, []).append(a)
        else:
            originals.append(a)
    days: dict[dt.date, list[Report]] = {}
    for a in originals:
        day = a.published.astimezone(zone).date()
        days.setdefault(day, []).append(Report(a, tuple(copies.get(a.id, ()))))
    return list(days.items())


def _carried(record: EditionRecord, story_id: str) -> bool:
    return any(sid == story_id for sid, _ in record.story_counts)


def story_pages(
    store: Store, brief: Brief, archive: Sequence[EditionRecord]
) -> tuple[StoryPage, ...]:
    """The pages this edition writes: its stories that no newer edition carried."""
    ids = [r.edition.id for r in archive]
    at = ids.index(brief.edition.id) if brief.edition.id in ids else 0
    newer = archive[:at]
    pages: list[StoryPage] = []
    for item in brief.stories:
        sid = item.story.id
        if any(_carried(rec, sid) for rec in newer):
            continue
        by_id = {a.id: a for a in item.articles}
        links = {link.article_id: link for link in store.story_links(sid)}
        reasons = tuple(
            Reason(a, links.get(a.id), by_id.get(links[a.id].via or "") if a.id in links else None)
            for a in sorted(item.articles, key=lambda a: (a.published, a.id))
        )
        editions = tuple(rec for rec in archive if _carried(rec, sid))
        pages.append(StoryPage(item, editions, reasons, tuple(store.story_changes(sid))))
    return tuple(pages)
