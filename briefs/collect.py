"""Collection: poll the sources, store what is new, fetch full texts.

The first half of a run (:func:`briefs.pipeline.poll_and_group` calls these in order). What is
polled is stored a batch at a time and let go: the later stages read back what they need.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Sequence

import httpx

from briefs.config import Config
from briefs.ingest.extract import fetch_full_texts, needs_full_text, word_count
from briefs.ingest.outcome import failure_result, unexpected
from briefs.ingest.parse import content_hash
from briefs.ingest.poll import poll_sources
from briefs.ingest.progress import Progress
from briefs.memory import release
from briefs.models import (
    Article,
    PageRecord,
    PollResult,
)
from briefs.store import Store
from briefs.timing import Timings

__all__ = ["fetch_full_text", "poll_and_store"]

log = logging.getLogger(__name__)

# Teaser-only articles stored this long ago still get their page fetched (e.g. after a crash).
FULL_TEXT_WINDOW = dt.timedelta(days=2)
# Polled articles (and their sources' states) committed per transaction when storing a poll.
STORE_BATCH = 2000
_QUEUED = 1  # batches waiting for the writer thread while it stores another


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
    validators (ETag) for entries that were not stored; memory holds the results of two batches
    at most (one being stored by the writer thread, one waiting: see ``_Batches``).
    """
    batches = _Batches(config, store, now, timings)
    overlapping = ("parse", "sketch", "store")
    inner = sum(timings.here(name) for name in overlapping)
    with timings.stage("fetch"):
        try:
            poll_sources(
                config.sources,
                batches.states,
                config.fetch,
                now,
                transport,
                due=due,
                jitter=config.schedule.jitter,
                progress=progress,
                timings=timings,
                on_result=batches.keep,
                memory=store.mailbox_memory,
            )
            batches.flush()
        finally:
            batches.close()  # every batch handed over is stored, even when the poll failed
    # Parsing, sketching and storing ran inside the poll and were timed there (in this process,
    # or alongside it in worker processes and the writer thread): fetch is the rest of this
    # process's time, waiting for the writer's last batch included.
    timings["fetch"] -= sum(timings.here(name) for name in overlapping) - inner
    failed = tuple((name, error) for _, name, error in sorted(batches.failed))
    return batches.polled, len(batches.new_ids), failed


