"""Linking syndicated copies of stored articles: the one call of a run (:func:`link_pending`).

The MinHash maths is :mod:`briefs.ingest.dedupe` (pure; loaded with NumPy only when there is
something to link); its storage steps are the store's (:mod:`briefs.store.sketches`). Between
them, this module decides what is read, sketched and linked, and in which order.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Set
from typing import TYPE_CHECKING

from briefs.models import Printing
from briefs.store import Store

if TYPE_CHECKING:
    from briefs.ingest.dedupe import Keys

__all__ = ["link_copies", "link_pending", "resketch_window"]

log = logging.getLogger(__name__)

# Page outcomes and near-duplicate sketches are kept this long (they only matter for a week).
CACHE_RETENTION = dt.timedelta(days=30)
# Articles linked to their copies per batch. A batch holds signatures, not texts (about 1 kB an
# article with its band keys): each batch queries the band index for the earlier ones again, so
# fewer, larger batches keep the linking linear in a day's articles.
LINK_BATCH = 50_000
# Articles read whole at a time when their texts must be sketched (memory: texts of a batch).
TEXT_BATCH = 2000


def link_pending(store: Store, now: dt.datetime, improved: Set[str]) -> int:
    """Link the copies among every article not yet grouped (and those whose text was improved).

    Every article not yet grouped, not only this run's: a run killed between storing and
    grouping leaves articles that must be linked exactly as an uninterrupted run would.
    """
    pending = store.ungrouped_ids() | improved
    if not pending:  # the sketch format only matters once there are articles to compare
        return 0
    resketch_window(store, now, skip=pending)
    return link_copies(store, pending, stale=improved)


def resketch_window(store: Store, now: dt.datetime, skip: Set[str] = frozenset()) -> int:
    """Sketch the duplicate window's articles again when the sketch format changed.

    Stored signatures made by another ``SKETCH_VERSION`` cannot be compared with new ones (the
    schema migration drops them), so copies of the last week's articles would go unnoticed.
    Links already made stay; this only restores what later articles are compared against.
    ``skip`` are articles about to be sketched anyway (this run's).
    """
    # lazy: NumPy (sketching) is only loaded when there is something to link
    from briefs.ingest.dedupe import SKETCH_VERSION, sketch_articles
    from briefs.ingest.dedupe import WINDOW as DUPLICATE_WINDOW

    if store.sketch_version() == str(SKETCH_VERSION):
        return 0
    ids = [i for i in store.published_since(now - DUPLICATE_WINDOW) if i not in skip]
    for start in range(0, len(ids), TEXT_BATCH):
        fresh = store.articles(ids[start : start + TEXT_BATCH])
        store.save_sketches_of(fresh, sketch_articles(fresh))
    store.set_sketch_version(SKETCH_VERSION)
    if ids:
        log.info("sketched %d recent articles again for the new sketch format", len(ids))
    return len(ids)


def link_copies(store: Store, article_ids: set[str], stale: Set[str] = frozenset()) -> int:
    """Link syndicated copies among the given articles to their originals.

    The articles are taken oldest first, LINK_BATCH at a time, each batch against the sketches
    stored so far (earlier batches included): the same links as one pass over them all, with a
    batch's articles in memory rather than a day's. An article's sketch is the one stored with
    it when it was polled, unless it has none or is in ``stale`` (its text changed since).
    """
    order = store.published_order(article_ids)
    if not order:
        return 0
    # lazy: NumPy (sketching) is only loaded when there is something to link
    from briefs.ingest.dedupe import WINDOW as DUPLICATE_WINDOW
    from briefs.ingest.dedupe import band_key_array, link_duplicates

    # Not yet linked in this pass: they are not candidates for the batches before their own.
    pending = {aid for aid, _ in order}
    linked = 0
    for start in range(0, len(order), LINK_BATCH):
        ids = [aid for aid, _ in order[start : start + LINK_BATCH]]
        known = store.printings(i for i in ids if i not in stale)
        # Only articles without a current sketch are read whole (their text sketched now).
        fresh = _sketch_missing(store, [i for i in ids if i not in known])
        new = list(known.values()) + fresh
        links: dict[str, str] = {}
        # As arrays: a day of 50,000 articles has 1.6 million band keys (as tuples 70 MB).
        keys_of = {p.id: band_key_array(p.signature) for p in new}
        if new:
            keys = _distinct(keys_of.values())
            since = min(p.published for p in new) - DUPLICATE_WINDOW
            stored = [p for p in store.sketch_candidates(keys, since) if p.id not in pending]
            del keys
            links = link_duplicates(new, stored, keys_of)
        prune = order[0][1] - DUPLICATE_WINDOW - CACHE_RETENTION if start == 0 else None
        store.record_copies(links, [(p.id, keys_of[p.id]) for p in new], prune_before=prune)
        pending.difference_update(ids)
        linked += len(links)
    return linked


def _distinct(keys: Iterable[Keys]) -> Keys:
    """Every band key of these articles once, in order (what the band index is asked for)."""
    import numpy as np

    return np.unique(np.concatenate(list(keys)))


def _sketch_missing(store: Store, ids: list[str]) -> list[Printing]:
    """Sketch the texts of articles without a current sketch, TEXT_BATCH read whole at a time,
    and store the sketches (not yet in the band index); return them as linking sees them."""
    from briefs.ingest.dedupe import sketch_articles

    printed: list[Printing] = []
    for first in range(0, len(ids), TEXT_BATCH):
        fresh = store.articles(ids[first : first + TEXT_BATCH])
        sketched = sketch_articles(fresh)
        printed += [
            Printing(a.id, a.source_id, a.published, a.duplicate_of, sketched[a.id].signature)
            for a in fresh
            if a.id in sketched
        ]
        store.save_sketches_of(fresh, sketched, indexed=False)
    return printed
