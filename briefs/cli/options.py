"""Options and checks several commands share: dates, slots, where to write, waiting, --force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from briefs.cli.app import F, State
from briefs.config import Config
from briefs.errors import BriefsError
from briefs.text import clean_line

if TYPE_CHECKING:
    from briefs.store import Store

# Dates an edition (or `stories list`) may ask for: far enough from the calendar's ends that a
# window or a time zone around them never leaves the range of datetime.
DATE_RANGE = (dt.date(1970, 1, 1), dt.date(2999, 12, 31))


class OptionError(click.ClickException):
    """A bad option value as one line ("briefs: error: ...") and exit 1, like any BriefsError."""

    def show(self, file: Any = None) -> None:
        click.echo(f"briefs: error: {clean_line(self.message, 300)}", err=True)


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"--date {value[:40]!r} is not a date in YYYY-MM-DD form") from None
    low, high = DATE_RANGE
    if not low <= day <= high:
        raise OptionError(f"--date {value}: editions are dated {low} to {high}")
    return day


def date_option(func: F) -> F:
    return click.option(
        "--date",
        callback=parse_date,
        metavar="YYYY-MM-DD",
        help="Edition date (default: today, or the newest article's day if brief.date is"
        ' "latest").',
    )(func)


def slot_option(func: F) -> F:
    return click.option(
        "--slot",
        metavar="NAME",
        help="Edition slot, one of brief.slots (default: brief.slot, else the slot now open).",
    )(func)


def where_options(func: F) -> F:
    func = click.option(
        "--db", "database", help="Database file or SQLAlchemy URL (default: from the config)."
    )(func)
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        help="Output folder (default: from the config).",
    )(func)


def email_option(func: F) -> F:
    return click.option(
        "--email/--no-email",
        "email",
        default=None,
        help="Write the email edition (.eml) or not (default: when [email] has a host or "
        "recipients).",
    )(func)


def wait_option(func: F) -> F:
    return click.option(
        "--wait",
        "wait_seconds",
        type=click.FloatRange(min=0),
        default=300,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait if a daemon is polling or building right now.",
    )(func)


def force_option(func: F) -> F:
    return click.option(
        "--force",
        is_flag=True,
        help="Build an edition dated in the future all the same.",
    )(func)


def refuse_future(config: Config, date: dt.date | None, force: bool) -> None:
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


def configured(state: State, out_dir: str | None, database: str | None) -> Config:
    """The configuration with --out (the folder every brief's folder is in) and --db."""
    import dataclasses

    config = state.config()
    if out_dir:
        config = config.with_root(Path(out_dir).resolve())
    if database:
        config = dataclasses.replace(config, database=database)
    return config


def briefs_option(func: F) -> F:
    """``--brief ID``, repeatable: the briefs to build (default: every brief)."""
    return click.option(
        "--brief",
        "brief_ids",
        multiple=True,
        metavar="ID",
        help="Build this brief only (repeatable; default: every brief of [[briefs]]).",
    )(func)


def brief_option(func: F) -> F:
    """``--brief ID``: the one brief a command is about."""
    return click.option(
        "--brief",
        "brief_id",
        metavar="ID",
        help="The brief (an id of [[briefs]]; default: the only one, else the first).",
    )(func)


def for_brief(config: Config, brief_id: str | None, *, needed: str = "") -> Config:
    """The configuration as one brief sees it: the one asked for; without --brief the only
    brief, else the first (or, with ``needed``, an error asking for --brief)."""
    if brief_id is not None:
        return config.for_brief(brief_id)
    if needed and config.several:
        ids = ", ".join(b.id for b in config.desk)
        raise BriefsError(f"there are several briefs ({ids}): {needed} needs --brief ID")
    return config


def parse_edition(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    import re

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-[A-Za-z0-9_.-]+)?", value):
        raise click.BadParameter(f"{value!r} is not an edition (YYYY-MM-DD or YYYY-MM-DD-slot)")
    return value


def edition_option(verb: str) -> Callable[[F], F]:
    """``--edition D``: the edition to ``verb`` (default: the latest built, see
    :func:`latest_edition`)."""
    return click.option(
        "--edition",
        callback=parse_edition,
        metavar="D",
        help=f"Edition to {verb}: YYYY-MM-DD or YYYY-MM-DD-slot (default: the latest built).",
    )


def latest_edition(store: Store, config: Config, edition: str | None) -> str:
    """``edition``, or without one the brief's latest built edition (an error if none is)."""
    if edition is not None:
        return edition
    ids = store.edition_ids(config.brief_id)
    if not ids:
        raise BriefsError("no edition has been built yet: run briefs run first")
    return ids[0]


def echo_unsent(failed: Iterable[tuple[str, str]], pending: Iterable[tuple[str, str]]) -> None:
    """One line for each recipient or target that failed for good, then each to retry."""
    for who, error in failed:
        click.echo(f"  failed: {clean_line(who, 200)}: {clean_line(error, 300)}")
    for who, error in pending:
        click.echo(f"  to retry: {clean_line(who, 200)}: {clean_line(error, 300)}")
