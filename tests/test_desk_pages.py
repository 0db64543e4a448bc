"""What a reader of several briefs sees: each edition page leads back to the index of the
briefs, a story page names its story once, each section feed keeps its own number of stories,
and ``briefs status`` keeps its columns straight under long brief ids. Built from the demo desk
(seeds/desk.toml) through the CLI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from tests.conftest import SEEDS


def _desk(base: Path, extra: str = "", wire: str = "wire") -> Path:
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    cfg = seeds / "desk.toml"
    text = cfg.read_text().replace('output = "../output-desk"', 'output = "../out"')
    text = text.replace("[brief]\n", f"[brief]\n{extra}", 1).replace(
        'id = "wire"', f'id = "{wire}"'
    )
    cfg.write_text(text)
    result = CliRunner().invoke(
        cli, ["--config", str(cfg), "run", "--date", "2024-04-06"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return cfg


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _desk(tmp_path_factory.mktemp("pages"))


def test_edition_pages_lead_to_the_index_of_the_briefs(desk: Path) -> None:
    out = desk.parent.parent / "out"
    for folder in ("local", "wire"):
        for page in (out / folder / "index.html", out / folder / "2024-04-06.html"):
            doc = lxml.html.fromstring(page.read_bytes())
            links = doc.xpath('//footer//a[@href="../index.html"]')
            assert [a.text_content() for a in links] == ["All briefs"], page
            assert (page.parent / "../index.html").resolve().is_file()


def test_a_single_brief_has_no_link_to_an_index_of_briefs(seeds_copy: Path, tmp_path: Path) -> None:
    cfg = seeds_copy / "briefs.toml"
    cfg.write_text(cfg.read_text().replace('output = "../output"', f'output = "{tmp_path}/o"'))
    result = CliRunner().invoke(cli, ["--config", str(cfg), "run", "--date", "2024-04-06"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "o" / "index.html").read_text()
    assert "../index.html" not in page and "All briefs" not in page


def test_a_story_page_shows_its_headline_once(desk: Path) -> None:
    pages = sorted((desk.parent.parent / "out").glob("*/stories/*.html"))
    assert pages
    for page in pages:
        doc = lxml.html.fromstring(page.read_bytes())
        (h1,) = doc.xpath("//h1")
        headline = h1.text_content().strip()
        assert headline
        (card,) = doc.xpath("//article[contains(@class, 'story')]")
        assert card.get("aria-labelledby") == h1.get("id") == "story-h"
        assert not card.xpath(".//*[contains(@class, 'headline')]")
        (up,) = doc.xpath('//footer//a[@href="../../index.html"]')  # to the index of the briefs
        assert up.text_content() == "All briefs" and (page.parent / up.get("href")).is_file()


def test_section_feeds_keep_their_own_number_of_stories(tmp_path: Path) -> None:
    _desk(tmp_path, "story_feed_items = 1\nsection_feed_items = 1\n")
    wire = tmp_path / "out" / "wire"
    assert len(feedparser.parse((wire / "stories.xml").read_bytes()).entries) == 1
    counts = {
        f.name: len(feedparser.parse(f.read_bytes()).entries)
        for f in sorted(wire.glob("stories-*.xml"))
    }
    assert set(counts) == {
        f"stories-{s}.xml" for s in ("world", "business", "technology", "science")
    }
    # each section has its newest story, not only the one the story feed kept
    assert max(counts.values()) == 1 and sum(counts.values()) >= 2, counts
    for name in ("stories-world.json", "stories-world.atom"):
        assert (wire / name).is_file()


def test_status_columns_stay_aligned_under_long_brief_ids(tmp_path: Path) -> None:
    cfg = _desk(tmp_path, wire="wire-and-agencies")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "status"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if " next " in ln and ln.startswith("  ")]
    assert len(lines) == 2, result.output
    assert len({ln.index(" next ") for ln in lines}) == 1, result.output
    assert len({re.search(r"\s(30 6 \* \* \*)", ln).start() for ln in lines}) == 1  # type: ignore[union-attr]


def test_briefs_that_see_a_story_alike_share_its_summary(tmp_path: Path) -> None:
    """Two briefs over the same sources (by different tags) built in one run: the second
    brief's summaries (its edition's and its story feed's earlier editions') are the first's."""
    from briefs.summarize import summarize_shared

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    cfg = seeds / "briefs.toml"
    text = cfg.read_text().replace('output = "../output"', 'output = "../out"')
    cfg.write_text(text + '\n[[briefs]]\nid = "one"\n\n[[briefs]]\nid = "two"\ntitle = "Two"\n')
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(cfg), "run", "--date", "2024-04-05"])
    assert first.exit_code == 0, first.output
    summarize_shared.cache_clear()
    second = runner.invoke(cli, ["--config", str(cfg), "run", "--date", "2024-04-06"])
    assert second.exit_code == 0, second.output
    info = summarize_shared.cache_info()
    assert info.misses > 0 and info.hits == info.misses, info  # made once, used by both
    one = (tmp_path / "out" / "one" / "stories.xml").read_text()
    two = (tmp_path / "out" / "two" / "stories.xml").read_text()
    assert one.count("<item>") == two.count("<item>") > 0  # both story feeds carry them
