"""``briefs notify``: an edition's notifications sent through Apprise ([[notify]] targets)."""

from __future__ import annotations

import sys

import click

from briefs.cli.app import State, cli, handle_errors
from briefs.cli.options import brief_option, echo_unsent, edition_option, for_brief, latest_edition
from briefs.config import Config
from briefs.errors import DeliveryError
from briefs.models import NotifyReport
from briefs.store import Store
from briefs.text import clean_line


@cli.command()
@edition_option("notify")
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Only this [[notify]] target (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--resend", is_flag=True, help="Send again what was already sent (or failed).")
@click.option("--list", "list_targets", is_flag=True, help="List the targets and stop.")
@brief_option
@click.pass_obj
@handle_errors
def notify(
    state: State,
    edition: str | None,
    targets: tuple[str, ...],
    dry_run: bool,
    resend: bool,
    list_targets: bool,
    brief_id: str | None,
) -> None:
    """Send an edition's notifications to the [[notify]] targets (Apprise URLs).

    Each build composes them (headlines, breaking stories, failing sources); an edition the
    daemon built is notified by the daemon, one built by hand by this command. Each is sent
    once: what a target already has is skipped, so an interrupted run can simply be run
    again. 5xx answers, timeouts and lost connections are retried with backoff; 4xx answers
    are recorded as failed. URLs come from the environment and are never printed. Exits 1 if
    a notification was not delivered. With several briefs, --brief says whose edition.

    \b
    Example:
      briefs notify --list
      BRIEFS_NTFY_URL=ntfys://ntfy.sh/my-topic briefs notify --edition 2024-04-06
      briefs notify --dry-run
    """
    config = for_brief(state.config(), brief_id)
    if list_targets:
        _list(config)
        return
    if not config.notify:
        click.echo(f"No [[notify]] targets in {config.path}: nothing to send.")
        return
    with Store.open(config.database) as store:
        edition = latest_edition(store, config, edition)
        if dry_run:
            _dry_run(store, edition, set(targets) or {t.name for t in config.notify})
            return
        from briefs.notify import notify_edition

        report = notify_edition(
            config, store, edition, targets=list(targets) or None, resend=resend
        )
    _print_report(edition, report)
    if not report.ok:
        sys.exit(1)


def _list(config: Config) -> None:
    """Each target: its name, what it is sent, its service and URL as they may be shown."""
    from briefs.notify.channel import AppriseChannel

    if not config.notify:
        click.echo(f"No [[notify]] targets in {config.path}.")
    for target in config.notify:
        channel = AppriseChannel(target)
        try:
            channel.connect()
            where = channel.shown
        except DeliveryError as exc:
            where = f"{channel.shown} (unusable: {exc})"
        finally:
            channel.close()
        brief = f", brief {target.brief}" if target.brief else ""
        click.echo(f"{target.name:<16} {', '.join(target.send)}{brief}: {clean_line(where, 300)}")


def _dry_run(store: Store, edition: str, wanted: set[str]) -> None:
    rows = [n for n in store.notifications(edition) if n.target in wanted]
    if not rows:
        click.echo(
            f"Edition {edition}: no notification was composed (built before [[notify]] was "
            "set up? `briefs build` composes them)"
        )
        return
    click.echo(f"Edition {edition}: dry run, {len(rows)} notification(s), nothing sent:")
    for n in rows:
        click.echo(f"\n== {n.label} [{n.status}]\n{n.title}\n{n.text}")
    for name in sorted(wanted - {n.target for n in rows}):
        click.echo(f"\n== {name}: nothing for it in this edition")


def _print_report(edition: str, report: NotifyReport) -> None:
    click.echo(
        f"Edition {edition}: {len(report.sent)} notification(s) sent, "
        f"{len(report.already_sent)} already sent, {len(report.failed)} failed, "
        f"{len(report.pending)} to retry, {len(report.uncertain)} uncertain"
    )
    echo_unsent(report.failed, report.pending)
    for label in report.uncertain:
        click.echo(f"  uncertain: {label}: interrupted while sending; --resend to send again")
