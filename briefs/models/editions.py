"""What building makes: editions, the brief rendered from one, and a run's report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from briefs.models.sources import Article
from briefs.models.stories import Story, Summary

__all__ = [
    "DEFAULT_BRIEF",
    "Brief",
    "BriefStory",
    "Edition",
    "EditionRecord",
    "Printing",
    "RunReport",
    "SearchHit",
]


# The id of the one brief of a configuration without [[briefs]] tables; the editions and
# deliveries stored before there were several briefs are this brief's.
DEFAULT_BRIEF = "default"


@dataclass(frozen=True, slots=True)
class Edition:
    """One brief's identity: a local date plus an optional slot (e.g. "morning")."""

    date: dt.date
    slot: str = ""

    @property
    def id(self) -> str:
        """A stable identifier used in file names, guids and the database."""
        return f"{self.date.isoformat()}-{self.slot}" if self.slot else self.date.isoformat()


@dataclass(frozen=True, slots=True)
class BriefStory:
    """A story as it appears in one edition.

    ``since`` is when the news of this edition starts for it (the previous edition's cut-off,
    else the start of the edition's day): reports from then on are its new reports, ``added``
    counts them; ``told``: the story was in the previous edition. ``status`` "quiet" marks a
    story with no new report (kept only when ``brief.nothing_new = "mark"``).
    """

    story: Story
    summary: Summary
    articles: tuple[Article, ...]
    status: Literal["new", "developing", "quiet"] = "new"
    day: int = 1
    added: int = 0
    section: str = ""
    score: float = 0.0
    since: dt.datetime | None = None
    told: bool = False  # it was in the previous edition: its earlier reports were told

    @property
    def outlets(self) -> tuple[str, ...]:
        """Distinct outlets that reported the story, in order of first report."""
        return self.summary.outlets

    @property
    def image_url(self) -> str | None:
        """The lead image of the first member article that has one."""
        for article in self.articles:
            if article.image_url:
                return article.image_url
        return None


@dataclass(frozen=True, slots=True)
class Brief:
    """One edition's ranked stories, ready to render."""

    edition: Edition
    generated_at: dt.datetime
    title: str
    stories: tuple[BriefStory, ...]
    failed_sources: tuple[tuple[str, str], ...] = ()
    timezone: str = "UTC"

    @property
    def newest_report(self) -> dt.datetime | None:
        """When the newest report in the edition was published (None for an empty edition).

        The edition shows this, not the build time: an old edition built today is not news
        of today.
        """
        return max((a.published for s in self.stories for a in s.articles), default=None)


@dataclass(frozen=True, slots=True)
class EditionRecord:
    """A built edition as remembered by the store (for archives and feeds)."""

    edition: Edition
    built_at: dt.datetime
    title: str
    content_html: str
    summary: str
    story_count: int
    # (story id, member articles when built) for each story in the edition: growth between
    # editions and the per-story feed.
    story_counts: tuple[tuple[str, int], ...] = ()
    brief: str = DEFAULT_BRIEF  # the id of the brief it is an edition of


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A stored article that matched a search: the article, its story, how well it matched
    (``score``: higher is better, relevance weighed by recency) and a snippet of its text as
    ``(text, matched)`` pieces, raw text that whoever shows it escapes."""

    article_id: str
    story_id: str | None
    source_id: str
    title: str
    outlet: str
    url: str
    published: dt.datetime
    score: float
    snippet: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class Printing:
    """A stored article as near-duplicate linking sees it: who printed it when, its original
    (if it is itself a copy) and its MinHash signature; none of its text."""

    id: str
    source_id: str
    published: dt.datetime
    duplicate_of: str | None
    signature: bytes


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run did, for the CLI and the logs."""

    edition: Edition
    sources_polled: int
    sources_failed: tuple[tuple[str, str], ...]
    new_articles: int
    stories: int
    files: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)
    # the part of a stage's seconds spent in worker processes, alongside the rest (CPU time)
    timings_elsewhere: dict[str, float] = field(default_factory=dict)
    unchanged: bool = False  # nothing new: the edition already built was left as it was
    # outputs that could not be made (e.g. the email over its size cap); the others were written
    problems: tuple[str, ...] = ()
    # article pages the address guard refused in this run, and one of them ("URL: reason")
    pages_refused: int = 0
    page_refused_example: str = ""
    brief: str = DEFAULT_BRIEF  # the brief whose edition this is
