"""The online grouper: active stories, their member vectors, an inverted index, placement.

Articles are taken in time order, one round (a run's new articles, at most ``ROUND_SIZE``) at a
time. Each article joins the active story it is most similar to, by a linkage over the story's
members (the average of their similarities by default), when that reaches the threshold, and
otherwise starts a story. At the end of a round, stories started or grown in it are joined
best-first with each other or with an older story while their linkage reaches the threshold,
which undoes splits that only came from the order of arrival. Stories from earlier rounds are
never joined with each other: a story keeps its id as it grows. Similarities come from an
inverted index over the articles in the window (only articles that share a term are compared)
and, with embeddings, from each article's nearest neighbours by embedding. Syndicated copies
(``duplicate_of``, or the same content hash as another article) follow their original and are
not counted as separate evidence. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import logging
from collections import defaultdict
from collections.abc import Sequence

from briefs.config import GroupSettings
from briefs.embed import Vector
from briefs.group.features import (
    SEMANTIC_CROSS_LANGUAGE,
    SEMANTIC_CROSS_LANGUAGE_LEAD,
    SEMANTIC_SAME_LANGUAGE,
    Doc,
    Featurizer,
    Reading,
    attach,
    combined,
    shared_terms,
    terms_of,
)
from briefs.group.ids import Cluster, story_id
from briefs.group.semantic import EmbeddingIndex
from briefs.models import Article, Story, StoryLink

__all__ = ["PAIR_FLOOR", "ROUND_SIZE", "Cluster", "Grouper"]

log = logging.getLogger(__name__)

PRUNE_EVERY = 500  # articles between two clean-ups of the index (at least; amortized)
POSTINGS_SCANNED = 40  # newest postings read per term
POSTINGS_BUDGET = 300  # postings read per article at most (bounds the work per article)
PAIR_FLOOR = 0.1  # article similarities below this are treated as 0 (sparse graph)
ROUND_SIZE = 500  # new articles clustered together at most (a backlog goes in time-ordered rounds)


class Grouper:
    """The online state: active stories, their member vectors and the inverted index."""

    def __init__(
        self,
        settings: GroupSettings,
        semantic: bool = False,
        readings: dict[str, Reading] | None = None,
    ) -> None:
        self.settings = settings
        self.window = dt.timedelta(hours=settings.window_hours)
        # semantic: embeddings given; similarities count them (see _semantic), and stories may
        # join reports in different languages
        self.semantic = semantic
        self.threshold = settings.threshold
        self.embeddings: dict[str, Vector] = {}
        self.index = EmbeddingIndex()
        self.prunes = True  # retire stories that leave the window as the run goes
        self.features = Featurizer(settings, readings)
        self.docs: list[Doc] = []
        self.clusters: list[Cluster] = []
        self.postings: defaultdict[str, list[int]] = defaultdict(list)
        self.by_article: dict[str, int] = {}  # article id -> cluster (duplicates included)
        self.by_hash: dict[str, str] = {}  # content hash -> first article with it
        self.published: dict[str, dt.datetime] = {}  # article id -> time (to order members)
        self.active: set[int] = set()  # clusters still in the window
        self.retired = 0  # docs of retired clusters (no longer indexed)
        self.touched: set[int] = set()  # docs near this run's new ones (the region re-clustered)
        self.titles: dict[str, str] = {}
        self.added_since_prune = 0

    # -- state -------------------------------------------------------------------------------
    def load(self, stories: Sequence[Story], members: dict[str, Article]) -> None:
        """Rebuild the state of existing stories from their stored member articles.

        Members are replayed in time order so the stream statistics grow as they did.
        """
        owner: dict[str, int] = {}
        for story in sorted(stories, key=lambda s: (s.first_seen, s.id)):
            index = len(self.clusters)
            self.clusters.append(
                Cluster(
                    story.id,
                    story.first_seen,
                    story.last_updated,
                    story.title,
                    "",
                    list(story.article_ids),
                    old=story,
                    sealed=True,
                )
            )
            self.active.add(index)
            for aid in story.article_ids:
                owner.setdefault(aid, index)
        stored = sorted(
            (members[aid] for aid in owner if aid in members), key=lambda a: (a.published, a.id)
        )
        for article in stored:
            self.published[article.id] = article.published
            self.titles[article.id] = article.title
            index = owner[article.id]
            self.by_article[article.id] = index
            if article.duplicate_of or self._original(article) is not None:
                continue
            doc = self.features.doc(article)
            attach(doc, self.embeddings.get(article.id))
            cluster = self.clusters[index]
            cluster.lang = cluster.lang or doc.lang
            self._index(doc, index)
            if article.content_hash:
                self.by_hash.setdefault(article.content_hash, article.id)

    def _index(self, doc: Doc, cluster_index: int) -> None:
        doc.cluster = cluster_index
        doc_index = len(self.docs)
        self.docs.append(doc)
        cluster = self.clusters[cluster_index]
        cluster.docs.append(doc_index)
        for term in doc.vec:
            self.postings[term].append(doc_index)
        self.index.add(doc_index, doc)

    def _original(self, article: Article) -> str | None:
        """The already placed article this one is a copy of (``duplicate_of``, same hash)."""
        if article.duplicate_of and article.duplicate_of in self.by_article:
            return article.duplicate_of
        original = self.by_hash.get(article.content_hash) if article.content_hash else None
        return original if original is not None and original in self.by_article else None

    def _prune(self, now: dt.datetime) -> None:
        """Retire stories that left the window: out of the index and the stream statistics."""
        horizon = now - self.window
        retired = [c for c in self.active if self.clusters[c].last_updated < horizon]
        if retired:
            for c in retired:
                self.active.discard(c)
                for j in self.clusters[c].docs:
                    self.features.forget(self.docs[j])
                    self.docs[j].vec = {}
                    self.docs[j].emb = self.docs[j].lead = None
                    self.retired += 1
            if self.index.rows:
                self.index.keep(j for j in self.index.doc_of if self.docs[j].emb is not None)
            for term in list(self.postings):
                kept = [j for j in self.postings[term] if self.docs[j].vec]
                if kept:
                    self.postings[term] = kept
                else:
                    del self.postings[term]
        self.added_since_prune = 0

    # -- assignment --------------------------------------------------------------------------
    def _pair_weight(self, a: Doc, b: Doc) -> float:
        half_life = self.settings.half_life_hours
        if half_life <= 0:
            return 1.0
        hours = abs((a.published - b.published).total_seconds()) / 3600.0
        return float(0.5 ** (hours / half_life))

    def _dots(self, doc: Doc) -> dict[int, float]:
        """Similarity of a document to the indexed ones it is close to.

        Postings are in arrival order; only the newest ``POSTINGS_SCANNED`` of a term are read,
        strongest terms first, and at most ``POSTINGS_BUDGET`` in all: a term common in a busy
        window adds its (small) weight only for recent articles, and the work per article stays
        bounded as the stream grows. Similarities below
        ``PAIR_FLOOR`` are dropped (a sparse similarity graph).
        """
        dots: defaultdict[int, float] = defaultdict(float)
        docs = self.docs
        budget = POSTINGS_BUDGET
        # strongest terms first: when the budget runs out, only weak (common) terms are skipped
        for term, weight in sorted(doc.vec.items(), key=lambda tw: -tw[1]):
            postings = self.postings.get(term)
            if not postings:
                continue
            scan = postings[-min(POSTINGS_SCANNED, budget) :]
            for j in scan:
                dots[j] += weight * docs[j].vec[term]
            budget -= len(scan)
            if budget <= 0:
                break
        if self.semantic:
            return self._semantic(doc, dots)
        out: dict[int, float] = {}
        for j, value in dots.items():
            if value >= PAIR_FLOOR:
                value *= self._pair_weight(doc, docs[j])
                if value >= PAIR_FLOOR:
                    out[j] = value
        return out

    def _semantic(self, doc: Doc, dots: dict[int, float]) -> dict[int, float]:
        """Similarities of a document with its candidates, lexical and semantic evidence both.

        Candidates are the documents that share a term with it (``dots``) and, when it has an
        embedding, its ``SEMANTIC_NEIGHBOURS`` nearest by embedding (a reworded headline, a
        report in another language share no term). Within one language a pair's similarity
        combines its term cosine and what its embedding cosine is worth on that scale
        (:func:`~briefs.group.features.combined`); across languages only the latter counts.
        """
        by_title, by_lead = self.index.compare(doc, dots)
        out: dict[int, float] = {}
        docs = self.docs
        for j in set(dots) | set(by_title):
            other = docs[j]
            if other is doc or not other.vec:
                continue
            same = other.lang == doc.lang
            value = dots.get(j, 0.0) if same else 0.0
            cosine = by_title.get(j)
            if cosine is not None:  # features.similarity, from the rows
                scale, offset = SEMANTIC_SAME_LANGUAGE if same else SEMANTIC_CROSS_LANGUAGE
                if not same and j in by_lead:
                    scale, offset = SEMANTIC_CROSS_LANGUAGE_LEAD
                    cosine = by_lead[j]
                semantic = scale * cosine + offset
                value = combined(value, semantic) if same else max(value, semantic)
            value *= self._pair_weight(doc, other)
            if value >= PAIR_FLOOR:
                out[j] = value
        return out

    def _can_merge(self, a: Cluster, b: Cluster) -> bool:
        if a.sealed and b.sealed:
            return False  # stories from earlier rounds keep their identity
        if a.lang != b.lang and not self.semantic:
            return False
        early, late = (a, b) if a.first_seen <= b.first_seen else (b, a)
        return late.first_seen - early.last_updated <= self.window

    def _linkage(self, pair: list[float], a: Cluster, b: Cluster) -> float:
        if self.settings.linkage == "single":
            return pair[1]
        return pair[0] / (len(a.docs) * len(b.docs))

    def add_round(self, articles: Sequence[Article]) -> None:
        """Place one round of new articles (in time order) in existing or new stories.

        Copies of an article (``duplicate_of``, same content hash) follow it. Each other article
        joins its best story (linkage at or above the threshold) or starts one; then the round's
        stories are joined best-first where their linkage still reaches the threshold (two
        stories from earlier rounds are never joined).
        """
        round_docs: list[int] = []
        pair_dots: dict[int, dict[int, float]] = {}
        for article in articles:
            self.published[article.id] = article.published
            self.titles[article.id] = article.title
            original = self._original(article)
            if original is not None:
                self._attach_copy(article, original)
                continue
            if article.duplicate_of:
                log.debug(
                    "%s: original %s unknown; grouped on its own", article.id, article.duplicate_of
                )
            if article.content_hash:
                self.by_hash.setdefault(article.content_hash, article.id)
            doc = self.features.doc(article)
            attach(doc, self.embeddings.get(article.id))
            dots = self._dots(doc)
            c = len(self.clusters)
            self.clusters.append(
                Cluster(
                    story_id(article),
                    article.published,
                    article.published,
                    article.title,
                    doc.lang,
                    [article.id],
                )
            )
            self.active.add(c)
            self._index(doc, c)
            j_new = len(self.docs) - 1
            round_docs.append(j_new)
            pair_dots[j_new] = dots
            for j, value in dots.items():
                if j in pair_dots:
                    pair_dots[j][j_new] = value
            self.by_article[article.id] = c
            self.touched.add(j_new)
            self.touched.update(k for k, v in dots.items() if v >= self.threshold / 2)
            self._join_best(j_new, dots)
        self._agglomerate(round_docs, pair_dots)
        for j in round_docs:
            self.explain(j, pair_dots[j])
        self.added_since_prune += len(articles)
        live = len(self.docs) - self.retired
        due = self.added_since_prune >= max(PRUNE_EVERY, live // 4)
        if articles and self.prunes and due:
            self._prune(articles[-1].published)

    def _join_best(self, j: int, dots: dict[int, float]) -> None:
        """Move a new article from its own cluster into the best one by linkage, if any."""
        doc = self.docs[j]
        mine = doc.cluster
        per: dict[int, list[float]] = {}
        for k, value in dots.items():
            c = self.docs[k].cluster
            if c == mine:
                continue
            entry = per.setdefault(c, [0.0, 0.0])
            entry[0] += value
            entry[1] = max(entry[1], value)
        best, best_score = -1, self.threshold
        for c, entry in per.items():
            cluster = self.clusters[c]
            if not self._can_merge(cluster, self.clusters[mine]):
                continue
            score = self._linkage(entry, cluster, self.clusters[mine])
            if score >= best_score:
                best, best_score = c, score
        if best >= 0:
            self._merge(best, mine)
            self.active.discard(mine)

    def _attach_copy(self, article: Article, original: str) -> None:
        """A syndicated copy joins its original's story (as a member, not as evidence)."""
        target = self.by_article[original]
        cluster = self.clusters[target]
        cluster.member_ids.append(article.id)
        cluster.links.append(StoryLink(article.id, 1.0, original, (), duplicate=True))
        cluster.last_updated = max(cluster.last_updated, article.published)
        cluster.changed = True
        self.by_article[article.id] = target

    def _round_neighbours(
        self, round_docs: list[int], pair_dots: dict[int, dict[int, float]]
    ) -> defaultdict[int, dict[int, list[float]]]:
        """``neighbours[c][d]``: [sum of member-pair similarities, largest one] between clusters
        (the two directions share one list)."""
        neighbours: defaultdict[int, dict[int, list[float]]] = defaultdict(dict)
        for j in round_docs:
            cj = self.docs[j].cluster
            for k, value in pair_dots[j].items():
                ck = self.docs[k].cluster
                if ck == cj or (k in pair_dots and k > j):
                    continue  # each new-new pair once (from the later document)
                entry = neighbours[cj].setdefault(ck, [0.0, 0.0])
                entry[0] += value
                entry[1] = max(entry[1], value)
                neighbours[ck][cj] = entry
        return neighbours

    def _agglomerate(self, round_docs: list[int], pair_dots: dict[int, dict[int, float]]) -> None:
        neighbours = self._round_neighbours(round_docs, pair_dots)
        heap: list[tuple[float, int, int]] = []
        for c, row in neighbours.items():
            for d, entry in row.items():
                if c < d:
                    score = self._linkage(entry, self.clusters[c], self.clusters[d])
                    if score >= self.threshold:
                        heapq.heappush(heap, (-score, c, d))
        dead: set[int] = set()
        while heap:
            neg, c, d = heapq.heappop(heap)
            if c in dead or d in dead:
                continue
            a, b = self.clusters[c], self.clusters[d]
            current = neighbours[c].get(d)
            if current is None or abs(self._linkage(current, a, b) + neg) > 1e-12:
                continue  # stale: one side grew since this pair was scored
            if not self._can_merge(a, b):
                continue
            a_first = a.sealed or (
                not b.sealed and (a.first_seen, a.story_id) <= (b.first_seen, b.story_id)
            )
            keep, gone = (c, d) if a_first else (d, c)
            self._merge(keep, gone)
            dead.add(gone)
            row_gone = neighbours.pop(gone)
            row_keep = neighbours[keep]
            row_keep.pop(gone, None)
            for x, e in row_gone.items():
                if x == keep:
                    continue
                merged = row_keep.get(x)
                if merged is None:
                    merged = row_keep[x] = [0.0, 0.0]
                    neighbours[x][keep] = merged
                merged[0] += e[0]
                merged[1] = max(merged[1], e[1])
                neighbours[x].pop(gone, None)
            for x, e in row_keep.items():
                if x in dead:
                    continue
                score = self._linkage(e, self.clusters[keep], self.clusters[x])
                if score >= self.threshold:
                    lo, hi = min(keep, x), max(keep, x)
                    heapq.heappush(heap, (-score, lo, hi))
        for c in dead:
            self.active.discard(c)
        for c in self.active:
            self.clusters[c].sealed = True

    def _merge(self, keep: int, gone: int) -> None:
        a, b = self.clusters[keep], self.clusters[gone]
        for j in b.docs:
            self.docs[j].cluster = keep
        for aid in b.member_ids:
            self.by_article[aid] = keep
        a.docs.extend(b.docs)
        a.member_ids.extend(b.member_ids)
        a.links.extend(b.links)
        a.first_seen = min(a.first_seen, b.first_seen)
        a.last_updated = max(a.last_updated, b.last_updated)
        b.docs, b.member_ids, b.links = [], [], []

    def explain(self, j: int, dots: dict[int, float]) -> None:
        """Record why a new article is where it ended up (its best match and their terms)."""
        doc = self.docs[j]
        cluster = self.clusters[doc.cluster]
        cluster.changed = True
        cluster.last_updated = max(cluster.last_updated, doc.published)
        others = [k for k in cluster.docs if k != j]
        if not others:
            cluster.links.append(StoryLink(doc.article_id, 0.0))
            return
        best = max(others, key=lambda k: (dots.get(k, 0.0), -k))
        average = sum(dots.get(k, 0.0) for k in others) / len(others)
        cluster.links.append(
            StoryLink(
                doc.article_id,
                round(average, 4),
                self.docs[best].article_id,
                shared_terms(doc, self.docs[best]),
            )
        )

    # -- output ------------------------------------------------------------------------------
    def changed_stories(self) -> list[Story]:
        out: list[Story] = []
        for cluster in self.clusters:
            if not cluster.changed:
                continue
            if not cluster.member_ids:
                if cluster.old is not None and cluster.changes:  # merged into another story
                    out.append(
                        dataclasses.replace(
                            cluster.old, article_ids=(), links=(), changes=tuple(cluster.changes)
                        )
                    )
                continue
            docs = [self.docs[j] for j in cluster.docs]
            far = dt.datetime.max.replace(tzinfo=dt.UTC)
            story = Story(
                cluster.story_id,
                tuple(sorted(cluster.member_ids, key=lambda i: (self.published.get(i, far), i))),
                cluster.first_seen,
                cluster.last_updated,
                cluster.title,
                terms_of([d for d in docs if d.vec])
                or (cluster.old.terms if cluster.old is not None else ()),
                tuple(cluster.links),
                tuple(cluster.changes),
            )
            if cluster.old is not None:
                story = dataclasses.replace(story, title=cluster.old.title or cluster.title)
            out.append(story)
        return out
