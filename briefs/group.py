"""Articles -> stories: online clustering of title + lead vectors, kept across days.

Each article is a TF-IDF vector of its title (counted twice: the headline names the event) and
its lead (the feed teaser, else the first words of the body). Term weights come from the stream
of the last ``window_hours`` with a background table (:mod:`briefs.background`) as a prior, so
there is no cold start and a word a busy day repeats everywhere stops counting. Entity-like terms
(capitalized words inside a sentence, acronyms, numbers) weigh more: events are told apart by
who, where and how many.

Articles are taken in time order, one round (a run's new articles, at most ``ROUND_SIZE``) at a
time. Each article joins the active story it is most similar to, by a linkage over the story's
members (the average of their similarities by default), when that reaches the threshold, and
otherwise starts a story. At the end of a round, stories started or grown in it are joined
best-first with each other or with an older story while their linkage reaches the threshold,
which undoes splits that only came from the order of arrival. Stories from earlier rounds are
never joined with each other: a story keeps its id as it grows. Similarities come from an
inverted index over the articles in the window (only articles that share a term are compared)
and may be damped by the time between two articles (``half_life_hours``). Syndicated copies
(``duplicate_of``, or the same content hash as another article) follow their original and are
not counted as separate evidence. Term vectors are compared only within one language: term
overlap cannot judge a translation.

With embeddings (:mod:`briefs.embed`; ``group_articles(..., embeddings)``), each new article is
also compared with its nearest articles by embedding, and a pair's embedding cosine counts as
the term cosine of equal fitted log-odds of "same event" (:func:`semantic_equivalent`; one
calibration for pairs in one language, where the pair takes the larger of its two similarities,
and one for pairs in two languages, which have only this one). Stories may then join reports in
different languages.

With ``recluster`` the region of the window a run touched is clustered again from scratch by
average linkage with the current term weights (:meth:`_Grouper.recluster`, which states how
story ids are kept across splits and merges).

Every placement is explained (:class:`~briefs.models.StoryLink`): the similarity, the member it
is closest to and the terms they share. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import heapq
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from briefs.background import background_idf, guess_language
from briefs.config import GroupSettings
from briefs.embed import DIM, Vector
from briefs.models import Article, Story, StoryChange, StoryLink
from briefs.text import STOP_WORDS, is_unspaced, raw_tokens, stem

__all__ = [
    "PAIR_FEATURES",
    "article_text",
    "group_articles",
    "pair_features",
    "semantic_equivalent",
    "story_terms",
    "vectorize",
]

log = logging.getLogger(__name__)

TERMS_KEPT = 8
PRUNE_EVERY = 500  # articles between two clean-ups of the index (at least; amortized)
POSTINGS_SCANNED = 40  # newest postings read per term
POSTINGS_BUDGET = 300  # postings read per article at most (bounds the work per article)
PAIR_FLOOR = 0.1  # article similarities below this are treated as 0 (sparse graph)
ROUND_SIZE = 500  # new articles clustered together at most (a backlog goes in time-ordered rounds)
SHARED_KEPT = 6
# The semantic signal on the lexical scale: a pair's embedding cosine ``c`` counts as the term
# cosine ``scale * c + offset`` that is as likely to mean "same event" (both calibrated by
# logistic fits of same-event against cosine, one per signal, on two of three folds by story of
# the MMDS development set, titles embedded; ``benchmarks/group_signals.py --fit``). A pair
# in one language takes the larger of its two cosines; a pair in two languages has only the
# semantic one (its embedding cosines run lower, hence its own fit).
SEMANTIC_SAME_LANGUAGE = (3.209, -2.642)
SEMANTIC_CROSS_LANGUAGE = (4.112, -3.182)
SEMANTIC_NEIGHBOURS = 20  # nearest articles by embedding compared with each new one
RECLUSTER_MAX = 2000  # articles re-clustered together at most (larger: the online result stays)
_NUMBER = re.compile(r"^\d[\d.,]*$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
_SENTENCE_OPENERS = ".!?:;\"“”‘'(—–-|"


def article_text(article: Article, lead_words: int) -> tuple[str, str]:
    """What grouping reads of an article: its title and its lead.

    The lead is the feed teaser (``summary``) when there is one, else the body; either is cut to
    ``lead_words`` words (0: the whole text).
    """
    lead = article.summary or article.body
    if lead_words > 0:
        words = lead.split()
        if len(words) > lead_words:
            lead = " ".join(words[:lead_words])
    return article.title, lead


@dataclass(slots=True)
class _Doc:
    """One (non-duplicate) article as grouping sees it."""

    article_id: str
    published: dt.datetime
    lang: str
    vec: dict[str, float]
    forms: dict[str, str]
    cluster: int = -1
    entities: frozenset[str] = frozenset()
    emb: Vector | None = None
    counts: tuple[dict[str, float], dict[str, str]] = ({}, {})  # term counts, surface forms


@dataclass
class _Cluster:
    story_id: str
    first_seen: dt.datetime
    last_updated: dt.datetime
    title: str
    lang: str
    member_ids: list[str]
    docs: list[int] = field(default_factory=list)
    links: list[StoryLink] = field(default_factory=list)
    old: Story | None = None
    changed: bool = False
    sealed: bool = False  # from an earlier round: never joined with another sealed story
    changes: list[StoryChange] = field(default_factory=list)


def _story_id(first_article: Article) -> str:
    return hashlib.sha1(f"story:{first_article.id}".encode()).hexdigest()[:16]


def _story_id_for(article_id: str, known: set[str]) -> str:
    """The id of a story first reported by ``article_id`` (another one if that is taken: a
    story that split off may hold the article that founded the story that kept the id)."""
    key, n = f"story:{article_id}", 0
    while True:
        story_id = hashlib.sha1(key.encode()).hexdigest()[:16]
        if story_id not in known:
            return story_id
        n += 1
        key = f"story:{article_id}:{n}"


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in _SENTENCE_OPENERS


def _title_case(text: str, toks: list[tuple[str, int]]) -> bool:
    """Headline style ("Fed Raises Rates Again"): capitals then say nothing about names."""
    content = [w for w, _ in toks if len(w) > 3 and w.lower() not in STOP_WORDS]
    if len(content) < 2:
        return False
    capitals = sum(1 for w in content if w[0].isupper())
    return capitals / len(content) >= 0.6


class _Featurizer:
    """Turns articles into weighted, unit-length term vectors (with display forms)."""

    def __init__(self, settings: GroupSettings) -> None:
        self.settings = settings
        self._background: dict[tuple[str, str], float] = {}
        # per language: a word's frequency in one language says nothing about another
        self.df: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.n_docs: Counter[str] = Counter()

    def background(self, term: str, surface: str, lang: str) -> float:
        """Background document probability of a term (cached)."""
        key = (term, lang)
        value = self._background.get(key)
        if value is None:
            value = self._background[key] = math.exp(-background_idf(term, surface, lang))
        return value

    def idf(self, term: str, surface: str, lang: str) -> float:
        """Inverse document frequency in the stream, with the background as a prior.

        The document frequency is estimated as (df + m * p_background) / (n + m): the articles
        in this language seen in the window, plus ``m`` pseudo-articles distributed like general
        text. Early on (or for a rare term) the background decides; once the stream is large,
        the stream does.
        """
        m = self.settings.prior_docs
        df = self.df[lang][term]
        p = (df + m * self.background(term, surface, lang)) / (self.n_docs[lang] + m)
        return -math.log(min(max(p, 1e-12), 1.0))

    def forget(self, doc: _Doc) -> None:
        """Remove a document that left the window from the stream statistics."""
        self.df[doc.lang].subtract(doc.vec.keys())
        self.n_docs[doc.lang] -= 1

    def doc(self, article: Article) -> _Doc:
        s = self.settings
        title, lead = article_text(article, s.lead_words)
        counts: defaultdict[str, float] = defaultdict(float)
        entity: set[str] = set()
        surface: dict[str, str] = {}
        forms: dict[str, str] = {}
        lowered: list[str] = []
        for part, weight in ((title, s.title_weight), (lead, 1.0)):
            toks = raw_tokens(part)
            caps_mean_names = not (part is title and _title_case(part, toks))
            for raw, start in toks:
                if is_unspaced(raw):
                    key = low = raw
                    is_entity = False
                else:
                    low = raw.lower().strip("'’-")
                    if _NUMBER.match(low):
                        low = low.rstrip(".,")
                        if _THOUSANDS.match(low):
                            low = low.replace(",", "")
                        key, is_entity = low, True
                    else:
                        low = _NUMBER_WORDS.get(low, low)
                        if len(low) < 2 or low in STOP_WORDS:
                            continue
                        key = low if low.isdigit() else stem(low)
                        is_entity = low.isdigit() or (
                            len(raw) >= 2
                            and raw[0].isupper()
                            and (
                                raw.isupper()
                                or (caps_mean_names and not _sentence_initial(part, start))
                            )
                        )
                lowered.append(low)
                counts[key] += weight
                surface.setdefault(key, low)
                if is_entity and key not in entity:
                    entity.add(key)
                    forms[key] = low if _NUMBER.match(low) else raw.strip("'’-")
                forms.setdefault(key, low)
                if "-" in low:  # "anti-mobilisation" also matches "mobilisation"
                    for piece in low.split("-"):
                        if len(piece) >= 3 and piece not in STOP_WORDS:
                            k2 = piece if piece.isdigit() else stem(piece)
                            counts[k2] += weight * 0.5
                            surface.setdefault(k2, piece)
                            forms.setdefault(k2, piece)
        lang = guess_language(lowered, article.language)
        self.df[lang].update(counts.keys())
        self.n_docs[lang] += 1
        doc = _Doc(article.id, article.published, lang, {}, forms, entities=frozenset(entity))
        doc.counts = (dict(counts), surface)
        self.weigh(doc)
        return doc

    def weigh(self, doc: _Doc) -> None:
        """(Re)compute a document's unit-length vector from its counts with the current idf."""
        counts, surface = doc.counts
        vec: dict[str, float] = {}
        for key, count in counts.items():
            w = (1.0 + math.log(count)) * self.idf(key, surface[key], doc.lang)
            if key in doc.entities:
                w *= self.settings.entity_weight
            vec[key] = w
        norm = math.sqrt(sum(w * w for w in vec.values()))
        doc.vec = {t: w / norm for t, w in vec.items()} if norm else vec


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


