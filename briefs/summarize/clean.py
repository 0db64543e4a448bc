"""Which sentences are worth quoting: datelines stripped, boilerplate and fragments dropped.

A brief quotes sources verbatim, so a candidate sentence is either kept as printed (minus a
leading dateline such as ``LONDON (Reuters) -``) or dropped. Dropped: bylines, photo captions,
"Read more" links, newsletter and subscription prompts, copyright lines, fragments (too short, no
closing punctuation, a piece of a quotation split across paragraphs), text in capitals, and
sentences over a length cap (usually two sentences the splitter could not separate).
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_SENTENCE_WORDS",
    "MIN_SENTENCE_WORDS",
    "clean_sentence",
    "rejection",
    "strip_dateline",
]

MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_WORDS = 60
_CAPS_SHARE = 0.7
_CAPS_MIN_LETTERS = 8

_SEPARATOR = r"(?:--|—|–|-|:)"
# "(Meridian Wire) --", "(AP) —"
_AGENCY_DATELINE = re.compile(rf"^\(\s*[^()\n]{{2,60}}\)\s*{_SEPARATOR}\s*")
# "LONDON (Reuters) -", "CALDER BAY —", "SINGAPORE:", "TOKYO/LONDON:", "CAIRO :",
# "WASHINGTON, March 3 (AP) --": a place in capitals, an optional date and agency, a separator.
_PLACE_DATELINE = re.compile(
    r"^[A-Z][A-Z.'’/&]*(?:[ -][A-Z][A-Z.'’/&]*){0,4}"
    r"(?:,\s*[A-Z][A-Za-z.]*(?:\s+[A-Z][A-Za-z.]*)?)?"
    r"(?:,?\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"
    r"\s*(?:\(\s*[^()\n]{2,60}\))?"
    rf"\s*{_SEPARATOR}\s+(?=\S)"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "byline",
        re.compile(
            r"^(?i:(?:written|words|text|reporting|additional reporting|compiled)\s+)?(?i:by)\s+"
            r"[A-Z][\w'’-]*\.?(?:\s+(?:[A-Z][\w'’-]*\.?|and|&|de|van|von|al|bin))*"
            r"\s*(?:$|[,|;/—–-]\s*[^.!?]{0,60}$)"
        ),
    ),
    (
        "byline",
        re.compile(r"^\(?\s*(?:additional\s+)?reporting by\b.*(?:editing|writing) by\b", re.I),
    ),
    (
        "caption",
        re.compile(
            r"^\(?\s*(?:photo|photos|photograph|picture|pictured|image|caption|file photo|video|"
            r"watch|listen|graphic)\s*(?:[:|]|\(|\bcredit\b)",
            re.IGNORECASE,
        ),
    ),
    ("caption", re.compile(r"(?:/|\|)\s*(?:getty images|afp|reuters|ap|epa|pa)\W*$", re.I)),
    (
        "read-more",
        re.compile(
            r"^(?:read more|read also|also read|more on this|see also"
            r"|related(?: coverage| stories)?"
            r"|recommended|more:|latest:|click here|tap here|follow us|share this|advertisement"
            r"|download (?:our|the) app)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "newsletter",
        re.compile(
            r"\b(?:sign(?:\s|-)?up|subscribe|register)\b.{0,80}"
            r"\b(?:newsletter|inbox|briefing|alerts?|updates|email)\b",
            re.IGNORECASE,
        ),
    ),
    ("newsletter", re.compile(r"^(?:get|join)\s+(?:our|the)\b.{0,40}\bnewsletter\b", re.I)),
    (
        "copyright",
        re.compile(
            r"©|^copyright\b|\(c\)\s*\d{4}|\bcopyright\s+\d{4}|\ball rights reserved\b", re.I
        ),
    ),
)

_CLOSING_PUNCT = re.compile(r"[.!?…。！？][\"'”’)\]」』]*$|[\"”’][.!?]?$")
_TAIL = 12  # closing punctuation is looked for in the last characters only
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LOWER = bytes(range(ord("a"), ord("z") + 1))
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Translation tables that delete the upper- and lower-case letters of the Basic Multilingual
# Plane: counting what they remove counts cased letters in C (scripts without case count as
# neither, so Chinese is never "capitals").
_UPPER = dict.fromkeys(i for i in range(0x10000) if chr(i).isupper())
_LOWER = dict.fromkeys(i for i in range(0x10000) if chr(i).islower())


def strip_dateline(text: str) -> str:
    """The sentence without a leading dateline (``(Meridian Wire) --``, ``LONDON (Reuters) -``)."""
    stripped = text.strip()
    for pattern in (_AGENCY_DATELINE, _PLACE_DATELINE):
        match = pattern.match(stripped)
        if match:
            rest = stripped[match.end() :]
            # Keep the dateline when what follows is not a sentence (the "place" was a word).
            if rest[:1].isupper() or rest[:1] in "\"“‘'(0123456789":
                return rest
    return stripped


_STRAIGHT_OPENS = re.compile(r'(?:^|(?<=[\s(\[—–-]))"(?=\S)')


def _starts_inside_quote(text: str) -> bool:
    """Whether the sentence closes a quotation it did not open (a piece split off a quote).

    A sentence that opens a quotation and leaves it open is whole: quotations that run over
    several sentences or paragraphs close only at their end. Straight quotes open when they
    follow a space or the start and precede a non-space; curly ones say which they are.
    """
    depth = 0
    for match in re.finditer(r'["“”]', text):
        mark = match.group()
        opening = mark == "“" or (mark == '"' and _STRAIGHT_OPENS.match(text, match.start()))
        if opening:
            depth += 1
        elif depth == 0:
            return True
        else:
            depth -= 1
    return False


def rejection(text: str) -> str | None:
    """Why a (dateline-stripped) sentence is not worth quoting, or None when it is."""
    stripped = text.strip()
    for reason, pattern in _RULES:
        if pattern.search(stripped):
            return reason
    # Scripts written without spaces (Chinese, Japanese) count about two characters a word.
    ascii_only = stripped.isascii()
    n_words = len(stripped.split())
    if not ascii_only:
        n_words += len(_CJK.findall(stripped)) // 2
    if n_words < MIN_SENTENCE_WORDS:
        return "fragment"
    if n_words > MAX_SENTENCE_WORDS:
        return "too-long"
    if not _CLOSING_PUNCT.search(stripped[-_TAIL:]):
        return "fragment"
    first = stripped.split(None, 1)[0]
    if first.isalpha() and first.islower():
        return "fragment"  # starts mid-sentence: a bad split
    if _starts_inside_quote(stripped):
        return "fragment"  # the end of a quotation split from its start
    if ascii_only:
        raw = stripped.encode("ascii")
        upper = len(raw) - len(raw.translate(None, _ASCII_UPPER))
        cased = upper + len(raw) - len(raw.translate(None, _ASCII_LOWER))
    else:
        upper = len(stripped) - len(stripped.translate(_UPPER))
        cased = upper + len(stripped) - len(stripped.translate(_LOWER))
    if cased >= _CAPS_MIN_LETTERS and upper > _CAPS_SHARE * cased:
        return "all-caps"
    return None


def clean_sentence(text: str) -> str | None:
    """The sentence as it will be quoted (dateline stripped), or None if it should be dropped."""
    stripped = strip_dateline(text)
    return None if rejection(stripped) is not None else stripped
