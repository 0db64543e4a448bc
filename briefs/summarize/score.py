"""Sentence scores by name: sumy's algorithms, on terms tokenized the way sumy does.

LexRank and TextRank run as sparse-matrix versions that reproduce sumy's scores
(:mod:`briefs.summarize.graph`); Luhn, LSA, SumBasic and Edmundson run sumy's own classes,
whose ratings are read through the one hook every sumy summarizer calls
(``_get_best_sentences``), so they are sumy's numbers, not a reimplementation.
"""

from __future__ import annotations

import functools
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Paragraph
from sumy.models.dom import Sentence as SumySentence
from sumy.nlp.tokenizers import Tokenizer as SumyBaseTokenizer
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer

from briefs import text as text_module
from briefs.errors import ConfigError
from briefs.summarize.graph import FloatArray, lexrank, textrank
from briefs.summarize.methods import SUMMARY_METHODS
from briefs.text import Tokenizer, words

__all__ = [
    "METHODS",
    "ScoringInput",
    "SumyTokenizer",
    "check_method",
    "score_sentences",
    "sentence_terms",
]

LANGUAGE = "english"
STOP_WORDS = text_module.STOP_WORDS  # sumy's English stop words
# sumy's Tokenizer.to_words keeps only tokens that match this (letters, inner ' and -).
_SUMY_WORD = SumyBaseTokenizer._WORD_PATTERN
# Edmundson's cue method needs "stigma" words (his were hedges that mark a sentence as minor);
# sumy ships none for English. Bonus words are the story's title words (sumy's parsers also use
# heading words as the significant words).
EDMUNDSON_STIGMA = frozenset(
    {"allegedly", "hardly", "impossible", "perhaps", "reportedly", "rumour", "rumor", "unconfirmed"}
)


# One cache for the whole process, shared with grouping (which has stemmed these words first);
# sumy's classes are handed the same stemmer, so every method scores the same terms.
_stem = text_module.stem


@functools.lru_cache(maxsize=1 << 14)
def _words(text: str) -> tuple[str, ...]:
    """sumy's idea of a sentence's words: word tokens made of letters (numbers are not words)."""
    return tuple(w for w in words(text) if _SUMY_WORD.search(w))


def sentence_terms(text: str) -> tuple[str, ...]:
    """The terms sumy scores a sentence by: words lower-cased, stop words dropped, stemmed."""
    lowered = (w.lower() for w in _words(text))
    return tuple(_stem(w) for w in lowered if w not in STOP_WORDS)


class SumyTokenizer(Tokenizer):
    """briefs' offline tokenizer with sumy's word filter, so sumy's classes see the same words."""

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Word tokens of one sentence that sumy counts as words."""
        return _words(sentence)


@dataclass(frozen=True, slots=True)
class ScoringInput:
    """What a method sees of one story: sentences in article order, grouped by article."""

    texts: Sequence[str]
    terms: Sequence[tuple[str, ...]]
    article_of: Sequence[int]
    titles: Sequence[str] = ()


class _PrecomputedTokenizer:
    """A sumy tokenizer that answers from words already computed (sumy asks again per class)."""

    language = LANGUAGE

    def to_sentences(self, text: str) -> tuple[str, ...]:
        return (text,)

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return _words(sentence)


def _document(data: ScoringInput, with_titles: bool = False) -> tuple[Any, list[Any]]:
    tokenizer = _PrecomputedTokenizer()
    sentences = [SumySentence(text, tokenizer) for text in data.texts]
    paragraphs: list[list[Any]] = []
    last = None
    for sentence, article in zip(sentences, data.article_of, strict=True):
        if article != last:
            paragraphs.append([])
            last = article
        paragraphs[-1].append(sentence)
    if with_titles and data.titles and paragraphs:
        headings = [SumySentence(t, tokenizer, is_heading=True) for t in data.titles if t]
        paragraphs[0] = headings + paragraphs[0]
    return ObjectDocumentModel([Paragraph(p) for p in paragraphs]), sentences


def _capture(cls: type[Any]) -> type[Any]:
    """A subclass of a sumy summarizer that records every sentence's rating instead of choosing."""

    class Capture(cls):  # type: ignore[misc]
        ratings: list[float]

        def _get_best_sentences(
            self, sentences: Sequence[Any], count: Any, rating: Any, *args: Any, **kwargs: Any
        ) -> tuple[Any, ...]:
            if isinstance(rating, Mapping):
                self.ratings = [float(rating[s]) for s in sentences]
            else:
                self.ratings = [float(rating(s, *args, **kwargs)) for s in sentences]
            return ()

    Capture.__name__ = f"Rating{cls.__name__}"
    return Capture


_LUHN = _capture(LuhnSummarizer)
_LSA = _capture(LsaSummarizer)
_SUMBASIC = _capture(SumBasicSummarizer)
_EDMUNDSON = _capture(EdmundsonSummarizer)


def _sumy_scores(cls: type[Any], data: ScoringInput, with_titles: bool = False) -> FloatArray:
    if not data.texts:
        return np.zeros(0)
    document, _ = _document(data, with_titles)
    summarizer = cls(_stem)
    summarizer.stop_words = STOP_WORDS
    if cls is _EDMUNDSON:
        bonus = {w.lower() for t in data.titles for w in _words(t)} - STOP_WORDS
        if not bonus:  # no title: the story's most frequent words stand in for title words
            counts = Counter(w.lower() for t in data.texts for w in _words(t))
            bonus = {w for w, _ in counts.most_common(50) if w not in STOP_WORDS} or {"news"}
        summarizer.bonus_words = bonus
        summarizer.stigma_words = EDMUNDSON_STIGMA
        summarizer.null_words = STOP_WORDS
    summarizer.ratings = [0.0] * len(data.texts)
    with warnings.catch_warnings():
        # LSA warns when a story has fewer distinct words than sentences; not an error here.
        warnings.simplefilter("ignore", UserWarning)
        summarizer(document, len(data.texts))
    return np.asarray(summarizer.ratings, dtype=np.float64)


def _lexrank(data: ScoringInput) -> FloatArray:
    return lexrank(data.terms)


def _textrank(data: ScoringInput) -> FloatArray:
    return textrank(data.terms)


def _lsa(data: ScoringInput) -> FloatArray:
    return _sumy_scores(_LSA, data)


def _luhn(data: ScoringInput) -> FloatArray:
    return _sumy_scores(_LUHN, data)


def _sumbasic(data: ScoringInput) -> FloatArray:
    return _sumy_scores(_SUMBASIC, data)


def _edmundson(data: ScoringInput) -> FloatArray:
    return _sumy_scores(_EDMUNDSON, data, with_titles=True)


# Every name of the one list (briefs.summarize.methods), scored by its ``_<name>`` above: a
# method named there without a scorer here fails at import.
METHODS: dict[str, Callable[[ScoringInput], FloatArray]] = {
    name: globals()[f"_{name}"] for name in SUMMARY_METHODS
}


def check_method(name: str) -> str:
    """The canonical method name, or a ConfigError listing the known ones."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key not in METHODS:
        raise ConfigError(f"unknown summary method {name!r} (known: {', '.join(sorted(METHODS))})")
    return key


def score_sentences(method: str, data: ScoringInput) -> FloatArray:
    """One score per sentence by the named method (higher is more important)."""
    return METHODS[check_method(method)](data)
