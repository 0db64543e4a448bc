"""Story -> Summary: sentences that sources printed, chosen and attributed.

Candidates are the sentences of every member article (body, else feed summary, else title).
Each is scored by its centrality to the story (cosine to the story's term centroid) and a
position prior (news puts key facts first); a greedy pass removes redundancy. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from briefs.config import SummarySettings
from briefs.models import Article, Sentence, Story, Summary
from briefs.text import split_sentences, tokens

__all__ = ["clean_sentence", "summarize_story"]

MAX_SENTENCE_WORDS = 60
MIN_SENTENCE_WORDS = 5
REDUNDANCY = 0.5
_BOILERPLATE = re.compile(
    r"^(by\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,3}(,|$)|photo:|image:|read more|sign up|subscribe|"
    r"copyright|©|\(c\)\s|all rights reserved|click here|follow us|share this)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Candidate:
    sentence: Sentence
    tokens: frozenset[str]
    counts: Counter[str]


def clean_sentence(text: str) -> bool:
    """Whether a sentence is worth quoting (not boilerplate, a fragment or shouting)."""
    words = text.split()
    if not MIN_SENTENCE_WORDS <= len(words) <= MAX_SENTENCE_WORDS:
        return False
    if _BOILERPLATE.search(text.strip()):
        return False
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return False
    return text.rstrip()[-1:] in ".!?\"'”’)"


def _candidates(articles: Sequence[Article]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for article in articles:
        if article.duplicate_of:
            continue
        for pos, text in enumerate(split_sentences(article.text)):
            if not clean_sentence(text):
                continue
            counts = Counter(tokens(text))
            sentence = Sentence(text, article.id, article.outlet, article.url, pos)
            out.append(_Candidate(sentence, frozenset(counts), counts))
    return out


def _cos(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _headline(story: Story, articles: Sequence[Article], centroid: Counter[str]) -> str:
    titled = [a for a in articles if a.title]
    if not titled:
        return story.title
    return max(
        titled, key=lambda a: (_cos(Counter(tokens(a.title)), centroid), -len(a.title))
    ).title


def summarize_story(
    story: Story, articles: Sequence[Article], settings: SummarySettings
) -> Summary:
    """Pick up to ``settings.sentences`` sentences (and ``settings.words`` words) for a story."""
    outlets = tuple(
        dict.fromkeys(a.outlet for a in articles if not a.duplicate_of)
        or (a.outlet for a in articles)
    )
    candidates = _candidates(articles)
    centroid: Counter[str] = Counter()
    for c in candidates:
        centroid.update(c.tokens)
    for a in articles:
        centroid.update(tokens(a.title))
    headline = _headline(story, articles, centroid)
    if not candidates:
        fallback = next((a for a in articles if a.title), None)
        sentences: tuple[Sentence, ...] = ()
        if fallback is not None and fallback.title != headline:
            sentences = (Sentence(fallback.title, fallback.id, fallback.outlet, fallback.url, 0),)
        return Summary(story.id, headline, sentences, outlets)
    scored = sorted(
        candidates,
        key=lambda c: -(_cos(c.counts, centroid) * (1.0 / math.sqrt(1 + c.sentence.position))),
    )
    chosen: list[_Candidate] = []
    words = 0
    for cand in scored:
        if len(chosen) >= settings.sentences:
            break
        n_words = len(cand.sentence.text.split())
        if chosen and words + n_words > settings.words:
            continue
        if any(_overlap(cand.tokens, c.tokens) > REDUNDANCY for c in chosen):
            continue
        chosen.append(cand)
        words += n_words
    return Summary(story.id, headline, tuple(c.sentence for c in chosen), outlets)


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0
