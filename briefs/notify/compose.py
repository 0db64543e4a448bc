"""What each target is told about an edition, and how a body is cut to a service's size. Pure.

Three kinds (``[[notify]] send``):

- ``edition``: the edition's name as title, its top ``headlines`` (each linked to its story on
  the edition's page) and a link to the edition;
- ``story``: each story new in this edition (not in the previous one) that at least
  ``min_outlets`` outlets reported, on its own: a "breaking" push, at most once per story;
- ``failures``: the sources that started failing since the previous edition, for the operator.

Each is composed in Markdown and in plain text from the templates ``notify/<kind>.md.j2`` and
``notify/<kind>.txt.j2`` (a user's templates folder first, as for the pages); which one a
service gets is decided when it is sent. A body's last line is its link: :func:`fit_body`
keeps it and drops whole lines before it until the body fits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from briefs.config import Config, NotifySettings
from briefs.display import display_brief
from briefs.errors import RenderError
from briefs.models import Brief, BriefStory, Notification
from briefs.rank import breadth
from briefs.render import Renderer
from briefs.text import clean_line

__all__ = ["ELLIPSIS", "Failing", "compose_notifications", "fit_body", "fit_title"]

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Failing:
    """A source that started failing: its id, the name the operator knows it by, the error."""

    source_id: str
    name: str
    error: str
    since: dt.datetime | None = None


def targets_of(config: Config) -> tuple[NotifySettings, ...]:
    """The targets that follow the editions of the brief ``config`` is for (a target without
    ``brief`` follows the first brief of the desk: the only one, when there is one)."""
    first = config.desk[0].id
    return tuple(t for t in config.notify if (t.brief or first) == config.brief_id)


def compose_notifications(
    config: Config,
    brief: Brief,
    failing: Sequence[Failing],
    renderer: Renderer,
    now: dt.datetime,
) -> list[Notification]:
    """Every notification of every target for this edition (to be held, then sent)."""
    shown = display_brief(brief)
    out: list[Notification] = []
    for target in targets_of(config):
        if "edition" in target.send:
            out.append(_edition(target, shown, renderer, now))
        if "story" in target.send:
            out += [
                _story(target, shown, story, renderer, now)
                for story in shown.stories
                if not story.told
                and story.status != "quiet"
                and breadth(story) >= target.min_outlets
            ]
        if "failures" in target.send and failing:
            out.append(_failures(target, shown, failing, renderer, now))
    return out


def _render(renderer: Renderer, kind: str, **context: Any) -> tuple[str, str]:
    """The (markdown, text) bodies of one kind."""
    bodies = []
    for ext in ("md", "txt"):
        name = f"notify/{kind}.{ext}.j2"
        try:
            body = renderer.text_env.get_template(name).render(**context)
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template {exc.name!r} not found") from exc
        except (jinja2.TemplateError, TypeError, ValueError, LookupError, AttributeError) as exc:
            raise RenderError(f"template {name!r} failed: {exc}") from exc
        bodies.append(body.strip("\n"))
    return bodies[0], bodies[1]


def _notification(
    target: NotifySettings,
    brief: Brief,
    kind: str,
    item: str,
    title: str,
    bodies: tuple[str, str],
    now: dt.datetime,
) -> Notification:
    return Notification(
        edition_id=brief.edition.id,
        target=target.name,
        kind=kind,
        item=item,
        title=clean_line(title, 250),
        markdown=bodies[0],
        text=bodies[1],
        created=now,
    )


def _edition(
    target: NotifySettings, brief: Brief, renderer: Renderer, now: dt.datetime
) -> Notification:
    stories = list(brief.stories[: target.headlines])
    title = f"{brief.title}: {renderer.edition_name(brief.edition)}"
    bodies = _render(
        renderer,
        "edition",
        brief=brief,
        stories=stories,
        more=len(brief.stories) - len(stories),
        page=renderer.site.url(f"{brief.edition.id}.html"),
    )
    return _notification(target, brief, "edition", "", title, bodies, now)


def _story(
    target: NotifySettings,
    brief: Brief,
    story: BriefStory,
    renderer: Renderer,
    now: dt.datetime,
) -> Notification:
    page = renderer.site.url(f"{brief.edition.id}.html")
    bodies = _render(
        renderer,
        "story",
        brief=brief,
        item=story,
        lead=story.summary.sentences[0] if story.summary.sentences else None,
        link=f"{page}#story-{story.story.id}",
    )
    title = story.summary.headline or brief.title
    return _notification(target, brief, "story", story.story.id, title, bodies, now)


def _failures(
    target: NotifySettings,
    brief: Brief,
    failing: Sequence[Failing],
    renderer: Renderer,
    now: dt.datetime,
) -> Notification:
    count = len(failing)
    title = f"{brief.title}: {count} source{'s' if count != 1 else ''} started failing"
    bodies = _render(
        renderer,
        "failures",
        brief=brief,
        failing=list(failing),
        status=renderer.site.url(f"{brief.edition.id}.html"),
    )
    return _notification(target, brief, "failures", "", title, bodies, now)


def fit_title(title: str, limit: int) -> str:
    """The title within ``limit`` characters, cut at a word (0 or less: no limit)."""
    if limit <= 0 or len(title) <= limit:
        return title
    cut = title[: max(limit - 1, 0)]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + ELLIPSIS if limit > 1 else cut[:limit]


def fit_body(body: str, limit: int) -> str:
    """The body within ``limit`` characters, cut cleanly at a line.

    The last line (the link) is kept and whole lines before it are dropped, an ellipsis line
    marking the cut; when even that does not fit, the first lines that fit are kept; a first
    line longer than the limit is cut at a word.
    """
    if limit <= 0 or len(body) <= limit:
        return body
    lines = body.split("\n")
    if len(lines) > 1:
        head, last = lines[:-1], lines[-1]
        while head:
            head.pop()
            while head and not head[-1].strip():
                head.pop()  # no blank line left before the ellipsis
            candidate = "\n".join([*head, ELLIPSIS, last]) if head else f"{ELLIPSIS}\n{last}"
            if len(candidate) <= limit:
                return candidate
    kept: list[str] = []
    for line in lines:
        if len("\n".join([*kept, line])) > limit:
            break
        kept.append(line)
    if kept:
        return "\n".join(kept)
    return fit_title(lines[0], limit)
