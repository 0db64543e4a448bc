"""The root ``briefs`` group and what every command shares: the State of the global options,
one-line errors, logging, and the global options accepted after the command too."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from briefs.config import Config, find_config, load_config
from briefs.errors import BriefsError
from briefs.text import clean_line, strip_controls

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


def handle_errors(func: F) -> F:
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


def setup_logging(verbose: int, debug: bool) -> None:
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
    setup_logging(verbose, debug)
    ctx.obj = State(config_path, debug, verbose)


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
    setup_logging(state.verbose, state.debug)


def accept_global_options(group: click.Group) -> None:
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
            accept_global_options(command)
