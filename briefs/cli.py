"""The ``briefs`` command line: thin shells around the pipeline.

Every command has a docstring with an example (shown by ``--help``). A BriefsError becomes a
one-line message and exit code 1; tracebacks only with ``--debug``. The global options
(``--config``, ``--debug``, ``-v``) are accepted before and after the command.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from briefs.config import SUMMARY_METHODS, Config, find_config, load_config
from briefs.errors import BriefsError
from briefs.models import RunReport
from briefs.store import Store
from briefs.text import clean_line, strip_controls

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("briefs")


class State:
    """Options shared by every command."""

    def __init__(self, config_path: str | None, debug: bool, verbose: int) -> None:
        self.config_path = config_path
        self.debug = debug
        self.verbose = verbose
        self._config: Config | None = None

    def config(self, **overrides: dict[str, Any]) -> Config:
        """Load the configuration once (with command-line overrides per section)."""
        if self._config is None or overrides:
            self._config = load_config(find_config(self.config_path), overrides)
        return self._config


def _database_error(exc: Exception) -> str:
    """One line for a database failure in the middle of a command (read-only, disk full, ...)."""
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if "readonly" in detail.replace("-", "").replace(" ", "").lower():
        return (
            f"the database is read-only ({detail}): check the permissions of the database "
            "file and its folder (SQLite writes a -wal and a -shm file beside it)"
        )
    return f"database error: {detail}"


def _errors(func: F) -> F:
    """Turn BriefsError into a one-line message and exit 1 (a traceback only with --debug).

    Database and file-system failures that reach the command line (a read-only database, a
    full disk) get one line too.
    """
    import sqlalchemy.exc

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        state: State | None = ctx.find_object(State)
        try:
            return func(*args, **kwargs)
        except (BriefsError, sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
            if state is not None and state.debug:
                raise
            if isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
                message = _database_error(exc)
            elif isinstance(exc, OSError) and not isinstance(exc, BriefsError):
                where = f" {exc.filename}" if exc.filename else ""
                message = f"{exc.strerror or exc}:{where}" if where else str(exc.strerror or exc)
            else:
                message = str(exc)
            click.echo(f"briefs: error: {clean_line(message, 2000)}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("briefs: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


class _CleanFormatter(logging.Formatter):
    """Log lines quote feed titles, server replies and errors: no control or bidi character of
    theirs reaches the terminal or the journal (line breaks of tracebacks are kept)."""

    def format(self, record: logging.LogRecord) -> str:
        return strip_controls(super().format(record))


def _setup_logging(verbose: int, debug: bool) -> None:
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # a global option given after the command raises the level once logging is set up
    logging.getLogger().setLevel(level)
    for handler in logging.getLogger().handlers:
        if type(handler.formatter) is logging.Formatter:
            handler.setFormatter(_CleanFormatter(handler.formatter._fmt, handler.formatter.datefmt))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file (default: $BRIEFS_CONFIG, ./briefs.toml, ./seeds/briefs.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="briefs")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool, verbose: int) -> None:
    """briefs: a self-hosted news desk.

    Polls your sources, groups articles about the same event into stories, summarizes each
    story with sentences the sources printed (each linked), and publishes a brief as Markdown,
    HTML and RSS/Atom/JSON feeds.

    \b
    Example:
      briefs run --config seeds/briefs.toml --date 2024-04-06 --out output/
    """
    _setup_logging(verbose, debug)
    ctx.obj = State(config_path, debug, verbose)


# Dates an edition (or `stories list`) may ask for: far enough from the calendar's ends that a
# window or a time zone around them never leaves the range of datetime.
DATE_RANGE = (dt.date(1970, 1, 1), dt.date(2999, 12, 31))


class _OptionError(click.ClickException):
    """A bad option value as one line ("briefs: error: ...") and exit 1, like any BriefsError."""

    def show(self, file: Any = None) -> None:
        click.echo(f"briefs: error: {clean_line(self.message, 300)}", err=True)


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise _OptionError(f"--date {value[:40]!r} is not a date in YYYY-MM-DD form") from None
    low, high = DATE_RANGE
    if not low <= day <= high:
        raise _OptionError(f"--date {value}: editions are dated {low} to {high}")
    return day


def _date_option(func: F) -> F:
    return click.option(
        "--date",
        callback=_parse_date,
        metavar="YYYY-MM-DD",
        help="Edition date (default: today, or the newest article's day if brief.date is"
        ' "latest").',
    )(func)


def _slot_option(func: F) -> F:
    return click.option(
        "--slot",
        metavar="NAME",
        help="Edition slot, one of brief.slots (default: brief.slot, else the slot now open).",
    )(func)


def _where_options(func: F) -> F:
    func = click.option(
        "--db", "database", help="Database file or SQLAlchemy URL (default: from the config)."
    )(func)
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        help="Output folder (default: from the config).",
    )(func)


def _email_option(func: F) -> F:
    return click.option(
        "--email/--no-email",
        "email",
        default=None,
        help="Write the email edition (.eml) or not (default: when [email] has a host or "
        "recipients).",
    )(func)


def _wait_option(func: F) -> F:
    return click.option(
        "--wait",
        "wait_seconds",
        type=click.FloatRange(min=0),
        default=300,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait if a daemon is polling or building right now.",
    )(func)


def _force_option(func: F) -> F:
    return click.option(
        "--force",
        is_flag=True,
        help="Build an edition dated in the future all the same.",
    )(func)


def _refuse_future(config: Config, date: dt.date | None, force: bool) -> None:
    """A future date makes an empty edition that would become index.html and top every feed."""
    import zoneinfo

    if date is None or force:
        return
    today = dt.datetime.now(zoneinfo.ZoneInfo(config.brief.timezone)).date()
    if date > today:
        raise BriefsError(
            f"{date.isoformat()} is in the future (today is {today.isoformat()} in "
            f"{config.brief.timezone}): its edition would be empty and become index.html and the "
            "newest item of every feed; --force builds it anyway"
        )


def _configured(state: State, out_dir: str | None, database: str | None) -> Config:
    import dataclasses
    from pathlib import Path

    config = state.config()
    if out_dir:
        config = dataclasses.replace(config, output=Path(out_dir).resolve())
    if database:
        config = dataclasses.replace(config, database=database)
    return config


def _report(config: Config, report: RunReport, timings: bool, polled: bool) -> None:
    from pathlib import Path

    if report.unchanged:
        click.echo(
            f"Edition {report.edition.id}: {report.stories} stories, up to date: nothing new "
            "since it was built (--rebuild builds it again)"
        )
    else:
        click.echo(f"Edition {report.edition.id}: {report.stories} stories")
    if polled:
        ok = report.sources_polled - len(report.sources_failed)
        click.echo(
            f"Sources: {report.sources_polled} polled, {ok} ok, {len(report.sources_failed)} failed"
        )
    elif report.sources_failed:
        click.echo(f"Sources failing at their last poll: {len(report.sources_failed)}")
    for name, error in report.sources_failed:
        click.echo(f"  failed: {clean_line(name, 80)}: {clean_line(error, 300)}")
    for problem in report.problems:
        click.echo(f"Not written: {clean_line(problem, 300)}")
    if polled:
        click.echo(f"New articles: {report.new_articles}")
    if report.pages_refused:
        click.echo(
            f"Article pages refused by the address guard: {report.pages_refused} "
            f"(e.g. {report.page_refused_example})"
        )
    if report.files:
        click.echo(f"Written to {config.output}:")
    for path in report.files:
        click.echo(f"  {Path(path).name}")
    if timings:
        elsewhere = report.timings_elsewhere
        total = sum(report.timings.values()) - sum(elsewhere.values())
        click.echo("Timings:")
        for stage, seconds in report.timings.items():
            note = ""
            if elsewhere.get(stage):
                note = f"  ({elsewhere[stage]:.3f} s CPU of it in worker processes, alongside)"
            click.echo(f"  {stage:<10} {seconds:8.3f} s{note}")
        click.echo(f"  {'total':<10} {total:8.3f} s")


@cli.command()
@_date_option
@_slot_option
@_where_options
@click.option("--timings", is_flag=True, help="Print the time spent in each stage.")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build the edition even when nothing changed since it was built.",
)
@_wait_option
@click.option(
    "--method",
    type=click.Choice(SUMMARY_METHODS, case_sensitive=False),
    help="Summary method for this run (default: summary.method from the config).",
)
@_force_option
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when any source failed (the brief is still written): for cron and monitoring.",
)
@_email_option
@click.pass_obj
@_errors
def run(
    state: State,
    date: dt.date | None,
    slot: str | None,
    out_dir: str | None,
    database: str | None,
    timings: bool,
    rebuild: bool,
    wait_seconds: float,
    method: str | None,
    force: bool,
    strict: bool,
    email: bool | None,
) -> None:
    """Poll every source once, group, summarize and write the brief.

    Writes the edition (YYYY-MM-DD.md and .html; .eml when email is configured or --email),
    index.html, archive.html and the feeds (feed.xml, atom.xml, feed.json; stories.xml,
    stories.atom, stories.json) into the output folder and prints what it did. An output that
    cannot be made (the email over brief.email_max_bytes) is reported; the others are written.
    When nothing is new since the edition was built, it is left as it was (--rebuild builds it
    anyway). With --strict it exits 1 when any source failed.

    \b
    Example:
      briefs run --config seeds/briefs.toml --date 2024-04-06 --out output/
      briefs run --method lexrank
      briefs run --strict
    """
    import dataclasses

    from briefs.ingest.progress import make_progress
    from briefs.lock import named_lock
    from briefs.pipeline import run as run_pipeline

    config = _configured(state, out_dir, database)
    _refuse_future(config, date, force)
    if method:
        summary = dataclasses.replace(config.summary, method=method.lower())
        config = dataclasses.replace(config, summary=summary)
    with (
        named_lock(config, "build").hold(wait_seconds, doing="briefs run"),
        make_progress(sys.stdout.isatty()) as progress,
    ):
        report = run_pipeline(
            config, date=date, slot=slot, progress=progress, rebuild=rebuild, email=email
        )
    _report(config, report, timings, polled=True)
    if strict and report.sources_failed:
        failed = len(report.sources_failed)
        click.echo(
            f"briefs: error: {failed} source{'s' if failed != 1 else ''} failed (--strict)",
            err=True,
        )
        sys.exit(1)


@cli.command()
@_date_option
@_slot_option
@_where_options
@click.option("--timings", is_flag=True, help="Print the time spent in each stage.")
@_wait_option
@_force_option
@_email_option
@click.pass_obj
@_errors
def build(
    state: State,
    date: dt.date | None,
    slot: str | None,
    out_dir: str | None,
    database: str | None,
    timings: bool,
    wait_seconds: float,
    force: bool,
    email: bool | None,
) -> None:
    """Render an edition from what is stored, without polling any source.

    Writes the same files as `briefs run`. Re-building an edition replaces its files (and its
    item in the feeds); other editions are left alone. Sources that failed at their last poll
    are listed in the edition.

    \b
    Example:
      briefs --config seeds/briefs.toml build --date 2024-04-06
      briefs build --date 2024-04-05 --out output/
    """
    from briefs.lock import named_lock
    from briefs.pipeline import build as build_pipeline

    config = _configured(state, out_dir, database)
    _refuse_future(config, date, force)
    with named_lock(config, "build").hold(wait_seconds, doing="briefs build"):
        report = build_pipeline(config, date=date, slot=slot, email=email)
    _report(config, report, timings, polled=False)


@cli.command()
@click.argument("folder", metavar="[DIR]", default=".", type=click.Path(file_okay=False))
@_errors
def init(folder: str) -> None:
    """Write a starter config, DIR/briefs.toml, with the demo's sources as a working example.

    The demo's feeds and documents are copied to DIR/demo/ so that `briefs run` works at once,
    offline; the email and daemon sections are there, commented out. An existing briefs.toml
    is never replaced.

    \b
    Example:
      briefs init my-desk
    """
    from briefs.starter import write_starter

    config = write_starter(Path(folder))
    click.echo(f"Wrote {config} (and the demo's sources under {config.parent / 'demo'})")
    where = "" if config.parent == Path.cwd() else f"cd {folder} && "
    click.echo(f"Next: {where}briefs run, then open output/index.html")


@cli.group()
def editions() -> None:
    """List and delete built editions.

    \b
    Example:
      briefs --config seeds/briefs.toml editions list
    """


@editions.command("list")
@click.pass_obj
@_errors
def editions_list(state: State) -> None:
    """List the built editions, newest first: id, when built, number of stories.

    \b
    Example:
      briefs --config seeds/briefs.toml editions list
    """
    from briefs.edition import ARCHIVE_LIMIT

    config = state.config()
    with Store.open(config.database) as store:
        records = store.recent_editions(ARCHIVE_LIMIT)
    if not records:
        click.echo("No edition built yet: run `briefs run` first.")
    for rec in records:
        built = rec.built_at.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{rec.edition.id:<24} built {built}, {rec.story_count} stories")


@editions.command("delete")
@click.argument("edition_id", metavar="EDITION", callback=lambda c, p, v: _parse_edition(c, p, v))
@_wait_option
@click.pass_obj
@_errors
def editions_delete(state: State, edition_id: str, wait_seconds: float) -> None:
    """Delete a built edition (YYYY-MM-DD or YYYY-MM-DD-slot) and its files.

    index.html, archive.html and the feeds are written again without it (the newest remaining
    edition is built again for them). Who was emailed it stays recorded.

    \b
    Example:
      briefs --config seeds/briefs.toml editions delete 2024-04-05
    """
    from briefs.edition import delete_edition
    from briefs.lock import named_lock

    config = state.config()
    with named_lock(config, "build").hold(wait_seconds, doing="briefs editions delete"):
        removed, rebuilt = delete_edition(config, edition_id)
    click.echo(f"Deleted edition {edition_id}: removed {', '.join(removed) or 'no files'}")
    if rebuilt is None:
        click.echo("No edition left: index.html, archive.html and the feeds were removed")
    else:
        click.echo(f"index.html, archive.html and the feeds now end with {rebuilt.id}")


@cli.group()
def sources() -> None:
    """Inspect and manage the configured sources.

    \b
    Example:
      briefs sources list
    """


def _source_rows(config: Config, now: dt.datetime) -> list[dict[str, Any]]:
    """One dict per configured source: its health as stored."""
    from briefs.ingest.due import select_sources

    with Store.open(config.database) as store:
        states = store.feed_states()
        recent = store.article_counts_since(now - dt.timedelta(days=7))
        total = store.article_counts_since(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    rows = []
    for src in config.sources:
        st = states.get(src.id)
        if st is not None and st.source_url not in (None, src.location):
            st = None  # the config now points the source elsewhere: its old state is void
        if not src.enabled:
            status = "off"
        elif st is None:
            status = "never polled"
        elif st.disabled:
            status = f"disabled ({st.last_status})"
        else:
            status = st.last_status or "never polled"
        moved = st.url if st is not None and st.url and st.url != src.location else None
        _, skipped = select_sources(
            [src], {src.id: st} if st else {}, now, due=True, jitter=config.schedule.jitter
        )
        rows.append(
            {
                "id": src.id,
                "kind": src.kind,
                "title": src.title or (st.feed_title if st and st.feed_title else ""),
                "url": src.location,
                "moved_to": moved,
                "status": status,
                "consecutive_failures": st.consecutive_failures if st else 0,
                "last_error": st.last_error if st else None,
                "last_polled": st.last_polled.isoformat() if st and st.last_polled else None,
                "last_success": st.last_success.isoformat() if st and st.last_success else None,
                "next_poll": st.next_poll.isoformat() if st and st.next_poll else None,
                "due": src.enabled and not skipped,
                "parser": st.parser if st else None,
                "parser_fallback": st.parser_fallback if st else None,
                "articles_7_days": recent.get(src.id, 0),
                "articles_total": total.get(src.id, 0),
            }
        )
    return rows


def _when(value: str | None) -> str:
    return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M") if value else ""


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per source).")
@click.pass_obj
@_errors
def sources_list(state: State, as_json: bool) -> None:
    """List sources with their health.

    For each source: the last status (HTTP status, "ok" for files, "disabled" after a 410),
    consecutive failures, the last error, when it was last polled and will next be polled (in
    UTC; "due" when that time has come), and how many of its articles were published in the
    last 7 days and in all. A source whose feed moved permanently shows its new address. The
    JSON also says which parser read its last document ("fastfeedparser", or "feedparser" with
    the reason in "parser_fallback"; "jsonfeed").

    \b
    Example:
      briefs --config seeds/briefs.toml sources list
      briefs sources list --json
    """
    import json

    config = state.config()
    # stored text (titles, errors) is shown without control or bidi characters
    rows = [
        {k: clean_line(v) if isinstance(v, str) else v for k, v in row.items()}
        for row in _source_rows(config, dt.datetime.now(dt.UTC))
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Sources in {config.path}")
    for col in ("id", "status", "fails", "last error", "last poll", "next poll", "7 days", "total"):
        table.add_column(col, overflow="fold")
    for row in rows:
        name = row["id"] + (f"\n→ {row['moved_to']}" if row["moved_to"] else "")
        table.add_row(
            name,
            row["status"],
            str(row["consecutive_failures"]),
            clean_line(row["last_error"] or "", 300),
            _when(row["last_polled"]),
            "due" if row["due"] and row["next_poll"] else _when(row["next_poll"]),
            str(row["articles_7_days"]),
            str(row["articles_total"]),
        )
    Console(width=max(Console().width, 120)).print(table)


@sources.command("add")
@click.argument("url")
@click.option("--id", "source_id", default="", help="Source id (default: from the feed title).")
@click.option(
    "--title",
    default="",
    help="Name shown in briefs (default: the site's name, from the page or the feed's title).",
)
@click.option("--tag", "tags", multiple=True, help="A tag (section); repeat for several.")
@click.option("--interval", type=click.IntRange(1), help="Minutes between polls (default 60).")
@click.pass_obj
@_errors
def sources_add(
    state: State,
    url: str,
    source_id: str,
    title: str,
    tags: tuple[str, ...],
    interval: int | None,
) -> None:
    """Add a feed: a feed URL, or a web page whose <link rel="alternate"> names one.

    The feed is fetched and parsed once to check that it works, then appended as a
    [[sources]] table to the config file (its comments are kept).

    \b
    Example:
      briefs sources add https://www.theguardian.com/world --tag world
      briefs sources add https://feeds.bbci.co.uk/news/world/rss.xml --id bbc-world
    """
    from briefs.config import NewSource, add_sources
    from briefs.errors import ConfigError
    from briefs.ingest.discover import discover_feed

    config = state.config()
    found = discover_feed(url, config.fetch, dt.datetime.now(dt.UTC))
    location = found.url
    if "://" not in location:
        # config paths are absolute once loaded; the file gets one relative to itself
        absolute = str(Path(location).resolve())
        location = os.path.relpath(absolute, config.base_dir)
    else:
        absolute = location
    for src in config.sources:
        if src.location in (absolute, url):
            raise ConfigError(f"{config.path}: the feed is already configured as {src.id!r}")
    name = title or found.name or found.title
    added = add_sources(config.path, [NewSource(location, name, tags, source_id, interval)])
    click.echo(f"Added {added[0].id!r}: {clean_line(found.url)} ({found.entries} entries now)")
    if not title:
        origin = (
            f" (the feed calls itself {clean_line(found.title)!r})" if found.title != name else ""
        )
        click.echo(
            f"  named {clean_line(name)!r}{origin}; change it with --title or the title in "
            f"{config.path.name}"
        )


@sources.command("import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@click.pass_obj
@_errors
def sources_import(state: State, opml_file: str, dry_run: bool) -> None:
    """Import feeds from an OPML file (Miniflux, FreshRSS and most readers export one).

    Categories become tags. Feeds already configured (same URL) are skipped. The feeds are
    not fetched now; "briefs sources list" shows their health after the next run.

    With --dry-run it lists the feeds it would add and skip, and changes nothing.

    \b
    Example:
      briefs sources import subscriptions.opml
      briefs sources import subscriptions.opml --dry-run
    """
    from briefs.config import NewSource, add_sources
    from briefs.errors import UnsafeURLError
    from briefs.ingest.netguard import allow_private_would_allow, check_url
    from briefs.ingest.opml import read_opml

    config = state.config()
    feeds = read_opml(Path(opml_file).read_bytes())
    known = {src.location: src.id for src in config.sources}
    todo = [f for f in feeds if f.url not in known]
    bad = [f for f in todo if not f.url.startswith(("http://", "https://"))]
    for feed in bad:
        click.echo(f"skipped (not an http(s) URL): {clean_line(feed.url, 300)}", err=True)
    # An OPML file is someone else's list: internal addresses are refused, as for article
    # links (names are judged again by address when polled; see docs/reliability.md).
    for feed in [f for f in todo if f not in bad]:
        try:
            check_url(feed.url, config.fetch.allow_private)
        except UnsafeURLError as exc:
            bad.append(feed)
            hint = ""
            if allow_private_would_allow(feed.url):
                hint = "; fetch.allow_private = true allows it"
            click.echo(f"skipped ({clean_line(exc, 300)}{hint})", err=True)
    todo = [f for f in todo if f not in bad]
    added = []
    if not dry_run and todo:
        added = add_sources(config.path, [NewSource(f.url, f.title, f.tags) for f in todo])
    for i, feed in enumerate(todo):
        name = f"{added[i].id}: " if added else ""
        tags = f" [{clean_line(', '.join(feed.tags), 300)}]" if feed.tags else ""
        title = f" ({clean_line(feed.title)})" if feed.title else ""
        url = clean_line(feed.url, 300)
        click.echo(f"  {'add' if dry_run else 'added'}: {name}{url}{title}{tags}")
    for feed in feeds:
        if feed.url in known:
            url = clean_line(feed.url, 300)
            click.echo(f"  skip: {url}: already configured as {known[feed.url]!r}")
    verb = "Would add" if dry_run else "Added"
    click.echo(
        f"{verb} {len(todo)} of {len(feeds)} feeds "
        f"({len(feeds) - len(todo) - len(bad)} already configured)."
    )


@sources.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout)."
)
@click.pass_obj
@_errors
def sources_export(state: State, output: str | None) -> None:
    """Export the feed sources as OPML 2.0 (tags become categories).

    Seed-document folders and local feed files are left out (other readers cannot use them).

    \b
    Example:
      briefs sources export -o subscriptions.opml
    """
    from briefs.ingest.opml import exportable, write_opml

    config = state.config()
    with Store.open(config.database) as store:
        states = store.feed_states()
    feeds = exportable(config.sources)
    sites = {k: v.site_url for k, v in states.items() if v.site_url}
    data = write_opml(feeds, sites, config.brief.title, dt.datetime.now(dt.UTC))
    if output:
        Path(output).write_bytes(data)
        click.echo(f"Wrote {len(feeds)} feeds to {output}")
    else:
        click.echo(data.decode("utf-8"), nl=False)


@sources.command("enable")
@click.argument("source_id")
@click.pass_obj
@_errors
def sources_enable(state: State, source_id: str) -> None:
    """Re-enable a source: one disabled after its feed answered 410 Gone, or in the config.

    Its failures are reset and it is polled at the next run; "enabled = false" is removed
    from its table in the config file.

    \b
    Example:
      briefs sources enable harbour-herald
    """
    import dataclasses

    from briefs.config import set_source_enabled

    config = state.config()
    if not config.source(source_id).enabled:
        set_source_enabled(config.path, source_id, True)
    with Store.open(config.database) as store:
        current = store.feed_state(source_id)
        if current is None:
            click.echo(f"{source_id} was never polled; nothing to enable")
            return
        store.save_feed_state(
            dataclasses.replace(
                current,
                disabled=False,
                consecutive_failures=0,
                next_poll=None,
                retry_until=None,
                last_error=None,
            )
        )
    click.echo(f"{source_id} enabled")


@sources.command("disable")
@click.argument("source_id")
@click.pass_obj
@_errors
def sources_disable(state: State, source_id: str) -> None:
    """Stop polling a source: writes "enabled = false" into its table in the config file.

    Its articles stay in the editions already built; `briefs sources enable ID` undoes it.

    \b
    Example:
      briefs sources disable harbour-herald
    """
    from briefs.config import set_source_enabled

    config = state.config()
    if not config.source(source_id).enabled:
        click.echo(f"{source_id} is already disabled in {config.path}")
        return
    set_source_enabled(config.path, source_id, False)
    click.echo(
        f"{source_id} disabled in {config.path} (briefs sources enable {source_id} undoes it)"
    )


@sources.command("remove")
@click.argument("source_id")
@click.pass_obj
@_errors
def sources_remove(state: State, source_id: str) -> None:
    """Remove a source's [[sources]] table from the config file (its comments are kept).

    The articles it brought stay stored (editions already built keep them); it is not polled
    again.

    \b
    Example:
      briefs sources remove meridian-wire
    """
    from briefs.config import remove_source

    config = state.config()
    src = config.source(source_id)
    remove_source(config.path, source_id)
    click.echo(f"Removed {source_id!r} ({src.location}) from {config.path}")


@cli.group()
def pages() -> None:
    """The article pages fetched for full text (their outcomes are cached).

    \b
    Example:
      briefs --config seeds/briefs.toml pages refetch --failed
    """


@pages.command("refetch")
@click.option("--source", "source_id", metavar="ID", help="Only the pages of this source.")
@click.option(
    "--failed", is_flag=True, help="Only pages that failed (not those the address guard refused)."
)
@click.pass_obj
@_errors
def pages_refetch(state: State, source_id: str | None, failed: bool) -> None:
    """Fetch again the article pages that gave no text, at the next run.

    Forgets their cached outcome (failed for good or for a passing reason, or refused by the
    address guard), so the next `briefs run` fetches them again, for articles stored in the
    last two days. Pages whose text was extracted are kept.

    \b
    Example:
      briefs --config seeds/briefs.toml pages refetch --failed
      briefs pages refetch --source harbour-herald
    """
    config = state.config()
    if source_id is not None:
        config.source(source_id)
    with Store.open(config.database) as store:
        forgotten = store.forget_pages(["failed"] if failed else ["failed", "refused"], source_id)
    what = "failed" if failed else "failed or refused"
    where = f" of {source_id}" if source_id else ""
    click.echo(
        f"{forgotten} {what} page{'s' if forgotten != 1 else ''}{where} will be fetched again "
        "at the next run"
    )


@cli.group("eval")
def evaluate() -> None:
    """Measure quality on labelled data.

    \b
    Example:
      briefs eval extract ../shared/data/article-extraction-benchmark
      briefs eval group ../shared/data/mmds2025-news-clustering/dev.jsonl --lang en
      briefs eval developing stories-by-day.jsonl
    """


@evaluate.command("extract")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.pass_obj
@_errors
def eval_extract(state: State, folder: str) -> None:
    """Score article text extraction on a benchmark folder; print one JSON object.

    FOLDER holds html/<id>.html.gz and ground-truth.json, as the Article Extraction Benchmark
    does. The metric is the benchmark's own (word 4-gram shingles; precision and recall averaged
    over pages; F1 of the two). Prints {"pages", "precision", "recall", "f1"}.

    \b
    Example:
      briefs eval extract ../shared/data/article-extraction-benchmark
    """
    import json

    from briefs.evaluate.extract import evaluate_extraction

    scores = evaluate_extraction(Path(folder))
    click.echo(json.dumps(scores.as_dict()))


@evaluate.command("summarize")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-n",
    "--sentences",
    type=click.IntRange(min=1),
    help="Sentences per summary (default: 3 single-article, 5 multi-article).",
)
@click.option(
    "--method",
    type=click.Choice(SUMMARY_METHODS, case_sensitive=False),
    help="Summary method (default: the built-in summary.method).",
)
@click.option("--lang", help="Only articles whose lang_guess is this (multi-article files).")
@click.option("--words", type=click.IntRange(min=1), help="Word budget (default: none).")
@_errors
def eval_summarize(
    file: str, sentences: int | None, method: str | None, lang: str | None, words: int | None
) -> None:
    """Score the summarizer on a JSON Lines file; print one JSON object.

    Single-article files (text/paragraphs + reference_summary) give mean ROUGE-1/2/L F1:
    {"articles", "rouge1", "rouge2", "rougeL"}. Multi-article files (story_id + sentences
    with human relevance) give, for each story of 2+ articles, the mean relevance and NDCG
    of the sentences picked: {"stories", "mean_relevance", "ndcg"}. The built-in summary
    settings are used (not the config file); options override them. ROUGE needs the
    rouge-score package (pip install 'briefs[eval]').

    \b
    Example:
      briefs eval summarize ../shared/data/bbc-news-summary/dev.jsonl --sentences 3
      briefs eval summarize ../shared/data/mmds2025-news-clustering/dev.jsonl --lang en
    """
    import json

    from briefs.evaluate.summarize import evaluate_summaries

    def run(progress: Callable[[int, int], None] | None) -> dict[str, Any]:
        return evaluate_summaries(
            file,
            sentences=sentences,
            method=method.lower() if method else None,
            lang=lang,
            words=words,
            progress=progress,
        )

    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("summarizing", total=None)
            result = run(lambda done, total: bar.update(task, completed=done, total=total))
    else:
        result = run(None)
    click.echo(json.dumps(result))


# -- the daemon, email and serving (issue 7) ---------------------------------------------------


@cli.command()
@click.option("--serve", "with_server", is_flag=True, help="Also serve the output folder.")
@click.option("--host", help="With --serve: address to listen on (default: serve.host).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="With --serve: port (default: serve.port)."
)
@click.pass_obj
@_errors
def daemon(state: State, with_server: bool, host: str | None, port: int | None) -> None:
    """Run by itself: poll sources when due, build editions on schedule, email them.

    Editions are built at the [schedule] editions times (cron, in schedule.timezone); one
    missed while the machine was off is built at start-up if within schedule.grace_minutes.
    Each edition is emailed to email.recipients once. Logs one line per job. Stops cleanly
    on SIGTERM or Ctrl-C (exit 0). Only one daemon runs per database.

    \b
    Example:
      briefs --config briefs.toml daemon --serve --port 8080
    """
    from briefs.schedule import Daemon

    if state.verbose == 0 and not state.debug:
        # one line per job from the scheduler; other modules only warn (-v shows everything)
        logging.getLogger("briefs.schedule").setLevel(logging.INFO)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    Daemon(state.config()).run(serve=with_server, host=host, port=port)


def _parse_edition(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    import re

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-[A-Za-z0-9_.-]+)?", value):
        raise click.BadParameter(f"{value!r} is not an edition (YYYY-MM-DD or YYYY-MM-DD-slot)")
    return value


@cli.command()
@click.option(
    "--edition",
    callback=_parse_edition,
    metavar="D",
    help="Edition to send: YYYY-MM-DD or YYYY-MM-DD-slot (default: the latest built).",
)
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDR",
    help="Send to this address instead of email.recipients (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Write the .eml files to output/outbox/ instead.")
@click.option("--resend", is_flag=True, help="Send even to recipients who already have it.")
@click.pass_obj
@_errors
def send(
    state: State, edition: str | None, to: tuple[str, ...], dry_run: bool, resend: bool
) -> None:
    """Email an edition over SMTP (the [email] settings; password from $BRIEFS_SMTP_PASSWORD).

    Each recipient gets their own copy, once: a recipient who already has the edition is
    skipped, so an interrupted send can simply be run again. Temporary failures are retried
    with backoff; refusals (5xx) are reported. Exits 1 if anyone did not get it.

    \b
    Example:
      BRIEFS_SMTP_PASSWORD=... briefs send --edition 2024-04-06 --to me@example.org
      briefs send --dry-run
    """
    from briefs.deliver import deliver_edition

    config = state.config()
    with Store.open(config.database) as store:
        if edition is None:
            ids = store.edition_ids()
            if not ids:
                raise BriefsError("no edition has been built yet: run briefs run first")
            edition = ids[0]
    if dry_run and not (config.output / f"{edition}.eml").is_file():
        _build_email_edition(config, edition)
    with Store.open(config.database) as store:
        report = deliver_edition(
            config, store, edition, recipients=list(to) or None, resend=resend, dry_run=dry_run
        )
    if dry_run:
        example = not to and not config.email.recipients
        note = " (no email.recipients: one example message)" if example else ""
        click.echo(f"Edition {edition}: dry run, {len(report.written)} message(s) written{note}:")
        for path in report.written:
            click.echo(f"  {path}")
        for addr, error in report.failed:
            click.echo(f"  refused: {clean_line(addr, 200)}: {clean_line(error, 300)}")
        if report.failed:
            sys.exit(1)
        return
    click.echo(
        f"Edition {edition}: {len(report.sent)} sent, {len(report.already_sent)} already had it, "
        f"{len(report.failed)} failed, {len(report.pending)} to retry, "
        f"{len(report.uncertain)} uncertain"
    )
    for addr, error in report.failed:
        click.echo(f"  failed: {clean_line(addr, 200)}: {clean_line(error, 300)}")
    for addr, error in report.pending:
        click.echo(f"  to retry: {clean_line(addr, 200)}: {clean_line(error, 300)}")
    for addr in report.uncertain:
        click.echo(
            f"  uncertain: {addr}: interrupted while sending; --resend --to {addr} to send again"
        )
    if not report.ok:
        sys.exit(1)


def _build_email_edition(config: Config, edition: str) -> None:
    """A dry run of an edition built without its email (email not configured, as in the demo):
    build it again with the email, so the dry run shows what would be sent."""
    from briefs.lock import named_lock
    from briefs.pipeline import build as build_pipeline

    click.echo(
        f"Edition {edition}: no email edition was written (email is not configured); building it"
    )
    day, _, slot = edition[:10], edition[10:11], edition[11:]
    with named_lock(config, "build").hold(300, doing="briefs send --dry-run"):
        build_pipeline(config, date=dt.date.fromisoformat(day), slot=slot or None, email=True)


@cli.command()
@click.option("--host", help="Address to listen on (default: serve.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: serve.port, 8080).")
@click.pass_obj
@_errors
def serve(state: State, host: str | None, port: int | None) -> None:
    """Serve the output folder over HTTP: feeds, pages and the archive.

    Feeds get their own content types, every response an ETag and Last-Modified (304 when
    unchanged), text is gzipped, nothing outside the folder is reachable and folders are not
    listed. For the internet, put it behind a reverse proxy (see the README).

    \b
    Example:
      briefs serve --host 127.0.0.1 --port 8080
    """
    from briefs.serve import make_server, serve_until_stopped

    config = state.config()
    settings = config.serve
    server = make_server(
        config.output,
        host or settings.host,
        settings.port if port is None else port,
        settings.max_age,
    )
    click.echo(f"Serving {config.output} at {server.url} (Ctrl-C to stop)")
    serve_until_stopped(server)


@cli.command()
@click.pass_obj
@_errors
def status(state: State) -> None:
    """Show the daemon, the next edition times, the last edition and sources in trouble.

    \b
    Example:
      briefs --config briefs.toml status
    """
    from briefs.schedule import daemon_status

    config = state.config()
    now = dt.datetime.now(dt.UTC)
    with Store.open(config.database) as store:
        st = daemon_status(config, store, now)
    import zoneinfo

    zone = zoneinfo.ZoneInfo(st.timezone)

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if value else "never"

    click.echo(f"Daemon: {'running: ' + st.daemon if st.daemon else 'not running'}")
    click.echo(f"Editions ({st.timezone}):")
    for slot, expr, nxt, last, built in st.editions:
        line = f"  {slot or 'daily':<10} {expr:<16} next {when(nxt)}"
        if last is not None:
            line += f"; last {when(last)} {'built' if built else 'NOT BUILT (caught up at start)'}"
        click.echo(line)
    if st.last_edition is None:
        click.echo("Last edition: none yet")
    else:
        rec = st.last_edition
        mail = ", ".join(f"{n} {k}" for k, n in sorted(st.deliveries.items())) or "not emailed"
        click.echo(
            f"Last edition: {rec.edition.id}, built {when(rec.built_at)}, "
            f"{rec.story_count} stories; email: {mail}"
        )
    if st.next_poll is not None:
        click.echo(f"Next poll: {st.next_poll[0]} at {when(st.next_poll[1])}")
    if st.troubled:
        click.echo("Sources in trouble:")
        for fs in st.troubled:
            click.echo(
                f"  {fs.source_id}: {fs.consecutive_failures} "
                f"failure{'s' if fs.consecutive_failures != 1 else ''}, last error: "
                f"{clean_line(fs.last_error or '-', 300)}; next try {when(fs.next_poll)}"
                + (" (disabled)" if fs.disabled else "")
            )
    else:
        click.echo("Sources in trouble: none")
    if st.problems:
        click.echo("Email problems:")
        for who, what, error in st.problems:
            click.echo(f"  {clean_line(who, 200)}: {what}: {clean_line(error, 300)}")


# -- stories and evaluation (issue 4) ---------------------------------------------------------


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
    callback=_parse_date,
    metavar="YYYY-MM-DD",
    help="Day (in brief.timezone) whose articles to show (default: the newest article's day).",
)
@click.pass_obj
@_errors
def stories_list(state: State, date: dt.date | None) -> None:
    """List the stories with an article published on a day: size, outlets, shared terms.

    A story that started on an earlier day is marked "developing" with its day number.

    \b
    Example:
      briefs --config seeds/briefs.toml stories list --date 2024-04-06
    """
    import zoneinfo

    config = state.config()
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
        members = [by_id[i] for i in story.article_ids if i in by_id]
        first_day = story.first_seen.astimezone(zone).date()
        day = (date - first_day).days + 1
        status = "new" if day <= 1 else f"developing, day {day}"
        outlets = dict.fromkeys(a.outlet for a in members if not a.duplicate_of)
        table.add_row(
            story.id,
            status,
            str(len(members)),
            str(len(outlets)),
            clean_line(story.title, 300),
            clean_line(", ".join(story.terms[:6]), 200),
        )
    Console(width=max(Console().width, 120)).print(table)


@stories.command("show")
@click.argument("story_id")
@click.pass_obj
@_errors
def stories_show(state: State, story_id: str) -> None:
    """Show one story: its members, their outlets, and why each one is in it.

    STORY_ID may be a unique prefix of the id shown by `briefs stories list`.

    \b
    Example:
      briefs --config seeds/briefs.toml stories show 9234bf9d
    """
    import zoneinfo

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
    click.echo(f"Story {story.id}: {show(story.title)}")
    click.echo(f"First seen {when(story.first_seen)}, last updated {when(story.last_updated)}")
    click.echo(f"{len(members)} articles from {len(outlets)} outlets: {', '.join(outlets)}")
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
        link = links.get(a.id)
        if link is None:
            click.echo("  why: (grouped before reasons were recorded)")
        elif link.duplicate:
            original = titles.get(link.via or "")
            source = (
                f"{show(original.outlet, 80)}: {show(original.title)}"
                if original
                else link.via or "-"
            )
            click.echo(f"  why: a copy of the same text as {source}")
        elif link.via is None:
            click.echo("  why: started the story")
        else:
            match = titles.get(link.via)
            target = f"{show(match.outlet, 80)}: {show(match.title)}" if match else link.via
            click.echo(
                f"  why: similarity {link.similarity:.2f} to the story; closest to {target}; "
                f"shared terms: {show(', '.join(link.shared)) or '-'}"
            )


@evaluate.command("group")
@click.argument("path", metavar="FILE.jsonl", type=click.Path(dir_okay=False))
@click.option("--lang", default=None, help="Only articles whose lang_guess is this (e.g. en).")
@click.option(
    "--text",
    "text_mode",
    type=click.Choice(["title", "lead", "full"]),
    default="lead",
    show_default=True,
    help="What the grouper reads: the title, title + teaser/lead (as from a feed), or full text.",
)
@click.option(
    "--orders",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also group N other within-day orders of the articles; report mean and range.",
)
@click.pass_obj
@_errors
def eval_group_cmd(state: State, path: str, lang: str | None, text_mode: str, orders: int) -> None:
    """Group labelled articles with the product's grouping and score them against gold stories.

    FILE.jsonl has one article a line: id, title, text, date (YYYY-MM-DD, an ISO timestamp
    with or without zone, or null), story_id, and optionally summary (the feed teaser) and
    lang_guess. Articles are grouped in time order, one day per call, as daily runs would;
    those with a date only get a pseudo-random time in their day. Prints one JSON object:
    articles, gold_stories, predicted_stories, bcubed_precision/recall/f1 and
    pairwise_precision/recall/f1; ``languages`` (the F1s per lang_guess, when there are
    several) and, with --orders N, ``orders`` (mean, min, max and range of the F1s over N other
    orders). Uses the [group] settings of the configuration if one is found, else the defaults
    (the semantic signal when the embedding model is installed).

    \b
    Example:
      briefs eval group ../shared/data/mmds2025-news-clustering/dev.jsonl --lang en --orders 6
    """
    import json

    from briefs.config import GroupSettings
    from briefs.embed import load_embedder
    from briefs.errors import ConfigError
    from briefs.evaluate.group import embed_records, evaluate_grouping, load_records

    try:
        config_file = find_config(state.config_path)
    except ConfigError:
        settings = GroupSettings()
    else:
        settings = load_config(config_file).group
    records = load_records(path, lang)
    embedder = load_embedder() if settings.semantic else None
    embeddings = embed_records(records, embedder) if embedder is not None else None
    result = evaluate_grouping(
        records,
        settings,
        text_mode,  # type: ignore[arg-type]
        embeddings=embeddings,
        orders=orders,
    )
    click.echo(json.dumps(result))


@evaluate.command("developing")
@click.argument("path", metavar="FILE.jsonl", type=click.Path(dir_okay=False))
@_errors
def eval_developing_cmd(path: str) -> None:
    """Feed labelled articles day by day through grouping, summarizing and edition building, and
    check that each later day's edition leads a developing story with that day's news.

    FILE.jsonl is in the format `briefs eval group` reads (id, title, text, optional summary,
    date as YYYY-MM-DD or an ISO timestamp, story_id). For every gold story with reports on two
    or more days, at each later day, the edition's story is checked: does its lead sentence, and
    does its headline, come from that day's reports? Prints one JSON object: stories, editions,
    lead_share, headline_share. Uses the default settings.

    \b
    Example:
      briefs eval developing stories-by-day.jsonl
    """
    import json

    from briefs.evaluate.developing import evaluate_developing, load_day_records

    click.echo(json.dumps(evaluate_developing(load_day_records(path))))


def _global_after(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A global option given after the command: it updates the shared State."""
    state = ctx.find_object(State)
    if state is None or value in (None, False, 0):
        return
    if param.name == "config_path":
        state.config_path = value
        state._config = None
    elif param.name == "debug":
        state.debug = True
    elif param.name == "verbose":
        state.verbose += value
    _setup_logging(state.verbose, state.debug)


