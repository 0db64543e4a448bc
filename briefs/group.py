"""Articles -> stories: single-pass online clustering on TF-IDF vectors of title and lead.

Each new article (in time order) is compared with the stories active in the configured window
and joins the most similar one above the threshold, else starts a new story. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sumy.nlp.stemmers import Stemmer
from sumy.utils import get_stop_words

from briefs.config import GroupSettings
from briefs.models import Article, Story

__all__ = ["group_articles", "story_terms"]

_STOP = frozenset(get_stop_words("english"))
_STEM = Stemmer("english")
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*|\d[\d.,]*", re.UNICODE)
LEAD_CHARS = 300


def _tokens(text: str) -> list[str]:
    out = []
    for raw in _TOKEN.findall(text):
        word = raw.lower().strip("'’-")
        if len(word) < 2 or word in _STOP:
            continue
        out.append(_STEM(word))
    return out


def _features(article: Article) -> Counter[str]:
    lead = (article.summary or article.body)[:LEAD_CHARS]
    counts = Counter(_tokens(article.title))
    counts.update(counts)  # the headline counts twice: it names the event
    counts.update(_tokens(lead))
    return counts


@dataclass
class _Cluster:
    story_id: str
    first_seen: dt.datetime
    last_updated: dt.datetime
    members: list[str]
    terms: Counter[str] = field(default_factory=Counter)
    title: str = ""
    changed: bool = False


def _story_id(first_article: Article) -> str:
    return hashlib.sha1(f"story:{first_article.id}".encode()).hexdigest()[:16]


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def group_articles(
    new: Sequence[Article],
    existing: Sequence[Story],
    members: dict[str, Article],
    settings: GroupSettings,
) -> list[Story]:
    """Assign ``new`` articles to ``existing`` stories or new ones; return the changed stories.

    ``members`` maps the ids of the existing stories' articles to the articles (used to rebuild
    their term vectors). Stories whose last update is older than the window are not joined.
    """
    docs: list[Counter[str]] = [
        _features(members[i]) for s in existing for i in s.article_ids if i in members
    ]
    new_sorted = sorted(new, key=lambda a: (a.published, a.id))
    docs.extend(_features(a) for a in new_sorted)
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    n_docs = max(len(docs), 1)

    def weigh(counts: Counter[str]) -> dict[str, float]:
        return {
            t: (1 + math.log(c)) * math.log((1 + n_docs) / (1 + df[t])) + 1e-9
            for t, c in counts.items()
        }

    clusters: list[_Cluster] = []
    for story in existing:
        cluster = _Cluster(
            story.id,
            story.first_seen,
            story.last_updated,
            list(story.article_ids),
            title=story.title,
        )
        for aid in story.article_ids:
            if aid in members:
                cluster.terms.update(_features(members[aid]))
        clusters.append(cluster)
    window = dt.timedelta(hours=settings.window_hours)
    for article in new_sorted:
        vec = weigh(_features(article))
        best, best_sim = None, 0.0
        for cluster in clusters:
            if article.published - cluster.last_updated > window:
                continue
            sim = _cosine(vec, weigh(cluster.terms))
            if sim > best_sim:
                best, best_sim = cluster, sim
        if best is not None and best_sim >= settings.threshold:
            best.members.append(article.id)
            best.terms.update(_features(article))
            best.last_updated = max(best.last_updated, article.published)
            best.changed = True
        else:
            clusters.append(
                _Cluster(
                    _story_id(article),
                    article.published,
                    article.published,
                    [article.id],
                    _features(article),
                    article.title,
                    changed=True,
                )
            )
    return [
        Story(
            c.story_id,
            tuple(c.members),
            c.first_seen,
            c.last_updated,
            c.title or "",
            tuple(t for t, _ in Counter(weigh(c.terms)).most_common(8)),
        )
        for c in clusters
        if c.changed
    ]


def story_terms(articles: Iterable[Article], k: int = 8) -> list[str]:
    """The stemmed terms most shared by a set of articles (why they are together)."""
    df: Counter[str] = Counter()
    for a in articles:
        df.update(set(_features(a)))
    return [t for t, n in df.most_common(k) if n > 1]
