"""Edition building: an edition's stories as of its cut-off (which edition and its window:
:mod:`briefs.slots`), ranking and summarizing, the per-story feed items, then the outputs
(:mod:`briefs.outputs`) written.

The second half of a run (:func:`briefs.pipeline.run` and :func:`briefs.pipeline.build`).
Only the stories that can make the edition are summarized: ranking does not read summaries, so
the candidates are put in rank order first and summarized in that order until the edition is
full (tens of summaries, not thousands).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import zoneinfo
from collections.abc import Sequence
from typing import Literal

from briefs.config import Config
from briefs.desk import write_desk_index
from briefs.display import display_brief
from briefs.errors import StoreError
from briefs.feeds import FeedItem, story_item
from briefs.ingest.names import outlet_name
from briefs.models import (
    Article,
    Brief,
    BriefStory,
    Edition,
    EditionRecord,
    Story,
    Summary,
)
from briefs.notify import hold_notifications
from briefs.outputs import BuiltEdition, asked_outputs, owned_files, shared_files, write_outputs
from briefs.publish import Publisher
from briefs.rank import rank_key, rank_stories
from briefs.render import Renderer
from briefs.slots import (
    ARCHIVE_LIMIT,
    edition_cutoff,
    edition_window,
    ordered_editions,
    previous_counts,
    previous_cutoff,
)
from briefs.store import Store
from briefs.storypages import story_pages
from briefs.timing import Timings

__all__ = ["WindowReads", "build_edition", "delete_edition", "failed_sources", "write_edition"]

log = logging.getLogger(__name__)


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


def failed_sources(config: Config, store: Store) -> tuple[tuple[str, str], ...]:
    """Enabled sources of the brief whose latest poll failed (for editions built without
    polling), by ``Source.name`` as the run report names them."""
    states = store.feed_states()
    failed: list[tuple[str, str]] = []
    for src in config.sources:
        if not config.current.draws_from(src):
            continue
        state = states.get(src.id)
        if src.enabled and state and state.consecutive_failures and state.last_error:
            failed.append((src.name, state.last_error))
    return tuple(failed)


def _public_failed(
    config: Config, store: Store, failed: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The failed sources of the brief as readers see them: by the outlet's name (the
    configured title, else the one its feed gives, else its host), never a source id; the run
    report keeps ``Source.name`` (the id of an untitled source), which is what the operator
    acts on."""
    by_name = {s.name: s for s in config.sources}
    states = store.feed_states()
    out: list[tuple[str, str]] = []
    for name, error in failed:
        source = by_name.get(name)
        if source is not None and not config.current.draws_from(source):
            continue
        out.append((outlet_name(source, states.get(source.id)) if source else name, error))
    return tuple(out)


class WindowReads:
    """The window's stories and their members without texts, read once for every brief a run
    builds (they change only when grouping runs, before the briefs are built); a brief asks
    for the window of its own cut-off and ``window_hours``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._stories: dict[dt.datetime, list[Story]] = {}
        self._articles: dict[str, Article] = {}

    def stories_updated_since(self, start: dt.datetime) -> list[Story]:
        """:meth:`Store.stories_updated_since`, once per start."""
        if start not in self._stories:
            self._stories[start] = self.store.stories_updated_since(start)
        return self._stories[start]

    def articles(self, ids: Sequence[str]) -> list[Article]:
        """:meth:`Store.articles` without texts; each article read once."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._articles]
        if missing:
            self._articles.update((a.id, a) for a in self.store.articles(missing, texts=False))
        return [self._articles[i] for i in ids if i in self._articles]


