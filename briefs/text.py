"""Sentence splitting and word tokenizing that work offline.

:func:`tokens` is the shared index-term tokenizer (lowercased, stop words dropped, stemmed) used
by the grouping and summarizing stages; :func:`raw_tokens` gives the surface words with their
offsets. Scripts written without spaces between words (Chinese, Japanese, Korean, Thai, ...) are
cut into overlapping character bigrams, the usual indexing unit for them, so a CJK sentence never
becomes one giant "word".

sumy's stock English tokenizer needs NLTK's ``punkt_tab`` data, which is a download. nupunkt ships
its Punkt model on PyPI and handles abbreviations ("U.S.", "Mr.", "Jan. 5", "3 p.m."); NLTK's
``NLTKWordTokenizer`` splits words with no data. :class:`Tokenizer` has the two methods sumy asks
of a tokenizer (``to_sentences`` and ``to_words``), so sumy's parsers and summarizers accept it.

Stems come from PyStemmer (the Snowball project's own English stemmer, in C). NLTK (over a
second to import: it pulls in SciPy) is imported only when :func:`words` is first called, so a
run that polls and finds nothing new never loads it.
"""

from __future__ import annotations

import functools
import pkgutil
import re
import unicodedata
from typing import Any

import nupunkt
import regex
import Stemmer

__all__ = [
    "BIDI_CONTROLS",
    "CONTROL_CHARS",
    "STOP_WORDS",
    "Tokenizer",
    "clean_line",
    "counted",
    "is_unspaced",
    "normalize_space",
    "raw_tokens",
    "shorten",
    "split_paragraphs",
    "split_sentences",
    "stem",
    "strip_controls",
    "tokens",
    "words",
]


def _sumy_stop_words(language: str) -> frozenset[str]:
    """sumy's stop-word list, read as ``sumy.utils.get_stop_words`` does (it imports requests)."""
    data = pkgutil.get_data("sumy", f"data/stopwords/{language}.txt") or b""
    return frozenset(w.rstrip() for w in data.decode("utf-8").splitlines() if w)


STOP_WORDS = _sumy_stop_words("english")
_STEMMER = Stemmer.Stemmer("english")
# NLTK's English stemmer reads curly quotes as an apostrophe (its stem of "it\u2019s" is "it");
# Snowball's C stemmer treats only ASCII ' as one.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201b": "'"})
# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, kana, CJK ideographs
# (with extensions and compatibility forms), Hangul syllables.
_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff"
)
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")
_RAW_TOKEN = re.compile(
    f"(?P<cjk>[{_UNSPACED}]+)"
    f"|(?P<word>(?:(?![{_UNSPACED}])[^\\W\\d_])(?:(?![{_UNSPACED}])[\\w'’-])*)"
    r"|(?P<num>\d[\d.,]*)",
    re.UNICODE,
)

# For each of NLTK's word-tokenizer patterns, characters at least one of which any match
# contains; a pattern whose characters are absent from the text cannot change it and is
# skipped. A pattern not listed here always runs.
_TRIGGERS: dict[str, str] = {
    "([«“‘„]|[`]+)": "«“‘„`",
    r"^\"": '"',
    r"(``)": "`",
    r"([ \(\[{<])(\"|\'{2})": "\"'",
    r"(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)": "'",
    r'([^\.])(\.)([\]\)}>"\'' "»”’ " r"]*+)\s*$": ".",
    r"([:,])([^\d])": ":,",
    r"([:,])$": ":,",
    r"\.{2,}": ".",
    r"[;@#$%&]": ";@#$%&",
    r"[\u2012-\u2015]": "\u2012\u2013\u2014\u2015",
    r'([^\.])(\.)([\]\)}>"\']*)\s*$': ".",
    r"[?!]": "?!",
    r"([^'])' ": "'",
    r"[*]": "*",
    r"[\]\[\(\)\{\}\<\>]": "][(){}<>",
    r"--": "-",
    "([»”’])": "»”’",
    r"''": "'",
    r'"': '"',
    r"([^' ])('[sS]|'[mM]|'[dD]|') ": "'",
    r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ": "'",
}
# (pattern, replacement, trigger characters or None, characters the replacement inserts)
_Step = tuple[Any, str, frozenset[str] | None, frozenset[str]]


def _steps(rules: Any) -> list[_Step]:
    out: list[_Step] = []
    for pattern, replacement in rules:
        compiled = regex.compile(pattern.pattern, pattern.flags)
        trigger = _TRIGGERS.get(pattern.pattern)
        inserted = frozenset(re.sub(r"\\(?:\d+|g<\w+>)", "", replacement))
        out.append((compiled, replacement, frozenset(trigger) if trigger else None, inserted))
    return out


