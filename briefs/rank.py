"""Stories -> an ordered brief: breadth of coverage, recency, growth, filters and caps. Pure."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence

from briefs.config import BriefSettings
from briefs.models import BriefStory, Source

__all__ = ["rank_stories"]

RECENCY_HALF_LIFE_HOURS = 12.0


def _matches(story: BriefStory, words: Sequence[str]) -> bool:
    if not words:
        return False
    haystack = " ".join(
        [
            story.summary.headline,
            *(a.title for a in story.articles),
            *(a.text for a in story.articles),
        ]
    ).lower()
    return any(w.lower() in haystack for w in words if w.strip())


def _section(story: BriefStory, sources: dict[str, Source], order: Sequence[str]) -> str:
    tags: Counter[str] = Counter()
    for article in story.articles:
        src = sources.get(article.source_id)
        if src:
            tags.update(src.tags)
    if not tags:
        return ""
    ranked = sorted(
        tags.items(), key=lambda kv: (-kv[1], order.index(kv[0]) if kv[0] in order else len(order))
    )
    return ranked[0][0]


def rank_stories(
    stories: Sequence[BriefStory],
    settings: BriefSettings,
    sources: dict[str, Source],
    now: dt.datetime,
) -> list[BriefStory]:
    """Score, filter and order stories; cap the total and the stories led by one outlet."""
    scored: list[BriefStory] = []
    for story in stories:
        if _matches(story, settings.mute):
            continue
        reports = {a.outlet for a in story.articles if not a.duplicate_of}
        breadth = len(reports) or 1
        age_h = max((now - story.story.last_updated).total_seconds() / 3600, 0.0)
        recency = 0.5 ** (age_h / RECENCY_HALF_LIFE_HOURS)
        growth = math.log1p(story.added) if story.status == "developing" else 0.0
        score = math.log1p(breadth) * 2 + recency + 0.5 * growth
        if _matches(story, settings.boost):
            score += 2.0
        section = _section(story, sources, settings.sections)
        scored.append(dataclasses.replace(story, score=score, section=section))
    scored.sort(key=lambda s: (-s.score, s.story.id))
    per_outlet: Counter[str] = Counter()
    picked: list[BriefStory] = []
    for story in scored:
        if len(picked) >= settings.max_stories:
            break
        lead = story.summary.outlets[0] if story.summary.outlets else ""
        if lead and per_outlet[lead] >= settings.max_per_outlet:
            continue
        per_outlet[lead] += 1
        picked.append(story)
    if settings.sections:
        order = {name: i for i, name in enumerate(settings.sections)}
        picked.sort(key=lambda s: order.get(s.section, len(order)))
    return picked
