"""Near-duplicate articles: the same text printed by several outlets (syndicated wire copy).

Three levels of deduplication happen at ingest:

1. the same entry again (same GUID, or same canonical URL when the GUID changed) and
2. the same article in two feeds (same canonical URL) are not stored twice
   (:meth:`briefs.store.Store.add_articles`);
3. the same text under another outlet is stored, and linked to its original through
   ``Article.duplicate_of`` (this module), so a story counts it as one report printed by several
   outlets, not as several reports.

Level 3 uses MinHash over word 5-gram shingles: the share of shared shingles (Jaccard
similarity) of two texts is estimated from 128 hash minima. Locality-sensitive hashing (32 bands
of 4 minima) finds candidates among everything stored through indexed band keys, without
comparing against every article; a candidate counts when its estimated similarity is at least
``SIMILARITY`` (more than half of all shingles shared: rewrites of the same event by different
reporters share a few percent, wire copies with a changed headline or an added paragraph share
most). Only articles from *different* sources are linked: one source repeating its own
boilerplate is not syndication.

Everything here is pure: :mod:`briefs.ingest.copies` fetches candidates from the store and saves
the results (through the store's sketch methods, :mod:`briefs.store.sketches`).
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from briefs.models import Article, Printing, Sketch

__all__ = [
    "BANDS",
    "NUM_PERM",
    "SIMILARITY",
    "SKETCH_VERSION",
    "Keys",
    "Sketch",
    "band_key_array",
    "estimate_similarity",
    "link_duplicates",
    "sketch_articles",
    "sketch_of",
    "sketch_text",
]

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SHINGLE_WORDS = 5
MIN_SHINGLES = 20
SIMILARITY = 0.5
WINDOW = dt.timedelta(days=7)

# Bumped whenever the signature or band keys of a text change: stored sketches of another
# version are not comparable and are dropped (the store keeps the version it holds).
SKETCH_VERSION = 2

_rng = np.random.default_rng(20261128)  # fixed: signatures are stored and must stay comparable
# h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32 for 32-bit x: multiply-add-shift hashing
# (Dietzfelbinger), 128 random functions with odd 64-bit a_i, in numpy's wrapping uint64.
_A = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64)
_SHIFT = np.uint64(32)
# A shingle's hash is a polynomial in its words' hashes (mod 2**64), its top 32 bits kept.
_BASE = np.uint64(0x9E3779B97F4A7C15)
# Band keys: each band's 4 minima (and the band's number) combined the same way.
_BAND_BASE = np.uint64(0xC2B2AE3D27D4EB4F)
_BAND_SALT = (np.arange(BANDS, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x165667B19E3779F9)
_WORD = re.compile(r"\w+")

Keys = npt.NDArray[np.int64]  # an article's band keys, as linking holds them


def sketch_text(text: str) -> Sketch | None:
    """The sketch of a text, or None when it is too short to compare reliably."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS + MIN_SHINGLES - 1:
        return None
    word_hashes = np.fromiter(
        (zlib.crc32(w.encode("utf-8", "surrogatepass")) for w in words),
        dtype=np.uint64,
        count=len(words),
    )
    span = len(words) - SHINGLE_WORDS + 1
    shingles = word_hashes[:span].copy()
    with np.errstate(over="ignore"):
        for k in range(1, SHINGLE_WORDS):
            shingles = shingles * _BASE + word_hashes[k : k + span]
        shingles = np.unique(shingles >> _SHIFT)
        values = (np.multiply.outer(shingles, _A) + _B) >> _SHIFT
    signature = values.min(axis=0).astype("<u4")
    return Sketch(signature.tobytes(), _band_keys(signature))


def sketch_articles(articles: Iterable[Article]) -> dict[str, Sketch]:
    """The sketches of those articles whose text is long enough to have one, by article id."""
    return {a.id: s for a in articles if (s := sketch_text(a.text)) is not None}


def sketch_of(signature: bytes) -> Sketch:
    """The sketch a stored signature belongs to (its band keys computed again)."""
    return Sketch(signature, _band_keys(np.frombuffer(signature, dtype="<u4")))


def band_key_array(signature: bytes) -> Keys:
    """The band keys of a stored signature as an array (a tenth of a tuple's memory: a day of
    50,000 articles has 1.6 million keys)."""
    return _key_array(np.frombuffer(signature, dtype="<u4"))