def _accept_global_options(group: click.Group) -> None:
    """Let every command take --config, --debug and -v after its name too.

    Users type ``briefs run --config FILE``; the group's options are only parsed before the
    command, so each subcommand gets copies that update the shared State. Options parse
    before the command body runs, so the config is never loaded from the wrong file.
    """
    for command in group.commands.values():
        names = {name for p in command.params for name in getattr(p, "opts", [])}
        if "--config" not in names:
            command.params.extend(
                [
                    click.Option(
                        ["-c", "--config", "config_path"],
                        metavar="FILE",
                        expose_value=False,
                        callback=_global_after,
                        help="Config file (as before the command).",
                    ),
                    click.Option(
                        ["--debug"],
                        is_flag=True,
                        expose_value=False,
                        callback=_global_after,
                        help="Show tracebacks and debug logs.",
                    ),
                    click.Option(
                        ["-v", "--verbose"],
                        count=True,
                        expose_value=False,
                        callback=_global_after,
                        help="More log output (-vv for debug).",
                    ),
                ]
            )
        if isinstance(command, click.Group):
            _accept_global_options(command)


_accept_global_options(cli)


def main() -> None:
    """Entry point of the ``briefs`` console script."""
    cli(prog_name="briefs")


if __name__ == "__main__":
    main()
