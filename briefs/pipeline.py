"""The run in stages: poll -> store -> extract -> dedupe -> group -> rank/summarize -> render ->
publish. This module shows the order; each stage lives where it belongs:

* collection (poll, store, full text): :mod:`briefs.collect`; linking syndicated copies:
  :mod:`briefs.ingest.copies`;
* grouping into stories: :mod:`briefs.grouping` (the store's side) and :mod:`briefs.group`;
* the edition (its window, ranking, summaries, outputs, freshness): :mod:`briefs.edition`;
* delivery of the email edition: :mod:`briefs.deliver`.

The CLI and the scheduler are thin shells around :func:`run`, :func:`build` and
:func:`poll_and_group`. What keeps a run of thousands of feeds cheap (measured by
``benchmarks/run.py``; see docs/scaling.md):

* the polled articles are let go once stored, before the later stages read back what they need;
* only the stories that can make the edition are summarized (see :mod:`briefs.edition`);
* a run that finds nothing new leaves an edition that is already up to date alone;
* grouping and summarizing (sumy, NLTK: about a second to import) are imported when used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from briefs.collect import fetch_full_text, poll_and_store
from briefs.config import Config
from briefs.desk import write_desk_index
from briefs.edition import WindowReads, failed_sources, write_edition
from briefs.errors import StoreError
from briefs.freshness import built_from, remember_build
from briefs.grouping import group_pending
from briefs.ingest.copies import link_pending
from briefs.ingest.progress import Progress
from briefs.memory import release
from briefs.models import PageRecord, RunReport
from briefs.slots import edition_for
from briefs.store import Store
from briefs.timing import Timings

__all__ = [
    "build",
    "build_briefs",
    "group_pending",
    "poll_and_group",
    "process_stored",
    "run",
    "run_briefs",
]

log = logging.getLogger(__name__)


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
    polled, new_count, failed = poll_and_store(
        config, store, now, timings, transport, due, progress
    )
    # The polled articles are out of memory by now: the stages below read back what they need.
    process_stored(config, store, now, timings, transport, progress=progress)
    return polled, new_count, failed


def process_stored(
    config: Config,
    store: Store,
    now: dt.datetime,
    timings: Timings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    progress: Progress | None = None,
) -> None:
    """What follows storing a poll (whoever polled: this process or pollers elsewhere): fetch
    full texts, link copies, group."""
    # Each stage reads back what it needs and lets it go; what it freed is returned to the
    # system before the next one (briefs.memory): a stage starts from what is in use, not from
    # the high-water mark of the one before.
    release()
    with timings.stage("extract"):
        improved = fetch_full_text(config, store, now, transport, progress)
    with timings.stage("dedupe"):
        link_pending(store, now, improved)
    release()
    with timings.stage("group"):
        group_pending(config, store)
    release()


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
    """Poll every source once, group, and build the edition for ``date`` (default: today) of
    the config's brief (``config.brief_id``; :func:`run_briefs` builds several).

    When nothing the edition is built from changed since it was last built (and its files are
    still there), it is left as it is and the report says so (``unchanged``), unless
    ``rebuild``. ``email``: as for :func:`build_edition`.
    """
    reports = run_briefs(
        config,
        (config.brief_id,),
        date=date,
        slot=slot,
        now=now,
        transport=transport,
        progress=progress,
        rebuild=rebuild,
        email=email,
    )
    return reports[0]


def run_briefs(
    config: Config,
    briefs: Sequence[str] | None = None,
    *,
    date: dt.date | None = None,
    slot: str | None = None,
    now: dt.datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    email: bool | None = None,
) -> tuple[RunReport, ...]:
    """One poll and one grouping, then the edition of each brief (``briefs``: their ids;
    default every brief of the desk), each left alone when it is up to date, as :func:`run`.

    One report per brief, in the order asked; the poll's figures are in every report, the
    poll's stages in the first report's timings only (the reports' timings add up to the run).
    """
    now = now or dt.datetime.now(dt.UTC)
    ids = config.brief_ids(briefs)
    timings = Timings()
    with Store.open(config.database) as store:
        polled, new_count, failed = poll_and_group(
            config, store, now, timings, transport, progress=progress
        )
        refused, example = store.refused_pages(now)
        facts = _PollFacts(polled, failed, new_count, refused, example)
        return _each_brief(
            config,
            store,
            ids,
            timings,
            lambda view, t, reads: _run_brief(
                view, store, facts, t, date, slot, now, rebuild, email, reads
            ),
        )


def _each_brief(
    config: Config,
    store: Store,
    ids: tuple[str, ...],
    timings: Timings,
    one: Callable[[Config, Timings, WindowReads | None], RunReport],
) -> tuple[RunReport, ...]:
    """``one`` brief's report after the other, each on the Config as that brief sees it, then
    the desk's index. The first report's timings hold the shared stages before (``timings``);
    several briefs read the window once (see edition.WindowReads)."""
    reads = WindowReads(store) if len(ids) > 1 else None
    reports: list[RunReport] = []
    for brief_id in ids:
        reports.append(one(config.for_brief(brief_id), timings, reads))
        release()  # an edition's stories and texts: gone before the next brief, or the idle time
        timings = Timings()
    if config.several:
        write_desk_index(config, store)
    return tuple(reports)


@dataclass(frozen=True, slots=True)
class _PollFacts:
    """What the shared poll did, for every brief's report."""

    polled: int
    failed: tuple[tuple[str, str], ...]
    new: int
    refused: int
    example: PageRecord | None


def _run_brief(
    config: Config,
    store: Store,
    facts: _PollFacts,
    timings: Timings,
    date: dt.date | None,
    slot: str | None,
    now: dt.datetime,
    rebuild: bool,
    email: bool | None,
    reads: WindowReads | None,
) -> RunReport:
    """One brief's edition after the poll: left alone when up to date, else built."""
    refusal = f"{facts.example.url}: {facts.example.error}" if facts.example is not None else ""
    failed = config.failures_in_brief(facts.failed)
    edition = edition_for(config, store, date, now, slot)
    with timings.stage("check"):
        stamp, stories = built_from(config, store, edition, failed, email, rebuild)
    report = RunReport(
        edition=edition,
        sources_polled=facts.polled,
        sources_failed=facts.failed,
        new_articles=facts.new,
        stories=stories or 0,
        files=(),
        pages_refused=facts.refused,
        page_refused_example=refusal,
        brief=config.brief_id,
    )
    if stories is not None:
        log.info(
            "edition %s of %s is up to date: nothing new since it was built",
            edition.id,
            config.brief_id,
        )
        return dataclasses.replace(
            report,
            timings=dict(timings),
            timings_elsewhere=dict(timings.elsewhere),
            unchanged=True,
        )
    brief, files, problems = write_edition(
        config, store, edition, now, timings, failed, email, reads
    )
    remember_build(config, store, edition, stamp, len(brief.stories))
    return dataclasses.replace(
        report,
        stories=len(brief.stories),
        files=tuple(files),
        timings=dict(timings),
        timings_elsewhere=dict(timings.elsewhere),
        problems=tuple(problems),
    )


def build(
    config: Config,
    *,
    date: dt.date | None = None,
    slot: str | None = None,
    now: dt.datetime | None = None,
    email: bool | None = None,
) -> RunReport:
    """Build (or re-build) one edition of the config's brief from what is stored, without
    polling any source (:func:`build_briefs` builds several).

    ``email``: as for :func:`build_edition`."""
    return build_briefs(config, (config.brief_id,), date=date, slot=slot, now=now, email=email)[0]


def build_briefs(
    config: Config,
    briefs: Sequence[str] | None = None,
    *,
    date: dt.date | None = None,
    slot: str | None = None,
    now: dt.datetime | None = None,
    email: bool | None = None,
) -> tuple[RunReport, ...]:
    """:func:`build` for each brief asked (default every brief), after one grouping."""
    now = now or dt.datetime.now(dt.UTC)
    ids = config.brief_ids(briefs)
    timings = Timings()
    with Store.open(config.database) as store:
        if not store.article_count():
            raise StoreError(
                f"no articles stored in {config.database}: run `briefs run` first to poll"
            )
        with timings.stage("group"):
            group_pending(config, store)
        return _each_brief(
            config,
            store,
            ids,
            timings,
            lambda view, t, reads: _build_brief(view, store, date, slot, now, t, email, reads),
        )


def _build_brief(
    config: Config,
    store: Store,
    date: dt.date | None,
    slot: str | None,
    now: dt.datetime,
    timings: Timings,
    email: bool | None,
    reads: WindowReads | None,
) -> RunReport:
    """One brief's edition built from what is stored (no poll, so no poll figures)."""
    edition = edition_for(config, store, date, now, slot)
    brief, files, problems = write_edition(config, store, edition, now, timings, None, email, reads)
    return RunReport(
        edition=edition,
        sources_polled=0,
        sources_failed=failed_sources(config, store),
        new_articles=0,
        stories=len(brief.stories),
        files=tuple(files),
        timings=dict(timings),
        timings_elsewhere=dict(timings.elsewhere),
        problems=tuple(problems),
        brief=config.brief_id,
    )