class _Batches:
    """A poll's results, stored a batch at a time as they arrive, with the store's fault
    barrier (a batch the store refuses is stored again source by source).

    Batches are stored by a writer thread of their own while the poll goes on: the database
    does its part (SQLite's B-trees and full-text index, a PostgreSQL server's round trips)
    without the GIL, beside the fetching and the unpickling of parsed feeds. One batch waits
    while another is stored (``_QUEUED``), so memory holds at most two batches and a fast poll
    waits for the store; a store error the barrier cannot place (the database itself is broken)
    stops the poll at its next result and is raised there.
    """

    def __init__(self, config: Config, store: Store, now: dt.datetime, timings: Timings) -> None:
        self.config = config
        self.store = store
        self.now = now
        self.timings = timings
        self.order = {src.id: i for i, src in enumerate(config.sources)}
        self.states = store.feed_states()
        self.failed: list[tuple[int, str, str]] = []  # (config order, source name, error)
        self.new_ids: set[str] = set()
        self.waiting: list[PollResult] = []
        self.size = 0
        self.polled = 0
        self._queue: queue.Queue[list[PollResult] | None] = queue.Queue(maxsize=_QUEUED)
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None

    def _where(self, result: PollResult) -> int:
        return self.order.get(result.source.id, len(self.order))

    def keep(self, result: PollResult) -> None:
        """Take one source's result; store the batch once it is large enough."""
        self.polled += 1
        if result.error:
            self.failed.append((self._where(result), result.source.name, result.error))
        self.waiting.append(result)
        self.size += len(result.articles) + 1
        if self.size >= STORE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Hand what is waiting to the writer thread (started with the first batch)."""
        if self._error is not None:
            raise self._error
        if not self.waiting:
            return
        if self._writer is None:
            self._writer = threading.Thread(target=self._write, name="briefs-store", daemon=True)
            self._writer.start()
        batch, self.waiting, self.size = self.waiting, [], 0
        self._queue.put(batch)

    def close(self) -> None:
        """Wait until every batch handed over is stored; raise the writer's error if any."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        if self._error is not None:
            raise self._error

    def _write(self) -> None:
        """The writer thread: store each batch until told to stop. After an error the rest is
        taken and dropped (the poll stops at its next result); nothing of it was committed."""
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                with self.timings.alongside("store", time.thread_time):
                    self._store_batch(batch)
            except BaseException as exc:
                self._error = exc
            del batch
            release()  # the batch's articles are stored and let go: their pages back to the system

    def _store_batch(self, batch: list[PollResult]) -> None:
        try:
            self.store_results(batch)
        except Exception as exc:  # the store's fault barrier: find the source it belongs to
            log.warning("storing %d sources at once failed (%s); one at a time", len(batch), exc)
            for result in batch:
                self._store_alone(result)

    def store_results(self, results: Sequence[PollResult]) -> None:
        store = self.store
        with store.transaction():
            # In the config's order, not the order sources finished: when two feeds carry the
            # same URL, which one's entry is stored must not depend on timing.
            ordered = sorted(results, key=self._where)
            added = store.add_articles(a for r in ordered for a in r.articles)
            # The sketches made while parsing, saved with their articles; linking puts them in
            # the band index once it has linked them (briefs.ingest.copies).
            made = {aid: sketch for r in ordered for aid, sketch in r.sketches.items()}
            sketched = {a.id: made[a.id] for a in added if a.id in made}
            store.save_sketches_of(added, sketched, indexed=False)
            store.save_feed_states(r.state for r in ordered if r.state is not None)
            # a mailbox's messages are remembered as read with the articles made of them
            store.remember_messages(m for r in ordered for m in r.seen)
        self.new_ids.update(a.id for a in added)

    def _store_alone(self, result: PollResult) -> None:
        """Store one source's poll after its batch failed: the whole, else article by article
        (an article the store refuses is dropped and named in the source's status), else the
        source's failure alone. If even that cannot be stored, the database itself is broken
        and the error goes on up."""
        try:
            self.store_results([result])
            return
        except Exception as exc:
            log.debug("%s: storing its poll failed", result.source.id, exc_info=True)
            first = unexpected(exc)
        dropped = 0
        for article in result.articles:
            try:
                self.store_results([dataclasses.replace(result, articles=(article,), state=None)])
            except Exception as exc:
                dropped += 1
                first = unexpected(exc)
        try:
            if result.state is None:
                return
            note = ""
            if dropped:
                note = f", {dropped} entr{'y' if dropped == 1 else 'ies'} not stored ({first})"
                log.warning(
                    "%s: %d entries could not be stored: %s", result.source.id, dropped, first
                )
            status = f"{result.state.last_status}{note}"
            state = dataclasses.replace(result.state, last_status=status)
            self.store_results([dataclasses.replace(result, articles=(), state=state)])
        except Exception as exc:
            error = f"cannot store this source's poll: {unexpected(exc)}"
            prior = self.states.get(result.source.id)
            gone = failure_result(result.source, prior, self.now, error, self.config.fetch)
            self.store_results([gone])
            self.failed.append((self._where(result), result.source.name, error))


def _judge_refusals_anew(store: Store, allow_private: bool) -> None:
    """A page refused by the address guard is never tried again, unless the guard changed
    since (fetch.allow_private turned on for an intranet): then every refusal is judged anew."""
    guard = "private allowed" if allow_private else "public only"
    if store.get_meta("page_guard") != guard:
        with store.transaction():
            forgotten = store.forget_refused_pages()
            store.set_meta("page_guard", guard)
        if forgotten:
            log.info("address guard is now %s: %d refused pages will be tried", guard, forgotten)


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
    _judge_refusals_anew(store, settings.allow_private)
    candidates = store.articles_needing_text(
        now - FULL_TEXT_WINDOW, now, max_words=settings.teaser_words
    )
    todo = [a for a in candidates if needs_full_text(a, settings.teaser_words)]
    todo = todo[: settings.max_pages]
    if not todo:
        return set()
    attempts = {a.url: page.attempts for a in todo if (page := store.page(a.url)) is not None}
    improved: set[str] = set()

    def save(article: Article, page: PageRecord) -> None:
        with store.transaction():
            store.save_page(page)
            # A page whose text is itself teaser-length is a paywall, consent or error page
            # more often than the article: the feed's text is kept then.
            words = word_count(page.text)
            if (
                page.status == "ok"
                and words >= settings.teaser_words
                and words > word_count(article.text)
            ):
                store.set_article_text(article.id, page.text, "extracted", content_hash(page.text))
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
