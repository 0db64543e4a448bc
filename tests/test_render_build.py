"""`briefs build` and the edition pipeline: editions and slots with cut-offs, the archive, the
per-story feed following a story as it develops, idempotent re-runs, the writer's promises.

Each test writes a small RSS file whose items have known times, polls it once with `briefs run`
(everything is stored at once) and then builds editions from the store: an edition must only
see what was published before its cut-off.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import load_config
from briefs.errors import ConfigError
from briefs.models import Edition

UTC = dt.UTC
# Two events: a bridge closure reported on 5 and 6 April (it develops), a festival on 6 April.
BRIDGE = (
    "The Fennimore bridge over the river Calder was closed to traffic on {day} after engineers "
    "found cracks in two of its steel supports, the county highways department said. "
    "Inspectors from the highways department will decide next week whether the bridge can reopen."
)
FESTIVAL = (
    "The Lanternfield kite festival drew a record crowd of twelve thousand visitors to the "
    "cliffs above Point Sable, organisers of the festival said on {day}, with kites from nine "
    "countries flying over the beach."
)
ITEMS = [
    # (id, outlet title, hour UTC on the day, day, template)
    (
        "bridge-1",
        "Bridge closed after cracks found",
        dt.datetime(2024, 4, 5, 9, tzinfo=UTC),
        BRIDGE,
    ),
    ("bridge-2", "Cracked bridge stays shut", dt.datetime(2024, 4, 6, 5, tzinfo=UTC), BRIDGE),
    (
        "bridge-3",
        "Bridge shut for weeks, say engineers",
        dt.datetime(2024, 4, 6, 15, tzinfo=UTC),
        BRIDGE,
    ),
    ("kites-1", "Record crowd at kite festival", dt.datetime(2024, 4, 6, 14, tzinfo=UTC), FESTIVAL),
]


def _rss(items: list[tuple[str, str, dt.datetime, str]]) -> str:
    entries = "".join(
        f"<item><title>{escape(title)}</title>"
        f"<link>https://local.example/{iid}</link><guid>https://local.example/{iid}</guid>"
        f"<pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{escape(text.format(day=when.strftime('%A')))}</description></item>"
        for iid, title, when, text in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Local Wire</title><link>https://local.example/</link>"
        f"<description>d</description>{entries}</channel></rss>"
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A config with one local feed source (and a second that always fails)."""
    (tmp_path / "local.xml").write_text(_rss(ITEMS), encoding="utf-8")
    (tmp_path / "briefs.toml").write_text(
        'database = "b.db"\noutput = "out"\n'
        '[brief]\ntitle = "Local Brief"\ntimezone = "UTC"\n'
        'site_url = "https://brief.example.net/news/"\nfeed_items = 2\n'
        'slots = ["morning@07:00", "evening@18:00"]\n'
        "[fetch]\nfetch_full_text = false\n"
        '[[sources]]\nid = "local"\ntitle = "Local Wire"\nurl = "local.xml"\ntags = ["local"]\n'
        '[[sources]]\nid = "gone"\ntitle = "Gone Gazette"\nurl = "http://127.0.0.1:9/gone.xml"\n',
        encoding="utf-8",
    )
    return tmp_path


