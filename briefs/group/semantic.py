"""The window's embeddings as matrices: nearest articles and cosines for the online grouper.

Rows are the indexed documents that have an embedding, in the order they were indexed: the
title's row, and the title + lead's (zeros for a document without one). A new document is
compared with its ``SEMANTIC_NEIGHBOURS`` nearest rows by each embedding, and with every
candidate the term index gave, by a gather of those rows only (not a product with the whole
window). The nearest among the rows a run starts with (the window's stories, loaded alike in
every order of :mod:`briefs.group.consensus`) do not depend on the order of the run, so they
are found once per article and shared by every order through :class:`Nearest`; only the
rows added since (this order's own new articles) are searched each time. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from briefs.embed import DIM
from briefs.group.features import Doc

__all__ = ["SEMANTIC_NEIGHBOURS", "EmbeddingIndex", "Nearest"]

SEMANTIC_NEIGHBOURS = 20  # nearest articles by embedding compared with each new one

Rows = npt.NDArray[np.float32]
# article id -> its nearest base rows (by title, by title + lead) and their cosines
Nearest = dict[str, tuple[npt.NDArray[np.intp], Rows, npt.NDArray[np.intp], Rows]]


def _top(cosines: Rows, k: int) -> npt.NDArray[np.intp]:
    if k >= len(cosines):
        return np.arange(len(cosines))
    return np.argpartition(-cosines, k - 1)[:k]


class EmbeddingIndex:
    """The embeddings of the indexed documents (rows) and which document each row is."""

    def __init__(self) -> None:
        self.title = np.zeros((0, DIM), dtype=np.float32)
        self.lead = np.zeros((0, DIM), dtype=np.float32)
        self.has_lead: list[bool] = []
        self.doc_of: list[int] = []  # row -> doc index
        self.row_of: dict[int, int] = {}  # doc index -> row
        self.rows = 0
        self.base = 0  # rows shared by every order of a run (see Nearest); 0: none
        self.nearest: Nearest | None = None

    def add(self, doc_index: int, doc: Doc) -> None:
        """Index a document's embeddings (a document without one is not indexed)."""
        if doc.emb is None:
            return
        if self.rows == len(self.title):
            size = max(64, 2 * len(self.title))
            for name in ("title", "lead"):
                grown = np.zeros((size, DIM), dtype=np.float32)
                grown[: self.rows] = getattr(self, name)[: self.rows]
                setattr(self, name, grown)
        self.title[self.rows] = doc.emb
        self.lead[self.rows] = 0.0 if doc.lead is None else doc.lead
        self.has_lead.append(doc.lead is not None)
        self.doc_of.append(doc_index)
        self.row_of[doc_index] = self.rows
        self.rows += 1

    def keep(self, live: Iterable[int]) -> None:
        """Keep only the rows of the documents ``live`` (the rest left the window)."""
        alive = set(live)
        rows = [r for r, j in enumerate(self.doc_of) if j in alive]
        self.title = self.title[rows].copy()
        self.lead = self.lead[rows].copy()
        self.has_lead = [self.has_lead[r] for r in rows]
        self.doc_of = [self.doc_of[r] for r in rows]
        self.row_of = {j: r for r, j in enumerate(self.doc_of)}
        self.rows = len(rows)
        self.base = 0  # the rows moved: what was found among them no longer holds

    def truncate(self, rows: int, docs: int) -> None:
        """Forget the rows added after the first ``rows`` (of documents from ``docs`` on)."""
        self.rows = rows
        del self.has_lead[rows:], self.doc_of[rows:]
        for j in [j for j in self.row_of if j >= docs]:
            del self.row_of[j]

    def compare(self, doc: Doc, others: Iterable[int]) -> tuple[dict[int, float], dict[int, float]]:
        """A document's title cosines with ``others`` (doc indices) and with its nearest rows,
        and its title + lead cosines with those of them that have a lead row (when it has
        one). Documents without an embedding are left out."""
        if doc.emb is None or not self.rows:
            return {}, {}
        near_t, near_l = self._nearest(doc)
        candidates = {self.doc_of[int(r)] for r in near_t} | {self.doc_of[int(r)] for r in near_l}
        candidates.update(j for j in others if j in self.row_of)
        docs = sorted(candidates)
        rows = np.array([self.row_of[j] for j in docs], dtype=np.intp)
        # einsum, not @: NumPy's BLAS spreads a matrix-vector product over threads, which on a
        # busy machine costs several times the CPU of this single-threaded loop
        titles = np.einsum("ij,j->i", self.title[rows], doc.emb)
        by_title = dict(zip(docs, titles.tolist(), strict=True))
        if doc.lead is None:
            return by_title, {}
        leads = np.einsum("ij,j->i", self.lead[rows], doc.lead)
        by_lead = {
            j: c
            for j, c, r in zip(docs, leads.tolist(), rows.tolist(), strict=True)
            if self.has_lead[r]
        }
        return by_title, by_lead

    def _nearest(self, doc: Doc) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """The rows nearest the document by title and by title + lead."""
        assert doc.emb is not None
        k = SEMANTIC_NEIGHBOURS
        base = self.base if self.nearest is not None else 0
        found = self.nearest.get(doc.article_id) if self.nearest is not None and base else None
        if found is None:
            t_rows, t_cos, l_rows, l_cos = self._search(doc, 0, base, k)
            if self.nearest is not None and base:
                self.nearest[doc.article_id] = (t_rows, t_cos, l_rows, l_cos)
        else:
            t_rows, t_cos, l_rows, l_cos = found
        if self.rows > base:  # this order's own rows, then the best of both
            t2, tc2, l2, lc2 = self._search(doc, base, self.rows, k)
            t_rows, t_cos = _merge(t_rows, t_cos, t2, tc2, k)
            l_rows, l_cos = _merge(l_rows, l_cos, l2, lc2, k)
        return t_rows, l_rows

    def _search(
        self, doc: Doc, start: int, stop: int, k: int
    ) -> tuple[npt.NDArray[np.intp], Rows, npt.NDArray[np.intp], Rows]:
        empty_rows, empty_cos = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        if stop <= start:
            return empty_rows, empty_cos, empty_rows, empty_cos
        assert doc.emb is not None
        cos = np.einsum("ij,j->i", self.title[start:stop], doc.emb)
        top = _top(cos, k)
        t_rows, t_cos = top + start, cos[top]
        if doc.lead is None:
            return t_rows, t_cos, empty_rows, empty_cos
        cos = np.einsum("ij,j->i", self.lead[start:stop], doc.lead)
        top = _top(cos, k)
        return t_rows, t_cos, top + start, cos[top]


def _merge(
    a: npt.NDArray[np.intp], ac: Rows, b: npt.NDArray[np.intp], bc: Rows, k: int
) -> tuple[npt.NDArray[np.intp], Rows]:
    rows, cos = np.concatenate([a, b]), np.concatenate([ac, bc])
    top = _top(cos, k)
    return rows[top], cos[top]
