"""Story pages: every story that made an edition has a permanent page, stories/<id>.html, that
the editions and the per-story feed link to, showing its reports day by day, its editions and
why its reports are together."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import load_config
from briefs.store import open_store
from tests.conftest import ROOT


def _run(cfg: str, out: Path, day: str) -> None:
    result = CliRunner().invoke(
        cli, ["--config", cfg, "run", "--date", day, "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("pages")
    seeds = base / "seeds"
    shutil.copytree(ROOT / "seeds", seeds, ignore=shutil.ignore_patterns("*.db*"))
    out = base / "out"
    cfg = str(seeds / "briefs.toml")
    for day in ("2024-04-05", "2024-04-06"):
        _run(cfg, out, day)
    return out, cfg


def _edition_story_ids(out: Path, edition: str) -> list[str]:
    doc = lxml.html.parse(str(out / f"{edition}.html")).getroot()
    return [a.get("id").removeprefix("story-") for a in doc.xpath("//article[@id]")]


def test_every_story_of_every_edition_has_its_page_linked_from_the_edition(
    site: tuple[Path, str],
) -> None:
    out, _ = site
    for edition in ("2024-04-05", "2024-04-06"):
        ids = _edition_story_ids(out, edition)
        assert ids
        doc = lxml.html.parse(str(out / f"{edition}.html")).getroot()
        links = doc.xpath(
            "//article//h2[@class='headline']/a/@href | //article//h3[@class='headline']/a/@href"
        )
        assert sorted(links) == sorted(f"stories/{sid}.html" for sid in ids)
        for sid in ids:
            assert (out / "stories" / f"{sid}.html").is_file()


def test_a_story_page_shows_its_reports_editions_and_reasons(site: tuple[Path, str]) -> None:
    out, cfg = site
    config = load_config(Path(cfg))
    first = set(_edition_story_ids(out, "2024-04-05"))
    both = [sid for sid in _edition_story_ids(out, "2024-04-06") if sid in first]
    assert both, "the demo has a story developing over both days"
    sid = both[0]
    page = out / "stories" / f"{sid}.html"
    doc = lxml.html.parse(str(page)).getroot()
    with open_store(config.database) as store:
        story = store.story(sid)
        assert story is not None
        members = store.articles(list(story.article_ids))
    # every report, by day, with its outlet and link (syndicated copies folded under theirs)
    listed = doc.xpath("//ol[@class='days']//ul[@class='reports']//a/@href")
    originals = {a.url for a in members if not a.duplicate_of}
    assert originals <= set(listed)
    days = doc.xpath("//ol[@class='days']/li/h3/time/@datetime")
    assert days == sorted(days) and len(days) >= 2  # dated, oldest first, across days
    # the editions it appeared in, newest first, each linking to the story on that edition
    editions = doc.xpath("//ul[@class='editions-in']//a/@href")
    assert editions == [f"../2024-04-06.html#story-{sid}", f"../2024-04-05.html#story-{sid}"]
    # why they are together: the shared terms, and a reason for every member
    terms = doc.xpath("//ul[@class='terms']/li/text()")
    assert terms and terms[0] == story.terms[0]
    reasons = doc.xpath("//ul[@class='why']/li")
    assert len(reasons) == len(members)
    text = " ".join(r.text_content() for r in reasons)
    assert "similarity" in text and "shared terms:" in text
    assert all(r.xpath(".//span[@class='how']")[0].text_content().strip() for r in reasons)


def test_story_page_links_resolve_in_the_output_folder(site: tuple[Path, str]) -> None:
    out, _ = site
    for page in sorted((out / "stories").glob("*.html")):
        doc = lxml.html.parse(str(page)).getroot()
        for _el, _attr, url, _ in doc.iterlinks():
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "data"):
                continue
            target = Path(urljoin(page.as_uri(), parts.path).removeprefix("file://"))
            assert target.is_file(), f"{page.name}: {url}"
            if parts.fragment:
                ids = lxml.html.parse(str(target)).getroot().xpath("//@id")
                assert parts.fragment in ids, f"{page.name}: {url}"


def test_the_story_feed_links_each_story_to_its_page(site: tuple[Path, str]) -> None:
    out, _ = site
    feed = json.loads((out / "stories.json").read_text())
    assert feed["items"]
    for item in feed["items"]:
        match = re.search(r"/stories/([0-9a-f]+)\.html$", item["url"])
        assert match, item["url"]
        assert (out / "stories" / f"{match.group(1)}.html").is_file()


def test_rebuilding_an_older_edition_keeps_the_newer_page(site: tuple[Path, str]) -> None:
    out, cfg = site
    first = set(_edition_story_ids(out, "2024-04-05"))
    sid = next(s for s in _edition_story_ids(out, "2024-04-06") if s in first)
    page = out / "stories" / f"{sid}.html"
    before = page.read_bytes()
    older = (out / "2024-04-05.html").stat().st_mtime_ns
    result = CliRunner().invoke(
        cli,
        ["--config", cfg, "build", "--date", "2024-04-05", "--out", str(out), "--force"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert (out / "2024-04-05.html").stat().st_mtime_ns != older  # it was built again
    assert page.read_bytes() == before
    assert b"2024-04-06.html#story-" in before
