"""What grouping and summarizing make: stories, their links and changes, summaries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "Sentence",
    "Story",
    "StoryChange",
    "StoryLink",
    "Summary",
    "TimelineEntry",
]


@dataclass(frozen=True, slots=True)
class StoryLink:
    """Why one article is in its story: what it matched when it joined, and how well.

    ``via`` is the member it was most similar to (None when it started the story);
    ``similarity`` is the linkage score it joined with (0 for a story's first article, 1 for a
    duplicate copy); ``shared`` are the terms it shares with ``via``, strongest first.
    """

    article_id: str
    similarity: float
    via: str | None = None
    shared: tuple[str, ...] = ()
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class StoryChange:
    """A re-clustering of the window that split or merged stories (see briefs.group).

    ``kind``: "split_from" (this story came off ``other``, which kept its id as the larger
    part), "split_off" (part of this story became ``other``), "absorbed" (``other`` joined this
    story, which kept its id as the larger part) or "merged_into" (this story joined ``other``
    and has no members of its own any more).
    """

    kind: str
    other: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Story:
    """A group of articles about one event, with a stable id across days.

    ``terms`` are the terms its members share most (why they are together); ``links`` explain
    individual members (the stage that changes a story returns links for the articles it added);
    ``changes`` are the splits and merges that happened to it in this grouping run.
    """

    id: str
    article_ids: tuple[str, ...]
    first_seen: dt.datetime
    last_updated: dt.datetime
    title: str = ""
    terms: tuple[str, ...] = ()
    links: tuple[StoryLink, ...] = ()
    changes: tuple[StoryChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence printed by a source, with where it came from."""

    text: str
    article_id: str
    outlet: str
    url: str
    position: int = 0


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One earlier day of a developing story, told by one sentence a report of that day printed."""

    day: dt.date
    sentence: Sentence


@dataclass(frozen=True, slots=True)
class Summary:
    """The extractive summary of one story.

    For a developing story the sentences lead with what is new since ``since`` (the previous
    edition), and ``timeline`` tells its earlier days, newest first. ``headline_id`` is the
    article whose title (or first sentence) the headline is; empty for a label ("From ...").
    """

    story_id: str
    headline: str
    sentences: tuple[Sentence, ...]
    outlets: tuple[str, ...]
    timeline: tuple[TimelineEntry, ...] = ()
    headline_id: str = ""
