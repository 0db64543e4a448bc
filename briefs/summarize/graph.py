"""sumy's LexRank and TextRank, computed with sparse matrices instead of Python loops.

sumy fills an n-by-n similarity matrix one cell at a time (a 700-sentence story takes seconds);
these functions compute the same matrix with sparse products and run the same power iteration
(same start vector, update rule and stopping test), so they give sumy's scores, and therefore
its ranking, on the same terms. Input: one list of terms per sentence, already lower-cased,
stop-word filtered and stemmed as sumy does (see :func:`briefs.summarize.score.sentence_terms`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

__all__ = [
    "LEXRANK_EPSILON",
    "LEXRANK_THRESHOLD",
    "TEXTRANK_DAMPING",
    "TEXTRANK_EPSILON",
    "count_matrix",
    "lexrank",
    "textrank",
]

FloatArray = npt.NDArray[np.float64]

# sumy's LexRankSummarizer.threshold / .epsilon and TextRankSummarizer.damping / .epsilon.
LEXRANK_THRESHOLD = 0.1
LEXRANK_EPSILON = 0.1
TEXTRANK_DAMPING = 0.85
TEXTRANK_EPSILON = 1e-4
_TEXTRANK_ZERO_DIVISION = 1e-7
_MAX_ITERATIONS = 10_000


def count_matrix(
    terms: Sequence[Sequence[str]], vocabulary: dict[str, int] | None = None
) -> sparse.csr_matrix:
    """Sentences x vocabulary matrix of term counts (float64, CSR).

    Column j is the term mapped to j in ``vocabulary``; pass a dict to receive the mapping.
    """
    if vocabulary is None:
        vocabulary = {}
    indptr = [0]
    indices: list[int] = []
    for sentence in terms:
        for term in sentence:
            indices.append(vocabulary.setdefault(term, len(vocabulary)))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    matrix = sparse.csr_matrix(
        (data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(terms), max(len(vocabulary), 1)),
    )
    matrix.sum_duplicates()  # repeated terms in a sentence become one count
    return matrix


def lexrank(terms: Sequence[Sequence[str]], counts: sparse.csr_matrix | None = None) -> FloatArray:
    """sumy's LexRank scores (thresholded idf-modified cosine, power method), one per sentence."""
    n = len(terms)
    if n == 0:
        return np.zeros(0)
    c = count_matrix(terms) if counts is None else counts
    # tf: counts divided by the sentence's largest count; idf = log(n / (1 + df)), as sumy.
    row_max = c.max(axis=1).toarray().ravel()
    row_max[row_max == 0] = 1.0
    tf = sparse.diags(1.0 / row_max) @ c
    df = np.asarray((c > 0).sum(axis=0)).ravel()
    idf = np.log(n / (1.0 + df))
    x = (tf @ sparse.diags(idf)).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    unit = (sparse.diags(inv) @ x).tocsr()
    cosine = (unit @ unit.T).tocsr()
    cosine.data = (cosine.data > LEXRANK_THRESHOLD).astype(np.float64)
    cosine.eliminate_zeros()
    degrees = np.asarray(cosine.sum(axis=1)).ravel()
    degrees[degrees == 0] = 1.0
    transition = (sparse.diags(1.0 / degrees) @ cosine).T.tocsr()
    p = np.full(n, 1.0 / n)
    for _ in range(_MAX_ITERATIONS):
        nxt = transition @ p
        norm = float(np.linalg.norm(nxt))
        if norm == 0.0:  # no sentence is similar to any (sumy divides by zero here)
            return np.zeros(n)
        nxt /= norm
        change = float(np.linalg.norm(nxt - p))
        p = nxt
        if not change > LEXRANK_EPSILON:
            break
    return np.asarray(p, dtype=np.float64)


def textrank(terms: Sequence[Sequence[str]], counts: sparse.csr_matrix | None = None) -> FloatArray:
    """sumy's TextRank scores (shared words over log lengths, damped PageRank), one per sentence."""
    n = len(terms)
    if n == 0:
        return np.zeros(0)
    c = count_matrix(terms) if counts is None else counts
    # sumy's edge weight: sum over words of one sentence of their count in the other, i.e. the
    # dot product of count vectors, divided by log(len1) + log(len2) (or not, if both are 1).
    overlap = (c @ c.T).tocoo()
    lengths = np.asarray(c.sum(axis=1)).ravel()
    logs = np.log(np.maximum(lengths, 1.0))
    norm = logs[overlap.row] + logs[overlap.col]
    close_to_zero = np.isclose(norm, 0.0)
    values = np.where(close_to_zero, overlap.data, overlap.data / np.where(close_to_zero, 1, norm))
    weights = sparse.csr_matrix((values, (overlap.row, overlap.col)), shape=(n, n))
    row_sums = np.asarray(weights.sum(axis=1)).ravel()
    weights = (sparse.diags(1.0 / (row_sums + _TEXTRANK_ZERO_DIVISION)) @ weights).T.tocsr()
    # M = (1 - d) / n + d * W; M.T @ p never builds the dense M.
    teleport = (1.0 - TEXTRANK_DAMPING) / n
    p = np.full(n, 1.0 / n)
    for _ in range(_MAX_ITERATIONS):
        nxt = teleport * p.sum() + TEXTRANK_DAMPING * (weights @ p)
        change = float(np.linalg.norm(nxt - p))
        p = nxt
        if not change > TEXTRANK_EPSILON:
            break
    return np.asarray(p, dtype=np.float64)
