"""Story ids: stable across runs, and what a split or merge keeps.

A story's id is a hash of the article that first reported it (:func:`story_id`), so the same
articles grouped again give the same ids. When the window is re-clustered
(:mod:`briefs.group.recluster`), new clusters and old stories are paired by :func:`pair_owners`:
most of the story's articles from before this run first, then most articles in common, then the
older story; each at most once. A cluster paired with a story keeps its id (a story that split
keeps its id with its larger part; stories that merged leave the id to the one that brought the
most); an unpaired cluster gets the id of its first article, or another if that is taken
(:func:`story_id_for`). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from briefs.models import Article, Story, StoryChange, StoryLink

__all__ = ["Cluster", "pair_owners", "story_id", "story_id_for"]


@dataclass
class Cluster:
    story_id: str
    first_seen: dt.datetime
    last_updated: dt.datetime
    title: str
    lang: str
    member_ids: list[str]
    docs: list[int] = field(default_factory=list)
    links: list[StoryLink] = field(default_factory=list)
    old: Story | None = None
    changed: bool = False
    sealed: bool = False  # from an earlier round: never joined with another sealed story
    changes: list[StoryChange] = field(default_factory=list)


def story_id(first_article: Article) -> str:
    """The id of a story first reported by ``first_article``."""
    return hashlib.sha1(f"story:{first_article.id}".encode()).hexdigest()[:16]


def story_id_for(article_id: str, known: set[str]) -> str:
    """The id of a story first reported by ``article_id`` (another one if that is taken: a
    story that split off may hold the article that founded the story that kept the id)."""
    key, n = f"story:{article_id}", 0
    while True:
        sid = hashlib.sha1(key.encode()).hexdigest()[:16]
        if sid not in known:
            return sid
        n += 1
        key = f"story:{article_id}:{n}"


def pair_owners(candidates: list[tuple[int, int, dt.datetime, str, int, int]]) -> dict[int, int]:
    """Which old story each new cluster keeps the id of: ``group -> old cluster``.

    ``candidates`` are ``(-articles of the story from before this run in the cluster, -all its
    articles in the cluster, the story's first time, its id, cluster, story)``; the best pairs
    are taken first, each cluster and each story at most once.
    """
    owner: dict[int, int] = {}
    taken: set[int] = set()
    for *_, g, c in sorted(candidates):
        if g not in owner and c not in taken:
            owner[g] = c
            taken.add(c)
    return owner
