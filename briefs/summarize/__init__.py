"""Story -> Summary: extractive, multi-document, every sentence attributed to its source.

The stage is :func:`summarize_story`; :func:`summarize_sentences` takes articles already split
into sentences (the evaluation harness uses it with a data set's own sentences). Pure: no I/O.
"""

from __future__ import annotations

from briefs.summarize.clean import clean_sentence, rejection, strip_dateline
from briefs.summarize.score import METHODS, check_method, score_sentences, sentence_terms
from briefs.summarize.story import Tuning, summarize_sentences, summarize_story

__all__ = [
    "METHODS",
    "Tuning",
    "check_method",
    "clean_sentence",
    "rejection",
    "score_sentences",
    "sentence_terms",
    "strip_dateline",
    "summarize_sentences",
    "summarize_story",
]
