"""End to end: `briefs run` on a temporary copy of the bundled seeds, through the CLI runner."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.store import open_store
from tests.conftest import ROOT


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_run_on_seeds_writes_the_brief(seeds_copy: Path, tmp_path: Path, database: str) -> None:
    out = tmp_path / "out"
    code, text = run_cli(
        "--config",
        str(seeds_copy / "briefs.toml"),
        "run",
        "--date",
        "2024-04-06",
        "--out",
        str(out),
        "--db",
        database,
    )
    assert code == 0, text
    assert "6 polled, 6 ok, 0 failed" in text
    assert "New articles: 39" in text
    assert "refused" not in text  # the offline demo tries no article page
    for name in (
        "2024-04-06.md",
        "2024-04-06.html",
        "index.html",
        "feed.xml",
        "atom.xml",
        "feed.json",
    ):
        assert (out / name).is_file(), name
    # the listing: one line a file, but one for the story pages and one for the section feeds
    listing = text.split("Written to ", 1)[1].splitlines()[1:]
    assert "  2024-04-06.html" in listing and "  stories.atom" in listing
    pages = len(list((out / "stories").glob("*.html")))
    assert pages >= 5 and f"  stories/ ({pages} files)" in listing
    assert (
        "  stories-<section>.xml, .atom, .json for 6 sections: world, business, technology, "
        "science, sport, local" in listing
    )
    assert not [line for line in listing if line.startswith("  stories-world")]
    md = (out / "2024-04-06.md").read_text()
    stories = md.split("\n### ")[1:]
    assert len(stories) >= 5
    for story in stories:
        assert "\nCoverage (" in story and "\n- " in story.split("\nCoverage (")[1], story[:200]
    assert any(
        int(s.split(" outlets:")[0].rsplit(" ", 1)[-1]) >= 3 for s in stories if " outlets:" in s
    )
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo
    assert len(feed.entries) == 1
    assert feed.entries[0].id.startswith("tag:localhost,2024:briefs/edition/2024-04-06")
    assert feed.entries[0].published_parsed is not None
    assert "<article" in feed.entries[0].content[0].value
    ET.fromstring((out / "atom.xml").read_bytes())
    import lxml.etree

    lxml.etree.fromstring(
        (out / "2024-04-06.html").read_bytes(), lxml.etree.XMLParser(recover=False)
    )  # well-formed
    # re-running the same day adds nothing twice
    code, text = run_cli(
        "--config",
        str(seeds_copy / "briefs.toml"),
        "run",
        "--date",
        "2024-04-06",
        "--out",
        str(out),
        "--db",
        database,
    )
    assert code == 0 and "New articles: 0" in text
    with open_store(database) as store:
        assert store.article_count() == 39


# Loaded by the stages that group, summarize or sketch; over a second to import together.
# (The bare ``sumy`` package is loaded for its stop-word file; it imports nothing.)
HEAVY_MODULES = ("nltk", "sumy.nlp", "sumy.summarizers", "sumy.utils", "scipy", "numpy", "sklearn")
_REPORT_IMPORTS = f"""
import atexit, sys
from briefs.cli import main
atexit.register(lambda: print("heavy:", *sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))
sys.argv = ["briefs", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
def test_a_run_with_nothing_new_imports_no_language_tools(seeds_copy: Path, tmp_path: Path) -> None:
    # A second run on the same day (every feed unchanged) must start fast: nothing is grouped
    # or summarized, so NLTK, sumy, SciPy and NumPy stay unloaded.
    args = ["--config", str(seeds_copy / "briefs.toml"), "run", "--out", str(tmp_path / "out")]
    code, text = run_cli(*args)
    assert code == 0 and "New articles: 39" in text
    done = subprocess.run(
        [sys.executable, "-c", _REPORT_IMPORTS, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert done.stdout.rstrip().endswith("heavy:"), done.stdout


def test_archive_and_feed_keep_earlier_editions(
    seeds_copy: Path, tmp_path: Path, database: str
) -> None:
    out = tmp_path / "out"
    cfg = str(seeds_copy / "briefs.toml")
    for day in ("2024-04-05", "2024-04-06"):
        code, text = run_cli(
            "--config", cfg, "run", "--date", day, "--out", str(out), "--db", database
        )
        assert code == 0, text
    index = (out / "index.html").read_text()
    assert 'href="2024-04-05.html"' in index and 'href="2024-04-06.html"' in index
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert [e.id.rsplit("/", 1)[-1] for e in feed.entries] == ["2024-04-06", "2024-04-05"]


@pytest.mark.slow
def test_a_failing_source_is_reported_and_the_brief_still_written(
    seeds_copy: Path, tmp_path: Path
) -> None:
    cfg = seeds_copy / "briefs.toml"
    demo = cfg.read_text()
    cfg.write_text(
        demo
        + '\n[[sources]]\nid = "broken"\nurl = "http://127.0.0.1:9/missing.xml"\n\n[[sources]]\nid = "garbage"\nurl = "garbage.xml"\n'
    )
    (seeds_copy / "garbage.xml").write_bytes(b"\x00\x01 not a feed at all")
    out = tmp_path / "out"
    code, text = run_cli("--config", str(cfg), "run", "--out", str(out))
    assert code == 0, text
    assert "8 polled, 6 ok, 2 failed" in text
    assert "failed: broken: " in text
    assert "failed: garbage: not a feed" in text
    assert "Sources that failed" in (out / "2024-04-06.md").read_text()
    code, text = run_cli("--config", str(cfg), "sources", "list")
    assert code == 0
    assert "broken" in text and "error" in text
    # for cron and monitoring: the same run with --strict exits 1, the brief still written
    (out / "2024-04-06.md").unlink()
    code, text = run_cli("--config", str(cfg), "run", "--out", str(out), "--strict")
    assert code == 1 and "2 sources failed (--strict)" in text
    assert (out / "2024-04-06.md").is_file()
    cfg.write_text(demo)
    code, text = run_cli("--config", str(cfg), "run", "--out", str(out), "--strict")
    assert code == 0 and "0 failed" in text, text


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    code, text = run_cli("--config", str(tmp_path / "none.toml"), "run")
    assert code == 1
    assert text.strip().count("\n") == 0 and "configuration file not found" in text
    bad = tmp_path / "bad.toml"
    bad.write_text("[[sources]]\nkind = 'smoke-signal'\nurl='x'")
    code, text = run_cli("--config", str(bad), "run")
    assert code == 1 and "unknown source kind 'smoke-signal'" in text
    bad.write_text("[brief\n")
    code, text = run_cli("--config", str(bad), "run")
    assert code == 1 and "invalid TOML" in text
    code, text = run_cli("--config", str(tmp_path), "run")
    assert code == 1 and "is a folder" in text


def test_every_command_is_documented_with_an_example() -> None:
    import click

    def walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
        out = [(path, cmd)]
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                out += walk(sub, [*path, name])
        return out

    for path, cmd in walk(cli, []):
        assert cmd.help and "Example" in cmd.help, f"briefs {' '.join(path)} lacks an example"
        code, text = run_cli(*path, "--help")
        assert code == 0 and "Example" in text
