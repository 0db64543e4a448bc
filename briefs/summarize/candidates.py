"""Candidate sentences of a story: every quotable sentence of its distinct articles, in order.

A sentence that refers back to the one before it (:func:`briefs.summarize.clean.refers_back`)
is a candidate only when that one is, and records it (``after``): it is quoted only after it.
Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from briefs.models import Article, Sentence
from briefs.summarize.clean import clean_sentence, refers_back
from briefs.summarize.score import sentence_terms

__all__ = ["Candidate", "candidates", "distinct_articles", "text_key", "unit_tfidf"]

_NON_WORD = re.compile(r"\W+")


@dataclass(frozen=True, slots=True)
class Candidate:
    sentence: Sentence
    article: int  # index into the story's contributing articles
    rank: int  # position among the article's kept sentences (0 = its lead)
    terms: tuple[str, ...]
    # the candidate it refers back to (``clean.refers_back``): quoted only after that one
    after: int | None = None


def text_key(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def distinct_articles(articles: Sequence[Article]) -> list[Article]:
    """Articles that bring their own text: no duplicates, no body seen in an earlier article."""
    seen: set[str] = set()
    out: list[Article] = []
    for article in articles:
        if article.duplicate_of:
            continue
        key = text_key(article.text)
        if key:
            digest = hashlib.sha1(key.encode()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
        out.append(article)
    return out


def candidates(articles: Sequence[Article], sentences: Sequence[Sequence[str]]) -> list[Candidate]:
    out: list[Candidate] = []
    for index, (article, texts) in enumerate(zip(articles, sentences, strict=True)):
        rank = 0
        previous: int | None = None  # the candidate made of the sentence just before
        for position, raw in enumerate(texts):
            text = clean_sentence(raw, last=position == len(texts) - 1)
            terms = sentence_terms(text) if text is not None else ()
            if text is None or not terms:
                previous = None
                continue
            after = None
            if refers_back(text):
                if previous is None:
                    continue  # what it refers to is not quotable: neither is it
                after = previous
            sentence = Sentence(text, article.id, article.outlet, article.url, position)
            previous = len(out)
            out.append(Candidate(sentence, index, rank, terms, after))
            rank += 1
    return out


def unit_tfidf(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows weighted by smoothed idf over the story and scaled to unit length."""
    n = counts.shape[0]
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    x = (counts @ sparse.diags(idf)).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return (sparse.diags(inv) @ x).tocsr()
