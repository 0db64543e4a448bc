"""The brief as readers see it: the render boundary's defence in depth.

Whatever was stored, every text field is one clean line cut to its displayed length, and the
failed sources are named only ("unavailable", the reasons are the operator's). Ingest cleans
and caps text as it is stored; this is applied again where a brief is rendered.
"""

from __future__ import annotations

import dataclasses

from briefs.models import Article, Brief, BriefStory, Sentence
from briefs.text import clean_line

__all__ = [
    "FAILED_SHOWN",
    "MAX_NAME_CHARS",
    "MAX_SENTENCE_CHARS",
    "MAX_TITLE_CHARS",
    "UNAVAILABLE",
    "display_brief",
    "display_story",
    "failed_more",
]

# Displayed lengths (characters), whatever was stored: a headline or title, an outlet or author
# name, a summary sentence. Longer text is cut with an ellipsis where it is rendered.
MAX_TITLE_CHARS = 300
MAX_NAME_CHARS = 80
MAX_SENTENCE_CHARS = 1000
# The public "Sources that failed" note names this many sources, then "and N more"; readers see
# "unavailable", the operator the reasons (run report, `briefs status`, the log).
FAILED_SHOWN = 10
UNAVAILABLE = "unavailable"


def _article(a: Article) -> Article:
    return dataclasses.replace(
        a,
        title=clean_line(a.title, MAX_TITLE_CHARS),
        outlet=clean_line(a.outlet, MAX_NAME_CHARS),
        author=clean_line(a.author, MAX_NAME_CHARS),
    )


def _sentence(s: Sentence) -> Sentence:
    return dataclasses.replace(
        s,
        text=clean_line(s.text, MAX_SENTENCE_CHARS),
        outlet=clean_line(s.outlet, MAX_NAME_CHARS),
    )


def display_story(item: BriefStory) -> BriefStory:
    """One story as readers see it (see :func:`display_brief`)."""
    summary = item.summary
    summary = dataclasses.replace(
        summary,
        headline=clean_line(summary.headline, MAX_TITLE_CHARS),
        sentences=tuple(_sentence(s) for s in summary.sentences),
        timeline=tuple(
            dataclasses.replace(e, sentence=_sentence(e.sentence)) for e in summary.timeline
        ),
        outlets=tuple(clean_line(o, MAX_NAME_CHARS) for o in summary.outlets),
    )
    story = dataclasses.replace(item.story, title=clean_line(item.story.title, MAX_TITLE_CHARS))
    return dataclasses.replace(
        item,
        story=story,
        summary=summary,
        articles=tuple(_article(a) for a in item.articles),
        section=clean_line(item.section, MAX_NAME_CHARS),
    )


def display_brief(brief: Brief) -> Brief:
    """The brief as readers see it, whatever was stored: text fields one clean line each and cut
    to their displayed length, and the failed sources by name only ("unavailable", at most
    :data:`FAILED_SHOWN` of them; :func:`failed_more` counts the rest).

    Defence in depth at the render boundary (ingest cleans and caps text as it is stored).
    """
    names = list(dict.fromkeys(clean_line(n, MAX_NAME_CHARS) for n, _ in brief.failed_sources))
    return dataclasses.replace(
        brief,
        title=clean_line(brief.title, MAX_TITLE_CHARS),
        stories=tuple(display_story(s) for s in brief.stories),
        failed_sources=tuple((name, UNAVAILABLE) for name in names[:FAILED_SHOWN]),
    )


def failed_more(brief: Brief) -> int:
    """How many failed sources the public note leaves out ("and N more")."""
    names = {clean_line(name, MAX_NAME_CHARS) for name, _ in brief.failed_sources}
    return max(0, len(names) - FAILED_SHOWN)
