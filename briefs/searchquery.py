"""The search query language, read into a typed :class:`Query` (pure: no database).

What a person types, not what an engine parses: a query is never handed to a full-text engine
as it was typed, so no input can make the engine fail with its own syntax error. Each engine's
index (:mod:`briefs.store.search`) compiles a :class:`Query` into its own syntax.

- ``election results``: reports with both words (anywhere, any order);
- ``"prime minister"``: the words in this order (a phrase);
- ``elect*``: a word starting so (a prefix term; ``"prime min"*`` a phrase ending in one);
- ``floods OR storms``: either (``OR`` in capitals, between two terms);
- ``-football``: without this word (or ``-"phrase"``).

Punctuation inside a word splits it as the index does (``U.S.`` is the phrase ``U S``). A
query it cannot read (an unclosed quotation mark, ``OR`` with nothing on one side, nothing to
look for, more than :data:`MAX_QUERY_CHARS` characters) is a :class:`SearchError` whose
message says what to change.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from briefs.errors import SearchError

__all__ = ["MAX_QUERY_CHARS", "MAX_TERMS", "Query", "Term", "parse_query"]

MAX_QUERY_CHARS = 500
MAX_TERMS = 24
# A word is what the index's tokenizer keeps (letters and digits); the rest separates words.
_WORD = re.compile(r"[^\W_]+")
# "phrase"  "phrase"*  -"phrase"  word  word*  -word
_TOKEN = re.compile(r'(-?)"([^"]*)("?)(\*?)|(\S+)')


@dataclass(frozen=True, slots=True)
class Term:
    """One word or a phrase (its words in order); ``prefix``: the last word is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A read query: every group must match (a group is terms joined by OR), no excluded term
    may. ``text`` is the query as typed (cleaned), for messages and the search page."""

    text: str
    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()


def _term(raw: str, prefix: bool) -> Term | None:
    words = tuple(w.casefold() for w in _WORD.findall(raw))
    return Term(words, prefix) if words else None


def parse_query(text: str) -> Query:
    """Read a typed query (see the module docstring); SearchError with a reason if it cannot."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(
            f"the query is too long ({len(text):,} characters; at most {MAX_QUERY_CHARS})"
        )
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    cleaned = "".join(c for c in cleaned if unicodedata.category(c)[0] != "C")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False  # the previous token was OR
    for match in _TOKEN.finditer(cleaned):
        negate, phrase, closed, star, bare = match.groups()
        if bare is not None and bare == "OR":
            if not groups or joining:
                raise SearchError("OR needs a term on each side (as in: floods OR storms)")
            joining = True
            continue
        if phrase is not None:
            if not closed:
                raise SearchError('a quotation mark is not closed: write phrases as "two words"')
            term = _term(phrase, bool(star))
            negative = bool(negate)
        else:
            negative = bare.startswith("-") and len(bare) > 1
            raw = bare[1:] if negative else bare
            term = _term(raw, raw.endswith("*"))
        if term is None:
            continue  # punctuation only: nothing the index holds
        if negative:
            if joining:
                raise SearchError("OR cannot join an excluded term (-word)")
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    if joining:
        raise SearchError("OR needs a term on each side (as in: floods OR storms)")
    if not groups:
        what = "only excluded terms" if excluded else "no words"
        raise SearchError(f"nothing to search for: the query has {what}")
    if sum(len(g) for g in groups) + len(excluded) > MAX_TERMS:
        raise SearchError(f"the query has too many terms (at most {MAX_TERMS})")
    return Query(cleaned, tuple(tuple(g) for g in groups), tuple(excluded))
