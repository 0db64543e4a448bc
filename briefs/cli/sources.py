"""``briefs sources`` and ``briefs pages``: the configured sources and the article pages fetched."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from briefs.cli.app import State, cli, handle_errors
from briefs.config import Config
from briefs.store import Store
from briefs.text import clean_line, counted


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
@handle_errors
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
@handle_errors
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
@handle_errors
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
        f"{verb} {len(todo)} of {counted(len(feeds), 'feed')} "
        f"({len(feeds) - len(todo) - len(bad)} already configured)."
    )


@sources.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout)."
)
@click.pass_obj
@handle_errors
def sources_export(state: State, output: str | None) -> None:
    """Export the feed sources as OPML 2.0 (tags become categories).

    Seed-document folders and local feed files are left out (other readers cannot use them);
    how many is said on stderr.

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
        click.echo(f"Wrote {counted(len(feeds), 'feed')} to {output}")
    else:
        click.echo(data.decode("utf-8"), nl=False)
    local = [s.id for s in config.sources if s not in feeds]
    if local:
        click.echo(
            f"Left out {len(local)} local source{'s' if len(local) != 1 else ''} (seed-document "
            f"folders and local feed files, which other readers cannot use): {', '.join(local)}",
            err=True,
        )


@sources.command("enable")
@click.argument("source_id")
@click.pass_obj
@handle_errors
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
@handle_errors
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
@handle_errors
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
@handle_errors
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
