"""``briefs daemon``, ``briefs serve`` and ``briefs status``: running by itself."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path

import click

from briefs.cli.app import State, cli, handle_errors
from briefs.store import Store
from briefs.text import clean_line, counted


@cli.command()
@click.option(
    "--role",
    type=click.Choice(["all", "poller", "builder"]),
    default="all",
    show_default=True,
    help="poller: only poll and store (run several, on any hosts); builder: group, build and "
    "email what pollers stored (one per database); all: both.",
)
@click.option("--serve", "with_server", is_flag=True, help="Also serve the output folder.")
@click.option("--host", help="With --serve: address to listen on (default: serve.host).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="With --serve: port (default: serve.port)."
)
@click.pass_obj
@handle_errors
def daemon(state: State, role: str, with_server: bool, host: str | None, port: int | None) -> None:
    """Run by itself: poll sources when due, build editions on schedule, email them.

    Editions are built at the [schedule] editions times (cron, in schedule.timezone); one
    missed while the machine was off is built at start-up if within schedule.grace_minutes.
    Each edition is emailed to email.recipients once. Logs one line per job. Stops cleanly
    on SIGTERM or Ctrl-C (exit 0). Only one daemon (all or builder) runs per database; any
    number of pollers (--role poller) share its sources, each source claimed by one of them
    at a time (see docs/scaling.md).

    \b
    Example:
      briefs --config briefs.toml daemon --serve --port 8080
      briefs --config briefs.toml daemon --role poller
    """
    from briefs.schedule import Daemon

    if state.verbose == 0 and not state.debug:
        # one line per job from the scheduler; other modules only warn (-v shows everything)
        logging.getLogger("briefs.schedule").setLevel(logging.INFO)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("briefs.poller").setLevel(logging.INFO)
    Daemon(state.config(), role=role).run(serve=with_server, host=host, port=port)


@cli.command()
@click.option("--host", help="Address to listen on (default: serve.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: serve.port, 8080).")
@click.pass_obj
@handle_errors
def serve(state: State, host: str | None, port: int | None) -> None:
    """Serve the output folder over HTTP: feeds, pages, the archive and /search (of every brief:
    with several, / is the index of the briefs and each brief is under its folder).

    Feeds get their own content types, every response an ETag and Last-Modified (304 when
    unchanged), text is gzipped, nothing outside the folder is reachable and folders are not
    listed. For the internet, put it behind a reverse proxy (see the README).

    \b
    Example:
      briefs serve --host 127.0.0.1 --port 8080
    """
    from briefs.search import search_pages
    from briefs.serve import make_server, serve_until_stopped

    config = state.config()
    settings = config.serve
    # never create a database just to serve a folder
    stored = "://" in config.database or Path(config.database).is_file()
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(Store.open(config.database)) if stored else None
        # /search where the database has an index (else that path is a 404, and said so)
        search = search_pages(config, store) if store else {}
        server = make_server(
            config.root,
            host or settings.host,
            settings.port if port is None else port,
            settings.max_age,
            search=search,
        )
        click.echo(f"Serving {config.root} at {server.url} (Ctrl-C to stop)")
        if not search:
            click.echo("No full-text index in this database: /search is unavailable")
        else:
            click.echo(f"Search: {server.url}search?q=")
        for spec in config.desk if config.several else ():
            found = f" (search: {server.url}{spec.output}/search?q=)" if search else ""
            click.echo(f"  {spec.id}: {server.url}{spec.output}/{found}")
        serve_until_stopped(server)


@cli.command()
@click.pass_obj
@handle_errors
def status(state: State) -> None:
    """Show the daemon, the next edition times, the last edition and sources in trouble.

    \b
    Example:
      briefs --config briefs.toml status
    """
    from briefs.status import daemon_status

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
    # columns as wide as their longest entry (a brief's id leads its label: "wire morning")
    label_w = max((len(slot or "daily") for slot, *_ in st.editions), default=0)
    expr_w = max((len(expr) for _, expr, *_ in st.editions), default=0)
    for slot, expr, nxt, last, built in st.editions:
        line = f"  {slot or 'daily':<{label_w}}  {expr:<{expr_w}}  next {when(nxt)}"
        if last is not None:
            line += f"; last {when(last)} {'built' if built else 'NOT BUILT (caught up at start)'}"
        click.echo(line)
    if st.last_edition is None:
        click.echo("Last edition: none yet")
    else:
        rec = st.last_edition
        mail = ", ".join(f"{n} {k}" for k, n in sorted(st.deliveries.items())) or "not emailed"
        whose = f" of {rec.brief}" if config.several else ""
        click.echo(
            f"Last edition: {rec.edition.id}{whose}, built {when(rec.built_at)}, "
            f"{counted(rec.story_count, 'story', 'stories')}; email: {mail}"
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
