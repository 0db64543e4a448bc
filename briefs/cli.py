"""The ``briefs`` command line: thin shells around the pipeline.

Every command has a docstring with an example (shown by ``--help``). A BriefsError becomes a
one-line message and exit code 1; tracebacks only with ``--debug``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from briefs.config import Config, find_config, load_config
from briefs.errors import BriefsError
from briefs.models import RunReport
from briefs.store import open_store

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


def _errors(func: F) -> F:
    """Turn BriefsError into a one-line message and exit 1 (a traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        state: State | None = ctx.find_object(State)
        try:
            return func(*args, **kwargs)
        except BriefsError as exc:
            if state is not None and state.debug:
                raise
            click.echo(f"briefs: error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("briefs: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _setup_logging(verbose: int, debug: bool) -> None:
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


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

    click.echo(f"Edition {report.edition.id}: {report.stories} stories")
    if polled:
        ok = report.sources_polled - len(report.sources_failed)
        click.echo(
            f"Sources: {report.sources_polled} polled, {ok} ok, {len(report.sources_failed)} failed"
        )
    elif report.sources_failed:
        click.echo(f"Sources failing at their last poll: {len(report.sources_failed)}")
    for name, error in report.sources_failed:
        click.echo(f"  failed: {name}: {error}")
    if polled:
        click.echo(f"New articles: {report.new_articles}")
    click.echo(f"Written to {config.output}:")
    for path in report.files:
        click.echo(f"  {Path(path).name}")
    if timings:
        total = sum(report.timings.values())
        click.echo("Timings:")
        for stage, seconds in report.timings.items():
            click.echo(f"  {stage:<10} {seconds:8.3f} s")
        click.echo(f"  {'total':<10} {total:8.3f} s")


@cli.command()
@_date_option
@_slot_option
@_where_options
@click.option("--timings", is_flag=True, help="Print the time spent in each stage.")
@click.pass_obj
@_errors
def run(
    state: State,
    date: dt.date | None,
    slot: str | None,
    out_dir: str | None,
    database: str | None,
    timings: bool,
) -> None:
    """Poll every source once, group, summarize and write the brief.

    Writes the edition (YYYY-MM-DD.md, .html and .eml), index.html, archive.html and the
    feeds (feed.xml, atom.xml, feed.json; stories.xml, stories.atom, stories.json) into the
    output folder and prints what it did.

    \b
    Example:
      briefs run --config seeds/briefs.toml --date 2024-04-06 --out output/
    """
    from briefs.pipeline import run as run_pipeline

    config = _configured(state, out_dir, database)
    _report(config, run_pipeline(config, date=date, slot=slot), timings, polled=True)


@cli.command()
@_date_option
@_slot_option
@_where_options
@click.option("--timings", is_flag=True, help="Print the time spent in each stage.")
@click.pass_obj
@_errors
def build(
    state: State,
    date: dt.date | None,
    slot: str | None,
    out_dir: str | None,
    database: str | None,
    timings: bool,
) -> None:
    """Render an edition from what is stored, without polling any source.

    Writes the same files as `briefs run`. Re-building an edition replaces its files (and its
    item in the feeds); other editions are left alone. Sources that failed at their last poll
    are listed in the edition.

    \b
    Example:
      briefs --config seeds/briefs.toml build --date 2024-04-06
      briefs build --date 2024-04-06 --slot morning --out output/
    """
    from briefs.pipeline import build as build_pipeline

    config = _configured(state, out_dir, database)
    _report(config, build_pipeline(config, date=date, slot=slot), timings, polled=False)


@cli.group()
def sources() -> None:
    """Inspect and manage the configured sources.

    \b
    Example:
      briefs sources list
    """


@sources.command("list")
@click.pass_obj
@_errors
def sources_list(state: State) -> None:
    """List sources with their health: last status, failures, next poll, recent articles.

    \b
    Example:
      briefs --config seeds/briefs.toml sources list
    """
    config = state.config()
    store = open_store(config.database)
    try:
        states = store.feed_states()
        week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        table = Table(title=f"Sources in {config.path}")
        for col in (
            "id",
            "kind",
            "title",
            "status",
            "fails",
            "last error",
            "next poll",
            "7 days",
            "total",
        ):
            table.add_column(col, overflow="fold")
        for src in config.sources:
            st = states.get(src.id)
            status = (
                "disabled"
                if (not src.enabled or (st and st.disabled))
                else (st.last_status or "never")
                if st
                else "never polled"
            )
            table.add_row(
                src.id,
                src.kind,
                src.title,
                status,
                str(st.consecutive_failures) if st else "0",
                (st.last_error or "") if st else "",
                st.next_poll.strftime("%Y-%m-%d %H:%M UTC") if st and st.next_poll else "",
                str(store.articles_since(week_ago, src.id)),
                str(store.articles_since(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), src.id)),
            )
    finally:
        store.close()
    Console(width=max(Console().width, 120)).print(table)


def main() -> None:
    """Entry point of the ``briefs`` console script."""
    cli(prog_name="briefs")


if __name__ == "__main__":
    main()
