"""Brief -> Markdown, HTML page, archive, email (HTML + plain text) and feed item HTML. Pure: no
I/O beyond reading templates.

Templates are Jinja2, looked up in the user's folder (``templates`` in the config) first, then in
the defaults shipped with briefs. Autoescaping is on for HTML and XML: every string in a Brief came
from an untrusted feed. Links and image URLs pass :func:`safe_url` (absolute http(s) only).
Templates receive the typed model (``brief``, its stories) plus a few helpers (filters below); the
text formats (Markdown, plain-text email) get the same model, not a stripped copy of the HTML,
as readers see it (:func:`briefs.display.display_brief`: clean lines cut to their lengths).
Which files are made from these renderings is the registry of outputs (:mod:`briefs.outputs`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jinja2

from briefs.display import display_brief, display_story, failed_more
from briefs.errors import RenderError
from briefs.i18n import Language
from briefs.markup import finalize, last_word, md_escape, md_url, safe_url, text, wrap
from briefs.models import Article, Brief, BriefStory, Edition, EditionRecord
from briefs.rank import breadth
from briefs.searchquery import MAX_QUERY_CHARS, SearchResults
from briefs.storypages import StoryPage, timeline
from briefs.summarize.clean import is_title

__all__ = [
    "COVERAGE_SEGMENTS",
    "Renderer",
    "SiteLinks",
    "coverage_filled",
    "md_escape",
    "md_url",
    "safe_url",
    "template_dirs",
]

COVERAGE_SEGMENTS = 8


def template_dirs(user_dir: Path | None = None) -> list[Path]:
    """Where templates are looked up, in order: the user's folder, then the shipped defaults."""
    dirs: list[Path] = []
    if user_dir is not None:
        dirs.append(user_dir)
    packaged = Path(str(resources.files("briefs"))) / "templates"
    if packaged.is_dir():
        dirs.append(packaged)
    source_tree = Path(__file__).resolve().parent.parent / "templates"
    if source_tree.is_dir():
        dirs.append(source_tree)
    return dirs


def coverage_filled(outlets: int, scale: int) -> int:
    """Filled segments of the coverage bar: outlets on a scale whose top is ``scale`` outlets."""
    if outlets <= 0:
        return 0
    return max(1, min(COVERAGE_SEGMENTS, round(COVERAGE_SEGMENTS * outlets / max(scale, 1))))


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """Absolute URLs of the published site, for links that leave a page (email, feeds)."""

    site_url: str

    def url(self, name: str = "") -> str:
        """The absolute URL of a file in the output folder."""
        base = self.site_url if self.site_url.endswith("/") else self.site_url + "/"
        return urljoin(base, name)


