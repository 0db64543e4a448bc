"""Stored article embeddings, one per article and model (see briefs.embed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from briefs.store.base import StoreBase, chunks, upsert
from briefs.store.schema import embeddings


class Embeddings(StoreBase):
    """The ``embeddings`` table."""

    def save_embeddings(self, vectors: Mapping[str, bytes], model: str) -> None:
        """Store articles' embeddings (encoded, see briefs.embed.encode) made by ``model``."""
        if not vectors:
            return
        rows = [{"article_id": k, "model": model, "vector": v} for k, v in vectors.items()]
        with self._write() as c:
            for chunk in chunks(rows, 1000):
                upsert(c, embeddings, chunk, ("article_id",), ("model", "vector"))

    def embeddings(self, ids: Iterable[str], model: str) -> dict[str, bytes]:
        """The stored embeddings by ``model`` of those of ``ids`` that have one."""
        out: dict[str, bytes] = {}
        with self._read() as conn:
            for chunk in chunks(list(ids), 900):
                rows = conn.execute(
                    sa.select(embeddings.c.article_id, embeddings.c.vector).where(
                        embeddings.c.article_id.in_(chunk), embeddings.c.model == model
                    )
                )
                out.update({r.article_id: r.vector for r in rows})
        return out