# What the pair model reads of two articles (see pair_features).
PAIR_FEATURES = (
    "lexical",
    "semantic",
    "entities",
    "cross_language",
    "semantic_cross_language",
    "days_apart",
)


def pair_features(a: _Doc, b: _Doc) -> tuple[float, ...]:
    """The evidence that two articles report one event, as numbers for the pair model.

    ``lexical``: cosine of their weighted term vectors; ``semantic``: cosine of their
    embeddings (0 when either has none); ``entities``: share of the smaller set of names and
    numbers that the other article also has; ``cross_language``: 1 when their languages differ;
    ``semantic_cross_language``: the semantic cosine again for a pair in two languages (0
    otherwise: such a pair has little lexical evidence, and its cosine runs lower);
    ``days_apart``: time between them in days, at most 3.
    """
    semantic = float(a.emb @ b.emb) if a.emb is not None and b.emb is not None else 0.0
    small = min(len(a.entities), len(b.entities))
    entities = len(a.entities & b.entities) / small if small else 0.0
    days = abs((a.published - b.published).total_seconds()) / 86400.0
    cross = a.lang != b.lang
    return (
        _dot(a.vec, b.vec),
        semantic,
        entities,
        1.0 if cross else 0.0,
        semantic if cross else 0.0,
        min(days, 3.0),
    )