def _stories_as_of(
    config: Config,
    store: Store,
    edition: Edition,
    stories: list[Story],
    previous: dict[str, int],
    *,
    texts: bool = True,
    reads: WindowReads | None = None,
) -> list[BriefStory]:
    """Stories as an edition saw them: members published before its cut-off, of the sources
    the brief draws from (not summarized).

    Without ``texts`` the members' texts are not read (see :func:`_with_texts`); ``reads``
    then shares the members read with the run's other briefs.
    """
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    cutoff = edition_cutoff(config, edition)
    day_start = _day_start(edition, zone)
    since = previous_cutoff(config, store, edition) or day_start
    ids = [i for s in stories for i in s.article_ids]
    if reads is not None and not texts:
        by_id = {a.id: a for a in reads.articles(ids)}
    else:
        by_id = {a.id: a for a in store.articles(ids, texts=texts)}
    drawn = config.brief_sources()
    out: list[BriefStory] = []
    for story in stories:
        members = [by_id[i] for i in story.article_ids if i in by_id]
        members = [
            a for a in members if a.published < cutoff and (drawn is None or a.source_id in drawn)
        ]
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
    that carried it (same guid, new date and content when it develops), newest first; the
    newest ``story_feed_items`` of them, and more until each section has its newest
    ``section_feed_items`` (the section feeds; see :func:`_wanted`)."""
    images = config.brief.images
    seen: set[str] = set()
    items: list[FeedItem] = []
    counts = dict.fromkeys(config.brief.sections, 0)
    recent = archive[: config.brief.feed_items]
    for i, rec in enumerate(recent):
        if not _wanted(config, len(items), counts, None):
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
            if story.story.id in seen or not _wanted(config, len(items), counts, story.section):
                continue
            seen.add(story.story.id)
            if story.section in counts:
                counts[story.section] += 1
            html = renderer.story_html(host, story)
            items.append(story_item(config.brief.site_url, rec.edition, story, html, images))
    items.sort(key=lambda it: (it.updated, it.guid), reverse=True)
    return items


def _wanted(config: Config, found: int, counts: dict[str, int], section: str | None) -> bool:
    """Whether one more story is wanted: the story feed is not full, or its section's feed
    (``section`` None: any section's) is not."""
    if found < config.brief.story_feed_items:
        return True
    limit = config.brief.section_feed_items
    if section is None:
        return any(n < limit for n in counts.values())
    return counts.get(section, limit) < limit


def _summarized(items: Sequence[BriefStory], config: Config) -> list[BriefStory]:
    """The stories with their summaries made (shared by the briefs that see a story alike)."""
    from briefs.summarize import summarize_shared

    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    return [
        dataclasses.replace(
            item,
            summary=summarize_shared(
                item.story, tuple(item.articles), config.summary, item.since, zone, item.told
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
    brief, files, _problems = write_edition(config, store, edition, now, timings, failed, email)
    return brief, files


def write_edition(
    config: Config,
    store: Store,
    edition: Edition,
    now: dt.datetime,
    timings: Timings,
    failed: tuple[tuple[str, str], ...] | None,
    email: bool | None,
    reads: WindowReads | None = None,
) -> tuple[Brief, list[str], list[str]]:
    """:func:`build_edition`, also returning the outputs that could not be made (one line each).

    The stages: the brief (stories as of the cut-off, ranked, summarized), its record (the
    archive then holds it), the per-story feed items and story pages, every output of
    :data:`briefs.outputs.OUTPUTS` made and written, then its notifications composed and
    held (:mod:`briefs.notify`).
    """
    brief = _edition_brief(config, store, edition, now, timings, failed, reads)
    renderer = _renderer(config)
    with timings.stage("render"):
        archive = _record(config, store, brief, renderer, now)
    with timings.stage("feeds"):
        items = _story_items(config, store, renderer, archive, brief)
    with timings.stage("render"):
        pages = story_pages(store, brief, archive)
    built = BuiltEdition(brief, tuple(archive), tuple(items), config, now, pages)
    files, problems = write_outputs(built, renderer, asked_outputs(email), timings)
    # held until sent: the daemon releases its own editions', `briefs notify` the others'
    hold_notifications(config, store, brief, renderer, now)
    return brief, files, problems


def _edition_brief(
    config: Config,
    store: Store,
    edition: Edition,
    now: dt.datetime,
    timings: Timings,
    failed: tuple[tuple[str, str], ...] | None,
    reads: WindowReads | None = None,
) -> Brief:
    """The edition's brief: the window's stories as of its cut-off, ranked and summarized."""
    brief_cfg = config.brief
    window_start, cutoff = edition_window(config, edition)
    with timings.stage("rank"):
        if reads is not None:
            stories = reads.stories_updated_since(window_start)
        else:
            stories = store.stories_updated_since(window_start)
        previous = previous_counts(config, store, edition)
        # Ranking reads the members' texts only to match mute/boost words: without them, the
        # window's texts (hundreds of MB at 50k articles) are read for the summarized few only.
        texts = bool(brief_cfg.mute or brief_cfg.boost)
        candidates = [
            c
            for c in _stories_as_of(
                config, store, edition, stories, previous, texts=texts, reads=reads
            )
            if c.story.last_updated >= window_start
        ]
    del stories
    ranked = _rank_and_summarize(
        candidates, config, min(now, cutoff), timings, None if texts else store
    )
    return Brief(
        edition=edition,
        generated_at=now,
        title=brief_cfg.title,
        stories=tuple(ranked),
        failed_sources=_public_failed(
            config, store, failed_sources(config, store) if failed is None else failed
        ),
        timezone=brief_cfg.timezone,
    )


def _renderer(config: Config) -> Renderer:
    """The brief's renderer. Templates also see ``brief_id``, ``brief_folder`` (its folder
    under the output folder, "" for the folder itself) and ``desk`` (every brief's id, title,
    language and folder, in the file's order; one entry for a single brief)."""
    settings = config.brief
    desk = tuple(
        {"id": b.id, "title": b.title, "language": b.language, "folder": b.output}
        for b in config.desk
    )
    return Renderer(
        config.templates,
        settings.timezone,
        images=settings.images,
        site_url=settings.site_url,
        language=settings.language,
        description=settings.description,
        context={"brief_id": config.brief_id, "brief_folder": config.current.output, "desk": desk},
    )


def _record(
    config: Config, store: Store, brief: Brief, renderer: Renderer, now: dt.datetime
) -> list[EditionRecord]:
    """Record the edition (its story sizes, its HTML for the feeds); the archive with it."""
    edition = brief.edition
    shown = display_brief(brief)
    store.record_edition(
        edition,
        now,
        f"{shown.title}: {renderer.edition_name(edition)}",
        {s.story.id: len(s.articles) for s in brief.stories},
        renderer.html_fragment(brief),
        "; ".join(s.summary.headline for s in shown.stories[:5]),
        brief=config.brief_id,
    )
    # Every edition for the archive, without its HTML; the HTML of the newest few, which the
    # edition feeds carry (a year of editions' HTML is tens of MB, read at every build).
    every = store.recent_editions(ARCHIVE_LIMIT, config.brief_id, html=False)
    newest = store.recent_editions(config.brief.feed_items + 16, config.brief_id)
    with_html = {r.edition: r for r in newest}
    return ordered_editions(config, [with_html.get(r.edition, r) for r in every])


def delete_edition(
    config: Config, edition_id: str, *, now: dt.datetime | None = None
) -> tuple[list[str], Edition | None]:
    """Delete a built edition: its record and files; then index, archive and feeds without it.

    The newest remaining edition is built again (editions are reproducible from their cut-off),
    which rewrites index.html, archive.html and every feed; with none left, those files go too.
    Returns the files removed and the edition rebuilt (None if none is left).
    """
    now = now or dt.datetime.now(dt.UTC)
    brief = config.brief_id
    with Store.open(config.database) as store:
        if not store.delete_edition(edition_id, brief):
            known = ", ".join(store.edition_ids(brief)[:10]) or "none"
            raise StoreError(f"no edition {edition_id!r} was built (newest: {known})")
        out = Publisher(config.output)
        removed = [name for name in owned_files(edition_id) if out.remove(name)]
        remaining = ordered_editions(config, store.recent_editions(ARCHIVE_LIMIT, brief))
        if not remaining:
            removed += [name for name in shared_files(config) if out.remove(name)]
        else:
            build_edition(config, store, remaining[0].edition, now, Timings())
        if config.several:
            write_desk_index(config, store)  # the brief's newest edition there is another
        if not remaining:
            return removed, None
        newest = remaining[0].edition
    log.info("deleted edition %s; rebuilt %s for the index and feeds", edition_id, newest.id)
    return removed, newest
