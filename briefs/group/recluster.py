"""Window re-clustering: the region of the window a run touched, clustered again from scratch.

Average linkage over the exact all-pairs similarities of the region (as placement computes
them, with the term weights of now), cut at the threshold, so the order articles arrived in no
longer decides the result. Story ids follow the rule of :mod:`briefs.group.ids`; splits and
merges are recorded on both stories (:class:`~briefs.models.StoryChange`). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from briefs.embed import DIM
from briefs.group.features import (
    SEMANTIC_CROSS_LANGUAGE,
    SEMANTIC_CROSS_LANGUAGE_LEAD,
    SEMANTIC_PRIOR,
    SEMANTIC_SAME_LANGUAGE,
)
from briefs.group.ids import Cluster, pair_owners, story_id_for
from briefs.group.online import PAIR_FLOOR, Grouper
from briefs.models import StoryChange, StoryLink

__all__ = ["RECLUSTER_MAX", "rebuild", "recluster", "region_of"]

log = logging.getLogger(__name__)

RECLUSTER_MAX = 2000  # articles re-clustered together at most (larger: the online result stays)


def similarities(g: Grouper, idx: list[int]) -> npt.NDArray[np.float64]:
    """All-pairs similarities of the given documents, as placement computes them (exact)."""
    docs = [g.docs[j] for j in idx]
    terms: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for r, d in enumerate(docs):
        for t, w in d.vec.items():
            rows.append(r)
            cols.append(terms.setdefault(t, len(terms)))
            vals.append(w)
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), max(1, len(terms))))
    sim = np.asarray((x @ x.T).todense(), dtype=np.float64)
    langs = np.array([d.lang for d in docs])
    same = langs[:, None] == langs[None, :]
    sim[~same] = 0.0
    has = np.array([d.emb is not None for d in docs])
    if g.semantic and has.any():
        e = np.zeros((len(docs), DIM), dtype=np.float32)
        for r, d in enumerate(docs):
            if d.emb is not None:
                e[r] = d.emb
        cos = (e @ e.T).astype(np.float64)
        scale = np.where(same, SEMANTIC_SAME_LANGUAGE[0], SEMANTIC_CROSS_LANGUAGE[0])
        offset = np.where(same, SEMANTIC_SAME_LANGUAGE[1], SEMANTIC_CROSS_LANGUAGE[1])
        lead = np.array([d.lead is not None for d in docs])
        if lead.any():  # pairs in two languages with title + lead embeddings: those instead
            x = np.zeros((len(docs), DIM), dtype=np.float32)
            for r, d in enumerate(docs):
                if d.lead is not None:
                    x[r] = d.lead
            use = ~same & lead[:, None] & lead[None, :]
            cos = np.where(use, (x @ x.T).astype(np.float64), cos)
            scale = np.where(use, SEMANTIC_CROSS_LANGUAGE_LEAD[0], scale)
            offset = np.where(use, SEMANTIC_CROSS_LANGUAGE_LEAD[1], offset)
        both = has[:, None] & has[None, :]
        semantic = scale * cos + offset  # features.similarity, all pairs at once
        mixed = np.maximum(np.maximum(sim, semantic), sim + semantic - SEMANTIC_PRIOR)
        sim = np.where(both, np.maximum(np.where(same, mixed, semantic), 0.0), sim)
    hours = np.array([d.published.timestamp() for d in docs]) / 3600.0
    apart = np.abs(hours[:, None] - hours[None, :])
    sim[apart > g.settings.window_hours] = 0.0
    half_life = g.settings.half_life_hours
    if half_life > 0:
        sim *= 0.5 ** (apart / half_life)
    sim[sim < PAIR_FLOOR] = 0.0
    return sim


def recluster(g: Grouper) -> None:
    """Cluster the region of the window this run touched again, from scratch, by average
    linkage at the threshold, so the order articles arrived in no longer decides it.

    The region is every active story that holds one of this run's new articles or an
    article close to one (at least half the threshold). Story ids stay stable by the rule of
    :mod:`briefs.group.ids`. A cluster left unpaired gets a new id; if it took articles from an
    older story it records that it split off it, and the story that kept the id records the part
    it lost. A story left unpaired has joined the cluster holding most of its articles and
    records that it merged into it; the cluster records that it absorbed it. Copies (and members
    no longer in the window) follow their story's larger part.
    """
    region, idx = region_of(g, "re-clustering")
    if not idx:
        return
    for j in idx:  # weights as of now: the order of arrival no longer shapes them
        g.features.weigh(g.docs[j])
    sim = similarities(g, idx)
    dist = np.clip(1.0 - sim, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), method=g.settings.linkage)
    labels = fcluster(tree, t=1.0 - g.threshold + 1e-9, criterion="distance")
    groups: defaultdict[int, list[int]] = defaultdict(list)
    for j, label in zip(idx, labels, strict=True):
        groups[int(label)].append(j)
    rebuild(g, region, idx, list(groups.values()), sim)


def region_of(g: Grouper, what: str) -> tuple[list[int], list[int]]:
    """The part of the window this run touched: its stories and their live documents.

    Every active story that holds one of this run's new articles or an article close to one
    (at least half the threshold). Empty when it has fewer than two documents or more than
    ``RECLUSTER_MAX`` (then the online result stays; ``what`` names the pass in the log line).
    """
    region = sorted(
        {g.docs[j].cluster for j in g.touched if g.docs[j].vec}
        & {c for c in g.active if g.clusters[c].docs}
    )
    idx = [j for c in region for j in g.clusters[c].docs if g.docs[j].vec]
    g.touched = set()
    if len(idx) > RECLUSTER_MAX:
        log.info(
            "%s skipped: %d articles in the region (at most %d)", what, len(idx), RECLUSTER_MAX
        )
        return [], []
    return (region, idx) if len(idx) >= 2 else ([], [])


def rebuild(
    g: Grouper,
    region: list[int],
    idx: list[int],
    groups: list[list[int]],
    sim: npt.NDArray[np.float64],
) -> None:
    """Make ``groups`` (lists of the documents ``idx``) the region's stories, ids kept by the
    rule of :mod:`briefs.group.ids`; ``sim`` (rows and columns as ``idx``) explains the moves.
    Nothing changes when the groups are the region's stories already."""
    before = {c: {j for j in g.clusters[c].docs if g.docs[j].vec} for c in region}
    if sorted(map(sorted, groups)) == sorted(sorted(v) for v in before.values()):
        return  # nothing moved
    pos = {j: r for r, j in enumerate(idx)}
    _rebuild(g, region, groups, before, lambda a, b: float(sim[pos[a], pos[b]]))


