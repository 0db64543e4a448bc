"""Stories -> an ordered brief: breadth of coverage, recency, growth, filters and caps. Pure.

The score of a story is

    BREADTH_WEIGHT * log(1 + distinct outlets)        syndicated copies count once
  + recency                                           halves every RECENCY_HALF_LIFE_HOURS
  + GROWTH_WEIGHT * log(1 + reports since the last edition)
  + BOOST                                             when a boost keyword matches

Logarithms because the tenth outlet on a story says less than the second. A "quiet" story (no
new report since the previous edition, kept by ``brief.nothing_new = "mark"``) ranks below every
story with news, whatever its score. Muted stories are
dropped before ranking. Then at most ``max_stories`` are kept, at most ``max_per_outlet`` of them
led by (first reported by) any one outlet, and the survivors are grouped into sections: the
configured order first, then other tags, then untagged stories; by score within a section. A
story's section is its members' majority vote: a member votes with its own categories that
name a configured section, else with its source's tags.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from briefs.config import BriefSettings
from briefs.models import Article, BriefStory, Source

__all__ = ["breadth", "keyword_pattern", "lead_outlet", "matches", "rank_key", "rank_stories"]

RECENCY_HALF_LIFE_HOURS = 12.0
BREADTH_WEIGHT = 2.0
GROWTH_WEIGHT = 0.5
BOOST = 2.0


def breadth(story: BriefStory) -> int:
    """Distinct outlets that reported the story; a syndicated copy adds nothing (at least 1)."""
    outlets = {a.outlet.casefold() for a in story.articles if not a.duplicate_of}
    return len(outlets) or 1


def lead_outlet(story: BriefStory) -> str:
    """The outlet that reported the story first (ignoring syndicated copies)."""
    originals = [a for a in story.articles if not a.duplicate_of] or list(story.articles)
    if not originals:
        return story.summary.outlets[0] if story.summary.outlets else ""
    return min(originals, key=lambda a: (a.published, a.id)).outlet


def keyword_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for keywords: whole words or phrases; ``word*`` is a prefix."""
    parts: list[str] = []
    for word in words:
        word = word.strip()
        prefix = word.endswith("*")
        tokens = word.rstrip("*").split()
        if not tokens:
            continue
        body = r"\s+".join(re.escape(t) for t in tokens)
        parts.append(rf"(?<!\w){body}" + ("" if prefix else r"(?!\w)"))
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def matches(story: BriefStory, pattern: re.Pattern[str] | None) -> bool:
    """Whether the keyword pattern occurs in the story's headline or any member's title or text."""
    if pattern is None:
        return False
    texts = [story.summary.headline]
    for article in story.articles:
        texts += [article.title, article.text]
    return any(pattern.search(t) for t in texts if t)


def _section_key(name: str) -> str:
    """A tag and a section match ignoring case and a plural "s": "Sports" is "sport"."""
    key = name.casefold().strip()
    return key[:-1] if len(key) > 3 and key.endswith("s") and not key.endswith("ss") else key


def _article_sections(
    article: Article, source: Source | None, sections: Mapping[str, str]
) -> tuple[str, ...]:
    """The sections an article votes for: its own categories that name a configured section
    (a general outlet files its sport under "Sport"), else its source's tags."""
    own = tuple(dict.fromkeys(s for t in article.tags if (s := sections.get(_section_key(t)))))
    return own or (source.tags if source is not None else ())


def _section(story: BriefStory, sources: Mapping[str, Source], order: Sequence[str]) -> str:
    sections = {_section_key(name): name for name in order}
    tags: Counter[str] = Counter()
    for article in story.articles:
        if not article.duplicate_of:
            tags.update(_article_sections(article, sources.get(article.source_id), sections))
    if not tags:
        return ""
    rank = {name: i for i, name in enumerate(order)}
    return min(tags, key=lambda t: (-tags[t], rank.get(t, len(rank)), t))


def _score(story: BriefStory, now: dt.datetime, boosted: bool) -> float:
    age_h = max((now - story.story.last_updated).total_seconds() / 3600, 0.0)
    recency = math.pow(0.5, age_h / RECENCY_HALF_LIFE_HOURS)
    growth = math.log1p(max(story.added, 0))
    score = BREADTH_WEIGHT * math.log1p(breadth(story)) + recency + GROWTH_WEIGHT * growth
    return score + (BOOST if boosted else 0.0)


def rank_key(story: BriefStory) -> tuple[bool, float, str]:
    """Sort key of the ranking: stories with news first, then by score, then by id."""
    return (story.status == "quiet", -story.score, story.story.id)


def rank_stories(
    stories: Sequence[BriefStory],
    settings: BriefSettings,
    sources: Mapping[str, Source],
    now: dt.datetime,
) -> list[BriefStory]:
    """Score, filter and order stories; cap the total and the stories led by one outlet."""
    mute = keyword_pattern(settings.mute)
    boost = keyword_pattern(settings.boost)
    scored = [
        dataclasses.replace(
            story,
            score=_score(story, now, matches(story, boost)),
            section=_section(story, sources, settings.sections),
        )
        for story in stories
        if not matches(story, mute)
    ]
    scored.sort(key=rank_key)
    per_outlet: Counter[str] = Counter()
    picked: list[BriefStory] = []
    for story in scored:
        if len(picked) >= settings.max_stories:
            break
        lead = lead_outlet(story).casefold()
        if lead and per_outlet[lead] >= settings.max_per_outlet:
            continue
        per_outlet[lead] += 1
        picked.append(story)
    return _by_section(picked, settings.sections)


def _by_section(stories: list[BriefStory], order: Sequence[str]) -> list[BriefStory]:
    """Group into sections (configured order, then other tags by their best story, untagged
    last), keeping the score order within each."""
    rank = {name: i for i, name in enumerate(order)}
    first_seen: dict[str, int] = {}
    for i, story in enumerate(stories):
        first_seen.setdefault(story.section, i)

    def key(item: tuple[int, BriefStory]) -> tuple[int, int, int]:
        i, story = item
        if story.section in rank:
            return (0, rank[story.section], i)
        if story.section:
            return (1, first_seen[story.section], i)
        return (2, 0, i)

    return [s for _, s in sorted(enumerate(stories), key=key)]
