"""Story -> Summary: extractive, multi-document, every sentence attributed to its source.

The stage is :func:`summarize_story`; :func:`summarize_sentences` takes articles already split
into sentences (the evaluation harness uses it with a data set's own sentences). Pure: no I/O.

Sentence cleaning (:mod:`.clean`) is light and imported at once (rendering uses
:func:`is_title`); scoring and summarizing pull in sumy, NumPy and SciPy, so they are imported
when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from briefs.summarize.clean import (
    clean_sentence,
    is_title,
    refers_back,
    rejection,
    strip_dateline,
)

if TYPE_CHECKING:
    from briefs.summarize.score import METHODS, check_method, score_sentences, sentence_terms
    from briefs.summarize.story import (
        Tuning,
        story_headline,
        summarize_sentences,
        summarize_shared,
        summarize_story,
    )

__all__ = [
    "METHODS",
    "Tuning",
    "check_method",
    "clean_sentence",
    "is_title",
    "refers_back",
    "rejection",
    "score_sentences",
    "sentence_terms",
    "story_headline",
    "strip_dateline",
    "summarize_sentences",
    "summarize_shared",
    "summarize_story",
]

_LAZY = {
    "METHODS": "score",
    "check_method": "score",
    "score_sentences": "score",
    "sentence_terms": "score",
    "Tuning": "story",
    "summarize_sentences": "story",
    "summarize_story": "story",
    "summarize_shared": "story",
    "story_headline": "story",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"briefs.summarize.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'briefs.summarize' has no attribute {name!r}")