def _owners(g: Grouper, groups: list[list[int]]) -> dict[int, int]:
    """Each new cluster's old story (whose id it keeps), by :func:`briefs.group.ids.pair_owners`."""
    candidates: list[tuple[int, int, dt.datetime, str, int, int]] = []
    for k, members in enumerate(groups):
        counts = Counter(g.docs[j].cluster for j in members)
        for c, n in counts.items():
            cl = g.clusters[c]
            earlier = set(cl.old.article_ids) if cl.old is not None else set()
            n_old = sum(
                1 for j in members if g.docs[j].cluster == c and g.docs[j].article_id in earlier
            )
            candidates.append((-n_old, -n, cl.first_seen, cl.story_id, k, c))
    return pair_owners(candidates)


def _targets(g: Grouper, groups: list[list[int]], owner: dict[int, int]) -> dict[int, int]:
    """The cluster each new group becomes: its old story's, or a new one with a fresh id."""
    known = {cl.story_id for cl in g.clusters}
    target: dict[int, int] = {}
    for k, members in enumerate(groups):
        if k in owner:
            target[k] = owner[k]
            continue
        first = min(members, key=lambda j: (g.docs[j].published, g.docs[j].article_id))
        article_id = g.docs[first].article_id
        sid = story_id_for(article_id, known)
        known.add(sid)
        when = g.docs[first].published
        lang = g.docs[first].lang
        g.clusters.append(Cluster(sid, when, when, g.titles.get(article_id, ""), lang, []))
        target[k] = len(g.clusters) - 1
        g.active.add(target[k])
    return target


def _rebuild(
    g: Grouper,
    region: list[int],
    groups: list[list[int]],
    before: dict[int, set[int]],
    similarity: Callable[[int, int], float],
) -> None:
    owner = _owners(g, groups)
    taken = set(owner.values())
    at = max(g.published[g.docs[j].article_id] for m in groups for j in m)
    target = _targets(g, groups, owner)
    extras: dict[int, list[str]] = {}  # old cluster -> members that are not live docs
    home: dict[int, int] = {}  # old cluster -> where most of its articles went
    for c in region:
        live = {g.docs[j].article_id for j in before[c]}
        extras[c] = [a for a in g.clusters[c].member_ids if a not in live]
        counts = Counter(k for k, m in enumerate(groups) for j in m if j in before[c])
        kept = [k for k, o in owner.items() if o == c]
        home[c] = target[kept[0]] if kept else target[counts.most_common(1)[0][0]]
    old_links = {link.article_id: link for c in region for link in g.clusters[c].links}
    for c in region:
        cl = g.clusters[c]
        cl.docs, cl.member_ids, cl.links = [], [], []
    for k, members in enumerate(groups):
        cl = g.clusters[target[k]]
        for j in members:
            g.docs[j].cluster = target[k]
            cl.docs.append(j)
            cl.member_ids.append(g.docs[j].article_id)
    for c in region:
        g.clusters[home[c]].member_ids.extend(extras[c])
        for a in extras[c]:
            g.by_article[a] = home[c]
    for k, members in enumerate(groups):
        sources = {c for c in region if before[c] & set(members)}
        _settle(g, target[k], members, before, old_links, similarity)
        cl = g.clusters[target[k]]
        if k in owner:
            for c in sources - {owner[k]} - taken:
                cl.changes.append(StoryChange("absorbed", g.clusters[c].story_id, at))
        else:
            for c in sources:
                cl.changes.append(StoryChange("split_from", g.clusters[c].story_id, at))
                if c in taken:
                    g.clusters[c].changes.append(StoryChange("split_off", cl.story_id, at))
    for c in region:
        if c not in taken:
            cl = g.clusters[c]
            cl.changes.append(StoryChange("merged_into", g.clusters[home[c]].story_id, at))
            cl.changed = True
            g.active.discard(c)
    for c in g.active:
        g.clusters[c].sealed = True


def _settle(
    g: Grouper,
    index: int,
    members: list[int],
    before: dict[int, set[int]],
    old_links: dict[str, StoryLink],
    similarity: Callable[[int, int], float],
) -> None:
    """A rebuilt cluster's times, article index and links (kept, or explained anew if moved)."""
    cl = g.clusters[index]
    for a in cl.member_ids:
        g.by_article[a] = index
    times = [g.published[a] for a in cl.member_ids if a in g.published]
    if times:
        cl.first_seen, cl.last_updated = min(times), max(times)
    moved = {g.docs[j].article_id for j in members} - {
        g.docs[j].article_id for j in before.get(index, set())
    }
    for a in cl.member_ids:
        link = old_links.get(a)
        if link is not None and (a not in moved or link.duplicate):
            cl.links.append(link)
    for j in members:
        if g.docs[j].article_id in moved:
            g.explain(j, {k: similarity(j, k) for k in members if k != j})
    cl.changed = True
