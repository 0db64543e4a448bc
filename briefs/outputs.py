"""The registry of outputs: every file a build writes, made from one built edition.

Like Pelican's generators and writer: each output (:class:`Output`) turns a
:class:`BuiltEdition` into named files, and one writer (:func:`write_outputs`, through
:class:`briefs.publish.Publisher`) writes them all once every output is made, so a template
that fails leaves the previous files in place. The registry (:data:`OUTPUTS`, in writing
order) is read by the edition builder (what to make), the freshness check (the files an
edition needs to be up to date), :func:`briefs.edition.delete_edition` (the files to remove)
and ``briefs serve`` (:func:`served_types`: the content type of each file it may serve).

Adding a format is a template, one entry below and, when the format needs its own rendering
call, a method of :class:`briefs.render.Renderer`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from briefs.config import Config
from briefs.errors import BriefsError
from briefs.feeds import (
    EDITION_FEEDS,
    FEED_TYPES,
    STORY_FEEDS,
    FeedInfo,
    FeedItem,
    FeedNames,
    build_feeds,
    edition_items,
)
from briefs.mail import build_message
from briefs.models import Brief, EditionRecord
from briefs.publish import Publisher
from briefs.render import Renderer
from briefs.slots import edition_cutoff
from briefs.storypages import STORY_FOLDER, StoryPage, story_page_name
from briefs.timing import Timings

__all__ = [
    "OUTPUTS",
    "BuiltEdition",
    "Output",
    "asked_outputs",
    "edition_files",
    "email_wanted",
    "owned_files",
    "section_feed_names",
    "served_types",
    "shared_files",
    "site_host",
    "write_outputs",
]

log = logging.getLogger(__name__)

Files = dict[str, str | bytes]


@dataclass(frozen=True, slots=True)
class BuiltEdition:
    """What every output is made from: the brief, the archive with it (newest first) and the
    per-story feed items, as the edition builder left them (no output reads the store)."""

    brief: Brief
    archive: tuple[EditionRecord, ...]
    story_items: tuple[FeedItem, ...]
    config: Config
    now: dt.datetime
    # the story pages this build writes (briefs.storypages.story_pages)
    story_pages: tuple[StoryPage, ...] = ()

    @property
    def latest(self) -> bool:
        """Whether this edition is the newest built (it is then also the index page)."""
        return not self.archive or self.archive[0].edition == self.brief.edition


def _always(config: Config, asked: Mapping[str, bool]) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Output:
    """One output format.

    ``files(edition_id)`` names every file it may write (for one edition's files, those of
    that edition; else files every build rewrites, such as the index or the feeds); ``make``
    renders them. ``per_edition``: its files belong to one edition (the freshness check wants
    them there, deleting the edition removes them). ``optional``: a failure of its own
    (a :class:`BriefsError`) leaves it out and removes an older copy, never the other outputs.
    ``wanted(config, asked)``: whether to make it, ``asked`` being the outputs asked for or
    refused by name (``--email``). ``types``: Content-Type by file name or suffix for
    ``briefs serve`` (empty: never served). ``stage``: the timing stage it is made in.
    ``patterns``: glob patterns of files named by what they hold, not by the edition (story pages,
    ``stories/*.html``), which ``files`` cannot list.
    ``named``: the files whose names come from the configuration (the section feeds: one
    family per configured section), every build rewrites them.
    """

    name: str
    files: Callable[[str], tuple[str, ...]]
    make: Callable[[BuiltEdition, Renderer], Files]
    per_edition: bool = True
    optional: bool = False
    wanted: Callable[[Config, Mapping[str, bool]], bool] = _always
    types: Mapping[str, str] = field(default_factory=dict)
    stage: str = "render"
    patterns: tuple[str, ...] = ()
    named: Callable[[Config], tuple[str, ...]] | None = None


def site_host(url: str) -> str:
    """The host of the site URL (the domain of Message-IDs)."""
    return urlsplit(url).hostname or "localhost"


def email_wanted(config: Config, asked: bool | None) -> bool:
    """Whether to write the email edition: when asked, else when email is configured at all (a
    server, or recipients for ``send --dry-run``)."""
    if asked is not None:
        return asked
    return bool(config.email.host or config.email.recipients)


def _markdown(built: BuiltEdition, renderer: Renderer) -> Files:
    return {f"{built.brief.edition.id}.md": renderer.markdown(built.brief)}


def _page(built: BuiltEdition, renderer: Renderer) -> Files:
    return {f"{built.brief.edition.id}.html": renderer.html_page(built.brief, built.archive)}


def _index(built: BuiltEdition, renderer: Renderer) -> Files:
    if not built.latest:
        return {}
    return {"index.html": renderer.html_page(built.brief, built.archive, is_index=True)}


def _archive(built: BuiltEdition, renderer: Renderer) -> Files:
    return {"archive.html": renderer.archive_page(built.config.brief.title, built.archive)}


def _feed_info(built: BuiltEdition) -> FeedInfo:
    settings = built.config.brief
    return FeedInfo(settings.title, settings.description, settings.site_url, settings.language)


def _edition_feeds(built: BuiltEdition, renderer: Renderer) -> Files:
    settings = built.config.brief
    # each edition dated by when it closes, not by this build (see edition_items)
    closes = functools.partial(edition_cutoff, built.config)
    items = edition_items(settings.site_url, built.archive[: settings.feed_items], closes)
    return dict(build_feeds(_feed_info(built), items, built.now))


def _story_feeds(built: BuiltEdition, renderer: Renderer) -> Files:
    title = built.config.brief.title
    info = dataclasses.replace(
        _feed_info(built),
        title=f"{title}: stories",
        description=f"{title}, one item per story, updated as each story develops.",
    )
    items = built.story_items[: built.config.brief.story_feed_items]  # the rest: sections'
    return dict(build_feeds(info, items, built.now, STORY_FEEDS))


def _story_pages(built: BuiltEdition, renderer: Renderer) -> Files:
    return {
        story_page_name(page.item.story.id): renderer.story_page(built.brief, page)
        for page in built.story_pages
    }


def section_feed_names(section: str) -> FeedNames:
    """The story feeds of one section: ``stories-<section>.xml``, ``.atom``, ``.json`` (the
    section's name in lowercase letters, digits and "-")."""
    slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-") or "section"
    return FeedNames(f"stories-{slug}.xml", f"stories-{slug}.atom", f"stories-{slug}.json")


def _section_files(config: Config) -> tuple[str, ...]:
    return tuple(
        name
        for section in config.brief.sections
        for name in dataclasses.astuple(section_feed_names(section))
    )


def _section_feeds(built: BuiltEdition, renderer: Renderer) -> Files:
    """One family of story feeds per configured section: the newest ``section_feed_items``
    story items of that section (a section with none has an empty feed: a subscription never
    ends in a 404)."""
    title = built.config.brief.title
    limit = built.config.brief.section_feed_items
    files: Files = {}
    for section in built.config.brief.sections:
        items = [it for it in built.story_items if it.section == section][:limit]
        info = dataclasses.replace(
            _feed_info(built),
            title=f"{title}: {section}",
            description=f"{title}, the stories of {section}, updated as each develops.",
        )
        files.update(build_feeds(info, items, built.now, section_feed_names(section)))
    return files


def _email(built: BuiltEdition, renderer: Renderer) -> Files:
    settings = built.config.brief
    message = build_message(
        built.brief,
        renderer,
        domain=site_host(settings.site_url),
        max_bytes=settings.email_max_bytes,
    )
    return {f"{built.brief.edition.id}.eml": message.as_bytes()}


def _feed_files(names: FeedNames) -> Callable[[str], tuple[str, ...]]:
    return lambda _edition_id: (names.rss, names.atom, names.json)


def _feed_types(names: FeedNames) -> dict[str, str]:
    return {
        names.rss: FEED_TYPES["rss"],
        names.atom: FEED_TYPES["atom"],
        names.json: FEED_TYPES["json"],
    }


_HTML = "text/html; charset=utf-8"

# In writing order (the order of a run's file list).
OUTPUTS: tuple[Output, ...] = (
    Output(
        "markdown", lambda e: (f"{e}.md",), _markdown, types={".md": "text/markdown; charset=utf-8"}
    ),
    Output("page", lambda e: (f"{e}.html",), _page, types={".html": _HTML}),
    Output("index", lambda e: ("index.html",), _index, per_edition=False, types={".html": _HTML}),
    Output("archive", lambda e: ("archive.html",), _archive, per_edition=False),
    # one page per story, kept across editions (never removed with one): named by story, so
    # not listed by files()
    Output(
        "story-pages",
        lambda e: (),
        _story_pages,
        per_edition=False,
        types={".html": _HTML},
        patterns=(f"{STORY_FOLDER}/*.html",),
    ),
    Output(
        "feeds",
        _feed_files(EDITION_FEEDS),
        _edition_feeds,
        per_edition=False,
        types=_feed_types(EDITION_FEEDS),
        stage="feeds",
    ),
    Output(
        "story-feeds",
        _feed_files(STORY_FEEDS),
        _story_feeds,
        per_edition=False,
        types=_feed_types(STORY_FEEDS),
        stage="feeds",
    ),
    Output(
        "section-feeds",
        lambda _e: (),
        _section_feeds,
        per_edition=False,
        stage="feeds",
        named=_section_files,
    ),
    # never served: a delivered copy may carry addresses
    Output(
        "email",
        lambda e: (f"{e}.eml",),
        _email,
        optional=True,
        wanted=lambda config, asked: email_wanted(config, asked.get("email")),
    ),
)


def asked_outputs(email: bool | None) -> dict[str, bool]:
    """The outputs a build was asked for or told to leave out, by name (``--email``)."""
    return {} if email is None else {"email": email}


def edition_files(config: Config, edition_id: str, asked: Mapping[str, bool]) -> list[str]:
    """The files of one edition its wanted outputs write (what being up to date needs)."""
    return [
        name
        for out in OUTPUTS
        if out.per_edition and out.wanted(config, asked)
        for name in out.files(edition_id)
    ]


def shared_files(config: Config | None = None) -> list[str]:
    """The files every build rewrites (index, archive, feeds; with ``config`` the section
    feeds too): removed with the last edition."""
    names = [name for out in OUTPUTS if not out.per_edition for name in out.files("")]
    if config is not None:
        names += [name for out in OUTPUTS if out.named for name in out.named(config)]
    return names


def owned_files(edition_id: str) -> list[str]:
    """Every file of one edition any output may have written (removed with the edition)."""
    return [name for out in OUTPUTS if out.per_edition for name in out.files(edition_id)]


def served_types() -> dict[str, str]:
    """Content-Type by file name or suffix for every output ``briefs serve`` serves."""
    types: dict[str, str] = {}
    for out in OUTPUTS:
        types.update(out.types)
    return types


def write_outputs(
    built: BuiltEdition,
    renderer: Renderer,
    asked: Mapping[str, bool],
    timings: Timings,
    outputs: Sequence[Output] = OUTPUTS,
) -> tuple[list[str], list[str]]:
    """Make every wanted output, then write them all; the files written, and one line for each
    optional output that could not be made (or whose older copy was removed)."""
    config = built.config
    made: list[tuple[Output, Files | None]] = []
    problems: list[str] = []
    for out in outputs:
        if not out.wanted(config, asked):
            continue
        with timings.stage(out.stage):
            try:
                made.append((out, out.make(built, renderer)))
            except BriefsError as exc:
                if not out.optional:
                    raise
                # one output among several: its own failure leaves it out, never the others
                names = ", ".join(out.files(built.brief.edition.id))
                problems.append(f"{names}: {exc}")
                log.warning("%s not written: %s", names, exc)
                made.append((out, None))
    publisher = Publisher(config.output)
    with timings.stage("write"):
        for out, files in made:
            if files is not None:
                for name, data in files.items():
                    publisher.write(name, data)
                continue
            for name in out.files(built.brief.edition.id):
                if publisher.remove(name):
                    # an older build's file must not pass for this edition's
                    problems.append(f"{name}: the earlier one was removed")
    return [str(p) for p in publisher.written], problems
