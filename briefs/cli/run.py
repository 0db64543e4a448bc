"""``briefs run`` and ``briefs build``: an edition, polled first or from what is stored."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from briefs.cli.app import State, cli, handle_errors
from briefs.cli.options import (
    briefs_option,
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
from briefs.text import clean_line, counted


def _report(config: Config, reports: tuple[RunReport, ...], timings: bool, polled: bool) -> None:
    """What a run or build did: the poll once, then each brief's edition and files."""
    first = reports[0]
    several = config.several
    if not several:
        _edition_line(first, "")
    if polled:
        ok = first.sources_polled - len(first.sources_failed)
        click.echo(
            f"Sources: {first.sources_polled} polled, {ok} ok, {len(first.sources_failed)} failed"
        )
    elif first.sources_failed and not several:
        click.echo(f"Sources failing at their last poll: {len(first.sources_failed)}")
    if polled or not several:
        for name, error in first.sources_failed:
            click.echo(f"  failed: {clean_line(name, 80)}: {clean_line(error, 300)}")
    if polled:
        click.echo(f"New articles: {first.new_articles}")
    if first.pages_refused:
        click.echo(
            f"Article pages refused by the address guard: {first.pages_refused} "
            f"(e.g. {first.page_refused_example})"
        )
    for report in reports:
        view = config.for_brief(report.brief)
        if several:
            _edition_line(report, f"Brief {report.brief}: ")
            if not polled and report.sources_failed:
                click.echo(f"  sources failing at their last poll: {len(report.sources_failed)}")
        for problem in report.problems:
            click.echo(f"Not written: {clean_line(problem, 300)}")
        if report.files:
            click.echo(f"Written to {view.output}:")
        for line in written_lines(report.files, view.output):
            click.echo(f"  {line}")
    if several:
        click.echo(f"Index of the briefs: {config.root / 'index.html'}")
    if timings:
        _timings(reports)


def _edition_line(report: RunReport, prefix: str) -> None:
    stories = counted(report.stories, "story", "stories")
    if report.unchanged:
        click.echo(
            f"{prefix}Edition {report.edition.id}: {stories}, up to date: nothing new "
            "since it was built (--rebuild builds it again)"
        )
    else:
        click.echo(f"{prefix}Edition {report.edition.id}: {stories}")


def _timings(reports: tuple[RunReport, ...]) -> None:
    """Seconds per stage over the whole run (the poll's stages are the first report's)."""
    stages: dict[str, float] = {}
    elsewhere: dict[str, float] = {}
    for report in reports:
        for stage, seconds in report.timings.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
        for stage, seconds in report.timings_elsewhere.items():
            elsewhere[stage] = elsewhere.get(stage, 0.0) + seconds
    total = sum(stages.values()) - sum(elsewhere.values())
    click.echo("Timings:")
    for stage, seconds in stages.items():
        note = ""
        if elsewhere.get(stage):
            note = f"  ({elsewhere[stage]:.3f} s CPU of it alongside, in workers or a thread)"
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
@briefs_option
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
    brief_ids: tuple[str, ...],
    strict: bool,
    email: bool | None,
) -> None:
    """Poll every source once, group, summarize and write the brief (every brief).

    Writes the edition (YYYY-MM-DD.md and .html; .eml when email is configured or --email),
    index.html, archive.html and the feeds (feed.xml, atom.xml, feed.json; stories.xml,
    stories.atom, stories.json) into the output folder and prints what it did. An output that
    cannot be made (the email over brief.email_max_bytes) is reported; the others are written.
    When nothing is new since the edition was built, it is left as it was (--rebuild builds it
    anyway). With --strict it exits 1 when any source failed. With [[briefs]] each brief is
    built from the one poll into its own folder, and index.html lists them (--brief ID builds
    only that one, after the same poll).

    \b
    Example:
      briefs run --config seeds/briefs.toml --date 2024-04-06 --out output/
      briefs run --method lexrank
      briefs run --strict
      briefs --config seeds/desk.toml run --brief local --brief wire
    """
    from briefs.ingest.progress import make_progress
    from briefs.lock import named_lock
    from briefs.pipeline import run_briefs

    config = _with_method(configured(state, out_dir, database), method)
    refuse_future(config, date, force)
    with (
        named_lock(config, "build").hold(wait_seconds, doing="briefs run"),
        make_progress(sys.stdout.isatty()) as progress,
    ):
        reports = run_briefs(
            config,
            brief_ids or None,
            date=date,
            slot=slot,
            progress=progress,
            rebuild=rebuild,
            email=email,
        )
    _report(config, reports, timings, polled=True)
    if strict and reports[0].sources_failed:
        failed = len(reports[0].sources_failed)
        click.echo(f"briefs: error: {counted(failed, 'source')} failed (--strict)", err=True)
        sys.exit(1)


def _with_method(config: Config, method: str | None) -> Config:
    """The configuration with ``--method`` as its summary method, if given."""
    if not method:
        return config
    import dataclasses

    summary = dataclasses.replace(config.summary, method=method.lower())
    return dataclasses.replace(config, summary=summary)


@cli.command()
@date_option
@slot_option
@where_options
@click.option("--timings", is_flag=True, help="Print the time spent in each stage.")
@wait_option
@force_option
@briefs_option
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
    brief_ids: tuple[str, ...],
    email: bool | None,
) -> None:
    """Render an edition from what is stored, without polling any source.

    Writes the same files as `briefs run`. Re-building an edition replaces its files (and its
    item in the feeds); other editions are left alone. Sources that failed at their last poll
    are listed in the edition. With [[briefs]] every brief is built (--brief ID: that one).

    \b
    Example:
      briefs --config seeds/briefs.toml build --date 2024-04-06
      briefs build --date 2024-04-05 --out output/
      briefs --config seeds/desk.toml build --brief wire
    """
    from briefs.lock import named_lock
    from briefs.pipeline import build_briefs

    config = configured(state, out_dir, database)
    refuse_future(config, date, force)
    with named_lock(config, "build").hold(wait_seconds, doing="briefs build"):
        reports = build_briefs(config, brief_ids or None, date=date, slot=slot, email=email)
    _report(config, reports, timings, polled=False)


# a section's story feeds: stories-<section>.xml, .atom and .json (briefs.outputs)
_SECTION_FEED = re.compile(r"^stories-(.+)\.(xml|atom|json)$")


def written_lines(files: Sequence[str], output: Path) -> list[str]:
    """The files a build wrote, one line each, relative to the output folder, except where one
    line says more: a folder's files (the story pages) and the section feeds are counted."""
    lines: list[str] = []
    folders: dict[str, int] = {}
    sections: list[str] = []
    for path in files:
        try:
            name = Path(path).relative_to(output).as_posix()
        except ValueError:
            name = Path(path).name
        folder, _, rest = name.rpartition("/")
        if folder:
            folders[folder] = folders.get(folder, 0) + 1
        elif match := _SECTION_FEED.match(rest):
            if match.group(1) not in sections:
                sections.append(match.group(1))
        else:
            lines.append(rest)
    if sections:
        lines.append(
            f"stories-<section>.xml, .atom, .json for {counted(len(sections), 'section')}: "
            + ", ".join(sections)
        )
    lines += [f"{folder}/ ({counted(n, 'file')})" for folder, n in folders.items()]
    return lines
