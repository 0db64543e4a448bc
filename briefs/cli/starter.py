"""``briefs init``: a starter config with the demo's sources."""

from __future__ import annotations

from pathlib import Path

import click

from briefs.cli.app import cli, handle_errors


@cli.command()
@click.argument("folder", metavar="[DIR]", default=".", type=click.Path(file_okay=False))
@handle_errors
def init(folder: str) -> None:
    """Write a starter config, DIR/briefs.toml, with the demo's sources as a working example.

    The demo's feeds and documents are copied to DIR/demo/ so that `briefs run` works at once,
    offline; the email and daemon sections are there, commented out. An existing briefs.toml
    is never replaced.

    \b
    Example:
      briefs init my-desk
    """
    from briefs.starter import write_starter

    config = write_starter(Path(folder))
    click.echo(f"Wrote {config} (and the demo's sources under {config.parent / 'demo'})")
    where = "" if config.parent == Path.cwd() else f"cd {folder} && "
    click.echo(f"Next: {where}briefs run, then open output/index.html")
