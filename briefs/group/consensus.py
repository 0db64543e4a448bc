"""Consensus grouping: a run placed in several orders, and the pairs most orders put together.

Placement as articles arrive depends on their order: the first report of an event shapes
what the next ones are compared with. With ``consensus_orders = N`` a run's new articles are
placed N times, each time in an order drawn from their ids alone (not from when they were
published or fetched), and the region of the window the run touched (as
:mod:`briefs.group.recluster` takes it) is clustered by how often each pair of articles shared
a story: average linkage over that fraction, cut at one half, so a pair stays together when
most orders put it together (evidence accumulation, Fred and Jain, "Combining multiple
clusterings using evidence accumulation", IEEE TPAMI 2005). The result does not depend on the
order in which articles came in. Stories from earlier runs are loaded alike in every order, so
they are split or merged only when most orders' new articles pull them apart or together; ids
follow :mod:`briefs.group.ids`. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from briefs.group.online import Grouper
from briefs.group.recluster import rebuild, region_of, similarities
from briefs.models import Article

__all__ = ["CONSENSUS_CUT", "Snapshot", "consensus", "order_key", "tied"]

CONSENSUS_CUT = 0.5  # share of the orders that must put a pair in one story (a majority)


def order_key(k: int) -> Callable[[Article], tuple[dt.datetime, bytes, str]]:
    """The k-th order of a run's articles: by time, and those with the same time by a hash of
    the article id and ``k``."""

    def key(article: Article) -> tuple[dt.datetime, bytes, str]:
        digest = hashlib.sha1(f"{k}:{article.id}".encode()).digest()
        return article.published, digest, article.id

    return key


def tied(articles: Sequence[Article]) -> bool:
    """Whether two of the articles have the same time (their order is then not known)."""
    times = [a.published for a in articles]
    return len(set(times)) < len(times)


class Snapshot:
    """What placing a run changes in a loaded grouper, kept so that the next order starts
    from the same window without loading it again (placement only appends to the loaded
    stories, the index and the statistics; with ``prunes`` off it retires nothing)."""

    def __init__(self, g: Grouper) -> None:
        self.docs, self.rows = len(g.docs), g.index.rows
        self.clusters = [
            (
                len(c.docs),
                len(c.member_ids),
                len(c.links),
                len(c.changes),
                c.first_seen,
                c.last_updated,
                c.changed,
                c.sealed,
            )
            for c in g.clusters
        ]
        self.postings = {t: len(v) for t, v in g.postings.items()}
        self.by_article, self.by_hash = dict(g.by_article), dict(g.by_hash)
        self.published, self.titles = dict(g.published), dict(g.titles)
        self.sets = (set(g.active), set(g.touched))
        self.df = {lang: Counter(c) for lang, c in g.features.df.items()}
        self.n_docs = Counter(g.features.n_docs)
        self.counts = (g.retired, g.added_since_prune)

    def restore(self, g: Grouper) -> None:
        del g.docs[self.docs :], g.clusters[len(self.clusters) :]
        for c, (docs, ids, links, changes, first, last, changed, sealed) in zip(
            g.clusters, self.clusters, strict=True
        ):
            del c.docs[docs:], c.member_ids[ids:], c.links[links:], c.changes[changes:]
            c.first_seen, c.last_updated, c.changed, c.sealed = first, last, changed, sealed
        for term in list(g.postings):
            kept = self.postings.get(term)
            if kept is None:
                del g.postings[term]
            else:
                del g.postings[term][kept:]
        g.by_article, g.by_hash = dict(self.by_article), dict(self.by_hash)
        g.published, g.titles = dict(self.published), dict(self.titles)
        g.active, g.touched = (set(x) for x in self.sets)
        g.features.df = defaultdict(Counter, {k: Counter(v) for k, v in self.df.items()})
        g.features.n_docs = Counter(self.n_docs)
        g.retired, g.added_since_prune = self.counts
        g.index.truncate(self.rows, self.docs)


def consensus(base: Grouper, others: Sequence[Mapping[str, int]]) -> None:
    """Rebuild the region of ``base`` that its run touched from what all orders agree on.

    ``others`` are the other orders' placements (article id -> story index) of the same
    articles on the same loaded stories. Two documents of the region are as close as the share
    of orders (``base`` and ``others``) that put them in one story.
    """
    region, idx = region_of(base, "consensus")
    if not idx:
        return
    ids = [base.docs[j].article_id for j in idx]
    together = np.zeros((len(idx), len(idx)), dtype=np.float64)
    placements = [base.by_article, *others]
    for placed in placements:
        story = np.array([placed.get(a, -1 - r) for r, a in enumerate(ids)])
        together += story[:, None] == story[None, :]
    together /= len(placements)
    dist = np.clip(1.0 - together, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - CONSENSUS_CUT + 1e-9, criterion="distance")
    groups: defaultdict[int, list[int]] = defaultdict(list)
    for j, label in zip(idx, labels, strict=True):
        groups[int(label)].append(j)
    rebuild(base, region, idx, list(groups.values()), similarities(base, idx))