class Renderer:
    """Renders Briefs with the configured templates."""

    def __init__(
        self,
        user_dir: Path | None = None,
        timezone: str = "UTC",
        *,
        images: bool = True,
        site_url: str = "http://localhost:8080/",
        language: str = "en",
        description: str = "",
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.lang = Language(language)
        self.dirs = template_dirs(user_dir)
        self.site = SiteLinks(site_url)
        loader = jinja2.FileSystemLoader([str(d) for d in self.dirs])
        self.html_env = self._env(loader, autoescape=True)
        self.text_env = self._env(loader, autoescape=False)
        for env in (self.html_env, self.text_env):
            env.globals.update(
                show_images=images,
                site=self.site,
                language=language,
                description=description,
                SEGMENTS=COVERAGE_SEGMENTS,
            )
            # more names every template sees (the brief's id and folder, the desk's briefs)
            env.globals.update(context or {})

    def _env(self, loader: jinja2.BaseLoader, *, autoescape: bool) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=loader,
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=finalize,
            extensions=["jinja2.ext.i18n"],
        )
        # newstyle: _("... %(name)s", name=value) formats, escaping the values in HTML
        env.install_gettext_translations(self.lang.messages, newstyle=True)  # type: ignore[attr-defined]
        env.filters.update(
            safe_url=safe_url,
            text=text,
            md=md_escape,
            md_url=md_url,
            local=self._local,
            when=self._when,
            longdate=self._longdate,
            edition_name=self.edition_name,
            plural=self._plural,
            wrap=wrap,
            last_word=last_word,
            originals=_originals,
            copies=_copies,
            lead_image=_lead_image,
            breadth=breadth,
            reports=_reports,
            is_title=is_title,
            day=self._day,
            number=self._decimal,
        )
        return env

    def _plural(self, count: int, one: str, many: str | None = None) -> str:
        """A count and its noun in the brief's language: "3 outlets"."""
        message = self.lang.messages.ngettext(
            f"%(num)s {one}", f"%(num)s {many or one + 's'}", count
        )
        return message % {"num": self.lang.number(count)}

    def _decimal(self, value: float) -> str:
        """A similarity as the brief's language writes it: "0.42" ("0,42" in French)."""
        return self.lang.decimal(value)

    def _day(self, value: dt.datetime | dt.date) -> str:
        """A short local date: "Sat 6 Apr"."""
        if isinstance(value, dt.datetime):
            value = value.astimezone(self.zone).date()
        return self.lang.date(value, "EEE d MMM")

    def _local(self, value: dt.datetime, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
        return value.astimezone(self.zone).strftime(fmt)

    def _when(self, value: dt.datetime) -> str:
        """A local time: "6 April 2024, 09:00 UTC" (the zone's abbreviation as it is)."""
        local = value.astimezone(self.zone)
        return f"{self.lang.datetime(local, 'd MMMM y, HH:mm')} {local.strftime('%Z')}"

    def _longdate(self, value: dt.date) -> str:
        """A day: "Saturday, 6 April 2024"."""
        return self.lang.date(value, "EEEE, d MMMM y")

    def edition_name(self, edition: Edition) -> str:
        """An edition as people name it: "Saturday, 6 April 2024" (", morning" for a slot)."""
        name = self._longdate(edition.date)
        return f"{name}, {text(edition.slot)}" if edition.slot else name

    def _render(self, env: jinja2.Environment, name: str, **context: Any) -> str:
        try:
            return env.get_template(name).render(**context)
        except jinja2.TemplateNotFound as exc:
            where = ", ".join(str(d) for d in self.dirs)
            raise RenderError(f"template {exc.name!r} not found in {where}") from exc
        except (jinja2.TemplateError, TypeError, ValueError, LookupError, AttributeError) as exc:
            # A broken template (ours or a user's): name it, keep the cause for --debug.
            raise RenderError(f"template {name!r} failed: {exc}") from exc

    def _context(self, brief: Brief, stories: Sequence[BriefStory] | None = None) -> dict[str, Any]:
        more_failed = failed_more(brief)
        brief = display_brief(brief)
        by_id = {s.story.id: s for s in brief.stories}
        shown = (
            list(brief.stories)
            if stories is None
            else [by_id.get(s.story.id) or display_story(s) for s in stories]
        )
        scale = max((breadth(s) for s in brief.stories), default=1)
        refs, defs = _references(shown)
        return {
            "brief": brief,
            "stories": shown,
            "omitted": len(brief.stories) - len(shown),
            "sectioned": any(s.section for s in shown),
            "groups": _groups(shown),
            "numbers": {s.story.id: i for i, s in enumerate(shown, 1)},
            "refs": refs,
            "ref_defs": defs,
            "ref_urls": {n: url for url, n in refs.items()},
            "scale": max(scale, COVERAGE_SEGMENTS),
            "coverage": coverage_filled,
            "outlet_total": len({o for s in brief.stories for o in s.outlets}),
            "failed_more": more_failed,
            # where story pages are (stories/<id>.html): absolute, unless a page says else
            "story_base": self.site.url(""),
            "coverage_list": True,
        }

    def markdown(self, brief: Brief) -> str:
        """The brief as CommonMark with reference-style citations."""
        return self._render(self.text_env, "brief.md.j2", **self._context(brief))

    def html_fragment(self, brief: Brief) -> str:
        """The brief's stories as an HTML fragment (the content of feed items)."""
        return self._render(self.html_env, "fragment.html.j2", **self._context(brief))

    def story_html(self, brief: Brief, story: BriefStory) -> str:
        """One story as an HTML fragment (the content of a per-story feed item)."""
        context = self._context(brief, [story])
        item = context["stories"][0]
        return self._render(self.html_env, "story.html.j2", item=item, **context)

    def html_page(
        self, brief: Brief, archive: Sequence[EditionRecord], *, is_index: bool = False
    ) -> str:
        """A complete HTML page for one edition (also used for index.html)."""
        ids = [r.edition.id for r in archive]
        previous = None
        if brief.edition.id in ids:
            i = ids.index(brief.edition.id)
            previous = archive[i + 1] if i + 1 < len(archive) else None
        elif archive:
            previous = archive[0]
        return self._render(
            self.html_env,
            "brief.html.j2",
            archive=list(archive),
            recent=[r for r in archive if r.edition != brief.edition][:7],
            previous=previous,
            is_index=is_index,
            **{**self._context(brief), "story_base": ""},
        )

    def story_page(self, brief: Brief, page: StoryPage) -> str:
        """A story's permanent page (``stories/<id>.html``), as of ``brief``, its newest edition."""
        context = self._context(brief, [page.item])
        item = context["stories"][0]
        context.update(story_base=None, coverage_list=False)
        return self._render(
            self.html_env,
            "story_page.html.j2",
            item=item,
            page=page,
            days=timeline(page.item, self.zone),
            first=min(
                (a.published for a in page.item.articles), default=page.item.story.first_seen
            ),
            **context,
        )

    def page(self, name: str, **context: Any) -> str:
        """Any HTML template of the template folders, with these names (the briefs index)."""
        return self._render(self.html_env, name, **context)

    def archive_page(self, title: str, archive: Sequence[EditionRecord]) -> str:
        """The archive: every edition, newest first, grouped by month."""
        months: dict[str, list[EditionRecord]] = {}
        for rec in archive:
            months.setdefault(self.lang.date(rec.edition.date, "LLLL y"), []).append(rec)
        return self._render(
            self.html_env, "archive.html.j2", title=title, months=months, archive=list(archive)
        )

    def search_page(
        self,
        title: str,
        query: str,
        results: SearchResults | None,
        *,
        error: str = "",
        since: str = "",
        **scope: Any,
    ) -> str:
        """The search page of ``briefs serve``: the form, and the results or why none;
        ``scope``: what it searches (``all_briefs``, ``brief``, ``briefs``, ``up``: see
        :class:`briefs.search.SearchPage`)."""
        return self._render(
            self.html_env,
            "search.html.j2",
            title=title,
            query=query,
            results=results,
            error=error,
            since=since,
            max_chars=MAX_QUERY_CHARS,
            **scope,
        )

    def _email_context(
        self,
        brief: Brief,
        stories: Sequence[BriefStory] | None,
        more: Sequence[BriefStory],
        unsubscribe: str,
    ) -> dict[str, Any]:
        context = self._context(brief, stories)
        by_id = {s.story.id: s for s in context["brief"].stories}
        context.update(
            more=[by_id.get(s.story.id) or display_story(s) for s in more],
            omitted=context["omitted"] - len(more),
            unsubscribe=unsubscribe,
        )
        return context

    def email(
        self,
        brief: Brief,
        stories: Sequence[BriefStory] | None = None,
        *,
        more: Sequence[BriefStory] = (),
        unsubscribe: str = "",
    ) -> tuple[str, str]:
        """The email edition: its HTML (CSS not yet inlined) and its plain-text alternative, made
        from the same model. ``stories`` are shown in full (all by default); ``more`` are listed
        by headline only, when the message must stay small."""
        context = self._email_context(brief, stories, more, unsubscribe)
        return (
            self._render(self.html_env, "email.html.j2", **context),
            self._render(self.text_env, "email.txt.j2", **context),
        )


def _originals(story: BriefStory) -> list[Article]:
    """Member articles that are not syndicated copies, one per outlet, first report first."""
    seen: dict[str, Article] = {}
    for a in sorted(story.articles, key=lambda a: (a.published, a.id)):
        if not a.duplicate_of:
            seen.setdefault(a.outlet.casefold(), a)
    return list(seen.values()) or list(story.articles[:1])


def _copies(story: BriefStory) -> list[Article]:
    """Syndicated copies carried by outlets that did not otherwise report the story."""
    own = {a.outlet.casefold() for a in _originals(story)}
    out: dict[str, Article] = {}
    for a in story.articles:
        if a.duplicate_of and a.outlet.casefold() not in own:
            out.setdefault(a.outlet.casefold(), a)
    return list(out.values())


@dataclass(frozen=True, slots=True)
class Report:
    """One distinct report of a story, with the syndicated copies of it that other outlets ran."""

    article: Article
    copies: tuple[Article, ...] = ()


def _reports(story: BriefStory) -> list[tuple[str, list[Report]]]:
    """Every distinct report of the story by outlet (the outlet of the newest report first,
    each outlet's reports newest first); a syndicated copy is folded under its original when
    the story carries the original, else it stands as a report of its own."""
    members = {a.id: a for a in story.articles}
    copies: dict[str, list[Article]] = {}
    originals: list[Article] = []
    seen_urls: set[str] = set()
    for a in sorted(story.articles, key=lambda a: (a.published, a.id)):
        if a.duplicate_of and a.duplicate_of in members:
            copies.setdefault(a.duplicate_of, []).append(a)
        elif a.url not in seen_urls or not a.url:
            originals.append(a)
            seen_urls.add(a.url)
    by_outlet: dict[str, list[Report]] = {}
    names: dict[str, str] = {}
    for a in sorted(originals, key=lambda a: (a.published, a.id), reverse=True):
        key = a.outlet.casefold()
        names.setdefault(key, a.outlet)
        by_outlet.setdefault(key, []).append(Report(a, tuple(copies.get(a.id, ()))))
    return [(names[key], reports) for key, reports in by_outlet.items()]


def _lead_image(story: BriefStory) -> Article | None:
    """The newest report whose feed supplied an http(s) image (the picture follows the story,
    as the headline does)."""
    for a in sorted(story.articles, key=lambda a: (a.published, a.id), reverse=True):
        if safe_url(a.image_url):
            return a
    return None


def _groups(stories: Sequence[BriefStory]) -> list[tuple[str, list[BriefStory]]]:
    """Consecutive stories of one section, in the ranked order (rank groups them already)."""
    groups: list[tuple[str, list[BriefStory]]] = []
    for story in stories:
        if groups and groups[-1][0] == story.section:
            groups[-1][1].append(story)
        else:
            groups.append((story.section, [story]))
    return groups


def _references(stories: Sequence[BriefStory]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Reference numbers for the text formats, one per distinct article URL (cited or listed),
    and for each story the numbers first defined under it (so each is defined once)."""
    refs: dict[str, int] = {}
    new: dict[str, list[int]] = {}
    for story in stories:
        urls = [s.url for s in story.summary.sentences]
        urls += [e.sentence.url for e in story.summary.timeline]
        for _, reports in _reports(story):
            for report in reports:
                urls += [report.article.url] + [c.url for c in report.copies]
        mine = new.setdefault(story.story.id, [])
        for url in urls:
            if safe_url(url) and url not in refs:
                refs[url] = len(refs) + 1
                mine.append(refs[url])
    return refs, new
