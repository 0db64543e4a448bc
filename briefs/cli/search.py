"""``briefs search``: the stored articles and their stories, by the full-text index."""

from __future__ import annotations

import datetime as dt
import json

import click

from briefs.cli.app import State, cli, handle_errors
from briefs.cli.options import brief_option, for_brief
from briefs.searchquery import SearchResults
from briefs.store import Store
from briefs.text import clean_line, strip_controls


@cli.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--since", metavar="YYYY-MM-DD", help="Only reports published since this day.")
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True,
              help="Stories to show.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@brief_option
@click.pass_obj
@handle_errors
def search_command(
    state: State,
    words: tuple[str, ...],
    since: str | None,
    limit: int,
    as_json: bool,
    brief_id: str | None,
) -> None:
    """Search the stored reports; show the stories they belong to, best match first.

    Words must all appear; "two words" in that order (quote the quotes for the shell);
    elect* a word's start; floods OR storms either; -football without it. Ranked by
    relevance, newer reports first among equals. Each story names its page (stories/<id>.html)
    when an edition carried it. With several briefs, every brief's reports unless --brief
    names one (then only its sources', linking to its story pages).

    \b
    Example:
      briefs --config seeds/briefs.toml search harbour strike
      briefs search '"prime minister"' --since 2024-04-01 --json
      briefs --config seeds/desk.toml search harbour --brief local
    """
    from briefs.search import desk_pages, parse_since, results_json, search

    config = for_brief(state.config(), brief_id)
    one = brief_id is not None or not config.several
    start = parse_since(since, config.brief.timezone) if since else None
    with Store.open(config.database) as store:
        results = search(
            store,
            " ".join(words),
            now=dt.datetime.now(dt.UTC),
            since=start,
            sources=config.brief_sources() if one else None,
            pages=config.output if one else desk_pages(config),
            limit=limit,
        )
    if as_json:
        click.echo(json.dumps(results_json(results), ensure_ascii=False, indent=2))
        return
    _echo_results(results, config.brief.site_url.rstrip("/") + "/")


def _echo_results(results: SearchResults, base: str) -> None:
    """The stories found, each with its page's URL (``base`` + page) and its best reports."""
    if not results.stories:
        click.echo(f"Nothing found for {clean_line(results.query.text, 200)!r}.")
        return
    for n, found in enumerate(results.stories, 1):
        click.echo(click.style(f"{n}. {clean_line(found.headline, 200)}", bold=True))
        if found.page:
            click.echo(f"   {base}{found.page}")
        for hit in found.hits:
            when = hit.published.strftime("%Y-%m-%d")
            click.echo(f"   - {clean_line(hit.outlet, 60)}, {when}: {clean_line(hit.title, 160)}")
            # one line, spaces between the pieces kept (clean_line would trim them)
            pieces = [(" ".join(strip_controls(t).split()), t[:1].isspace(), t[-1:].isspace(), m)
                      for t, m in hit.snippet]  # fmt: skip
            snippet = "".join(
                (" " if lead else "")
                + (click.style(t, bold=True, underline=True) if m else t)
                + (" " if trail and t else "")
                for t, lead, trail, m in pieces
            )
            click.echo(f"     {snippet}")
            click.echo(f"     {clean_line(hit.url, 300)}")
        if found.matched > len(found.hits):
            click.echo(f"   and {found.matched - len(found.hits)} more matching reports")