def cli_ok(site: Path, *args: str) -> str:
    result = CliRunner().invoke(
        cli, ["--config", str(site / "briefs.toml"), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_build_renders_editions_by_slot_cut_off_without_polling(site: Path) -> None:
    out = site / "out"
    text = cli_ok(site, "run", "--date", "2024-04-05", "--slot", "evening")
    assert "Edition 2024-04-05-evening: 1 story\n" in text and "failed: Gone Gazette" in text
    (site / "local.xml").write_text("not a feed any more")  # build must not poll it
    text = cli_ok(site, "build", "--date", "2024-04-06", "--slot", "morning")
    assert "Edition 2024-04-06-morning" in text
    assert "Sources failing at their last poll: 1" in text and "Gone Gazette" in text
    morning = (out / "2024-04-06-morning.md").read_text()
    # only what was published before 07:00: the bridge (developing, one new report)
    assert "Bridge" in morning and "kite" not in morning.lower()
    assert "*Developing, day 2*" in morning and "1 new report" in morning
    cli_ok(site, "build", "--date", "2024-04-06", "--slot", "evening", "--email")
    evening = (out / "2024-04-06-evening.md").read_text()
    # the kites are new; the bridge grew by one report since the morning edition
    assert "kite festival" in evening.lower() and "*New*" in evening
    assert "1 new report" in evening
    # archive and feeds: newest first, slots of a day in their configured order
    archive = (out / "archive.html").read_text()
    order = [archive.index(f'href="{e}.html"') for e in
             ("2024-04-06-evening", "2024-04-06-morning", "2024-04-05-evening")]  # fmt: skip
    assert order == sorted(order)
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert [e.id.rsplit("/", 1)[1] for e in feed.entries] == [
        "2024-04-06-evening",
        "2024-04-06-morning",
    ]  # feed_items = 2: the newest two
    assert feed.entries[0].link == "https://brief.example.net/news/2024-04-06-evening.html"
    assert feed.feed.links[0].href.startswith("https://brief.example.net/news/")
    index = (out / "index.html").read_text()
    assert (
        '<link rel="canonical" href="https://brief.example.net/news/2024-04-06-evening.html"'
        in index
    )
    # no email is configured: the email edition is written only when asked for (--email)
    assert not (out / "2024-04-06-morning.eml").exists()
    # asked for, it was written too, and names its slot
    msg = email.message_from_bytes(
        (out / "2024-04-06-evening.eml").read_bytes(), policy=email.policy.default
    )
    assert msg["Subject"] == "Local Brief: Saturday 6 April 2024 (evening)"


def test_rebuilding_is_idempotent_and_an_old_edition_leaves_the_index(site: Path) -> None:
    out = site / "out"
    cli_ok(site, "run", "--date", "2024-04-05", "--slot", "evening")
    cli_ok(site, "build", "--date", "2024-04-06", "--slot", "evening")
    files = sorted(p.name for p in out.iterdir())
    index = (out / "index.html").read_text()
    cli_ok(site, "build", "--date", "2024-04-05", "--slot", "evening")  # re-build the old one
    assert sorted(p.name for p in out.iterdir()) == files  # same files, no temp files left
    assert (out / "index.html").read_text() == index  # index still shows the latest
    cli_ok(site, "build", "--date", "2024-04-06", "--slot", "evening")
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    ids = [e.id for e in feed.entries]
    assert len(ids) == len(set(ids)) == 2  # replaced, not duplicated
    stories = json.loads((out / "stories.json").read_text())
    ids = [i["id"] for i in stories["items"]]
    assert len(ids) == len(set(ids))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_story_feed_follows_a_developing_story(site: Path) -> None:
    out = site / "out"
    cli_ok(site, "run", "--date", "2024-04-05", "--slot", "evening")
    first = feedparser.parse((out / "stories.atom").read_bytes())
    assert len(first.entries) == 1
    bridge = first.entries[0]
    assert bridge.updated == "2024-04-05T09:00:00+00:00"
    assert bridge.link.endswith("stories/" + bridge.id.rsplit("/", 1)[1] + ".html")  # its page
    cli_ok(site, "build", "--date", "2024-04-06", "--slot", "evening")
    second = feedparser.parse((out / "stories.atom").read_bytes())
    by_id = {e.id: e for e in second.entries}
    assert len(by_id) == 2 and bridge.id in by_id  # same guid: the story, not a new item
    grown = by_id[bridge.id]
    assert grown.updated == "2024-04-06T15:00:00+00:00"  # updated as it developed
    assert "Developing" in grown.content[0].value and grown.link == bridge.link  # one page
    assert "2024-04-06-evening.html#story-" in grown.content[0].value  # names its new edition
    rss = feedparser.parse((out / "stories.xml").read_bytes())
    assert not rss.bozo and {e.id for e in rss.entries} == set(by_id)


def test_default_slot_is_the_one_still_open(site: Path) -> None:
    from briefs.slots import edition_cutoff, edition_for
    from briefs.store import open_store

    config = load_config(site / "briefs.toml")
    store = open_store(config.database)
    try:
        day = dt.date(2024, 4, 6)
        at = lambda h: dt.datetime(2024, 4, 6, h, tzinfo=UTC)  # noqa: E731
        assert edition_for(config, store, day, at(5)).slot == "morning"
        assert edition_for(config, store, day, at(12)).slot == "evening"
        assert edition_for(config, store, day, at(20)).slot == "evening"
        assert edition_cutoff(config, edition_for(config, store, day, at(5))) == at(7)
        with pytest.raises(ConfigError, match="no slot 'noon'"):
            edition_for(config, store, day, at(5), "noon")
    finally:
        store.close()


def test_the_previous_edition_is_the_one_that_closed_before_not_the_smaller_id(
    site: Path,
) -> None:
    """Slot editions of a day sort by id as evening < morning; their news follows the cut-offs."""
    from briefs.slots import previous_counts, previous_cutoff
    from briefs.store import Store

    config = load_config(site / "briefs.toml")
    day = dt.date(2024, 4, 6)
    evening_before = Edition(day - dt.timedelta(days=1), "evening")
    morning, evening = Edition(day, "morning"), Edition(day, "evening")
    with Store.open(config.database) as store:
        for edition, size in ((evening_before, 1), (morning, 2), (evening, 3)):
            store.record_edition(
                edition, dt.datetime(2024, 4, 7, tzinfo=UTC), edition.id, {"st": size}, "<p></p>"
            )
        assert previous_counts(config, store, evening) == {"st": 2}
        assert previous_counts(config, store, morning) == {"st": 1}
        assert previous_cutoff(config, store, morning) == dt.datetime(2024, 4, 5, 18, tzinfo=UTC)
        assert previous_counts(config, store, evening_before) == {}


def test_unknown_slot_and_an_empty_store_are_one_line_errors(site: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(site / "briefs.toml"), "build"])
    assert result.exit_code == 1 and "no articles stored" in result.output
    cli_ok(site, "run", "--date", "2024-04-05")
    result = CliRunner().invoke(
        cli, ["--config", str(site / "briefs.toml"), "build", "--slot", "midnight"]
    )
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "no slot 'midnight'" in result.output


def test_a_slot_is_refused_without_slots_and_named_editions_count_as_slots(
    seeds_copy: Path, tmp_path: Path
) -> None:
    """The demo has no brief.slots: --slot evening must not build a "-evening" edition."""
    config = seeds_copy / "briefs.toml"
    args = ["--config", str(config), "run", "--date", "2024-04-06", "--slot", "evening"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "no slot 'evening'" in result.output
    assert "no slots are configured" in result.output
    assert not list((tmp_path / "output").glob("*evening*"))
    # a daemon may name its editions without brief.slots: those names are the known slots
    text = config.read_text(encoding="utf-8")
    text += '\n[schedule]\neditions = ["morning: 30 6 * * *", "evening: 0 18 * * *"]\n'
    config.write_text(text, encoding="utf-8")
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert (tmp_path / "output" / "2024-04-06-evening.html").is_file()
    result = CliRunner().invoke(cli, [*args[:-1], "noon"])
    assert result.exit_code == 1 and "(morning, evening)" in result.output


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('slots = ["Morning"]', "a slot name is lowercase"),
        ('slots = ["am@7 o\'clock"]', "the cut-off must be a time"),
        ('slots = ["am@07:00", "am@08:00"]', "named twice"),
        ('slots = ["am@07:00"]\nslot = "pm"', "not one of brief.slots"),
        ('site_url = "news.example.org"', "absolute http(s) URL"),
        ('site_url = "javascript:alert(1)"', "absolute http(s) URL"),
    ],
)
def test_brief_settings_are_validated(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "briefs.toml"
    path.write_text(f"[brief]\n{text}\n")
    with pytest.raises(ConfigError, match=r"brief\.s") as info:
        load_config(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_publisher_removes_temp_files_left_by_a_crash(tmp_path: Path) -> None:
    import os

    from briefs.publish import STALE_SECONDS, Publisher

    out = tmp_path / "out"
    out.mkdir()
    stale, fresh = out / ".briefs-feed.xml.abc.tmp", out / ".briefs-feed.xml.def.tmp"
    outbox = out / "outbox" / "2024-04-06"
    outbox.mkdir(parents=True)
    stale_outbox = outbox / ".briefs-001-a@b.eml.x1.tmp"
    # other programs' temporary files, as old, wherever they are: never touched
    (out / "notes").mkdir()
    foreign = [
        out / ".feed.xml.abc.tmp",  # no briefs prefix
        out / ".swp.tmp",
        out / "notes" / ".draft.tmp",
        out / "notes" / ".briefs-x.tmp",  # briefs' prefix, but in a folder briefs never writes
    ]
    for path in (stale, fresh, stale_outbox, *foreign):
        path.write_text("half a fe")
    old = os.stat(stale).st_mtime - STALE_SECONDS - 60
    for path in (stale, stale_outbox, *foreign):
        os.utime(path, (old, old))
    Publisher(out).write("feed.xml", "<rss/>")
    assert not stale.exists() and not stale_outbox.exists()
    assert fresh.exists()  # a write still in progress is left alone
    assert all(p.exists() for p in foreign)
    assert (out / "feed.xml").read_text() == "<rss/>"
    assert not [p for p in out.iterdir() if p.name.startswith(".briefs-") and p != fresh]


def test_the_sweep_in_a_shared_folder_leaves_other_programs_files(tmp_path: Path) -> None:
    """``output = "."``: the config's own folder is the output folder."""
    import os

    from briefs.publish import STALE_SECONDS

    (tmp_path / "local.xml").write_text(_rss(ITEMS[:1]), encoding="utf-8")
    (tmp_path / "briefs.toml").write_text(
        'database = "b.db"\noutput = "."\n[brief]\ntimezone = "UTC"\n'
        '[[sources]]\nid = "local"\nurl = "local.xml"\n'
    )
    theirs = [tmp_path / ".vimrc.tmp", tmp_path / "project" / ".build.tmp"]
    theirs[1].parent.mkdir()
    for path in theirs:
        path.write_text("mine")
        old = os.stat(path).st_mtime - STALE_SECONDS * 24
        os.utime(path, (old, old))
    cli_ok(tmp_path, "run", "--date", "2024-04-05")
    assert (tmp_path / "2024-04-05.md").is_file()
    assert all(p.read_text() == "mine" for p in theirs)
