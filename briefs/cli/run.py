"""``briefs run`` and ``briefs build``: an edition, polled first or from what is stored."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from briefs.cli.app import State, cli, handle_errors
from briefs.cli.options import (
    configured,
    date_option,
    email_option,
    force_option,
    refuse_future,
    slot_option,
    wait_option,
    where_options,
)
from briefs.config import SUMMARY_METHODS, Config
from briefs.models import RunReport
from briefs.text import clean_line


def _report(config: Config, report: RunReport, timings: bool, polled: bool) -> None:
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
@date_option
@slot_option
@where_options
@click.option("--timings", is_flag=True, help="Print the time spent in each stage.")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build the edition even when nothing changed since it was built.",
)
@wait_option
@click.option(
    "--method",
    type=click.Choice(SUMMARY_METHODS, case_sensitive=False),
    help="Summary method for this run (default: summary.method from the config).",
)
@force_option
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when any source failed (the brief is still written): for cron and monitoring.",
)
@email_option
@click.pass_obj
@handle_errors
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

    config = configured(state, out_dir, database)
    refuse_future(config, date, force)
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
@date_option
@slot_option
@where_options
@click.option("--timings", is_flag=True, help="Print the time spent in each stage.")
@wait_option
@force_option
@email_option
@click.pass_obj
@handle_errors
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

    config = configured(state, out_dir, database)
    refuse_future(config, date, force)
    with named_lock(config, "build").hold(wait_seconds, doing="briefs build"):
        report = build_pipeline(config, date=date, slot=slot, email=email)
    _report(config, report, timings, polled=False)
