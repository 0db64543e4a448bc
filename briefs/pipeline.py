"""The whole run in one place: poll -> store -> group -> summarize -> rank -> render -> publish.

The CLI and the scheduler are thin shells around :func:`run` and :func:`build_edition`. Stages
are pure functions of typed data; this module is the only one that hands data from one to the
next, and the store and the output writer are its only side effects.

What keeps a run of thousands of feeds cheap (measured by ``benchmarks/run.py``; see
docs/scaling.md):

* the polled articles are let go once stored, before the later stages read back what they need;
* only the stories that can make the edition are summarized: ranking does not read summaries, so
  the candidates are put in rank order first and summarized in that order until the edition is
  full (tens of summaries, not thousands);
* a run that finds nothing new leaves an edition that is already up to date alone;
* grouping and summarizing (sumy, NLTK: about a second to import) are imported when used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
import threading
import time
import zoneinfo
from collections.abc import Callable, Sequence, Set
from email.message import EmailMessage
from typing import Literal
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection

from briefs import __version__
from briefs.config import SLOT_NAME, Config, EmailSettings, split_edition
from briefs.errors import (
    BriefsError,
    ConfigError,
    DeliveryError,
    PermanentDeliveryError,
    StoreError,
    TransientDeliveryError,
)
from briefs.feeds import (
    EDITION_FEEDS,
    STORY_FEEDS,
    FeedInfo,
    FeedItem,
    build_feeds,
    edition_items,
    story_item,
)
from briefs.ingest.extract import fetch_full_texts, needs_full_text, word_count
from briefs.ingest.parse import content_hash
from briefs.ingest.poll import failure_result, poll_sources, unexpected
from briefs.ingest.progress import Progress
from briefs.lock import named_lock
from briefs.mail import (
    SmtpMailer,
    address_message,
    build_message,
    header_text,
    load_message,
    recipient_key,
    smtp_password,
)
from briefs.models import (
    Article,
    Brief,
    BriefStory,
    Delivery,
    DeliveryReport,
    Edition,
    EditionRecord,
    FeedState,
    PageRecord,
    PollResult,
    Printing,
    RunReport,
    Sketch,
    Story,
    Summary,
)
from briefs.publish import Publisher
from briefs.rank import rank_key, rank_stories
from briefs.render import Renderer, display_brief, template_dirs
from briefs.store import Store, open_store
from briefs.timing import Timings

__all__ = [
    "Timings",
    "build",
    "build_edition",
    "delete_edition",
    "deliver_edition",
    "edition_cutoff",
    "edition_for",
    "known_slots",
    "poll_and_group",
    "run",
]

log = logging.getLogger(__name__)

# The address a dry run writes its one example message to when no recipient is configured
# (.invalid never resolves: nothing can be sent to it by mistake).
EXAMPLE_RECIPIENT = "reader@example.invalid"
# Editions listed in the archive (and read to find the previous edition of a slot).
ARCHIVE_LIMIT = 1000

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


def _host(url: str) -> str:
    return urlsplit(url).hostname or "localhost"


def edition_for(
    config: Config,
    store: Store,
    date: dt.date | None,
    now: dt.datetime,
    slot: str | None = None,
) -> Edition:
    """The edition to build: the given date, else today (or the newest article's day) locally;
    the given slot, else the configured default, else the first slot whose cut-off is still
    ahead of ``now`` on that day (the last slot once all have passed)."""
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    if date is None:
        latest = store.latest_published() if config.brief.date == "latest" else None
        date = (latest or now).astimezone(zone).date()
    slots = config.brief.slot_times()
    chosen = config.brief.slot if slot is None else slot
    known = known_slots(config)
    if chosen and chosen not in known:
        if not known:
            raise ConfigError(
                f"{config.path}: no slot {chosen!r}: no slots are configured (set brief.slots, "
                'e.g. ["morning@07:00", "evening@18:00"], or leave out --slot)'
            )
        where = "brief.slots" if slots else "brief.slot and schedule.editions"
        raise ConfigError(f"{config.path}: no slot {chosen!r} in {where} ({', '.join(known)})")
    if chosen and not SLOT_NAME.match(chosen):
        raise ConfigError(f"slot {chosen!r}: a slot name is lowercase letters, digits and '-'")
    if not chosen and slots:
        chosen = list(slots)[-1]
        for name in slots:
            if edition_cutoff(config, Edition(date, name)) > now:
                chosen = name
                break
    return Edition(date, chosen)


def known_slots(config: Config) -> list[str]:
    """The slot names an edition may have: brief.slots, else brief.slot and the names given to
    schedule.editions (a daemon may name its editions without brief.slots)."""
    if config.brief.slots:
        return list(config.brief.slot_times())
    named = [config.brief.slot] + [split_edition(e)[0] for e in config.schedule.editions]
    return list(dict.fromkeys(n for n in named if n))


def edition_cutoff(config: Config, edition: Edition) -> dt.datetime:
    """The moment (UTC) an edition closes: its slot's local cut-off, else the end of its day."""
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    when = config.brief.slot_times().get(edition.slot) if edition.slot else None
    if when is None:
        end = dt.datetime.combine(edition.date + dt.timedelta(days=1), dt.time(0, 0), zone)
    else:
        end = dt.datetime.combine(edition.date, when, zone)
    return end.astimezone(dt.UTC)


def poll_and_group(
    config: Config,
    store: Store,
    now: dt.datetime,
    timings: Timings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    due: bool = False,
    progress: Progress | None = None,
) -> tuple[int, int, tuple[tuple[str, str], ...]]:
    """Poll sources, store what is new, fetch full texts, link copies, group.

    With ``due`` only sources whose next poll time has come are polled (the scheduler);
    without it every enabled source is (a one-off run). Returns (polled, new, failed).
    """
    polled, new_count, failed = _poll_and_store(
        config, store, now, timings, transport, due, progress
    )
    # The polled articles are out of memory by now: the stages below read back what they need.
    with timings.stage("extract"):
        improved = fetch_full_text(config, store, now, transport, progress)
    with timings.stage("dedupe"):
        # Every article not yet grouped, not only this run's: a run killed between storing and
        # grouping leaves articles that must be linked exactly as an uninterrupted run would.
        pending = store.ungrouped_ids() | improved
        if pending:  # the sketch format only matters once there are articles to compare
            resketch_window(store, now, skip=pending)
            link_copies(store, pending, stale=improved)
    with timings.stage("group"):
        group_pending(config, store)
    return polled, new_count, failed


def _poll_and_store(
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


def group_pending(config: Config, store: Store) -> int:
    """Group every stored article that has no story yet; return how many stories changed."""
    pending = store.ungrouped_articles()
    if not pending:
        return 0
    from briefs.group import group_articles

    window = dt.timedelta(hours=config.group.window_hours)
    active = store.stories_updated_since(min(a.published for a in pending) - window)
    member_ids = [i for s in active for i in s.article_ids]
    members = {a.id: a for a in store.articles(member_ids)}
    changed = group_articles(pending, active, members, config.group)
    store.save_stories(changed)
    return len(changed)


def _day_start(edition: Edition, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(edition.date, dt.time(0, 0), zone).astimezone(dt.UTC)


def _brief_story(
    story: Story,
    members: list[Article],
    day_start: dt.datetime,
    previous: dict[str, int],
    zone: zoneinfo.ZoneInfo,
    edition: Edition,
    since: dt.datetime,
    nothing_new: str = "drop",
) -> BriefStory | None:
    """A story as an edition sees it, with a provisional summary (no sentences yet).

    Its news starts at ``since`` (the previous edition's cut-off, else the edition's day): a
    story with no report since then, and none that reached the store after the previous
    edition counted it, is not news: dropped, or kept as "quiet" when ``nothing_new`` is
    "mark".
    """
    first = min(a.published for a in members)
    in_previous = story.id in previous
    grown = len(members) - previous.get(story.id, 0)
    fresh = sum(1 for a in members if a.published >= since)
    added = max(fresh, grown) if in_previous else fresh
    if added <= 0 and nothing_new != "mark":
        return None  # already told, or older than this edition's news: not news
    developing = first < day_start
    day = (edition.date - first.astimezone(zone).date()).days + 1
    trimmed = dataclasses.replace(
        story,
        article_ids=tuple(a.id for a in members),
        last_updated=max(a.published for a in members),
    )
    reports = [a.outlet for a in members if not a.duplicate_of]
    provisional = Summary(
        story_id=story.id,
        headline=story.title or next((a.title for a in members if a.title), ""),
        sentences=(),
        outlets=tuple(dict.fromkeys(reports or [a.outlet for a in members])),
    )
    status: Literal["new", "developing", "quiet"] = "developing" if developing else "new"
    return BriefStory(
        story=trimmed,
        summary=provisional,
        articles=tuple(members),
        status="quiet" if added <= 0 else status,
        day=max(day, 1),
        added=max(added, 0),
        since=since,
        told=in_previous,
    )


def _ordered(config: Config, records: list[EditionRecord]) -> list[EditionRecord]:
    """Editions newest first by when they close (slots of one day in their configured order)."""
    return sorted(
        records, key=lambda r: (edition_cutoff(config, r.edition), r.edition.id), reverse=True
    )


def _failed_sources(config: Config, store: Store) -> tuple[tuple[str, str], ...]:
    """Enabled sources whose latest poll failed (for editions built without polling)."""
    states = store.feed_states()
    failed: list[tuple[str, str]] = []
    for src in config.sources:
        state = states.get(src.id)
        if src.enabled and state and state.consecutive_failures and state.last_error:
            failed.append((src.name, state.last_error))
    return tuple(failed)


def _stories_as_of(
    config: Config,
    store: Store,
    edition: Edition,
    stories: list[Story],
    previous: dict[str, int],
    *,
    texts: bool = True,
) -> list[BriefStory]:
    """Stories as an edition saw them: members published before its cut-off (not summarized).

    Without ``texts`` the members' texts are not read (see :func:`_with_texts`).
    """
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    cutoff = edition_cutoff(config, edition)
    day_start = _day_start(edition, zone)
    since = _previous_cutoff(config, store, edition) or day_start
    ids = [i for s in stories for i in s.article_ids]
    by_id = {a.id: a for a in store.articles(ids, texts=texts)}
    out: list[BriefStory] = []
    for story in stories:
        members = [by_id[i] for i in story.article_ids if i in by_id]
        members = [a for a in members if a.published < cutoff]
        if not members:
            continue
        item = _brief_story(
            story, members, day_start, previous, zone, edition, since, config.brief.nothing_new
        )
        if item is not None:
            out.append(item)
    return out


def _story_items(
    config: Config,
    store: Store,
    renderer: Renderer,
    archive: list[EditionRecord],
    current: Brief,
) -> list[FeedItem]:
    """The per-story feed: the stories of the newest editions, each as of the latest edition
    that carried it (same guid, new date and content when it develops), newest first."""
    images = config.brief.images
    limit = config.brief.story_feed_items
    seen: set[str] = set()
    items: list[FeedItem] = []
    recent = archive[: config.brief.feed_items]
    for i, rec in enumerate(recent):
        if len(items) >= limit:
            break
        if rec.edition == current.edition:
            host = current
        else:
            wanted = [sid for sid, _ in rec.story_counts if sid not in seen]
            found = [st for st in (store.story(sid) for sid in wanted) if st is not None]
            earlier = dict(archive[i + 1].story_counts) if i + 1 < len(archive) else {}
            stories = _summarized(
                _stories_as_of(config, store, rec.edition, found, earlier), config
            )
            host = Brief(
                rec.edition, rec.built_at, config.brief.title, tuple(stories),
                timezone=config.brief.timezone,
            )  # fmt: skip
        # feed items carry headlines as displayed (clean, cut to length), like the pages
        for story in display_brief(host).stories:
            if story.story.id in seen or len(items) >= limit:
                continue
            seen.add(story.story.id)
            html = renderer.story_html(host, story)
            items.append(story_item(config.brief.site_url, rec.edition, story, html, images))
    items.sort(key=lambda it: (it.updated, it.guid), reverse=True)
    return items


def _previous_edition(config: Config, store: Store, edition: Edition) -> EditionRecord | None:
    """The edition before this one (by cut-off), if one was built."""
    cutoff = edition_cutoff(config, edition)
    built = _ordered(config, store.recent_editions(ARCHIVE_LIMIT))
    earlier = [
        r for r in built if r.edition != edition and edition_cutoff(config, r.edition) < cutoff
    ]
    return earlier[0] if earlier else None


def _previous_counts(config: Config, store: Store, edition: Edition) -> dict[str, int]:
    """Story sizes in the edition before this one (by cut-off; empty if there is none)."""
    record = _previous_edition(config, store, edition)
    return dict(record.story_counts) if record else {}


def _previous_cutoff(config: Config, store: Store, edition: Edition) -> dt.datetime | None:
    """When the edition before this one closed (None if there is none): where its news ends."""
    record = _previous_edition(config, store, edition)
    return edition_cutoff(config, record.edition) if record else None


def _summarized(items: Sequence[BriefStory], config: Config) -> list[BriefStory]:
    """The stories with their summaries made."""
    from briefs.summarize import summarize_story

    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    return [
        dataclasses.replace(
            item,
            summary=summarize_story(
                item.story,
                item.articles,
                config.summary,
                since=item.since,
                zone=zone,
                told=item.told,
            ),
        )
        for item in items
    ]


def _with_texts(store: Store, items: Sequence[BriefStory]) -> list[BriefStory]:
    """The stories with their members read whole (they were ranked without their texts)."""
    full = {a.id: a for a in store.articles([a.id for it in items for a in it.articles])}
    return [
        dataclasses.replace(it, articles=tuple(full.get(a.id, a) for a in it.articles))
        for it in items
    ]


def _rank_and_summarize(
    candidates: list[BriefStory],
    config: Config,
    now: dt.datetime,
    timings: Timings,
    texts_from: Store | None = None,
) -> list[BriefStory]:
    """The edition's stories, summarized: the same as summarizing every candidate, then ranking.

    Ranking scores breadth, recency and growth and filters on titles and texts; it does not read
    a summary's sentences. So the candidates are put in score order once (no cap), then taken in
    that order, summarized and ranked again with the caps until the edition is full or they run
    out: the greedy pick over that prefix is the pick over them all. With ``texts_from``, the
    candidates came without their members' texts, read from that store for those summarized.
    """
    settings = config.brief
    sources = {s.id: s for s in config.sources}
    with timings.stage("rank"):
        every = max(len(candidates), 1)
        uncapped = dataclasses.replace(settings, max_stories=every, max_per_outlet=every)
        order = sorted(rank_stories(candidates, uncapped, sources, now), key=rank_key)
    pool: list[BriefStory] = []
    picked: list[BriefStory] = []
    taken = 0
    while len(picked) < settings.max_stories and taken < len(order):
        batch = order[taken : taken + settings.max_stories - len(picked)]
        taken += len(batch)
        with timings.stage("summarize"):
            if texts_from is not None:
                batch = _with_texts(texts_from, batch)
            pool += _summarized(batch, config)
        with timings.stage("rank"):
            picked = rank_stories(pool, settings, sources, now)
    return picked


def build_edition(
    config: Config,
    store: Store,
    edition: Edition,
    now: dt.datetime,
    timings: Timings,
    failed: tuple[tuple[str, str], ...] | None = None,
    *,
    email: bool | None = None,
) -> tuple[Brief, list[str]]:
    """Summarize, rank, render and publish one edition from what is stored.

    ``failed`` lists the sources that failed in this run; None (a build without polling) takes
    them from the stored health of each source. Re-building an edition replaces its files.
    ``email``: write the email edition (.eml); None: when email is configured. An output that
    cannot be made (the email over its size cap) is logged and left out; the others are written.
    """
    brief, files, _problems = _build_edition(config, store, edition, now, timings, failed, email)
    return brief, files


def _email_wanted(config: Config, asked: bool | None) -> bool:
    """Whether to write the email edition: when asked, else when email is configured at all (a
    server, or recipients for ``send --dry-run``)."""
    if asked is not None:
        return asked
    return bool(config.email.host or config.email.recipients)


def _build_edition(
    config: Config,
    store: Store,
    edition: Edition,
    now: dt.datetime,
    timings: Timings,
    failed: tuple[tuple[str, str], ...] | None,
    email: bool | None,
) -> tuple[Brief, list[str], list[str]]:
    """:func:`build_edition`, also returning the outputs that could not be made (one line each)."""
    problems: list[str] = []
    brief_cfg = config.brief
    cutoff = edition_cutoff(config, edition)
    window_start = cutoff - dt.timedelta(hours=brief_cfg.window_hours)
    with timings.stage("rank"):
        stories = store.stories_updated_since(window_start)
        previous = _previous_counts(config, store, edition)
        # Ranking reads the members' texts only to match mute/boost words: without them, the
        # window's texts (hundreds of MB at 50k articles) are read for the summarized few only.
        texts = bool(brief_cfg.mute or brief_cfg.boost)
        candidates = [
            c
            for c in _stories_as_of(config, store, edition, stories, previous, texts=texts)
            if c.story.last_updated >= window_start
        ]
    ranked = _rank_and_summarize(
        candidates, config, min(now, cutoff), timings, None if texts else store
    )
    del candidates, stories
    brief = Brief(
        edition=edition,
        generated_at=now,
        title=brief_cfg.title,
        stories=tuple(ranked),
        failed_sources=_failed_sources(config, store) if failed is None else failed,
        timezone=brief_cfg.timezone,
    )
    renderer = Renderer(
        config.templates,
        brief_cfg.timezone,
        images=brief_cfg.images,
        site_url=brief_cfg.site_url,
        language=brief_cfg.language,
        description=brief_cfg.description,
    )
    with timings.stage("render"):
        markdown = renderer.markdown(brief)
        fragment = renderer.html_fragment(brief)
        shown = display_brief(brief)
        store.record_edition(
            edition,
            now,
            f"{shown.title}: {renderer.edition_name(edition)}",
            {s.story.id: len(s.articles) for s in brief.stories},
            fragment,
            "; ".join(s.summary.headline for s in shown.stories[:5]),
        )
        archive = _ordered(config, store.recent_editions(ARCHIVE_LIMIT))
        page = renderer.html_page(brief, archive)
        latest = not archive or archive[0].edition == edition
        index = renderer.html_page(brief, archive, is_index=True) if latest else None
        archive_page = renderer.archive_page(brief_cfg.title, archive)
        message: EmailMessage | None = None
        if _email_wanted(config, email):
            # The email is one output among several: its size cap (or any failure of its own)
            # leaves it out, never the pages and feeds.
            try:
                message = build_message(
                    brief,
                    renderer,
                    domain=_host(brief_cfg.site_url),
                    max_bytes=brief_cfg.email_max_bytes,
                )
            except BriefsError as exc:
                problems.append(f"{edition.id}.eml: {exc}")
                log.warning("%s.eml not written: %s", edition.id, exc)
    with timings.stage("feeds"):
        info = FeedInfo(
            brief_cfg.title, brief_cfg.description, brief_cfg.site_url, brief_cfg.language
        )
        feeds = build_feeds(
            info, edition_items(brief_cfg.site_url, archive[: brief_cfg.feed_items]), now
        )
        story_info = dataclasses.replace(
            info,
            title=f"{brief_cfg.title}: stories",
            description=f"{brief_cfg.title}, one item per story, updated as each story develops.",
        )
        feeds.update(
            build_feeds(
                story_info, _story_items(config, store, renderer, archive, brief), now, STORY_FEEDS
            )
        )
    with timings.stage("write"):
        out = Publisher(config.output)
        out.write(f"{edition.id}.md", markdown)
        out.write(f"{edition.id}.html", page)
        if index is not None:
            out.write("index.html", index)
        out.write("archive.html", archive_page)
        for name, data in feeds.items():
            out.write(name, data)
        if message is not None:
            out.write(f"{edition.id}.eml", message.as_bytes())
        elif _email_wanted(config, email) and out.remove(f"{edition.id}.eml"):
            # an older build's email must not be sent as this edition's
            problems.append(f"{edition.id}.eml: the earlier one was removed")
    return brief, [str(p) for p in out.written], problems


# -- is the edition already up to date? -------------------------------------------------------


def _stamp_key(edition: Edition) -> str:
    return f"built:{edition.id}"


def _edition_stamp(
    config: Config, store: Store, edition: Edition, failed: tuple[tuple[str, str], ...]
) -> str:
    """A digest of everything an edition is built from, short of the clock.

    The settings and sources, the templates, briefs' version, the failed sources, the previous
    edition and the members of every story in the edition's window: when none of these changed,
    building again would write the same edition.
    """
    cutoff = edition_cutoff(config, edition)
    window_start = cutoff - dt.timedelta(hours=config.brief.window_hours)
    digest = hashlib.sha256()
    digest.update(repr((__version__, config, edition, failed)).encode())
    for folder in template_dirs(config.templates):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = path.stat()
            digest.update(f"{path}\0{info.st_mtime_ns}\0{info.st_size}\n".encode())
    previous = _previous_counts(config, store, edition)
    digest.update(json.dumps(previous, sort_keys=True).encode())
    for story in sorted(store.stories_updated_since(window_start), key=lambda s: s.id):
        digest.update(f"{story.id}:{','.join(story.article_ids)}\n".encode())
    return digest.hexdigest()


def _up_to_date(
    config: Config, store: Store, edition: Edition, stamp: str, email: bool = False
) -> int | None:
    """The edition's story count if it was built from exactly this and its files are there
    (the .eml too when ``email``)."""
    built = json.loads(store.get_meta(_stamp_key(edition)) or "{}")
    if built.get("stamp") != stamp:
        return None
    out = Publisher(config.output)
    wanted = ("md", "html", "eml") if email else ("md", "html")
    if not all(out.path(f"{edition.id}.{ext}").is_file() for ext in wanted):
        return None
    return int(built.get("stories", 0))


def _remember_build(store: Store, edition: Edition, stamp: str, stories: int) -> None:
    store.set_meta(_stamp_key(edition), json.dumps({"stamp": stamp, "stories": stories}))


def run(
    config: Config,
    *,
    date: dt.date | None = None,
    slot: str | None = None,
    now: dt.datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    email: bool | None = None,
) -> RunReport:
    """Poll every source once, group, and build the edition for ``date`` (default: today).

    When nothing the edition is built from changed since it was last built (and its files are
    still there), it is left as it is and the report says so (``unchanged``), unless
    ``rebuild``. ``email``: as for :func:`build_edition`.
    """
    now = now or dt.datetime.now(dt.UTC)
    timings = Timings()
    store = open_store(config.database)
    try:
        polled, new_count, failed = poll_and_group(
            config, store, now, timings, transport, progress=progress
        )
        refused, example = store.refused_pages(now)
        refusal = f"{example.url}: {example.error}" if example is not None else ""
        edition = edition_for(config, store, date, now, slot)
        with timings.stage("check"):
            stamp = _edition_stamp(config, store, edition, failed)
            wanted = _email_wanted(config, email)
            stories = None if rebuild else _up_to_date(config, store, edition, stamp, wanted)
        if stories is not None:
            log.info("edition %s is up to date: nothing new since it was built", edition.id)
            return RunReport(
                edition=edition,
                sources_polled=polled,
                sources_failed=failed,
                new_articles=new_count,
                stories=stories,
                files=(),
                timings=dict(timings),
                timings_elsewhere=dict(timings.elsewhere),
                unchanged=True,
                pages_refused=refused,
                page_refused_example=refusal,
            )
        brief, files, problems = _build_edition(config, store, edition, now, timings, failed, email)
        _remember_build(store, edition, stamp, len(brief.stories))
    finally:
        store.close()
    return RunReport(
        edition=edition,
        sources_polled=polled,
        sources_failed=failed,
        new_articles=new_count,
        stories=len(brief.stories),
        files=tuple(files),
        timings=dict(timings),
        timings_elsewhere=dict(timings.elsewhere),
        problems=tuple(problems),
        pages_refused=refused,
        page_refused_example=refusal,
    )


def build(
    config: Config,
    *,
    date: dt.date | None = None,
    slot: str | None = None,
    now: dt.datetime | None = None,
    email: bool | None = None,
) -> RunReport:
    """Build (or re-build) one edition from what is stored, without polling any source.

    ``email``: as for :func:`build_edition`."""
    now = now or dt.datetime.now(dt.UTC)
    timings = Timings()
    store = open_store(config.database)
    try:
        if not store.article_count():
            raise StoreError(
                f"no articles stored in {config.database}: run `briefs run` first to poll"
            )
        with timings.stage("group"):
            group_pending(config, store)
        edition = edition_for(config, store, date, now, slot)
        brief, files, problems = _build_edition(config, store, edition, now, timings, None, email)
    finally:
        store.close()
    return RunReport(
        edition=edition,
        sources_polled=0,
        sources_failed=brief.failed_sources,
        new_articles=0,
        stories=len(brief.stories),
        files=tuple(files),
        timings=dict(timings),
        timings_elsewhere=dict(timings.elsewhere),
        problems=tuple(problems),
    )


def delete_edition(
    config: Config, edition_id: str, *, now: dt.datetime | None = None
) -> tuple[list[str], Edition | None]:
    """Delete a built edition: its record and files; then index, archive and feeds without it.

    The newest remaining edition is built again (editions are reproducible from their cut-off),
    which rewrites index.html, archive.html and every feed; with none left, those files go too.
    Returns the files removed and the edition rebuilt (None if none is left).
    """
    now = now or dt.datetime.now(dt.UTC)
    store = open_store(config.database)
    try:
        if not store.delete_edition(edition_id):
            known = ", ".join(store.edition_ids()[:10]) or "none"
            raise StoreError(f"no edition {edition_id!r} was built (newest: {known})")
        out = Publisher(config.output)
        names = [f"{edition_id}.{ext}" for ext in ("md", "html", "eml")]
        removed = [name for name in names if out.remove(name)]
        remaining = _ordered(config, store.recent_editions(ARCHIVE_LIMIT))
        if not remaining:
            feeds = [n for f in (EDITION_FEEDS, STORY_FEEDS) for n in (f.rss, f.atom, f.json)]
            shared = ["index.html", "archive.html", *feeds]
            removed += [name for name in shared if out.remove(name)]
            return removed, None
        newest = remaining[0].edition
        build_edition(config, store, newest, now, Timings())
    finally:
        store.close()
    log.info("deleted edition %s; rebuilt %s for the index and feeds", edition_id, newest.id)
    return removed, newest


# -- delivery (issue 7) ------------------------------------------------------------------------
# The email edition is the .eml a build wrote; delivering it addresses one copy per recipient and
# records each outcome, so a crash between recipients resumes and nobody gets an edition twice.


def deliver_edition(
    config: Config,
    store: Store,
    edition_id: str,
    *,
    recipients: Sequence[str] | None = None,
    resend: bool = False,
    dry_run: bool = False,
    wait: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
    stop: threading.Event | None = None,
    mailer_factory: Callable[[], SmtpMailer] | None = None,
    lock_timeout: float = 60.0,
) -> DeliveryReport:
    """Email an edition to ``recipients`` (default: email.recipients) and record each outcome.

    Recipients who already have it are skipped (unless ``resend``); temporary failures are
    retried after ``email.retry_delay`` seconds, doubling, up to ``email.max_attempts`` (waiting
    here when ``wait``, else left for the next call); permanent ones are recorded as failed.
    ``dry_run`` writes one .eml per recipient under ``outbox/`` instead and records nothing;
    with no recipients at all it writes one example message (to EXAMPLE_RECIPIENT).
    """
    clock = clock or (lambda: dt.datetime.now(dt.UTC))
    settings = config.email
    # recipient key (bare address) -> how To: shows it; a bare address (e.g. from the delivery
    # records) gets its display name back from email.recipients
    configured = {recipient_key(raw): raw for raw in settings.recipients}
    wanted: dict[str, str] = {}
    # An address that is not one (a typo, or CR/LF smuggling a header) fails on its own: the
    # others still get the edition.
    refused: list[tuple[str, str]] = []
    for raw in recipients if recipients else settings.recipients:
        try:
            key = recipient_key(raw)
        except DeliveryError as exc:
            log.warning("%s: %s", edition_id, exc)
            refused.append((header_text(raw, 100), str(exc)))
            continue
        wanted.setdefault(key, configured.get(key, raw) if raw == key else raw)
    if not wanted and not refused:
        if not dry_run:
            raise DeliveryError(
                "no recipients: set email.recipients in the config or pass --to ADDR"
            )
        # a dry run on a config without recipients (the demo) still shows what would be sent
        wanted[EXAMPLE_RECIPIENT] = f"Example Reader <{EXAMPLE_RECIPIENT}>"
    if not wanted:
        return DeliveryReport(edition_id, failed=tuple(refused))
    template = load_message(Publisher(config.output).path(f"{edition_id}.eml"))
    domain = _host(config.brief.site_url)
    sender = settings.sender or str(template["From"] or "briefs@localhost")

    def addressed(key: str) -> EmailMessage:
        return address_message(
            template,
            sender=sender,
            recipient=wanted.get(key, key),
            domain=domain,
            edition_id=edition_id,
            now=clock(),
            list_unsubscribe=settings.list_unsubscribe,
        )

    if dry_run:
        out = Publisher(config.output)
        for i, key in enumerate(wanted, 1):
            safe = re.sub(r"[^A-Za-z0-9@._-]", "_", key)
            out.write(f"outbox/{edition_id}/{i:03d}-{safe}.eml", addressed(key).as_bytes())
        return DeliveryReport(
            edition_id, written=tuple(str(p) for p in out.written), failed=tuple(refused)
        )

    if not settings.enabled:
        raise DeliveryError(
            "email is not configured: set host, sender and recipients in [email] "
            "(or use --dry-run to write the messages)"
        )
    if store.edition_built_at(edition_id) is None:
        raise DeliveryError(f"edition {edition_id} is not in the database; build it first")
    password = smtp_password(settings)
    factory = mailer_factory or (lambda: SmtpMailer(settings, password))
    sent_now: list[str] = []
    lock = named_lock(config, "mail")
    with lock.hold(lock_timeout, stop, doing=f"briefs: sending {edition_id}"):
        for d in store.mark_interrupted_deliveries():
            log.warning(
                "%s to %s: interrupted while sending; not resent", d.edition_id, d.recipient
            )
        store.plan_deliveries(edition_id, list(wanted), clock(), resend=resend)
        while not (stop is not None and stop.is_set()):
            now = clock()
            due = [
                d
                for d in store.deliveries(edition_id, "pending")
                if d.recipient in wanted and (d.next_attempt is None or d.next_attempt <= now)
            ]
            if due:
                sent_now += _send_due(store, settings, factory, due, addressed, clock, stop)
            waiting = [d for d in store.deliveries(edition_id, "pending") if d.recipient in wanted]
            if not waiting or not wait:
                break
            earliest = min(d.next_attempt or now for d in waiting)
            pause = (earliest - clock()).total_seconds()
            if pause > 0:
                if stop is not None:
                    stop.wait(pause)
                else:
                    time.sleep(pause)
    rows = [d for d in store.deliveries(edition_id) if d.recipient in wanted]
    return DeliveryReport(
        edition_id,
        sent=tuple(d.recipient for d in rows if d.recipient in sent_now),
        already_sent=tuple(
            d.recipient for d in rows if d.status == "sent" and d.recipient not in sent_now
        ),
        failed=(
            *refused,
            *((d.recipient, d.error or "") for d in rows if d.status == "failed"),
        ),
        pending=tuple((d.recipient, d.error or "") for d in rows if d.status == "pending"),
        uncertain=tuple(d.recipient for d in rows if d.status == "uncertain"),
    )


def _send_due(
    store: Store,
    settings: EmailSettings,
    factory: Callable[[], SmtpMailer],
    due: list[Delivery],
    addressed: Callable[[str], EmailMessage],
    clock: Callable[[], dt.datetime],
    stop: threading.Event | None,
) -> list[str]:
    """One pass over the due deliveries on (at most a few) SMTP sessions; return who got it."""
    sent: list[str] = []
    mailer: SmtpMailer | None = None
    try:
        for i, d in enumerate(due):
            if stop is not None and stop.is_set():
                break
            msg = addressed(d.recipient)
            if mailer is None:
                mailer = factory()
                try:
                    mailer.connect()
                except TransientDeliveryError as exc:
                    # The server cannot be reached: a failed attempt for everyone still due.
                    for rest in due[i:]:
                        attempt = store.claim_delivery(rest.edition_id, rest.recipient, clock())
                        if attempt is not None:
                            _retry_later(store, settings, rest, attempt, str(exc), clock())
                    mailer = None
                    break
            attempt = store.claim_delivery(d.edition_id, d.recipient, clock())
            if attempt is None:
                continue
            # From here until finish_delivery the row says "sending": a crash now leaves it
            # "uncertain" (not resent), because the server may already have accepted it.
            try:
                mailer.send(msg, d.recipient)
            except PermanentDeliveryError as exc:
                store.finish_delivery(d.edition_id, d.recipient, "failed", error=str(exc))
                log.warning("%s to %s: refused: %s", d.edition_id, d.recipient, exc)
                continue
            except TransientDeliveryError as exc:
                _retry_later(store, settings, d, attempt, str(exc), clock())
                if exc.connection_lost:
                    mailer.close()
                    mailer = None
                continue
            except DeliveryError as exc:
                # A failure for every recipient (e.g. the sender is refused): stop the run.
                store.finish_delivery(d.edition_id, d.recipient, "pending", error=str(exc))
                raise
            store.finish_delivery(
                d.edition_id,
                d.recipient,
                "sent",
                sent_at=clock(),
                message_id=str(msg["Message-ID"]),
            )
            sent.append(d.recipient)
            log.debug("%s to %s: sent", d.edition_id, d.recipient)
    finally:
        if mailer is not None:
            mailer.close()
    return sent


def _retry_later(
    store: Store,
    settings: EmailSettings,
    d: Delivery,
    attempt: int,
    error: str,
    now: dt.datetime,
) -> None:
    if attempt >= settings.max_attempts:
        store.finish_delivery(
            d.edition_id,
            d.recipient,
            "failed",
            error=f"gave up after {attempt} attempts: {error}",
        )
        log.warning(
            "%s to %s: gave up after %d attempts: %s", d.edition_id, d.recipient, attempt, error
        )
        return
    delay = dt.timedelta(seconds=settings.retry_delay * 2 ** (attempt - 1))
    store.finish_delivery(
        d.edition_id, d.recipient, "pending", error=error, next_attempt=now + delay
    )
    log.info(
        "%s to %s: attempt %d failed, retrying in %s: %s",
        d.edition_id,
        d.recipient,
        attempt,
        delay,
        error,
    )
