"""Articles -> stories: online clustering of title + lead vectors, kept across days.

The package, stage by stage:

* :mod:`briefs.group.features`: what grouping reads of an article (weighted term vectors with
  entities, the stream's term statistics) and the evidence a pair of articles gives, lexical
  and semantic (an embedding cosine counts as the term cosine of equal fitted log-odds);
* :mod:`briefs.group.online`: placement as articles arrive (each joins its best story by
  average linkage at the threshold, then a round's stories are joined best-first);
* :mod:`briefs.group.recluster`: with ``recluster``, the region of the window a run touched
  clustered again from scratch by average linkage (order no longer decides);
* :mod:`briefs.group.consensus`: with ``consensus_orders``, a run placed in several orders
  drawn from the article ids, and the pairs most of them put together (order-free);
* :mod:`briefs.group.ids`: how story ids stay stable across runs, splits and merges.

With embeddings (:mod:`briefs.embed`; ``group_articles(..., embeddings)``), each new article is
also compared with its nearest articles by embedding, and stories may join reports in different
languages (term vectors are compared only within one language: term overlap cannot judge a
translation). Every placement is explained (:class:`~briefs.models.StoryLink`): the similarity,
the member it is closest to and the terms they share. Pure: no I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from briefs.config import GroupSettings
from briefs.embed import Vector
from briefs.group.consensus import Snapshot, consensus, order_key, tied
from briefs.group.features import (
    PAIR_FEATURES,
    Featurizer,
    article_text,
    pair_features,
    semantic_equivalent,
    several_languages,
    terms_of,
    vectorize,
)
from briefs.group.online import ROUND_SIZE, Grouper
from briefs.group.recluster import RECLUSTER_MAX, recluster
from briefs.models import Article, Story

log = logging.getLogger(__name__)

__all__ = [
    "PAIR_FEATURES",
    "article_text",
    "group_articles",
    "pair_features",
    "semantic_equivalent",
    "several_languages",
    "story_terms",
    "vectorize",
]


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
    judged lexically), a pair also counts its embedding cosine (on the term scale) and stories
    may join articles in different languages; without, term-vector cosines within one language.
    When two new articles have one time (their order is not known) and ``consensus_orders``
    > 1, the articles are placed in that many orders, by time and those of one time by a hash
    of their ids, and the touched region keeps what most orders agree on
    (:mod:`briefs.group.consensus`; not for a run of more than ``RECLUSTER_MAX`` new articles,
    which is placed once).
    """
    n = settings.consensus_orders if tied([a for a in new if not a.duplicate_of]) else 0
    if n > 1 and len(new) > RECLUSTER_MAX:
        log.info("consensus skipped: %d new articles (at most %d)", len(new), RECLUSTER_MAX)
        n = 0
    grouper = Grouper(settings, semantic=embeddings is not None, readings={})
    grouper.embeddings = dict(embeddings or {})
    grouper.load(existing, members)
    seen = set(grouper.by_article)
    todo = [a for a in {a.id: a for a in new if a.id not in seen}.values()]
    if n > 1:
        # every order starts from the window as loaded (loaded once, restored after each);
        # no story retires mid-run, so that all orders place on the same state
        grouper.prunes = False
        grouper.index.base, grouper.index.nearest = grouper.index.rows, {}
        loaded = Snapshot(grouper)
        others = []  # of the other orders only where each article went
        for k in range(1, n):
            _place(grouper, sorted(todo, key=order_key(k)))
            others.append(dict(grouper.by_article))
            loaded.restore(grouper)
        _place(grouper, sorted(todo, key=order_key(0)))
        consensus(grouper, others)
    else:
        _place(grouper, sorted(todo, key=lambda a: (a.published, a.id)))
    if settings.recluster:
        recluster(grouper)
    return grouper.changed_stories()


def _place(grouper: Grouper, todo: Sequence[Article]) -> None:
    """Place new articles (in the order given) in rounds of ``ROUND_SIZE``."""
    for start in range(0, len(todo), ROUND_SIZE):
        grouper.add_round(todo[start : start + ROUND_SIZE])


def story_terms(articles: Iterable[Article], settings: GroupSettings | None = None) -> list[str]:
    """The terms a set of articles share most (why they are together), strongest first."""
    features = Featurizer(settings or GroupSettings())
    return list(terms_of([features.doc(a) for a in articles if not a.duplicate_of]))