def _contraction(pattern: re.Pattern[str]) -> tuple[re.Pattern[str], str]:
    """A contraction pattern and the lower-case word it splits (which a match contains)."""
    groups = re.findall(r"\(([^()?]+)\)", pattern.pattern)
    return pattern, "".join(groups).strip()


_Rules = tuple[list[_Step], list[_Step], list[tuple[re.Pattern[str], str]]]


@functools.cache
def _nltk_rules() -> _Rules:
    """NLTK's word-tokenizer patterns, compiled on first use (NLTK takes a second to import)."""
    from nltk.tokenize import NLTKWordTokenizer as W  # lazy: NLTK imports SciPy; see module doc

    before = [
        *_steps(W.STARTING_QUOTES),
        *_steps(W.PUNCTUATION),
        *_steps([W.PARENS_BRACKETS, W.DOUBLE_DASHES]),
    ]
    contractions = [_contraction(p) for p in (*W.CONTRACTIONS2, *W.CONTRACTIONS3)]
    return before, _steps(W.ENDING_QUOTES), contractions


def _apply(steps: list[_Step], text: str) -> str:
    # A substitution only rearranges the text's characters and adds the replacement's own:
    # ``chars`` stays a superset of the characters present, so skipping stays safe.
    chars = set(text)
    for pattern, replacement, trigger, inserted in steps:
        if trigger is not None and chars.isdisjoint(trigger):
            continue
        text = pattern.sub(replacement, text)
        chars |= inserted
    return text


def _nltk_words(text: str) -> list[str]:
    """Exactly NLTKWordTokenizer().tokenize(text), several times faster.

    NLTK runs each of its ~30 patterns through a wrapper that puts a timeout on every call
    (a guard meant for patterns a caller supplies). These are its own fixed, linear patterns:
    here they are compiled by the same ``regex`` engine with the same flags, called directly,
    and skipped when the characters any match needs are absent. tests/test_text.py checks the
    tokens against NLTK's.
    """
    before_spacing, after_spacing, contractions = _nltk_rules()
    text = " " + _apply(before_spacing, text) + " "
    text = _apply(after_spacing, text)
    lowered = text.lower()
    for pattern, word in contractions:
        if word in lowered:
            text = pattern.sub(r" \1 \2 ", text)
            lowered = text.lower()
    return text.split()


_HAS_WORD_CHAR = re.compile(r"\w")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_OPENING = "“‘«"
_CLOSING = "”’»"
_OPENS_QUOTE = re.compile(r'^(?:“|"(?=\w))')


