"""Bad databases, absurd dates, hostile OPML and refused addresses: one line and exit 1 each,
never a traceback (issue 13, config and CLI side). Each case runs the real CLI on a copy of
the demo, with a real SQLite file."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from briefs.cli import cli
from tests.conftest import SEEDS
from tests.rawdb import raw_sqlite


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, run once (its database and output exist)."""
    base = tmp_path_factory.mktemp("cli-errors")
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    cfg = seeds / "briefs.toml"
    result = invoke(cfg, "run", "--date", "2024-04-06")
    assert result.exit_code == 0, result.output
    return cfg


def invoke(cfg: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(cfg), *args], env=env)


def one_line_error(result: Result, *needles: str) -> str:
    """The command failed with exit 1 and one line, no traceback, saying each needle."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("briefs: error: "), result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_a_postgresql_url_without_its_driver_names_what_to_install(demo: Path) -> None:
    if importlib.util.find_spec("psycopg2") is not None:
        pytest.skip("psycopg2 is installed here: its absence cannot be shown")
    result = invoke(demo, "build", "--db", "postgresql+psycopg2://briefs@127.0.0.1:1/briefs")
    one_line_error(result, "driver (psycopg2) is not installed", "pip install psycopg2-binary")


def test_an_unreachable_server_is_one_line_naming_the_host_not_the_password(demo: Path) -> None:
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed (pip install 'briefs[postgres]')")
    url = "postgresql+psycopg://briefs:s3cret-pw@127.0.0.1:1/news"  # nothing listens on port 1
    result = invoke(demo, "build", "--db", url)
    line = one_line_error(result, "cannot connect to database news on 127.0.0.1:1 as briefs")
    assert "s3cret-pw" not in result.output and "***" not in line


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(demo: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "other-app.db"
    with raw_sqlite(foreign) as conn:  # someone else's database
        conn.execute("create table invoices (id integer primary key, total real)")
    before = foreign.read_bytes()
    line = one_line_error(invoke(demo, "run", "--db", str(foreign)), "not a briefs database")
    assert "invoices" in line
    with raw_sqlite(foreign) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
    assert tables == ["invoices"] and foreign.read_bytes() == before


def test_a_file_that_is_not_a_database(demo: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("shopping list\n" * 100)
    one_line_error(invoke(demo, "build", "--db", str(text)), "not a database")


def test_a_read_only_database_is_one_line(demo: Path) -> None:
    database = demo.parent / "briefs.db"
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"
    # the first write is refused by SQLite, and said so
    one_line_error(invoke(demo, "run", "--rebuild", "--db", read_only), "read-only")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1969-12-31", "3000-01-01"])
@pytest.mark.parametrize("command", ["run", "build", "stories list"])
def test_absurd_dates_are_one_line(demo: Path, command: str, day: str) -> None:
    one_line_error(invoke(demo, *command.split(), "--date", day), "--date", "editions are dated")


def test_a_date_that_is_not_one(demo: Path) -> None:
    one_line_error(invoke(demo, "build", "--date", "2024-13-45"), "not a date")


def test_an_opml_file_nested_thousands_deep_imports(demo: Path, tmp_path: Path) -> None:
    depth = 5000
    opml = tmp_path / "deep.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        + "".join(f'<outline text="c{i}">' for i in range(depth))
        + '<outline type="rss" text="Deep" xmlUrl="https://news.deep-nesting.org/feed.xml"/>'
        + "</outline>" * depth
        + "</body></opml>"
    )
    result = invoke(demo, "sources", "import", "--dry-run", str(opml))
    assert result.exit_code == 0, result.output
    assert "Would add 1 of 1 feed " in result.output


def test_send_exits_1_when_any_address_is_refused(demo: Path) -> None:
    assert invoke(demo, "build", "--date", "2024-04-06", "--email").exit_code == 0
    # a dry run writes the good address's message and still fails for the bad one
    result = invoke(demo, "send", "--dry-run", "--to", "ann@example.org", "--to", "not an address")
    assert result.exit_code == 1, result.output
    assert "1 message(s) written" in result.output and "refused: not an address" in result.output
    result = invoke(demo, "send", "--to", "not an address")
    assert result.exit_code == 1 and "failed: not an address" in result.output


def test_nan_from_the_environment_through_the_cli(demo: Path) -> None:
    one_line_error(
        invoke(demo, "build", env={"BRIEFS_FETCH_TIMEOUT": "nan"}),
        "fetch.timeout must be a finite number",
    )
