"""Small things an operator meets: a waiting command says so, counts read as English, a story
has one id everywhere, and the management verbs (init, sources remove/disable, pages refetch)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import load_config
from briefs.errors import LockError
from briefs.lock import named_lock


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_a_command_waiting_for_the_lock_says_for_whom(
    seeds_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(seeds_copy / "briefs.toml")
    with named_lock(config, "build").hold(doing="briefs daemon"):
        other = named_lock(config, "build")
        with caplog.at_level(logging.WARNING, "briefs.lock"), pytest.raises(LockError):
            other.acquire(0.5, doing="briefs run")
    waits = [r.getMessage() for r in caplog.records if r.name == "briefs.lock"]
    assert len(waits) == 1, waits  # once, not at every retry
    assert re.match(
        r"waiting up to 0 s for briefs daemon \(pid \d+, since .*\) to finish", waits[0]
    )
    caplog.clear()
    other.acquire(0.5)  # free now: nothing to say
    other.release()
    assert not [r for r in caplog.records if r.name == "briefs.lock"]


def test_status_says_1_failure_and_stories_list_shows_the_editions_ids(
    seeds_copy: Path, tmp_path: Path
) -> None:
    config = seeds_copy / "briefs.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text + '\n[[sources]]\nid = "down"\nurl = "http://127.0.0.1:9/x.xml"\n')
    assert invoke(config, "run")[0] == 0
    code, out = invoke(config, "status")
    assert code == 0 and "down: 1 failure, last error" in out, out
    listed: set[str] = set()
    for day in ("2024-04-05", "2024-04-06"):  # the edition's window spans both
        code, out = invoke(config, "stories", "list", "--date", day)
        assert code == 0
        listed |= set(re.findall(r"\b[0-9a-f]{16}\b", out))
    page = (tmp_path / "output" / "2024-04-06.html").read_text(encoding="utf-8")
    in_edition = re.findall(r'id="story-([0-9a-f]+)"', page)
    assert in_edition and set(in_edition) <= listed
    code, out = invoke(config, "stories", "show", in_edition[0])
    assert code == 0 and out.startswith(f"Story {in_edition[0]}: ")