def normalize_space(text: str) -> str:
    """Collapse runs of spaces (not newlines) and strip each line."""
    text = unicodedata.normalize("NFC", text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(lines).strip()


# -- text fit to show: the characters no stage and no output takes ----------------------------
# Ingest (briefs.ingest.clean) cleans text as it is stored with these sets, and every output
# boundary (terminal, Markdown, HTML, feeds, email) strips them again.
# C0 controls but tab and newline, DEL and the C1 controls (ESC, CSI and NEL start terminal
# escapes and line breaks).
CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates (they reorder the text around them: a link or a file
# name shown backwards, "Trojan Source"), BOMs and noncharacters. The directional marks (LRM,
# RLM, ALM) stay: they change no order outside their own character and right-to-left text
# needs them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
ELLIPSIS = "\u2026"


def strip_controls(text: str) -> str:
    """``text`` without control characters or bidi controls (tab and newline are kept).

    A carriage return is dropped (lines end with a newline); a lone surrogate becomes U+FFFD.
    """
    text = BIDI_CONTROLS.sub("", CONTROL_CHARS.sub("", text))
    return _SURROGATE.sub("\ufffd", text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word break when one is near, with an
    ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit * 4 // 5:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def counted(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the noun that agrees with it: "1 story", "2 stories", "0 stories"."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def clean_line(value: object, limit: int | None = None) -> str:
    """Text as one line fit to show: controls dropped, whitespace collapsed, at most ``limit``
    characters (with an ellipsis)."""
    line = " ".join(strip_controls(str(value)).split())
    return line if limit is None else shorten(line, limit)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by blank lines (single newlines are kept inside)."""
    blocks = re.split(r"\n\s*\n", normalize_space(text))
    return [" ".join(b.split("\n")).strip() for b in blocks if b.strip()]


def _quote_open(text: str) -> bool:
    """Whether a double quotation opened in ``text`` is still open at its end."""
    straight = text.count('"') % 2 == 1
    curly = text.count("“") > text.count("”")
    return straight or curly


# A clock time's "a.m."/"p.m." (its full stop doubles as the sentence's) and the word after it.
_CLOCK = re.compile(
    r"\b\d{1,2}(?:[:.]\d{2})?\s?[aApP]\.[mM]\.\s+(?=([\"“‘']?)([A-Z][\w.]*)(\s+\w+)?)"
)
# What follows a clock time inside its sentence: a day or month ("9 a.m. Tuesday", "a.m. Jan.
# 5"), a time zone ("a.m. Eastern", "a.m. ET", "a.m. Beijing time"). Any other capitalized word
# after "a.m." starts a sentence ("at 7:15 a.m. Islanders will travel free"): Punkt splits only
# before words it has seen start sentences, and pysbd before every capital.
_CLOCK_WORDS = """monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december jan feb mar apr jun
    jul aug sep sept oct nov dec eastern central mountain pacific atlantic"""
_CLOCK_GOES_ON = frozenset(_CLOCK_WORDS.split())


def _clock_splits(piece: str) -> list[str]:
    """``piece`` split after each clock time that ends a sentence (see ``_CLOCK_GOES_ON``)."""
    out: list[str] = []
    start = 0
    for match in _CLOCK.finditer(piece):
        quote, word, after = match.group(1), match.group(2), match.group(3) or ""
        bare = word.rstrip(".")
        if quote == "" and (
            bare.lower() in _CLOCK_GOES_ON
            or (bare.isupper() and 2 <= len(bare) <= 5)  # a zone code: ET, GMT, AEST
            or after.strip().lower() == "time"
        ):
            continue
        out.append(piece[start : match.end()].strip())
        start = match.end()
    out.append(piece[start:].strip())
    return [p for p in out if p]


@functools.lru_cache(maxsize=4096)
def _split_paragraph(paragraph: str) -> tuple[str, ...]:
    pieces = [
        c
        for s in map(str, nupunkt.sent_tokenize(paragraph))
        if s.strip()
        for c in _clock_splits(s.strip())
    ]
    # Punkt splits inside quotations ("It was late. We left," she said.); a sentence inside a
    # quotation belongs to the sentence that carries the quote, so rejoin until quotes balance.
    # A piece that opens a new quotation ends the previous one: quotes that run over several
    # paragraphs leave each paragraph's quotation open ("A. "B." he said.), and joining them
    # would swallow the rest of the paragraph.
    merged: list[str] = []
    for piece in pieces:
        if merged and _quote_open(merged[-1]) and not _OPENS_QUOTE.match(piece):
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
    return [w for w in _nltk_words(sentence) if _HAS_WORD_CHAR.search(w)]


class Tokenizer:
    """A sumy-compatible tokenizer that needs no downloaded data."""

    language = "english"

    def to_sentences(self, text: str) -> tuple[str, ...]:
        """Split a paragraph or document into sentences."""
        return tuple(split_sentences(text))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Split a sentence into word tokens."""
        return tuple(words(sentence))


def is_unspaced(token: str) -> bool:
    """Whether a token comes from a script written without spaces (a character n-gram)."""
    return bool(_UNSPACED_RE.match(token))


def raw_tokens(text: str) -> list[tuple[str, int]]:
    """Surface tokens of a text with their start offsets, in text order.

    Words (letters, inner apostrophes and hyphens), numbers ("2,300", "5.8") and, for unspaced
    scripts, overlapping character bigrams (a lone character stays a unigram). Case is kept.
    """
    out: list[tuple[str, int]] = []
    for match in _RAW_TOKEN.finditer(text):
        run = match.group("cjk")
        start = match.start()
        if run is None:
            out.append((match.group(), start))
        elif len(run) == 1:
            out.append((run, start))
        else:
            out.extend((run[i : i + 2], start + i) for i in range(len(run) - 1))
    return out


@functools.lru_cache(maxsize=262_144)
def stem(word: str) -> str:
    """The English Snowball stem of a lowercased word (cached; unspaced-script tokens unchanged).

    Snowball's current English algorithm, which NLTK's copy predates: the two agree on all but
    0.07 % of the distinct words of the shared news texts, where Snowball now keeps apart words
    NLTK conflates ("university"/"universal", "organic"/"organ", "evening"/"even", "added"/"ad").
    """
    if is_unspaced(word):
        return word
    return str(_STEMMER.stemWord(word.lower().translate(_APOSTROPHES)))


def tokens(text: str) -> list[str]:
    """Index terms of a text: lowercased, English stop words and 1-letter words dropped, stemmed.

    Numbers are kept as written ("2,300"); unspaced scripts give character bigrams.
    """
    out: list[str] = []
    for raw, _ in raw_tokens(text):
        if is_unspaced(raw):
            out.append(raw)
            continue
        word = raw.lower().strip("'’-")
        if len(word) < 2 or word in STOP_WORDS:
            continue
        out.append(stem(word))
    return out
