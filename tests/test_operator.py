"""Small things an operator meets: a waiting command says so, counts read as English, a story
has one id everywhere, and the management verbs (init, sources remove/disable, pages refetch)."""

from __future__ import annotations

import json
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


def _listed_titles(table: str) -> dict[str, str]:
    """id -> title cell of a `stories list` table (rich folds long cells over lines)."""
    titles: dict[str, list[str]] = {}
    current = ""
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) < 7:
            continue
        current = cells[1] or current
        if current and cells[5]:
            titles.setdefault(current, []).append(cells[5])
    return {k: " ".join(v) for k, v in titles.items()}


def test_stories_list_and_show_name_a_story_by_the_editions_headline(seeds_copy: Path) -> None:
    config = seeds_copy / "briefs.toml"
    assert invoke(config, "run", "--date", "2024-04-06")[0] == 0
    out_dir = seeds_copy.parent / "output"
    items = json.loads((out_dir / "stories.json").read_text(encoding="utf-8"))["items"]
    edition = {i["id"].rsplit("/", 1)[-1]: i["title"] for i in items}
    code, table = invoke(config, "stories", "list", "--date", "2024-04-06")
    assert code == 0
    listed = _listed_titles(table)
    assert set(edition) <= set(listed)
    for story_id, headline in edition.items():
        assert listed[story_id] == headline, (story_id, listed[story_id], headline)
        code, out = invoke(config, "stories", "show", story_id)
        assert code == 0 and out.splitlines()[0] == f"Story {story_id}: {headline}", out
    # the stored title is the first report's; the edition's is the latest reports': they differ
    # for the flood story (day 3), which is why both commands now show the edition's
    flood = next(i for i, h in edition.items() if "Calder Bay" in h and "$85 million" in h)
    code, out = invoke(config, "stories", "show", flood)
    assert "River Calder bursts its banks" not in out.splitlines()[0]
    assert "\n8 articles from 6 outlets: " in out
    museum = next(i for i, h in edition.items() if "Maritime Museum" in h)
    code, out = invoke(config, "stories", "show", museum)
    assert "\n1 article from 1 outlet: The Northgate Times\n" in out, out  # not "1 articles"


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
    seeds_fetching_pages: Path,
) -> None:
    import datetime as dt

    from briefs.models import PageRecord
    from briefs.store import open_store

    config = seeds_fetching_pages / "briefs.toml"
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


def test_the_public_failed_note_names_an_untitled_source_by_its_outlet(seeds_copy: Path) -> None:
    """Readers see the publisher's name (from the feed it last read, else its host), never
    the source id; the run report keeps the id the operator acts on."""
    config = seeds_copy / "briefs.toml"
    (seeds_copy / "nyt.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>NYT &gt; World News</title>'
        "<link>https://www.nytimes.com/section/world</link><item><title>A report</title>"
        "<link>https://www.nytimes.com/2024/04/06/world/a-report.html</link>"
        "<pubDate>Sat, 06 Apr 2024 09:00:00 GMT</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    text = config.read_text(encoding="utf-8")
    config.write_text(text + '\n[[sources]]\nid = "nyt-world"\nurl = "nyt.xml"\n', "utf-8")
    assert invoke(config, "run")[0] == 0
    (seeds_copy / "nyt.xml").write_bytes(b"\x00 not a feed any more")
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[sources]]\nid = "down-host"\nurl = "http://localhost:9/x.xml"\n',
        "utf-8",
    )
    code, out = invoke(config, "run", "--rebuild")
    assert code == 0 and "failed: nyt-world: not a feed" in out, out
    assert "failed: down-host: " in out
    page = (seeds_copy.parent / "output" / "2024-04-06.md").read_text(encoding="utf-8")
    note = page[page.index("Sources that failed") :]
    assert "NYT: unavailable" in note and "localhost: unavailable" in note, note
    assert "nyt-world" not in note and "down-host" not in note
    code, out = invoke(config, "build")
    assert code == 0 and "nyt-world" in out and "down-host" in out, out


def test_the_demo_files_its_stories_under_their_sections(seeds_copy: Path) -> None:
    """The demo's outlets are general papers: their items' categories (and the documents'
    tags: lines) place each story, so sport and business are not all under World."""
    config = seeds_copy / "briefs.toml"
    assert invoke(config, "run", "--date", "2024-04-05")[0] == 0
    assert invoke(config, "build", "--date", "2024-04-06")[0] == 0
    out_dir = seeds_copy.parent / "output"

    def sections(day: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        current = ""
        for line in (out_dir / f"{day}.md").read_text(encoding="utf-8").splitlines():
            if line.startswith("## "):
                current = line[3:]
            elif line.startswith("### ") and current:
                found.setdefault(current, []).append(line.split(". ", 1)[1])
        return found

    friday, saturday = sections("2024-04-05"), sections("2024-04-06")
    assert list(friday) == ["World", "Business", "Technology", "Science", "Local"], friday
    assert any("Guangzhou" in h for h in friday["World"])
    assert any("Kellan Dairy" in h for h in friday["Business"])
    assert any("Skyward Air" in h for h in friday["Business"])
    assert any("Orbis Cloud" in h for h in friday["Technology"])
    assert any("halocidin" in h for h in friday["Science"])
    assert any("Calder Bay" in h for h in friday["Local"])
    assert any("bike lanes" in h for h in friday["Local"])  # the city paper's source tag
    assert any("Reyne" in h for h in saturday["Sport"])
    assert any("ferry" in h.lower() for h in saturday["Local"])  # a seed document's tags: line
