"""The whole run in one place: poll -> store -> group -> summarize -> rank -> render -> publish.

The CLI and the scheduler are thin shells around :func:`run` and :func:`build_edition`. Stages
are pure functions of typed data; this module is the only one that hands data from one to the
next, and the store and the output writer are its only side effects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx

from briefs.config import Config
from briefs.feeds import build_feeds
from briefs.group import group_articles
from briefs.ingest import poll_sources
from briefs.mail import build_message
from briefs.models import Article, Brief, BriefStory, Edition, RunReport, Story
from briefs.publish import Publisher
from briefs.rank import rank_stories
from briefs.render import Renderer
from briefs.store import Store, open_store
from briefs.summarize import summarize_story

__all__ = ["build_edition", "edition_for", "poll_and_group", "run"]

log = logging.getLogger(__name__)


class Timings(dict[str, float]):
    """Seconds spent per stage, in the order the stages ran."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - start


def _host(url: str) -> str:
    return urlsplit(url).hostname or "localhost"


def edition_for(config: Config, store: Store, date: dt.date | None, now: dt.datetime) -> Edition:
    """The edition to build: the given date, else today (or the newest article's day) locally."""
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    if date is None:
        latest = store.latest_published() if config.brief.date == "latest" else None
        date = (latest or now).astimezone(zone).date()
    return Edition(date, config.brief.slot)


def poll_and_group(
    config: Config,
    store: Store,
    now: dt.datetime,
    timings: Timings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[int, int, tuple[tuple[str, str], ...]]:
    """Poll every enabled source, store what is new, group it. Returns (polled, new, failed)."""
    sources = [s for s in config.sources if s.enabled]
    with timings.stage("fetch"):
        results = poll_sources(sources, store.feed_states(), config.fetch, now, transport)
    failed: list[tuple[str, str]] = []
    new_count = 0
    with timings.stage("store"):
        for result in results:
            # Articles and the feed state that produced them commit together: a crash never
            # records validators (ETag) for entries that were not stored.
            with store.transaction() as conn:
                new_count += len(store.add_articles(result.articles, conn))
                if result.state is not None:
                    store.save_feed_state(result.state, conn)
            if result.error:
                failed.append((result.source.name, result.error))
    with timings.stage("group"):
        group_pending(config, store)
    return len(results), new_count, tuple(failed)


def group_pending(config: Config, store: Store) -> int:
    """Group every stored article that has no story yet; return how many stories changed."""
    pending = store.ungrouped_articles()
    if not pending:
        return 0
    window = dt.timedelta(hours=config.group.window_hours)
    active = store.stories_updated_since(min(a.published for a in pending) - window)
    member_ids = [i for s in active for i in s.article_ids]
    members = {a.id: a for a in store.articles(member_ids)}
    changed = group_articles(pending, active, members, config.group)
    store.save_stories(changed)
    return len(changed)


def _day_bounds(edition: Edition, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(edition.date, dt.time(0, 0), zone)
    end = start + dt.timedelta(days=1)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _brief_story(
    story: Story,
    members: list[Article],
    day_start: dt.datetime,
    previous: dict[str, int],
    zone: zoneinfo.ZoneInfo,
    edition: Edition,
    config: Config,
) -> BriefStory | None:
    first = min(a.published for a in members)
    in_previous = story.id in previous
    grown = len(members) - previous.get(story.id, 0)
    if in_previous and grown <= 0:
        return None  # already served, nothing new since: not news
    developing = first < day_start
    day = (edition.date - first.astimezone(zone).date()).days + 1
    added = grown if in_previous else sum(1 for a in members if a.published >= day_start)
    trimmed = dataclasses.replace(
        story,
        article_ids=tuple(a.id for a in members),
        last_updated=max(a.published for a in members),
    )
    summary = summarize_story(trimmed, members, config.summary)
    return BriefStory(
        story=trimmed,
        summary=summary,
        articles=tuple(members),
        status="developing" if developing else "new",
        day=max(day, 1),
        added=added,
    )


def build_edition(
    config: Config,
    store: Store,
    edition: Edition,
    now: dt.datetime,
    timings: Timings,
    failed: tuple[tuple[str, str], ...] = (),
) -> tuple[Brief, list[str]]:
    """Summarize, rank, render and publish one edition from what is stored."""
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    day_start, day_end = _day_bounds(edition, zone)
    window_start = day_end - dt.timedelta(hours=config.brief.window_hours)
    previous = store.previous_edition_counts(edition)
    with timings.stage("summarize"):
        candidates: list[BriefStory] = []
        stories = store.stories_updated_since(window_start)
        all_ids = [i for s in stories for i in s.article_ids]
        by_id = {a.id: a for a in store.articles(all_ids)}
        for story in stories:
            members = [
                by_id[i] for i in story.article_ids if i in by_id and by_id[i].published < day_end
            ]
            if not members or max(a.published for a in members) < window_start:
                continue
            item = _brief_story(story, members, day_start, previous, zone, edition, config)
            if item is not None:
                candidates.append(item)
    with timings.stage("rank"):
        sources = {s.id: s for s in config.sources}
        ranked = rank_stories(candidates, config.brief, sources, min(now, day_end))
    brief = Brief(
        edition=edition,
        generated_at=now,
        title=config.brief.title,
        stories=tuple(ranked),
        failed_sources=failed,
        timezone=config.brief.timezone,
    )
    renderer = Renderer(config.templates, config.brief.timezone)
    with timings.stage("render"):
        markdown = renderer.markdown(brief)
        fragment = renderer.html_fragment(brief)
        headlines = "; ".join(s.summary.headline for s in brief.stories[:5])
        store.record_edition(
            edition,
            now,
            f"{brief.title}: {edition.date.isoformat()}"
            + (f" ({edition.slot})" if edition.slot else ""),
            {s.story.id: len(s.articles) for s in brief.stories},
            fragment,
            headlines,
        )
        archive = store.recent_editions(1000)
        page = renderer.html_page(brief, archive)
        latest = archive[0].edition == edition if archive else True
        index = renderer.html_page(brief, archive, is_index=True) if latest else None
        message = build_message(brief, renderer, domain=_host(config.brief.site_url))
        feeds = build_feeds(
            config.brief.title,
            config.brief.site_url,
            config.brief.language,
            archive[: config.brief.feed_items],
            now,
        )
    with timings.stage("write"):
        out = Publisher(config.output)
        out.write(f"{edition.id}.md", markdown)
        out.write(f"{edition.id}.html", page)
        if index is not None:
            out.write("index.html", index)
        out.write(f"{edition.id}.eml", message.as_bytes())
        for name, data in feeds.items():
            out.write(name, data)
    return brief, [str(p) for p in out.written]


def run(
    config: Config,
    *,
    date: dt.date | None = None,
    now: dt.datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunReport:
    """Poll every source once, group, and build the edition for ``date`` (default: today)."""
    now = now or dt.datetime.now(dt.UTC)
    timings = Timings()
    store = open_store(config.database)
    try:
        polled, new_count, failed = poll_and_group(config, store, now, timings, transport)
        edition = edition_for(config, store, date, now)
        brief, files = build_edition(config, store, edition, now, timings, failed)
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
    )