def semantic_equivalent(a: _Doc, b: _Doc) -> float:
    """The term cosine that two articles' embedding cosine is worth (0 without embeddings)."""
    if a.emb is None or b.emb is None:
        return 0.0
    scale, offset = SEMANTIC_SAME_LANGUAGE if a.lang == b.lang else SEMANTIC_CROSS_LANGUAGE
    return max(0.0, scale * float(a.emb @ b.emb) + offset)


def vectorize(
    articles: Sequence[Article],
    settings: GroupSettings,
    embeddings: dict[str, Vector] | None = None,
) -> list[_Doc]:
    """Articles as grouping sees them, featurized in time order as the stream would be."""
    features = _Featurizer(settings)
    docs = {a.id: features.doc(a) for a in sorted(articles, key=lambda a: (a.published, a.id))}
    out = [docs[a.id] for a in articles]
    if embeddings:
        for doc in out:
            doc.emb = embeddings.get(doc.article_id)
    return out


def _shared(a: _Doc, b: _Doc, k: int = SHARED_KEPT) -> tuple[str, ...]:
    common = sorted((t for t in a.vec if t in b.vec), key=lambda t: (-a.vec[t] * b.vec[t], t))
    return tuple(a.forms.get(t, t) for t in common[:k])


class _Grouper:
    """The online state: active stories, their member vectors and the inverted index."""

    def __init__(self, settings: GroupSettings, semantic: bool = False) -> None:
        self.settings = settings
        self.window = dt.timedelta(hours=settings.window_hours)
        # semantic: embeddings given; similarities count them (see _semantic), and stories may
        # join reports in different languages
        self.semantic = semantic
        self.threshold = settings.threshold
        self.embeddings: dict[str, Vector] = {}
        self._emb = np.zeros((0, DIM), dtype=np.float32)  # rows: indexed docs with embeddings
        self._emb_doc: list[int] = []  # row -> doc index
        self._emb_rows = 0
        self.features = _Featurizer(settings)
        self.docs: list[_Doc] = []
        self.clusters: list[_Cluster] = []
        self.postings: defaultdict[str, list[int]] = defaultdict(list)
        self.by_article: dict[str, int] = {}  # article id -> cluster (duplicates included)
        self.by_hash: dict[str, str] = {}  # content hash -> first article with it
        self.published: dict[str, dt.datetime] = {}  # article id -> time (to order members)
        self.active: set[int] = set()  # clusters still in the window
        self._retired = 0  # docs of retired clusters (no longer indexed)
        self.touched: set[int] = set()  # docs near this run's new ones (the region re-clustered)
        self.titles: dict[str, str] = {}
        self._added_since_prune = 0

    # -- state -------------------------------------------------------------------------------
    def load(self, stories: Sequence[Story], members: dict[str, Article]) -> None:
        """Rebuild the state of existing stories from their stored member articles.

        Members are replayed in time order so the stream statistics grow as they did.
        """
        owner: dict[str, int] = {}
        for story in sorted(stories, key=lambda s: (s.first_seen, s.id)):
            index = len(self.clusters)
            self.clusters.append(
                _Cluster(
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
            doc.emb = self.embeddings.get(article.id)
            cluster = self.clusters[index]
            cluster.lang = cluster.lang or doc.lang
            self._index(doc, index)
            if article.content_hash:
                self.by_hash.setdefault(article.content_hash, article.id)

    def _index(self, doc: _Doc, cluster_index: int) -> None:
        doc.cluster = cluster_index
        doc_index = len(self.docs)
        self.docs.append(doc)
        cluster = self.clusters[cluster_index]
        cluster.docs.append(doc_index)
        for term in doc.vec:
            self.postings[term].append(doc_index)
        if doc.emb is not None:
            if self._emb_rows == len(self._emb):
                grown = np.zeros((max(64, 2 * len(self._emb)), DIM), dtype=np.float32)
                grown[: self._emb_rows] = self._emb[: self._emb_rows]
                self._emb = grown
            self._emb[self._emb_rows] = doc.emb
            self._emb_doc.append(doc_index)
            self._emb_rows += 1

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
                    self.docs[j].emb = None
                    self._retired += 1
            if self._emb_rows:
                live = [r for r, j in enumerate(self._emb_doc) if self.docs[j].emb is not None]
                self._emb = self._emb[live].copy()
                self._emb_doc = [self._emb_doc[r] for r in live]
                self._emb_rows = len(live)
            for term in list(self.postings):
                kept = [j for j in self.postings[term] if self.docs[j].vec]
                if kept:
                    self.postings[term] = kept
                else:
                    del self.postings[term]
        self._added_since_prune = 0

    # -- assignment --------------------------------------------------------------------------
    def _pair_weight(self, a: _Doc, b: _Doc) -> float:
        half_life = self.settings.half_life_hours
        if half_life <= 0:
            return 1.0
        hours = abs((a.published - b.published).total_seconds()) / 3600.0
        return float(0.5 ** (hours / half_life))

    def _dots(self, doc: _Doc) -> dict[int, float]:
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

    def _semantic(self, doc: _Doc, dots: dict[int, float]) -> dict[int, float]:
        """Similarities of a document with its candidates, lexical and semantic evidence both.

        Candidates are the documents that share a term with it (``dots``) and, when it has an
        embedding, its ``SEMANTIC_NEIGHBOURS`` nearest by embedding (a reworded headline, a
        report in another language share no term). Within one language a pair's similarity is
        the larger of its term cosine and what its embedding cosine is worth on that scale
        (:func:`semantic_equivalent`); across languages only the latter counts.
        """
        candidates = set(dots)
        if doc.emb is not None and self._emb_rows:
            sims = self._emb[: self._emb_rows] @ doc.emb
            k = min(SEMANTIC_NEIGHBOURS, self._emb_rows)
            top = np.argpartition(-sims, k - 1)[:k] if k < self._emb_rows else range(k)
            candidates.update(self._emb_doc[int(r)] for r in top)
        out: dict[int, float] = {}
        docs = self.docs
        for j in candidates:
            other = docs[j]
            if other is doc or not other.vec:
                continue
            lexical = dots.get(j, 0.0) if other.lang == doc.lang else 0.0
            value = max(lexical, semantic_equivalent(doc, other)) * self._pair_weight(doc, other)
            if value >= PAIR_FLOOR:
                out[j] = value
        return out

    def _can_merge(self, a: _Cluster, b: _Cluster) -> bool:
        if a.sealed and b.sealed:
            return False  # stories from earlier rounds keep their identity
        if a.lang != b.lang and not self.semantic:
            return False
        early, late = (a, b) if a.first_seen <= b.first_seen else (b, a)
        return late.first_seen - early.last_updated <= self.window

    def _linkage(self, pair: list[float], a: _Cluster, b: _Cluster) -> float:
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
            doc.emb = self.embeddings.get(article.id)
            dots = self._dots(doc)
            c = len(self.clusters)
            self.clusters.append(
                _Cluster(
                    _story_id(article),
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
            self._explain(j, pair_dots[j])
        self._added_since_prune += len(articles)
        live = len(self.docs) - self._retired
        if articles and self._added_since_prune >= max(PRUNE_EVERY, live // 4):
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

    def _agglomerate(self, round_docs: list[int], pair_dots: dict[int, dict[int, float]]) -> None:
        # neighbours[c][d] = [sum of member-pair similarities, largest one] between clusters
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

    def _explain(self, j: int, dots: dict[int, float]) -> None:
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
                _shared(doc, self.docs[best]),
            )
        )

    # -- re-clustering ------------------------------------------------------------------------
    def _similarities(self, idx: list[int]) -> npt.NDArray[np.float64]:
        """All-pairs similarities of the given documents, as placement computes them (exact)."""
        docs = [self.docs[j] for j in idx]
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
        if self.semantic:
            has = np.array([d.emb is not None for d in docs])
            if has.any():
                e = np.zeros((len(docs), DIM), dtype=np.float32)
                for r, d in enumerate(docs):
                    if d.emb is not None:
                        e[r] = d.emb
                cos = (e @ e.T).astype(np.float64)
                scale = np.where(same, SEMANTIC_SAME_LANGUAGE[0], SEMANTIC_CROSS_LANGUAGE[0])
                offset = np.where(same, SEMANTIC_SAME_LANGUAGE[1], SEMANTIC_CROSS_LANGUAGE[1])
                both = has[:, None] & has[None, :]
                sim = np.maximum(sim, np.where(both, np.maximum(scale * cos + offset, 0.0), 0.0))
        hours = np.array([d.published.timestamp() for d in docs]) / 3600.0
        apart = np.abs(hours[:, None] - hours[None, :])
        sim[apart > self.settings.window_hours] = 0.0
        half_life = self.settings.half_life_hours
        if half_life > 0:
            sim *= 0.5 ** (apart / half_life)
        sim[sim < PAIR_FLOOR] = 0.0
        return sim

    def recluster(self) -> None:
        """Cluster the region of the window this run touched again, from scratch, by average
        linkage at the threshold, so the order articles arrived in no longer decides it.

        The region is every active story that holds one of this run's new articles or an
        article close to one (at least half the threshold). Story ids stay stable: new clusters
        and old stories are paired by how many of the story's articles from before this run
        they share, most first (then by all the articles they share, then the older story
        first), each at most once; a cluster paired with a story keeps its id. A cluster
        left unpaired gets a new id; if it took articles from an older story it records that it
        split off it, and the story that kept the id records the part it lost. A story left
        unpaired has joined the cluster holding most of its articles and records that it merged
        into it; the cluster records that it absorbed it. Copies (and members no longer in the
        window) follow their story's larger part.
        """
        region = sorted(
            {self.docs[j].cluster for j in self.touched if self.docs[j].vec}
            & {c for c in self.active if self.clusters[c].docs}
        )
        idx = [j for c in region for j in self.clusters[c].docs if self.docs[j].vec]
        self.touched = set()
        if len(idx) < 2:
            return
        if len(idx) > RECLUSTER_MAX:
            log.info(
                "re-clustering skipped: %d articles in the region (at most %d)",
                len(idx),
                RECLUSTER_MAX,
            )
            return
        for j in idx:  # weights as of now: the order of arrival no longer shapes them
            self.features.weigh(self.docs[j])
        sim = self._similarities(idx)
        dist = np.clip(1.0 - sim, 0.0, 1.0)
        np.fill_diagonal(dist, 0.0)
        tree = linkage(squareform(dist, checks=False), method=self.settings.linkage)
        labels = fcluster(tree, t=1.0 - self.threshold + 1e-9, criterion="distance")
        groups: defaultdict[int, list[int]] = defaultdict(list)
        for j, label in zip(idx, labels, strict=True):
            groups[int(label)].append(j)
        before = {c: {j for j in self.clusters[c].docs if self.docs[j].vec} for c in region}
        if sorted(map(sorted, groups.values())) == sorted(sorted(v) for v in before.values()):
            return  # nothing moved
        pos = {j: r for r, j in enumerate(idx)}
        self._rebuild(
            region, list(groups.values()), before, lambda a, b: float(sim[pos[a], pos[b]])
        )

    def _rebuild(
        self,
        region: list[int],
        groups: list[list[int]],
        before: dict[int, set[int]],
        similarity: Callable[[int, int], float],
    ) -> None:
        pairs: list[tuple[int, int, dt.datetime, str, int, int]] = []
        for g, members in enumerate(groups):
            counts = Counter(self.docs[j].cluster for j in members)
            for c, n in counts.items():
                cl = self.clusters[c]
                earlier = set(cl.old.article_ids) if cl.old is not None else set()
                n_old = sum(
                    1
                    for j in members
                    if self.docs[j].cluster == c and self.docs[j].article_id in earlier
                )
                pairs.append((-n_old, -n, cl.first_seen, cl.story_id, g, c))
        pairs.sort()
        owner: dict[int, int] = {}  # group -> old cluster whose id it keeps
        taken: set[int] = set()
        for *_, g, c in pairs:
            if g not in owner and c not in taken:
                owner[g] = c
                taken.add(c)
        at = max(self.published[self.docs[j].article_id] for m in groups for j in m)
        known = {cl.story_id for cl in self.clusters}
        target: dict[int, int] = {}  # group -> cluster index it becomes
        extras: dict[int, list[str]] = {}  # old cluster -> members that are not live docs
        for c in region:
            cl = self.clusters[c]
            live = {self.docs[j].article_id for j in before[c]}
            extras[c] = [a for a in cl.member_ids if a not in live]
        for g, members in enumerate(groups):
            if g in owner:
                target[g] = owner[g]
                continue
            first = min(members, key=lambda j: (self.docs[j].published, self.docs[j].article_id))
            article_id = self.docs[first].article_id
            story_id = _story_id_for(article_id, known)
            known.add(story_id)
            when = self.docs[first].published
            self.clusters.append(
                _Cluster(
                    story_id, when, when, self.titles.get(article_id, ""), self.docs[first].lang, []
                )
            )
            target[g] = len(self.clusters) - 1
            self.active.add(target[g])
        # where each old cluster's articles went: most of them decides where its extras go
        home: dict[int, int] = {}
        for c in region:
            counts = Counter(g for g, m in enumerate(groups) for j in m if j in before[c])
            kept = [g for g, o in owner.items() if o == c]
            home[c] = target[kept[0]] if kept else target[counts.most_common(1)[0][0]]
        old_links = {link.article_id: link for c in region for link in self.clusters[c].links}
        for c in region:
            cl = self.clusters[c]
            cl.docs, cl.member_ids, cl.links = [], [], []
        for g, members in enumerate(groups):
            cl = self.clusters[target[g]]
            for j in members:
                self.docs[j].cluster = target[g]
                cl.docs.append(j)
                cl.member_ids.append(self.docs[j].article_id)
        for c in region:
            self.clusters[home[c]].member_ids.extend(extras[c])
            for a in extras[c]:
                self.by_article[a] = home[c]
        for g, members in enumerate(groups):
            index = target[g]
            cl = self.clusters[index]
            for a in cl.member_ids:
                self.by_article[a] = index
            times = [self.published[a] for a in cl.member_ids if a in self.published]
            if times:
                cl.first_seen, cl.last_updated = min(times), max(times)
            sources = {c for c in region if before[c] & set(members)}
            if g in owner:
                for c in sources - {owner[g]}:
                    if c not in taken:
                        cl.changes.append(StoryChange("absorbed", self.clusters[c].story_id, at))
            else:
                for c in sources:
                    cl.changes.append(StoryChange("split_from", self.clusters[c].story_id, at))
                    if c in taken:
                        self.clusters[c].changes.append(StoryChange("split_off", cl.story_id, at))
            moved = {self.docs[j].article_id for j in members} - {
                self.docs[j].article_id for j in before.get(index, set())
            }
            for a in cl.member_ids:
                link = old_links.get(a)
                if link is not None and (a not in moved or link.duplicate):
                    cl.links.append(link)
            for j in members:
                if self.docs[j].article_id in moved:
                    self._explain(j, {k: similarity(j, k) for k in members if k != j})
            cl.changed = True
        for c in region:
            if c not in taken:
                cl = self.clusters[c]
                cl.changes.append(StoryChange("merged_into", self.clusters[home[c]].story_id, at))
                cl.changed = True
                self.active.discard(c)
        for c in self.active:
            self.clusters[c].sealed = True

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
                _terms_of([d for d in docs if d.vec])
                or (cluster.old.terms if cluster.old is not None else ()),
                tuple(cluster.links),
                tuple(cluster.changes),
            )
            if cluster.old is not None:
                story = dataclasses.replace(story, title=cluster.old.title or cluster.title)
            out.append(story)
        return out


def _terms_of(docs: Sequence[_Doc], k: int = TERMS_KEPT) -> tuple[str, ...]:
    """The terms that hold a story together: weight summed over members, shared ones first."""
    if not docs:
        return ()
    weight: defaultdict[str, float] = defaultdict(float)
    df: Counter[str] = Counter()
    forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        for t, w in d.vec.items():
            weight[t] += w
            df[t] += 1
            forms[t][d.forms.get(t, t)] += 1
    need = 2 if len(docs) > 1 else 1
    ranked = sorted((t for t in weight if df[t] >= need), key=lambda t: (-df[t] * weight[t], t))
    return tuple(forms[t].most_common(1)[0][0] for t in ranked[:k])


def group_articles(
    new: Sequence[Article],
    existing: Sequence[Story],
    members: dict[str, Article],
    settings: GroupSettings,
    embeddings: Mapping[str, Vector] | None = None,
) -> list[Story]:
    """Assign ``new`` articles to ``existing`` stories or new ones; return the changed stories.

    ``existing`` are the stories active in the window and ``members`` maps their article ids to
    the stored articles (their vectors are rebuilt from them). New articles are taken in time
    order. Each returned story carries all its member ids and a :class:`StoryLink` for every
    article added now. With ``embeddings`` (article id -> unit vector; articles without one are
    judged lexically), similarities are the pair model's probabilities and stories may join
    articles in different languages; without, term-vector cosines within one language.
    """
    grouper = _Grouper(settings, semantic=embeddings is not None)
    grouper.embeddings = dict(embeddings or {})
    grouper.load(existing, members)
    todo: list[Article] = []
    seen = set(grouper.by_article)
    for article in sorted(new, key=lambda a: (a.published, a.id)):
        if article.id not in seen:
            seen.add(article.id)
            todo.append(article)
    for start in range(0, len(todo), ROUND_SIZE):
        grouper.add_round(todo[start : start + ROUND_SIZE])
    if settings.recluster:
        grouper.recluster()
    return grouper.changed_stories()


def story_terms(articles: Iterable[Article], settings: GroupSettings | None = None) -> list[str]:
    """The terms a set of articles share most (why they are together), strongest first."""
    features = _Featurizer(settings or GroupSettings())
    return list(_terms_of([features.doc(a) for a in articles if not a.duplicate_of]))
