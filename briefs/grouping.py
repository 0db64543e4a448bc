"""Grouping's store steps: the pending articles and their window read, embeddings made or
read back, :func:`briefs.group.group_articles` (pure) run, the changed stories saved.

What grouping reads of an article is its title and lead (:func:`briefs.group.article_text`),
read a batch at a time; embeddings (:mod:`briefs.embed`) are made once per article and stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from sys import intern
from typing import TYPE_CHECKING

from briefs.config import Config
from briefs.models import Article
from briefs.store import Store

if TYPE_CHECKING:
    from briefs.embed import Vector

__all__ = ["GROUP_READ_BATCH", "group_pending"]

log = logging.getLogger(__name__)


def group_pending(config: Config, store: Store) -> int:
    """Group every stored article that has no story yet; return how many stories changed."""
    order = store.published_order(store.ungrouped_ids())
    if not order:
        return 0
    from briefs.group import group_articles

    lead_words = config.group.lead_words
    pending = _as_grouped(store, [aid for aid, _ in order], lead_words)
    window = dt.timedelta(hours=config.group.window_hours)
    active = store.stories_updated_since(order[0][1] - window)
    member_ids = [i for s in active for i in s.article_ids]
    members = {a.id: a for a in _as_grouped(store, member_ids, lead_words)}
    embeddings = _embeddings(config, store, pending, list(members.values()))
    changed = group_articles(pending, active, members, config.group, embeddings)
    store.save_stories(changed)
    return len(changed)


# Articles read at a time for grouping (memory: the texts of one batch).
GROUP_READ_BATCH = 2000
# The characters of a body read for each word of its lead (then read whole if too few)
LEAD_WORD_CHARS = 24


def _as_grouped(store: Store, ids: list[str], lead_words: int) -> list[Article]:
    """The stored articles of ``ids`` (in that order) as grouping reads them: the lead it
    reads (``group.article_text``) in the summary, no body, and none of what grouping does
    not read (address, author, image, tags: about a third of what a window of articles holds
    in memory). Read a batch at a time, so a day of full texts is never in memory at once
    (50k articles: about 150 MB of bodies)."""
    from briefs.group import article_text

    # A body is read only as far as its lead can reach; one whose start holds too few words
    # (words longer than LEAD_WORD_CHARS on average) is read again whole.
    chars = lead_words * LEAD_WORD_CHARS if lead_words > 0 else 0
    out: list[Article] = []
    for start in range(0, len(ids), GROUP_READ_BATCH):
        batch = store.articles(ids[start : start + GROUP_READ_BATCH], lead_chars=chars)
        cut = [
            a.id
            for a in batch
            if chars
            and not a.summary
            and len(a.body) >= chars
            and len(a.body.split()) <= lead_words
        ]
        if cut:
            whole = {a.id: a for a in store.articles(cut)}
            batch = [whole.get(a.id, a) for a in batch]
        for article in batch:
            _, lead = article_text(article, lead_words)
            out.append(
                dataclasses.replace(
                    article,
                    source_id=intern(article.source_id),
                    url="",
                    guid="",
                    author="",
                    outlet="",
                    language=intern(article.language),
                    image_url=None,
                    tags=(),
                    fetched=article.published,
                    summary=lead,
                    body="",
                )
            )
    return out


def _embeddings(
    config: Config, store: Store, pending: list[Article], members: list[Article]
) -> dict[str, Vector] | None:
    """Embeddings of the articles to group (``None``: semantic grouping off or unavailable).

    Stored ones are read; the missing are made, pending articles newest first and then the
    window's older ones, for at most ``group.embed_seconds``, and stored (never made twice).
    More than ``group.embed_max_new`` pending articles (a first poll, a catch-up) are a backlog
    that no run could embed in its budget: they are grouped by their terms alone, and later
    runs make their embeddings as window members, so the first brief is not held up.
    """
    if not config.group.semantic:
        return None
    if len(pending) > config.group.embed_max_new:
        log.info(
            "%d new articles (more than group.embed_max_new = %d): grouped by their terms; "
            "their embeddings are made by the next runs (group.embed_seconds each)",
            len(pending),
            config.group.embed_max_new,
        )
        return None
    from briefs.embed import decode, embed_within, encode, load_embedder, passages
    from briefs.group import several_languages

    embedder = load_embedder()
    if embedder is None:
        return None
    everything = pending + members
    older = {a.id for a in members}
    stored = store.embeddings([a.id for a in everything], embedder.name)
    vectors = {k: decode(v) for k, v in stored.items()}
    # several languages: pairs across them are judged on title + lead embeddings (a second row)
    leads = several_languages(everything)
    missing = sorted(
        (
            a
            for a in everything
            if not a.duplicate_of and (a.id not in vectors or (leads and vectors[a.id].ndim == 1))
        ),
        key=lambda a: (a.id in older, -a.published.timestamp(), a.id),
    )
    if missing:
        made = embed_within(
            embedder,
            [(a.id, passages(a.title, a.summary, leads)) for a in missing],
            config.group.embed_seconds,
        )
        store.save_embeddings({k: encode(v) for k, v in made.items()}, embedder.name)
        vectors.update({k: decode(encode(v)) for k, v in made.items()})
    return vectors
