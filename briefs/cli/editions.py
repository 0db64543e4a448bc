"""``briefs editions`` and ``briefs send``: built editions, listed, deleted and emailed."""

from __future__ import annotations

import datetime as dt
import sys

import click

from briefs.cli.app import State, cli, handle_errors
from briefs.cli.options import (
    brief_option,
    echo_unsent,
    edition_option,
    for_brief,
    latest_edition,
    parse_edition,
    wait_option,
)
from briefs.config import Config
from briefs.models import DeliveryReport, EditionRecord
from briefs.store import Store
from briefs.text import clean_line, counted


@cli.group()
def editions() -> None:
    """List and delete built editions.

    \b
    Example:
      briefs --config seeds/briefs.toml editions list
    """


@editions.command("list")
@brief_option
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON (one object each).")
@click.pass_obj
@handle_errors
def editions_list(state: State, brief_id: str | None, as_json: bool) -> None:
    """List the built editions by month, newest first: id, when built, stories, headlines.

    Every brief's (each under its own heading) unless --brief names one. With --json, one
    array of objects (brief, edition, date, slot, built_at, stories, headlines, page).

    \b
    Example:
      briefs --config seeds/briefs.toml editions list
      briefs --config seeds/desk.toml editions list --brief wire --json
    """
    import json

    from briefs.slots import ARCHIVE_LIMIT, ordered_editions

    config = state.config()
    specs = [config.for_brief(brief_id).current] if brief_id else list(config.desk)
    listed: list[tuple[Config, list[EditionRecord]]] = []
    with Store.open(config.database) as store:
        for spec in specs:
            view = config.for_brief(spec.id)
            records = store.recent_editions(ARCHIVE_LIMIT, spec.id, html=False)
            listed.append((view, ordered_editions(view, records)))
    if as_json:
        rows = [_edition_json(view, rec) for view, records in listed for rec in records]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not any(records for _view, records in listed):
        click.echo("No edition built yet: run `briefs run` first.")
        return
    several = len(listed) > 1
    for view, records in listed:
        if several:
            title = clean_line(view.brief.title, 120)
            click.echo(f"Brief {view.brief_id} ({title}): {counted(len(records), 'edition')}")
        _print_months(records, "  " if several else "")


def _print_months(records: list[EditionRecord], indent: str) -> None:
    """Editions under a heading per month, each with its top headlines."""
    month = ""
    for rec in records:
        name = rec.edition.date.strftime("%B %Y")
        if name != month:
            month = name
            click.echo(f"{indent}{month}")
        built = rec.built_at.strftime("%Y-%m-%d %H:%M UTC")
        stories = counted(rec.story_count, "story", "stories")
        click.echo(f"{indent}  {rec.edition.id:<24} built {built}, {stories}")
        if rec.summary:
            click.echo(f"{indent}    {clean_line(rec.summary, 300)}")


def _edition_json(config: Config, rec: EditionRecord) -> dict[str, object]:
    from urllib.parse import urljoin

    return {
        "brief": config.brief_id,
        "edition": rec.edition.id,
        "date": rec.edition.date.isoformat(),
        "slot": rec.edition.slot,
        "built_at": rec.built_at.isoformat(),
        "stories": rec.story_count,
        "headlines": [h for h in rec.summary.split("; ") if h],
        "page": urljoin(config.brief.site_url, f"{rec.edition.id}.html"),
    }


@editions.command("delete")
@click.argument("edition_id", metavar="EDITION", callback=lambda c, p, v: parse_edition(c, p, v))
@brief_option
@wait_option
@click.pass_obj
@handle_errors
def editions_delete(
    state: State, edition_id: str, brief_id: str | None, wait_seconds: float
) -> None:
    """Delete a built edition (YYYY-MM-DD or YYYY-MM-DD-slot) and its files.

    index.html, archive.html and the feeds are written again without it (the newest remaining
    edition is built again for them). Who was emailed it stays recorded. With several briefs,
    --brief says whose edition it is.

    \b
    Example:
      briefs --config seeds/briefs.toml editions delete 2024-04-05
    """
    from briefs.edition import delete_edition
    from briefs.lock import named_lock

    config = for_brief(state.config(), brief_id, needed="editions delete")
    with named_lock(config, "build").hold(wait_seconds, doing="briefs editions delete"):
        removed, rebuilt = delete_edition(config, edition_id)
    click.echo(f"Deleted edition {edition_id}: removed {', '.join(removed) or 'no files'}")
    if rebuilt is None:
        click.echo("No edition left: index.html, archive.html and the feeds were removed")
    else:
        click.echo(f"index.html, archive.html and the feeds now end with {rebuilt.id}")


@cli.command()
@edition_option("send")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDR",
    help="Send to this address instead of email.recipients (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Write the .eml files to output/outbox/ instead.")
@click.option("--resend", is_flag=True, help="Send even to recipients who already have it.")
@brief_option
@click.pass_obj
@handle_errors
def send(
    state: State,
    edition: str | None,
    to: tuple[str, ...],
    dry_run: bool,
    resend: bool,
    brief_id: str | None,
) -> None:
    """Email an edition over SMTP (the [email] settings; password from $BRIEFS_SMTP_PASSWORD).

    Each recipient gets their own copy, once: a recipient who already has the edition is
    skipped, so an interrupted send can simply be run again. Temporary failures are retried
    with backoff; refusals (5xx) are reported. Exits 1 if anyone did not get it. With several
    briefs, --brief says which (its edition, to its recipients).

    \b
    Example:
      BRIEFS_SMTP_PASSWORD=... briefs send --edition 2024-04-06 --to me@example.org
      briefs send --dry-run
      briefs --config seeds/desk.toml send --brief wire --dry-run
    """
    from briefs.deliver import deliver_edition

    config = for_brief(state.config(), brief_id, needed="send")
    with Store.open(config.database) as store:
        edition = latest_edition(store, config, edition)
    if dry_run and not (config.output / f"{edition}.eml").is_file():
        _build_email_edition(config, edition)
    with Store.open(config.database) as store:
        report = deliver_edition(
            config, store, edition, recipients=list(to) or None, resend=resend, dry_run=dry_run
        )
    if dry_run:
        _echo_dry_run(edition, report, example=not to and not config.email.recipients)
    else:
        _echo_sent(edition, report)
    if not report.ok:
        sys.exit(1)


def _echo_dry_run(edition: str, report: DeliveryReport, example: bool) -> None:
    """What a dry run wrote; ``example``: to no one configured, so one example message."""
    note = " (no email.recipients: one example message)" if example else ""
    click.echo(f"Edition {edition}: dry run, {len(report.written)} message(s) written{note}:")
    for path in report.written:
        click.echo(f"  {path}")
    for addr, error in report.failed:
        click.echo(f"  refused: {clean_line(addr, 200)}: {clean_line(error, 300)}")


def _echo_sent(edition: str, report: DeliveryReport) -> None:
    """How many got the edition, and each recipient who did not (yet)."""
    click.echo(
        f"Edition {edition}: {len(report.sent)} sent, {len(report.already_sent)} already had it, "
        f"{len(report.failed)} failed, {len(report.pending)} to retry, "
        f"{len(report.uncertain)} uncertain"
    )
    echo_unsent(report.failed, report.pending)
    for addr in report.uncertain:
        click.echo(
            f"  uncertain: {addr}: interrupted while sending; --resend --to {addr} to send again"
        )


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
