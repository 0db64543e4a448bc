"""The ``briefs`` command line: thin shells around the pipeline.

Every command has a docstring with an example (shown by ``--help``). A BriefsError becomes a
one-line message and exit code 1; tracebacks only with ``--debug``. The global options
(``--config``, ``--debug``, ``-v``) are accepted before and after the command.

One module per command group: ``app`` (the root group and what every command shares),
``options`` (options several commands take), ``run`` (run, build), ``starter`` (init),
``editions`` (editions, send), ``notify``, ``sources`` (sources, pages), ``stories``, ``search``,
``evaluate`` (eval) and ``service`` (daemon, serve, status).
"""

from __future__ import annotations

# The command modules register their commands on import, in this order: the order of the
# examples in `--help` (tests/test_docs.py runs them in turn: `build` before `editions delete`).
# isort: off
from briefs.cli import run, starter, editions, notify, sources, evaluate, service, stories, search  # noqa: F401

# isort: on
from briefs.cli.app import accept_global_options, cli

__all__ = ["cli", "main"]

# every command, once registered, takes the global options after its name too
accept_global_options(cli)


def main() -> None:
    """Entry point of the ``briefs`` console script."""
    cli(prog_name="briefs")


if __name__ == "__main__":
    main()
