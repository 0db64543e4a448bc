"""``briefs stories``: the stories articles were grouped into, and why."""

from __future__ import annotations

import datetime as dt

import click
from rich.console import Console
from rich.table import Table

from briefs.cli.app import State, cli, handle_errors
from briefs.cli.options import (
    brief_option,
    for_brief,
    parse_date,
)
from briefs.errors import BriefsError
from briefs.models import Article, StoryLink
from briefs.store import Store
from briefs.text import clean_line, counted


def _local_day(zone_name: str, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    import zoneinfo

    zone = zoneinfo.ZoneInfo(zone_name)
    start = dt.datetime.combine(day, dt.time(0), zone)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


@cli.group()
def stories() -> None:
    """Inspect the stories articles were grouped into, and why.

    \b
    Example:
      briefs --config seeds/briefs.toml stories list --date 2024-04-06
    """


@stories.command("list")
@click.option(
    "--date",
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Day (in brief.timezone) whose articles to show (default: the newest article's day).",
)
@brief_option
@click.pass_obj
@handle_errors
def stories_list(state: State, date: dt.date | None, brief_id: str | None) -> None:
    """List the stories with an article published on a day: size, outlets, shared terms.

    A story that started on an earlier day is marked "developing" with its day number. Each
    is named by the headline that day's edition gives it (from its reports of that day).
    With --brief, the stories of the sources that brief draws from, as it tells them.

    \b
    Example:
      briefs --config seeds/briefs.toml stories list --date 2024-04-06
      briefs --config seeds/desk.toml stories list --brief local
    """
    import zoneinfo

    from briefs.summarize import story_headline

    config = for_brief(state.config(), brief_id)
    drawn = config.brief_sources() if brief_id else None
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    with Store.open(config.database) as store:
        if date is None:
            latest = store.latest_published()
            if latest is None:
                click.echo("No articles stored yet: run `briefs run` first.")
                return
            date = latest.astimezone(zone).date()
        start, end = _local_day(config.brief.timezone, date)
        found = store.stories_published_between(start, end)
        by_id = {a.id: a for a in store.articles([i for s in found for i in s.article_ids])}
    table = Table(title=f"Stories on {date.isoformat()} ({len(found)})")
    for col in ("id", "status", "articles", "outlets", "title", "shared terms"):
        table.add_column(col, overflow="fold")
    for story in found:
        # as the day's edition saw it: members until the day's end, news since its start
        members = [by_id[i] for i in story.article_ids if i in by_id and by_id[i].published < end]
        if drawn is not None:
            members = [a for a in members if a.source_id in drawn]
            if not any(a.published >= start for a in members):
                continue  # none of the brief's sources reported it that day
        headline = story_headline(story, members, since=start, zone=zone)
        first_day = story.first_seen.astimezone(zone).date()
        day = (date - first_day).days + 1
        status = "new" if day <= 1 else f"developing, day {day}"
        outlets = dict.fromkeys(a.outlet for a in members if not a.duplicate_of)
        table.add_row(
            story.id,
            status,
            str(len(members)),
            str(len(outlets)),
            clean_line(headline, 300),
            clean_line(", ".join(story.terms[:6]), 200),
        )
    table.title = f"Stories on {date.isoformat()} ({table.row_count})"
    Console(width=max(Console().width, 120)).print(table)


@stories.command("show")
@click.argument("story_id")
@click.pass_obj
@handle_errors
def stories_show(state: State, story_id: str) -> None:
    """Show one story: its members, their outlets, and why each one is in it.

    STORY_ID may be a unique prefix of the id shown by `briefs stories list` and in the
    editions. The story is named by the headline an edition gives it (its latest reports).

    \b
    Example:
      briefs --config seeds/briefs.toml stories show 9234bf9d
    """
    import zoneinfo

    from briefs.summarize import story_headline

    config = state.config()
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    with Store.open(config.database) as store:
        story = store.story(story_id)
        if story is None:
            merged = [c for c in store.story_changes(story_id) if c.kind == "merged_into"]
            if merged:
                raise BriefsError(
                    f"story {story_id} was merged into story {merged[-1].other} "
                    f"(re-clustering of {merged[-1].at:%Y-%m-%d %H:%M} UTC)"
                )
            raise BriefsError(f"no story with id (or unique id prefix) {story_id!r}")
        members = store.articles(list(story.article_ids))
    links = {link.article_id: link for link in story.links}
    titles = {a.id: a for a in members}

    def when(value: dt.datetime) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def show(value: str, limit: int = 300) -> str:
        return clean_line(value, limit)  # stored text, fit for a terminal

    outlets = dict.fromkeys(show(a.outlet, 80) for a in members if not a.duplicate_of)
    click.echo(f"Story {story.id}: {show(story_headline(story, members, zone=zone))}")
    click.echo(f"First seen {when(story.first_seen)}, last updated {when(story.last_updated)}")
    click.echo(
        f"{counted(len(members), 'article')} from {counted(len(outlets), 'outlet')}: "
        f"{', '.join(outlets)}"
    )
    click.echo(f"Shared terms: {show(', '.join(story.terms)) or '-'}")
    said = {
        "split_from": "split off story {other}, which kept its id as the larger part",
        "split_off": "kept its id as the larger part; the rest became story {other}",
        "absorbed": "absorbed story {other} (this story was the larger part)",
    }
    for change in story.changes:
        text = said.get(change.kind, change.kind + " {other}").format(other=change.other)
        click.echo(f"Re-clustered {when(change.at)}: {text}")
    click.echo("")
    for a in members:
        click.echo(f"- {when(a.published)}  {show(a.outlet, 80)}: {show(a.title)}")
        click.echo(f"  {show(a.url, 2000)}")
        click.echo(f"  why: {_why(links.get(a.id), titles)}")


def _why(link: StoryLink | None, titles: dict[str, Article]) -> str:
    """Why an article is in its story, from its link: the member it matched and how well."""

    def name(article: Article) -> str:
        return f"{clean_line(article.outlet, 80)}: {clean_line(article.title, 300)}"

    if link is None:
        return "(grouped before reasons were recorded)"
    if link.duplicate:
        original = titles.get(link.via or "")
        return f"a copy of the same text as {name(original) if original else link.via or '-'}"
    if link.via is None:
        return "started the story"
    match = titles.get(link.via)
    target = name(match) if match else link.via
    shared = clean_line(", ".join(link.shared), 300) or "-"
    return (
        f"similarity {link.similarity:.2f} to the story; closest to {target}; "
        f"shared terms: {shared}"
    )
