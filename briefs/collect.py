"""Collection: poll the sources, store what is new, fetch full texts, link syndicated copies.

The first half of a run (:func:`briefs.pipeline.poll_and_group` calls these in order). What is
polled is stored a batch at a time and let go: the later stages read back what they need.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence, Set

import httpx
from sqlalchemy import Connection

from briefs.config import Config
from briefs.ingest.extract import fetch_full_texts, needs_full_text, word_count
from briefs.ingest.outcome import failure_result, unexpected
from briefs.ingest.parse import content_hash
from briefs.ingest.poll import poll_sources
from briefs.ingest.progress import Progress
from briefs.models import (
    Article,
    FeedState,
    PageRecord,
    PollResult,
    Printing,
    Sketch,
)
from briefs.store import Store
from briefs.timing import Timings

__all__ = ["fetch_full_text", "link_copies", "link_pending", "poll_and_store", "resketch_window"]

log = logging.getLogger(__name__)

# Teaser-only articles stored this long ago still get their page fetched (e.g. after a crash).
FULL_TEXT_WINDOW = dt.timedelta(days=2)
# Page outcomes and near-duplicate sketches are kept this long (they only matter for a week).
CACHE_RETENTION = dt.timedelta(days=30)
# Polled articles (and their sources' states) committed per transaction when storing a poll.
STORE_BATCH = 2000
# Articles linked to their copies per batch. A batch holds signatures, not texts (about 1 kB an
# article with its band keys): each batch queries the band index for the earlier ones again, so
# fewer, larger batches keep the linking linear in a day's articles.
LINK_BATCH = 50_000
# Articles read whole at a time when their texts must be sketched (memory: texts of a batch).
TEXT_BATCH = 2000


def poll_and_store(
    config: Config,
    store: Store,
    now: dt.datetime,
    timings: Timings,
    transport: httpx.AsyncBaseTransport | None,
    due: bool,
    progress: Progress | None,
) -> tuple[int, int, tuple[tuple[str, str], ...]]:
    """Poll, storing results as they arrive, a few thousand articles per transaction.

    Articles and the feed states that produced them commit together, so a crash never records
    validators (ETag) for entries that were not stored; memory holds the results of one batch.
    """
    order = {src.id: i for i, src in enumerate(config.sources)}
    failed: list[tuple[int, str, str]] = []
    new_ids: set[str] = set()
    waiting: list[PollResult] = []
    size = polled = 0
    states = store.feed_states()

    def store_results(results: Sequence[PollResult]) -> None:
        # CPU time: storing overlaps the parsing thread (see briefs.timing)
        with timings.stage("store", time.thread_time), store.transaction() as conn:
            # In the config's order, not the order sources finished: when two feeds carry the
            # same URL, which one's entry is stored must not depend on timing.
            ordered = sorted(results, key=lambda r: order.get(r.source.id, len(order)))
            added = store.add_articles((a for r in ordered for a in r.articles), conn)
            # The sketches made while parsing, saved with their articles; link_copies puts them
            # in the band index once it has linked them.
            made = {aid: sketch for r in ordered for aid, sketch in r.sketches.items()}
            sketched = {a.id: made[a.id] for a in added if a.id in made}
            _save_sketches(store, added, sketched, conn, indexed=False)
            store.save_feed_states((r.state for r in ordered if r.state is not None), conn)
        new_ids.update(a.id for a in added)

    def flush() -> None:
        nonlocal size
        try:
            store_results(waiting)
        except Exception as exc:  # the store's fault barrier: find the source it belongs to
            log.warning("storing %d sources at once failed (%s); one at a time", len(waiting), exc)
            for result in waiting:
                _store_alone(result, store_results, states, config, now, failed, order)
        waiting.clear()
        size = 0

    def keep(result: PollResult) -> None:
        nonlocal polled, size
        polled += 1
        if result.error:
            where = order.get(result.source.id, len(order))
            failed.append((where, result.source.name, result.error))
        waiting.append(result)
        size += len(result.articles) + 1
        if size >= STORE_BATCH:
            flush()

    overlapping = ("parse", "sketch", "store")
    inner = sum(timings.here(name) for name in overlapping)
    with timings.stage("fetch"):
        poll_sources(
            config.sources,
            states,
            config.fetch,
            now,
            transport,
            due=due,
            jitter=config.schedule.jitter,
            progress=progress,
            timings=timings,
            on_result=keep,
        )
        if waiting:
            flush()
    # Parsing, sketching and storing ran inside the poll and were timed there (in this process
    # or in worker processes alongside it): fetch is the rest of this process's time.
    timings["fetch"] -= sum(timings.here(name) for name in overlapping) - inner
    return polled, len(new_ids), tuple((name, error) for _, name, error in sorted(failed))


def _store_alone(
    result: PollResult,
    store_results: Callable[[Sequence[PollResult]], None],
    states: dict[str, FeedState],
    config: Config,
    now: dt.datetime,
    failed: list[tuple[int, str, str]],
    order: dict[str, int],
) -> None:
    """Store one source's poll after its batch failed: the whole, else article by article
    (an article the store refuses is dropped and named in the source's status), else the
    source's failure alone. If even that cannot be stored, the database itself is broken and
    the error goes on up."""
    try:
        store_results([result])
        return
    except Exception as exc:
        log.debug("%s: storing its poll failed", result.source.id, exc_info=True)
        first = unexpected(exc)
    dropped = 0
    for article in result.articles:
        try:
            store_results([dataclasses.replace(result, articles=(article,), state=None)])
        except Exception as exc:
            dropped += 1
            first = unexpected(exc)
    try:
        if result.state is None:
            return
        note = ""
        if dropped:
            note = f", {dropped} entr{'y' if dropped == 1 else 'ies'} not stored ({first})"
            log.warning("%s: %d entries could not be stored: %s", result.source.id, dropped, first)
        state = dataclasses.replace(result.state, last_status=f"{result.state.last_status}{note}")
        store_results([dataclasses.replace(result, articles=(), state=state)])
    except Exception as exc:
        error = f"cannot store this source's poll: {unexpected(exc)}"
        gone = failure_result(result.source, states.get(result.source.id), now, error, config.fetch)
        store_results([gone])
        failed.append((order.get(result.source.id, len(order)), result.source.name, error))


def fetch_full_text(
    config: Config,
    store: Store,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Progress | None = None,
) -> set[str]:
    """Fetch the pages of recent teaser-only articles, extract their text, cache each page.

    Returns the ids of articles whose body was replaced by extracted text.
    """
    settings = config.fetch
    if not settings.fetch_full_text:
        return set()
    # A page refused by the address guard is never tried again, unless the guard changed
    # since (fetch.allow_private turned on for an intranet): then every refusal is judged anew.
    guard = "private allowed" if settings.allow_private else "public only"
    if store.get_meta("page_guard") != guard:
        with store.transaction() as conn:
            forgotten = store.forget_refused_pages(conn)
            store.set_meta("page_guard", guard, conn)
        if forgotten:
            log.info("address guard is now %s: %d refused pages will be tried", guard, forgotten)
    candidates = store.articles_needing_text(
        now - FULL_TEXT_WINDOW,
        now,
        max_chars=settings.teaser_words * 20,
        is_teaser=lambda text: word_count(text) < settings.teaser_words,
    )
    todo = [a for a in candidates if needs_full_text(a, settings.teaser_words)]
    todo = todo[: settings.max_pages]
    if not todo:
        return set()
    attempts = {a.url: page.attempts for a in todo if (page := store.page(a.url)) is not None}
    improved: set[str] = set()

    def save(article: Article, page: PageRecord) -> None:
        with store.transaction() as conn:
            store.save_page(page, conn)
            # A page whose text is itself teaser-length is a paywall, consent or error page
            # more often than the article: the feed's text is kept then.
            words = word_count(page.text)
            if (
                page.status == "ok"
                and words >= settings.teaser_words
                and words > word_count(article.text)
            ):
                store.set_article_text(
                    article.id, page.text, "extracted", content_hash(page.text), conn
                )
                improved.add(article.id)

    fetch_full_texts(
        todo, settings, now, save, attempts=attempts, transport=transport, progress=progress
    )
    log.info("full text: %d pages fetched, %d articles improved", len(todo), len(improved))
    refused, example = store.refused_pages(now)
    if example is not None:
        log.info(
            "full text: %d pages refused by the address guard (e.g. %s: %s)",
            refused,
            example.url,
            example.error,
        )
    return improved


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

    if store.get_meta("sketch_version") == str(SKETCH_VERSION):
        return 0
    ids = [i for i in store.published_since(now - DUPLICATE_WINDOW) if i not in skip]
    for start in range(0, len(ids), TEXT_BATCH):
        fresh = store.articles(ids[start : start + TEXT_BATCH])
        with store.transaction() as conn:
            _save_sketches(store, fresh, sketch_articles(fresh), conn)
    store.set_meta("sketch_version", str(SKETCH_VERSION))
    if ids:
        log.info("sketched %d recent articles again for the new sketch format", len(ids))
    return len(ids)


def _save_sketches(
    store: Store,
    articles: Sequence[Article],
    sketches: dict[str, Sketch],
    conn: Connection,
    *,
    indexed: bool = True,
) -> None:
    if not sketches:
        return
    published = {a.id: a.published for a in articles}
    store.save_sketches(
        [
            (aid, published[aid], s.signature, s.band_keys if indexed else ())
            for aid, s in sketches.items()
        ],
        conn,
    )


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
    from briefs.ingest.dedupe import link_duplicates, sketch_articles, sketch_of

    # Not yet linked in this pass: they are not candidates for the batches before their own.
    pending = {aid for aid, _ in order}
    linked = 0
    for start in range(0, len(order), LINK_BATCH):
        ids = [aid for aid, _ in order[start : start + LINK_BATCH]]
        known = store.printings(i for i in ids if i not in stale)
        # Only articles without a current sketch are read whole (their text sketched now).
        unsketched = [i for i in ids if i not in known]
        made: dict[str, Sketch] = {}
        new = list(known.values())
        for first in range(0, len(unsketched), TEXT_BATCH):
            fresh = store.articles(unsketched[first : first + TEXT_BATCH])
            sketched = sketch_articles(fresh)
            made.update(sketched)
            new += [
                Printing(a.id, a.source_id, a.published, a.duplicate_of, sketched[a.id].signature)
                for a in fresh
                if a.id in sketched
            ]
            with store.transaction() as conn:
                _save_sketches(store, fresh, sketched, conn, indexed=False)
        links: dict[str, str] = {}
        keys_of = {aid: s.band_keys for aid, s in made.items()}
        keys_of.update((p.id, sketch_of(p.signature).band_keys) for p in known.values())
        if new:
            keys = [k for keys in keys_of.values() for k in keys]
            since = min(p.published for p in new) - DUPLICATE_WINDOW
            stored = [p for p in store.sketch_candidates(keys, since) if p.id not in pending]
            links = link_duplicates(new, stored, keys_of)
        with store.transaction() as conn:
            if start == 0:
                store.prune_ingest_caches(order[0][1] - DUPLICATE_WINDOW - CACHE_RETENTION, conn)
            store.set_duplicates(links, conn)
            store.index_sketches([(p.id, keys_of[p.id]) for p in new], conn)
        pending.difference_update(ids)
        linked += len(links)
    return linked


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
