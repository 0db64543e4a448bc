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
from tests.rawdb import stored_articles


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


def test_init_writes_a_starter_config_that_runs_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRIEFS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 1 and "run `briefs init`" in result.output
    assert "seeds/" not in result.output  # a pip user has no seeds/ folder
    result = CliRunner().invoke(cli, ["init", "desk"])
    assert result.exit_code == 0, result.output
    assert "Next: cd desk && briefs run" in result.output
    text = (tmp_path / "desk" / "briefs.toml").read_text(encoding="utf-8")
    assert "\n# [email]" in text and "\n# [schedule]" in text  # there, commented out
    config = load_config(tmp_path / "desk" / "briefs.toml")
    assert [s.id for s in config.sources][:2] == ["harbour-herald", "meridian-wire"]
    assert all(Path(s.location).exists() for s in config.sources)
    monkeypatch.chdir(tmp_path / "desk")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0 and "Edition 2024-04-06:" in result.output, result.output
    assert "6 polled, 6 ok, 0 failed" in result.output
    assert (tmp_path / "desk" / "output" / "index.html").is_file()
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 1 and "already exists; not replacing it" in result.output


def test_sources_disable_enable_and_remove_edit_the_config_keeping_comments(
    seeds_copy: Path,
) -> None:
    config = seeds_copy / "briefs.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace(
        '[[sources]]\nid = "civic-ledger"', '# the city paper\n[[sources]]\nid = "civic-ledger"'
    )
    config.write_text(text, encoding="utf-8")
    code, out = invoke(config, "sources", "disable", "meridian-wire")
    assert code == 0 and "meridian-wire disabled" in out
    loaded = load_config(config)
    assert [s.id for s in loaded.sources if not s.enabled] == ["meridian-wire"]
    code, out = invoke(config, "run")
    assert code == 0 and "5 polled" in out, out
    code, out = invoke(config, "sources", "enable", "meridian-wire")
    assert code == 0 and all(s.enabled for s in load_config(config).sources)
    assert config.read_text(encoding="utf-8") == text  # back as it was, byte for byte

    code, out = invoke(config, "sources", "remove", "northgate-times")
    assert code == 0 and "Removed 'northgate-times'" in out
    after = config.read_text(encoding="utf-8")
    assert "northgate" not in after and "# the city paper\n[[sources]]" in after
    assert "# The bundled demo" in after  # the file's own comments are kept
    assert [s.id for s in load_config(config).sources] == [
        "harbour-herald",
        "meridian-wire",
        "civic-ledger",
        "pacific-dispatch",
        "seed-documents",
    ]
    code, out = invoke(config, "sources", "remove", "northgate-times")
    assert code == 1 and "no source with id 'northgate-times'" in out


def test_pages_refetch_forgets_pages_without_text_so_the_next_run_fetches_them(
    seeds_copy: Path,
) -> None:
    import datetime as dt

    from briefs.models import PageRecord
    from briefs.store import open_store

    config = seeds_copy / "briefs.toml"
    assert invoke(config, "run")[0] == 0
    settings = load_config(config)

    def urls(source: str) -> list[str]:
        return [a.url for a in stored_articles(settings.database) if a.source_id == source]

    store = open_store(settings.database)
    try:
        northgate = [url for url in urls("northgate-times") if store.page(url)]
        refused = [url for url in urls("civic-ledger") if store.page(url)]
        failed_url = refused.pop()  # one page failed instead, say with HTTP 404
        now = dt.datetime.now(dt.UTC)
        store.save_page(PageRecord(failed_url, "failed", now, error="HTTP 404", http_status=404))
    finally:
        store.close()
    assert northgate and refused

    code, out = invoke(config, "pages", "refetch", "--failed")
    assert code == 0 and out.startswith("1 failed page will be fetched again"), out
    code, out = invoke(config, "pages", "refetch", "--source", "northgate-times")
    assert code == 0 and out.startswith(f"{len(northgate)} failed or refused pages of northgate")
    store = open_store(settings.database)
    try:
        assert store.page(failed_url) is None and store.page(northgate[0]) is None
        assert store.page(refused[0]) is not None  # another source's: kept
    finally:
        store.close()
    code, out = invoke(config, "run")
    assert code == 0
    store = open_store(settings.database)
    try:  # fetched (and refused by the guard) again
        assert store.page(northgate[0]) is not None and store.page(failed_url) is not None
    finally:
        store.close()
    code, out = invoke(config, "pages", "refetch", "--source", "nobody")
    assert code == 1 and "no source with id 'nobody'" in out
