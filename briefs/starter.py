"""``briefs init``: a commented starter configuration with the demo's sources as a working example.

The demo feeds and seed documents ship inside the package (``briefs/demo``; in a source checkout
they are ``seeds/``), so a pip user gets a config that runs at once, offline.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from importlib import resources
from pathlib import Path

from briefs.errors import ConfigError
from briefs.publish import replace_file

__all__ = ["STARTER_CONFIG", "demo_dir", "write_starter"]

STARTER_CONFIG = """\
# briefs configuration, written by `briefs init`. Paths are relative to this file.
# Every key is described in the README ("Configuration"); unknown keys are errors.
# Run:  briefs run        (in this folder, or: briefs run --config {config_name})

database = "briefs.db"          # SQLite file next to this config
output = "output"               # where the brief and the feeds are written

[brief]
title = "My Brief"
timezone = "Europe/London"      # editions are days in this zone
date = "latest"                 # the day of the newest article; "today" for live sources
sections = ["world", "business", "technology", "science", "sport", "local"]
max_stories = 12
site_url = "http://localhost:8080/"   # where output/ is published (absolute links in feeds)

[summary]
method = "textrank"             # textrank, lexrank, lsa, luhn, sumbasic or edmundson
sentences = 3
words = 110

# [schedule]                    # for `briefs daemon`: when to build editions (cron)
# timezone = "Europe/London"
# editions = ["30 6 * * *"]

# [email]                       # for `briefs send` and the daemon; the password comes from
# host = "smtp.example.org"     # the environment ($BRIEFS_SMTP_PASSWORD), never from here
# security = "starttls"
# username = "me@example.org"
# sender = "My Brief <me@example.org>"
# recipients = ["me@example.org"]

# The demo's invented outlets (offline files, 4-6 April 2024): replace them with your own,
# e.g.  briefs sources add https://www.theguardian.com/world --tag world
# (then remove these with `briefs sources remove ID`, or delete their tables here).
{sources}"""


def demo_dir() -> Path:
    """The demo's feeds and documents: shipped in the package, else the source tree's seeds/."""
    packaged = Path(str(resources.files("briefs"))) / "demo"
    if (packaged / "briefs.toml").is_file():
        return packaged
    source_tree = Path(__file__).resolve().parent.parent / "seeds"
    if (source_tree / "briefs.toml").is_file():
        return source_tree
    raise ConfigError("the demo feeds are not installed with briefs (reinstall the package)")


def _demo_sources(source: Path) -> list[dict[str, object]]:
    """The demo config's [[sources]] tables (one list of them, in seeds/briefs.toml)."""
    raw = tomllib.loads((source / "briefs.toml").read_text(encoding="utf-8"))
    return list(raw.get("sources", []))


def _source_block(item: dict[str, object]) -> str:
    """A [[sources]] table for the starter config, its file paths under demo/."""
    lines = ["[[sources]]"]
    for key, value in item.items():
        if key in ("url", "path") and isinstance(value, str) and "://" not in value:
            value = f"demo/{value}"
        if isinstance(value, list):
            lines.append(f"{key} = [{', '.join(json.dumps(v) for v in value)}]")
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def write_starter(folder: Path) -> Path:
    """Write ``folder/briefs.toml`` and the demo's files under ``folder/demo``; return the config.

    Refuses to replace an existing briefs.toml.
    """
    folder = folder.resolve()
    config = folder / "briefs.toml"
    if config.exists():
        raise ConfigError(f"{config} already exists; not replacing it")
    source = demo_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for part in ("feeds", "docs"):
            shutil.copytree(source / part, folder / "demo" / part, dirs_exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write the demo into {folder}: {exc}") from exc
    blocks = [_source_block(item) for item in _demo_sources(source)]
    text = STARTER_CONFIG.format(config_name=config.name, sources="\n".join(blocks))
    try:
        replace_file(config, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write {config}: {exc}") from exc
    return config