def _key_array(signature: npt.NDArray[np.uint32]) -> Keys:
    rows = signature.astype(np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        keys = _BAND_SALT.copy()
        for r in range(ROWS):
            keys = keys * _BAND_BASE + rows[:, r]
    return keys.view(np.int64)


def _band_keys(signature: npt.NDArray[np.uint32]) -> tuple[int, ...]:
    return tuple(_key_array(signature).tolist())


def estimate_similarity(a: bytes, b: bytes) -> float:
    """The Jaccard similarity of two texts, estimated from their signatures."""
    sa = np.frombuffer(a, dtype="<u4")
    sb = np.frombuffer(b, dtype="<u4")
    if sa.shape != sb.shape or not sa.size:
        return 0.0
    return float(np.count_nonzero(sa == sb)) / sa.size


def link_duplicates(
    new: Sequence[Printing],
    stored: Iterable[Printing],
    band_keys: Mapping[str, Keys] | None = None,
) -> dict[str, str]:
    """Which of the ``new`` articles copy an earlier article: article id -> id of the original.

    ``new`` are sketched articles not linked yet; ``stored`` the candidate articles already in
    the database (those sharing a band key with one of them); ``band_keys`` the new articles'
    band keys when the caller has them. New articles are taken oldest first, so within a batch
    the first printing is the original. An article is linked to the most similar candidate
    from another source published within a week (the earliest of equals), and always to that
    candidate's own original.
    """
    known = band_keys or {}
    new_keys = {p.id: _keys_of(p, known) for p in new}
    candidates = [(p, band_key_array(p.signature)) for p in stored]
    shared = _shared_keys(list(new_keys.values()), [keys for _, keys in candidates])
    pool: dict[str, Printing] = {}
    minima: dict[str, npt.NDArray[np.uint32]] = {}
    root: dict[str, str] = {}
    # Only the band keys of ``shared`` are indexed: the others cannot lead to a candidate.
    bands: dict[int, list[str]] = {}
    # Verbatim copies (the same signature) by signature: the best candidate of all when eligible.
    same: dict[bytes, list[Printing]] = {}

    def add(printing: Printing, keys: list[int]) -> None:
        pool[printing.id] = printing
        minima[printing.id] = np.frombuffer(printing.signature, dtype="<u4")
        same.setdefault(printing.signature, []).append(printing)
        for key in shared.intersection(keys):
            bands.setdefault(key, []).append(printing.id)

    for printing, held in candidates:
        root[printing.id] = printing.duplicate_of or printing.id
        add(printing, held.tolist())
    del candidates
    links: dict[str, str] = {}
    for article in sorted(new, key=lambda a: (a.published, a.id)):
        keys = new_keys[article.id].tolist()
        best = _best_identical(article, same.get(article.signature, ()))
        if best is None:
            best = _best_similar(article, keys, pool, minima, bands)
        if best is not None and root.get(best, best) != article.id:
            links[article.id] = root.get(best, best)
        root[article.id] = links.get(article.id, article.id)
        add(article, keys)
    return links


def _keys_of(printing: Printing, known: Mapping[str, Keys]) -> Keys:
    keys = known.get(printing.id)
    return band_key_array(printing.signature) if keys is None or not len(keys) else keys


def _shared_keys(new: Sequence[Keys], stored: Sequence[Keys]) -> set[int]:
    """The band keys some new article has that at least one other printing has too.

    A key only one printing has can never make a candidate (an article looks up its keys
    before its own are added), so only these are indexed: for a day of 50,000 articles the
    band lookup then holds a fraction of their 1.6 million keys.
    """
    empty = np.empty(0, dtype=np.int64)
    fresh = np.concatenate(new) if new else empty
    old = np.concatenate(stored) if stored else empty
    every = np.concatenate([fresh, old[np.isin(old, fresh)]])
    unique, counts = np.unique(every, return_counts=True)
    return set(unique[counts > 1].tolist())


def _eligible(article: Printing, candidate: Printing) -> bool:
    """Another source's printing, within a week of the article."""
    return (
        candidate.id != article.id
        and candidate.source_id != article.source_id
        and abs(candidate.published - article.published) <= WINDOW
    )


def _best_identical(article: Printing, identical: Iterable[Printing]) -> str | None:
    """The earliest eligible printing with the very same signature (similarity 1, the most)."""
    eligible = [c for c in identical if _eligible(article, c)]
    if not eligible:
        return None
    return max(eligible, key=lambda c: (-c.published.timestamp(), c.id)).id


def _best_similar(
    article: Printing,
    keys: Iterable[int],
    pool: dict[str, Printing],
    minima: dict[str, npt.NDArray[np.uint32]],
    bands: dict[int, list[str]],
) -> str | None:
    """The most similar eligible candidate sharing a band key (the earliest of equals)."""
    # In any order: the winner below does not depend on it (ids break ties).
    near = [
        cid
        for cid in {cid for key in keys for cid in bands.get(key, ())}
        if _eligible(article, pool[cid])
    ]
    if not near:
        return None
    signature = np.frombuffer(article.signature, dtype="<u4")
    # All candidates at once: a wire story printed by 200 outlets has 200 of them.
    shared = np.count_nonzero(np.stack([minima[c] for c in near]) == signature, axis=1)
    scores = shared / signature.size
    ok: list[int] = np.flatnonzero(scores >= SIMILARITY).tolist()
    if not ok:
        return None
    # (similarity, earliest printing, id): the max wins
    best = max(ok, key=lambda i: (scores[i], -pool[near[i]].published.timestamp(), near[i]))
    return near[best]
