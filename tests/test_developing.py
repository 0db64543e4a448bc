"""Developing stories told as news, on the bundled demo run day by day (seeds/CORPUS.md).

Stories A (Guangzhou talks) and B (Calder Bay flood) develop over 4-6 April; D (Orbis outage)
ends on 5 April. Built as a reader gets them (one edition a day, each after the one before):
the 6 April edition leads A and B with 6 April facts under 6 April headlines, tells their
earlier days in a timeline, links every report in every format, and drops D (nothing new) unless
``brief.nothing_new = "mark"``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import load_config
from briefs.store import open_store

DAYS = ("2024-04-04", "2024-04-05", "2024-04-06")


def _build(seeds: Path, out: Path, extra: str = "") -> Path:
    config = seeds / "briefs.toml"
    if extra:
        config.write_text(config.read_text().replace("[brief]\n", f"[brief]\n{extra}\n", 1))
    for day in DAYS:
        result = CliRunner().invoke(
            cli,
            ["--config", str(config), "run", "--date", day, "--out", str(out), "--email"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    return config


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import shutil

    from tests.conftest import SEEDS

    root = tmp_path_factory.mktemp("demo")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    out = root / "out"
    return _build(seeds, out), out


def _stories(md: str) -> dict[str, str]:
    # "### N. headline" under section headings, "## N. headline" in an edition without them
    parts = re.split(r"\n#{2,3} (?=\d+\. )", md)[1:]
    return {s.split("\n", 1)[0].split(". ", 1)[1]: s for s in parts}


def _day3_urls(config: Path) -> set[str]:
    store = open_store(load_config(config).database)
    try:
        ids = store.published_since(dt.datetime(2024, 4, 5, 23, 0, tzinfo=dt.UTC))
        return {a.url for a in store.articles(list(ids)) if "/2024/04/06/" in a.url}
    finally:
        store.close()


def test_day3_leads_with_day3_facts_under_day3_headlines(demo: tuple[Path, Path]) -> None:
    _, out = demo
    stories = _stories((out / "2024-04-06.md").read_text())
    talks = next(s for h, s in stories.items() if "China" in h and "balanced growth" in h)
    flood = next(s for h, s in stories.items() if "Calder Bay" in h and "$85 million" in h)
    for story in (talks, flood):
        lead = story.split("\n- ", 1)[1].split("\n", 1)[0]
        ref = re.search(r"\]\[(\d+)\]$", lead)
        assert ref, lead
        url = re.search(rf"^\[{ref.group(1)}\]: <([^>]+)>", story, re.M)
        assert url and "/2024/04/06/" in url.group(1), lead
        assert "Earlier:" in story  # the earlier days, in one dated sentence each
        assert "*Fri 5 Apr:*" in story and "*Thu 4 Apr:*" in story
    assert "wrapped up two days of talks" in talks.split("Earlier:")[0]
    assert "Thursday" not in flood.split("\n- ", 1)[1].split("\n", 1)[0]
    # the 5 April headline of the talks is gone with the day that made it
    assert not any("Yellen begins Guangzhou talks" in h for h in stories)


def test_every_day3_report_is_linked_in_every_format(demo: tuple[Path, Path]) -> None:
    config, out = demo
    wanted = _day3_urls(config)
    assert len(wanted) >= 10
    md = (out / "2024-04-06.md").read_text()
    page = lxml.html.fromstring((out / "2024-04-06.html").read_bytes())
    hrefs = {a.get("href") for a in page.xpath("//main//a")}
    msg = email.message_from_bytes(
        (out / "2024-04-06.eml").read_bytes(), policy=email.policy.default
    )
    assert isinstance(msg, email.message.EmailMessage)
    html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
    assert html_part is not None and text_part is not None
    mail_hrefs = {a.get("href") for a in lxml.html.fromstring(html_part.get_content()).xpath("//a")}
    text = text_part.get_content()
    for url in wanted:
        assert f"<{url}>" in md, url
        assert url in hrefs, url
        assert url in mail_hrefs, url
        assert url in text, url


def test_the_text_email_lists_every_reference_it_cites(demo: tuple[Path, Path]) -> None:
    _, out = demo
    for day in DAYS:
        msg = email.message_from_bytes(
            (out / f"{day}.eml").read_bytes(), policy=email.policy.default
        )
        assert isinstance(msg, email.message.EmailMessage)
        part = msg.get_body(("plain",))
        assert part is not None
        text = part.get_content()
        cited = {int(n) for n in re.findall(r"(?<=\S )\[(\d+)\]", text)}
        listed = {int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+\S", text, re.M)}
        assert cited and cited <= listed, (day, sorted(cited - listed))
        # and each listed number is followed by its URL
        for n in listed:
            assert re.search(rf"^\s+\[{n}\]\s.*\n(?:.*\n)*?\s+https?://", text, re.M)


def test_a_story_with_nothing_new_drops_out_by_default(demo: tuple[Path, Path]) -> None:
    _, out = demo
    day2 = _stories((out / "2024-04-05.md").read_text())
    day3 = _stories((out / "2024-04-06.md").read_text())
    assert any("Orbis" in h for h in day2)
    assert not any("Orbis" in h for h in day3)
    assert "No new reports" not in (out / "2024-04-06.md").read_text()


def test_marking_keeps_quiet_stories_last_with_no_new_reports(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import SEEDS

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    out = tmp_path / "out"
    config = seeds / "briefs.toml"
    # one section, so that the ranked order is the printed order
    config.write_text(re.sub(r"(?m)^(?:sections|tags) = .*$", "", config.read_text()))
    _build(seeds, out, 'nothing_new = "mark"')
    md = (out / "2024-04-06.md").read_text()
    stories = list(_stories(md).values())
    quiet = [i for i, s in enumerate(stories) if "*No new reports*" in s]
    news = [i for i, s in enumerate(stories) if "*No new reports*" not in s]
    assert quiet and news and max(news) < min(quiet)
    assert any("Orbis" in stories[i].split("\n", 1)[0] for i in quiet)
    page = lxml.html.fromstring((out / "2024-04-06.html").read_bytes())
    assert page.xpath("//span[contains(@class, 'quiet')][normalize-space()='No new reports']")
