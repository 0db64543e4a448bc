"""A future date is refused without --force; `briefs editions delete` removes an edition and
writes index.html, archive.html and every feed again without it."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from briefs.cli import cli


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.output


def edition_ids(out: Path) -> list[str]:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    return [e.id.rsplit("/", 1)[-1] for e in feed.entries]


def test_a_future_date_is_refused_unless_forced(seeds_copy: Path, tmp_path: Path) -> None:
    config = seeds_copy / "briefs.toml"
    out = tmp_path / "output"
    tomorrow = dt.datetime.now(zoneinfo.ZoneInfo("Europe/London")).date() + dt.timedelta(days=1)
    for command in ("run", "build"):
        code, text = invoke(config, command, "--date", tomorrow.isoformat())
        assert code == 1 and f"{tomorrow.isoformat()} is in the future" in text, text
        assert "--force" in text
    assert not out.exists() or not list(out.glob(f"{tomorrow.isoformat()}*"))
    code, text = invoke(config, "run", "--date", "2024-04-06")
    assert code == 0, text
    code, text = invoke(config, "build", "--date", tomorrow.isoformat(), "--force")
    assert code == 0 and "0 stories" in text
    assert edition_ids(out)[0] == tomorrow.isoformat()


@pytest.mark.slow
def test_deleting_an_edition_rewrites_index_archive_and_feeds(
    seeds_copy: Path, tmp_path: Path
) -> None:
    config = seeds_copy / "briefs.toml"
    out = tmp_path / "output"
    assert invoke(config, "run", "--date", "2024-04-05")[0] == 0
    assert invoke(config, "build", "--date", "2024-04-06")[0] == 0
    assert invoke(config, "build", "--date", "2030-01-01", "--force")[0] == 0
    assert edition_ids(out) == ["2030-01-01", "2024-04-06", "2024-04-05"]
    assert "2030" in (out / "index.html").read_text()

    code, text = invoke(config, "editions", "delete", "2030-01-01")
    assert code == 0, text
    assert "removed 2030-01-01.md, 2030-01-01.html\n" in text  # no .eml: email is off
    assert not list(out.glob("2030-01-01*"))
    assert edition_ids(out) == ["2024-04-06", "2024-04-05"]
    for name in ("atom.xml", "stories.xml"):
        assert "2030-01-01" not in (out / name).read_text()
    assert "2030-01-01" not in json.dumps(json.loads((out / "feed.json").read_text()))
    index, archive = (out / "index.html").read_text(), (out / "archive.html").read_text()
    assert "2030" not in index and "2030" not in archive
    assert "Saturday, 6 April 2024" in index and 'href="2024-04-05.html"' in archive
    code, text = invoke(config, "editions", "list")
    listed = [line.split()[0] for line in text.splitlines() if line.startswith("  2")]
    assert code == 0 and listed == ["2024-04-06", "2024-04-05"] and "2030" not in text
    assert text.splitlines()[0] == "April 2024"  # by month, newest first

    # an edition that was never built: one line, nothing touched
    code, text = invoke(config, "editions", "delete", "2030-01-01")
    assert code == 1 and "no edition '2030-01-01' was built" in text
    # deleting the last ones leaves no index or feeds pointing at nothing
    assert invoke(config, "editions", "delete", "2024-04-05")[0] == 0
    code, text = invoke(config, "editions", "delete", "2024-04-06")
    assert code == 0 and "No edition left" in text
    assert not (out / "index.html").exists() and not (out / "feed.xml").exists()


def test_edition_items_are_dated_by_their_edition_not_by_the_build(
    seeds_copy: Path, tmp_path: Path
) -> None:
    """Rebuilding an old edition leaves its feed date alone (readers would show it as new);
    an edition built before it closes (a forced future one here) is dated by its build."""
    config = seeds_copy / "briefs.toml"
    out = tmp_path / "output"
    assert invoke(config, "run", "--date", "2024-04-05")[0] == 0
    assert invoke(config, "build", "--date", "2024-04-06")[0] == 0
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert invoke(config, "build", "--date", "2024-04-05")[0] == 0
    assert invoke(config, "build", "--date", "2030-01-01", "--force")[0] == 0
    after = dt.datetime.now(dt.UTC)

    def dates(entries: list[feedparser.FeedParserDict], key: str) -> dict[str, dt.datetime]:
        return {e.id.rsplit("/", 1)[-1]: dt.datetime(*e[key][:6], tzinfo=dt.UTC) for e in entries}

    rss = dates(feedparser.parse((out / "feed.xml").read_bytes()).entries, "published_parsed")
    atom = dates(feedparser.parse((out / "atom.xml").read_bytes()).entries, "updated_parsed")
    for when in (rss, atom):
        # the demo's editions close at midnight in Europe/London (BST: 23:00 UTC)
        assert when["2024-04-05"] == dt.datetime(2024, 4, 5, 23, 0, tzinfo=dt.UTC)
        assert when["2024-04-06"] == dt.datetime(2024, 4, 6, 23, 0, tzinfo=dt.UTC)
        assert before <= when["2030-01-01"] <= after
    items = json.loads((out / "feed.json").read_text())["items"]
    published = {i["id"].rsplit("/", 1)[-1]: i["date_published"] for i in items}
    assert published["2024-04-05"].startswith("2024-04-05T23:00:00")
