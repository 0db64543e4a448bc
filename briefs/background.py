"""Background word statistics: how common a term is in general text, per language.

Grouping weighs terms by how surprising they are (inverse document frequency). Counting document
frequencies in the stream being grouped has a cold start (the first articles of a day have no
statistics) and lets a burst of one story make its own words look common. A background table
from a large general corpus has neither problem. The table used here is wordfreq's (Apache-2.0
code, CC-BY-SA-4.0 data built from Wikipedia, subtitles, news, books and web text in 40+
languages), installed as a package dependency and read from the package: nothing is downloaded,
and no data derived from any evaluation set is shipped.

A word frequency ``f`` (share of running words) becomes a document probability for a short text
of ``DOC_WORDS`` words under a Poisson model, ``p = 1 - exp(-f * DOC_WORDS)``, and the weight is
``idf = -ln p``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections.abc import Iterable, Mapping

from briefs.text import is_unspaced, stem

__all__ = ["DOC_WORDS", "LATIN_LANGUAGES", "background_idf", "guess_language", "idf_cap"]

log = logging.getLogger(__name__)

# Words in a title plus a feed teaser (the unit grouping compares).
DOC_WORDS = 40.0
# Frequency assumed for a word the background has never seen (names, rare terms): rarer than
# almost every listed word, so it weighs near the cap.
UNSEEN_FREQUENCY = 1e-8
# Words rarer than this are not folded into the per-stem table (they barely change its sums).
_STEM_TABLE_MIN = 1e-7
# Languages written in Latin script that language guessing chooses between.
LATIN_LANGUAGES = ("en", "ms", "id", "fr", "de", "es", "it", "pt", "nl")
_NUMBER = re.compile(r"^\d[\d.,]*$")
LANGUAGE_SAMPLE = 40  # words enough to tell languages apart
GUESS_WORDS = 10000  # most common words per language kept for guessing


def idf_cap() -> float:
    """The largest weight a term can get (that of a word the background never saw)."""
    return _idf(UNSEEN_FREQUENCY)


def _idf(frequency: float) -> float:
    p = -math.expm1(-max(frequency, UNSEEN_FREQUENCY) * DOC_WORDS)
    return -math.log(p)


@functools.lru_cache(maxsize=4)
def _wordlist(lang: str) -> Mapping[str, float]:
    """wordfreq's "small" list (words down to about 1 in a million; rarer ones count as
    unseen): a few MB per language, loaded on first use; at most four kept at once."""
    try:
        import wordfreq

        table: Mapping[str, float] = wordfreq.get_frequency_dict(lang, "small")
        return table
    except (ImportError, LookupError, OSError) as exc:  # optional data: degrade, do not fail
        log.warning("no background word frequencies for %r (%s); using stream only", lang, exc)
        return {}


@functools.cache
def _stem_table(lang: str) -> Mapping[str, float]:
    """Summed frequency of all listed words per English stem (stems are what grouping keys on)."""
    table: dict[str, float] = {}
    for word, freq in _wordlist(lang).items():
        if freq < _STEM_TABLE_MIN:
            break  # wordfreq lists are sorted by decreasing frequency
        key = stem(word)
        table[key] = table.get(key, 0.0) + freq
    return table


@functools.lru_cache(maxsize=65_536)
def _number_frequency(number: str) -> float:
    """How common a number is, by wordfreq's model for digits (digit shape, first-digit law,
    years), on the small English list."""
    try:
        import wordfreq

        return float(wordfreq.word_frequency(number, "en", wordlist="small"))
    except (ImportError, LookupError, ValueError):
        return 1e-6


def background_idf(term: str, surface: str, lang: str) -> float:
    """Background weight of a term (``term``: the stem; ``surface``: a lowercased form of it).

    English terms use frequencies summed over the words sharing the stem; other languages use
    the surface word; character bigrams of unspaced scripts use the bigram as a word.
    """
    if _NUMBER.match(surface):
        return _idf(_number_frequency(surface))
    if is_unspaced(surface):
        return _idf(_wordlist(lang if lang in ("zh", "ja", "ko", "th") else "zh").get(surface, 0.0))
    freq = _stem_table("en").get(term, 0.0) if lang == "en" else 0.0
    if not freq:
        freq = _wordlist(lang).get(surface, 0.0) if lang else 0.0
    return _idf(freq)


def guess_language(words: Iterable[str], declared: str = "") -> str:
    """The language of a text from its lowercased words (or the declared one, e.g. "en-GB").

    Unspaced scripts decide by script; Latin-script text picks the language in
    :data:`LATIN_LANGUAGES` under which its words are most probable (a unigram model over the
    background tables). Malay and Indonesian are reported as "ms" (grouping treats them alike).
    """
    primary = declared.split("-")[0].split("_")[0].lower()
    if primary:
        return "ms" if primary == "id" else primary
    items = list(words)
    if not items:
        return ""
    unspaced = [w for w in items if is_unspaced(w)]
    if len(unspaced) * 2 >= len(items):
        return _script_language(unspaced)
    latin = [w for w in items if not _NUMBER.match(w)][:LANGUAGE_SAMPLE]
    scores = [0.0] * len(LATIN_LANGUAGES)
    for word in latin:
        for i, value in enumerate(_log_probabilities(word)):
            scores[i] += value
    best = LATIN_LANGUAGES[max(range(len(scores)), key=lambda i: (scores[i], -i))]
    return "ms" if best == "id" else best


@functools.cache
def _guess_table(lang: str) -> dict[str, float]:
    """The most common words of a language, enough to tell languages apart.

    Read straight from the packaged list: wordfreq's own loaders keep every list they have
    read, and nine full lists would cost tens of MB for a few thousand words each.
    """
    try:
        import wordfreq

        pack = wordfreq.read_cBpack(str(wordfreq.DATA_PATH / f"small_{lang}.msgpack.gz"))
    except (ImportError, AttributeError, OSError, ValueError):
        return dict(itertools.islice(_wordlist(lang).items(), GUESS_WORDS))
    table: dict[str, float] = {}
    for index, bucket in enumerate(pack):  # bucket i holds the words at -i centibels
        for word in bucket:
            table[word] = 10.0 ** (-index / 100.0)
            if len(table) >= GUESS_WORDS:
                return table
    return table


@functools.lru_cache(maxsize=131_072)
def _log_probabilities(word: str) -> tuple[float, ...]:
    """log P(word) under each of :data:`LATIN_LANGUAGES` (unseen words: a small floor)."""
    return tuple(
        math.log(_guess_table(lang).get(word, UNSEEN_FREQUENCY)) for lang in LATIN_LANGUAGES
    )


def _script_language(chars: list[str]) -> str:
    sample = "".join(chars)
    if re.search("[\u3040-\u30ff]", sample):
        return "ja"
    if re.search("[\uac00-\ud7af]", sample):
        return "ko"
    if re.search("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]", sample):
        return "th"
    return "zh"
