"""Sentence splitting and word tokenizing that work offline.

sumy's stock English tokenizer needs NLTK's ``punkt_tab`` data, which is a download. nupunkt ships
its Punkt model on PyPI and handles abbreviations ("U.S.", "Mr.", "Jan. 5", "3 p.m."); NLTK's
``NLTKWordTokenizer`` splits words with no data. :class:`Tokenizer` has the two methods sumy asks
of a tokenizer (``to_sentences`` and ``to_words``), so sumy's parsers and summarizers accept it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import nupunkt
from nltk.tokenize import NLTKWordTokenizer

__all__ = ["Tokenizer", "normalize_space", "split_paragraphs", "split_sentences", "words"]

_WORD = NLTKWordTokenizer()
_HAS_WORD_CHAR = re.compile(r"\w")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_OPENING = "“‘«"
_CLOSING = "”’»"


def normalize_space(text: str) -> str:
    """Collapse runs of spaces (not newlines) and strip each line."""
    text = unicodedata.normalize("NFC", text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(lines).strip()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by blank lines (single newlines are kept inside)."""
    blocks = re.split(r"\n\s*\n", normalize_space(text))
    return [" ".join(b.split("\n")).strip() for b in blocks if b.strip()]


def _quote_open(text: str) -> bool:
    """Whether a double quotation opened in ``text`` is still open at its end."""
    straight = text.count('"') % 2 == 1
    curly = text.count("“") > text.count("”")
    return straight or curly


@functools.lru_cache(maxsize=4096)
def _split_paragraph(paragraph: str) -> tuple[str, ...]:
    pieces = [s.strip() for s in map(str, nupunkt.sent_tokenize(paragraph)) if s.strip()]
    # Punkt splits inside quotations ("It was late. We left," she said.); a sentence inside a
    # quotation belongs to the sentence that carries the quote, so rejoin until quotes balance.
    merged: list[str] = []
    for piece in pieces:
        if merged and _quote_open(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return tuple(merged)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, paragraph by paragraph; a paragraph break always ends a sentence."""
    out: list[str] = []
    for paragraph in split_paragraphs(text):
        out.extend(_split_paragraph(paragraph))
    return out


def words(sentence: str) -> list[str]:
    """Word tokens of one sentence (punctuation-only tokens dropped)."""
    return [w for w in _WORD.tokenize(sentence) if _HAS_WORD_CHAR.search(w)]


class Tokenizer:
    """A sumy-compatible tokenizer that needs no downloaded data."""

    language = "english"

    def to_sentences(self, text: str) -> tuple[str, ...]:
        """Split a paragraph or document into sentences."""
        return tuple(split_sentences(text))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Split a sentence into word tokens."""
        return tuple(words(sentence))
