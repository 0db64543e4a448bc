"""Several briefs over one poll: [[briefs]], --brief, the index of the briefs, per-section
feeds, editions by date, and the editions and deliveries the store keeps per brief.

The demo's feeds are served over HTTP on loopback by a server that counts every request, so
"one poll" is counted, not assumed. One brief draws from a tag (the city paper's "local"),
one from two sources by id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import ConfigError, load_config
from briefs.models import Edition
from briefs.pipeline import run, run_briefs
from briefs.serve import make_server
from briefs.store import open_store
from briefs.store.migrations import MIGRATIONS, SCHEMA_VERSION
from briefs.timetable import edition_jobs
from tests.feedserver import FeedServer, feed_server, static
from tests.rawdb import raw_sqlite

FEEDS = {
    "harbour-herald": ("harbour-herald.xml", "application/rss+xml"),
    "meridian-wire": ("meridian-wire.atom", "application/atom+xml"),
    "northgate-times": ("northgate-times.xml", "application/rss+xml"),
    "civic-ledger": ("civic-ledger.rdf", "application/rdf+xml"),
    "pacific-dispatch": ("pacific-dispatch.json", "application/feed+json"),
}
TWO_BRIEFS = """
[[briefs]]
id = "local"
title = "The Local Brief"
tags = ["local"]
sections = ["local", "world"]
max_stories = 5
schedule = ["30 6 * * *"]

[[briefs]]
id = "wire"
title = "The Wire Brief"
sources = ["meridian-wire", "pacific-dispatch"]
language = "fr"
schedule = ["0 7 * * 1-5"]
"""
NOW = dt.datetime(2024, 4, 6, 22, 0, tzinfo=dt.UTC)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    """The demo's five feeds over HTTP on loopback (every request counted in ``hits``)."""
    with feed_server() as server:
        yield server


def _over_http(seeds: Path, server: FeedServer, extra: str = TWO_BRIEFS) -> Path:
    """The demo config with its feeds fetched from the server, and ``extra`` appended."""
    cfg = seeds / "briefs.toml"
    text = cfg.read_text()
    for name, ctype in FEEDS.values():
        body = (seeds / "feeds" / name).read_bytes()
        server.routes[f"/{name}"] = static(body, content_type=ctype)
        text = text.replace(f'url = "feeds/{name}"', f'url = "{server.url("/" + name)}"')
    cfg.write_text(text + extra)
    return cfg


def _outlets(markdown: str) -> set[str]:
    """The outlets an edition's Markdown cites in its source lists ("- Outlet: ...")."""
    return set(re.findall(r"^\s*- \*\*(.+?)\*\*", markdown, flags=re.M)) or set(
        re.findall(r"^- ([^:\n]+?):", markdown, flags=re.M)
    )


def test_two_briefs_are_built_from_one_poll(
    seeds_copy: Path, tmp_path: Path, feeds: FeedServer
) -> None:
    cfg = _over_http(seeds_copy, feeds)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["--config", str(cfg), "run", "--date", "2024-04-06", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # one poll for both briefs: every feed fetched exactly once
    assert {path: feeds.hits[path] for path in feeds.routes} == {
        f"/{name}": 1 for name, _ in FEEDS.values()
    }
    assert "Sources: 6 polled, 6 ok, 0 failed" in result.output
    assert "Brief local: Edition 2024-04-06" in result.output
    assert "Brief wire: Edition 2024-04-06" in result.output
    local = (out / "local" / "2024-04-06.md").read_text()
    wire = (out / "wire" / "2024-04-06.md").read_text()
    # each brief quotes only the sources it draws from
    config = load_config(cfg)
    titles = {s.id: s.title for s in config.sources}
    with open_store(config.database) as store:
        local_rec = store.recent_editions(5, "local")
        wire_rec = store.recent_editions(5, "wire")
        assert [r.edition.id for r in local_rec] == ["2024-04-06"]
        assert [r.edition.id for r in wire_rec] == ["2024-04-06"]
        assert store.recent_editions(5) == []  # no default brief in this config
        for records, allowed in (
            (local_rec, {"civic-ledger"}),
            (wire_rec, {"meridian-wire", "pacific-dispatch"}),
        ):
            story_ids = [sid for sid, _ in records[0].story_counts]
            assert story_ids
            members = [i for sid in story_ids for i in store.story(sid).article_ids]  # type: ignore[union-attr]
            sources = {a.source_id for a in store.articles(members)}
            assert sources & allowed, sources
    assert titles["civic-ledger"] in local and titles["meridian-wire"] not in local
    assert titles["civic-ledger"] not in wire
    assert titles["meridian-wire"] in wire or titles["pacific-dispatch"] in wire
    assert titles["harbour-herald"] not in local + wire
    # each brief's own settings: the wire brief's page is in French, capped stories locally
    assert '<html lang="fr">' in (out / "wire" / "2024-04-06.html").read_text()
    assert len(local_rec[0].story_counts) <= 5
    # the index of the briefs at the root, each brief in its folder with its feeds
    index = (out / "index.html").read_text()
    assert "The Local Brief" in index and "The Wire Brief" in index
    assert 'href="local/2024-04-06.html"' in index and 'href="wire/archive.html"' in index
    for folder in ("local", "wire"):
        for name in ("index.html", "archive.html", "feed.xml", "stories.json"):
            assert (out / folder / name).is_file(), (folder, name)
    feed = feedparser.parse((out / "wire" / "feed.xml").read_bytes())
    assert feed.entries[0].link == "http://localhost:8080/wire/2024-04-06.html"


def test_brief_option_builds_one_brief_and_polls_once(
    seeds_copy: Path, tmp_path: Path, feeds: FeedServer
) -> None:
    cfg = _over_http(seeds_copy, feeds)
    out = tmp_path / "out"
    args = ["--config", str(cfg), "run", "--date", "2024-04-06", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--brief", "wire"])
    assert result.exit_code == 0, result.output
    assert (out / "wire" / "2024-04-06.html").is_file()
    assert not (out / "local").exists()
    assert max(feeds.hits[p] for p in feeds.routes) == 1
    bad = CliRunner().invoke(cli, [*args, "--brief", "sport"])
    assert bad.exit_code == 1
    assert "no brief 'sport' (briefs: local, wire)" in bad.output
    # build (no poll) of the other brief from what is stored
    built = CliRunner().invoke(
        cli,
        [
            "--config",
            str(cfg),
            "build",
            "--date",
            "2024-04-06",
            "--out",
            str(out),
            "--brief",
            "local",
        ],
    )
    assert built.exit_code == 0, built.output
    assert (out / "local" / "2024-04-06.html").is_file()
    assert max(feeds.hits[p] for p in feeds.routes) == 1


def test_a_single_brief_table_writes_what_the_plain_config_writes(
    seeds_copy: Path, tmp_path: Path
) -> None:
    """The config of today is one brief: written as one [[briefs]] table (the default id,
    no filter), it builds byte for byte the same files, in the same place."""
    plain = load_config(seeds_copy / "briefs.toml")
    desk_cfg = seeds_copy / "desk.toml"
    desk_cfg.write_text(
        (seeds_copy / "briefs.toml").read_text().replace('"briefs.db"', '"desk.db"')
        + '\n[[briefs]]\nid = "default"\n'
    )
    desk = load_config(desk_cfg)
    assert len(desk.desk) == 1 and desk.current.output == ""
    written = {}
    for name, config in (("plain", plain), ("desk", desk)):
        config = dataclasses.replace(config, output=tmp_path / name)
        report = run(config, date=dt.date(2024, 4, 6), now=NOW)
        assert report.brief == "default"
        written[name] = {
            p.relative_to(tmp_path / name): p.read_bytes()
            for p in sorted((tmp_path / name).rglob("*"))
            if p.is_file()
        }
    assert written["plain"].keys() == written["desk"].keys()
    for path, data in written["plain"].items():
        assert data == written["desk"][path], path


def test_the_index_of_the_briefs_is_served_over_http(
    seeds_copy: Path, tmp_path: Path, feeds: FeedServer
) -> None:
    config = load_config(_over_http(seeds_copy, feeds))
    config = config.with_root(tmp_path / "out")
    run_briefs(config, date=dt.date(2024, 4, 6), now=NOW)
    server = make_server(config.root, "127.0.0.1", 0)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:

        def get(path: str) -> tuple[int, str, bytes]:
            with urllib.request.urlopen(server.url + path, timeout=10) as answer:
                return answer.status, answer.headers["Content-Type"], answer.read()

        status, ctype, body = get("")
        assert status == 200 and ctype.startswith("text/html")
        page = body.decode()
        assert page.index("The Local Brief") < page.index("The Wire Brief")  # file order
        assert 'href="local/"' in page and 'href="wire/"' in page
        # each link of the index resolves on the server
        for href in sorted(set(re.findall(r'href="((?:local|wire)/[^"#]*)"', page))):
            assert get(href)[0] == 200, href
        status, ctype, body = get("wire/")
        assert status == 200 and b"The Wire Brief" in body
        status, ctype, body = get("local/stories-local.xml")
        assert ctype.startswith("application/rss+xml")
        assert feedparser.parse(body).feed.title == "The Local Brief: local"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_section_feeds_carry_the_stories_of_their_section(seeds_copy: Path, tmp_path: Path) -> None:
    config = dataclasses.replace(load_config(seeds_copy / "briefs.toml"), output=tmp_path / "o")
    report = run(config, date=dt.date(2024, 4, 6), now=NOW)
    names = {Path(p).name for p in report.files}
    stories = json.loads((tmp_path / "o" / "stories.json").read_text())["items"]
    by_id = {item["id"]: item for item in stories}
    seen: set[str] = set()
    for section in config.brief.sections:
        assert {
            f"stories-{section}.xml",
            f"stories-{section}.atom",
            f"stories-{section}.json",
        } <= names
        feed = json.loads((tmp_path / "o" / f"stories-{section}.json").read_text())
        assert feed["title"] == f"The Demo Brief: {section}"
        ids = {item["id"] for item in feed["items"]}
        assert ids <= by_id.keys()  # the story feed's items, of that section only
        assert not ids & seen  # a story is in one section
        seen |= ids
        rss = feedparser.parse((tmp_path / "o" / f"stories-{section}.xml").read_bytes())
        assert not rss.bozo and {e.id for e in rss.entries} == ids
    assert seen, "the demo's stories fall into its sections"
    # the edition page names each story's section: the feeds agree with it
    page = (tmp_path / "o" / "2024-04-06.html").read_text()
    world = json.loads((tmp_path / "o" / "stories-world.json").read_text())["items"]
    for item in world:
        story_id = item["id"].rsplit("/", 1)[-1]
        head = page.index('id="story-' + story_id)
        assert page.rfind(">World<", 0, head) > page.rfind('class="section-h"', 0, head) - 200


def test_archive_lists_every_edition_of_its_brief_by_month(
    seeds_copy: Path, tmp_path: Path, feeds: FeedServer
) -> None:
    config = load_config(_over_http(seeds_copy, feeds))
    root = tmp_path / "out"
    config = config.with_root(root)
    for day in (dt.date(2024, 4, 5), dt.date(2024, 4, 6)):
        run_briefs(config, ["wire"], date=day, now=NOW)
    archive = (root / "wire" / "archive.html").read_text()
    with open_store(config.database) as store:
        records = store.recent_editions(10, "wire", html=False)
    assert [r.edition.id for r in records] == ["2024-04-06", "2024-04-05"]
    # the wire brief is French: its months are named in French
    assert archive.count('class="archive-month"') == 1 and ">avril 2024</h2>" in archive
    for rec in records:
        assert f'href="{rec.edition.id}.html"' in archive
        first = rec.summary.split("; ")[0]
        assert (first and first.replace("'", "&#39;").replace("&", "&amp;")[:20] in archive) or (
            first[:20] in archive
        )
    assert archive.index("2024-04-06.html") < archive.index("2024-04-05.html")
    assert '<a href="../index.html">tous les briefs</a>' in archive  # up to the index (in French)
    assert not (root / "local" / "archive.html").exists()  # the other brief was not built


def test_editions_list_prints_every_brief_by_month(
    seeds_copy: Path, tmp_path: Path, feeds: FeedServer
) -> None:
    cfg = _over_http(seeds_copy, feeds)
    out = load_config(cfg).root  # `editions delete` writes where the config says
    base = ["--config", str(cfg)]
    for day in ("2024-04-05", "2024-04-06"):
        done = CliRunner().invoke(cli, [*base, "run", "--date", day])
        assert done.exit_code == 0, done.output
    text = CliRunner().invoke(cli, [*base, "editions", "list"]).output
    assert text.index("Brief local (The Local Brief): 2 editions") < text.index(
        "Brief wire (The Wire Brief): 2 editions"
    )
    assert text.count("April 2024") == 2
    one = CliRunner().invoke(cli, [*base, "editions", "list", "--brief", "wire", "--json"])
    assert one.exit_code == 0, one.output
    rows = json.loads(one.output)
    assert [(r["brief"], r["edition"]) for r in rows] == [
        ("wire", "2024-04-06"),
        ("wire", "2024-04-05"),
    ]
    config = load_config(cfg)
    with open_store(config.database) as store:
        stored = store.recent_editions(5, "wire", html=False)
    assert [r["headlines"] for r in rows] == [r.summary.split("; ") for r in stored]
    assert rows[0]["page"] == "http://localhost:8080/wire/2024-04-06.html"
    assert rows[0]["stories"] == stored[0].story_count > 0
    for line in rows[0]["headlines"][:1]:
        assert line[:30] in text
    # deleting one brief's edition leaves the other's of the same day
    gone = CliRunner().invoke(cli, [*base, "editions", "delete", "2024-04-06", "--brief", "wire"])
    assert gone.exit_code == 0, gone.output
    with open_store(config.database) as store:
        assert store.edition_ids("wire") == ["2024-04-05"]
        assert store.edition_ids("local") == ["2024-04-06", "2024-04-05"]
    index = (out / "index.html").read_text()  # the index shows the brief's newest left
    assert 'href="wire/2024-04-05.html"' in index and 'href="local/2024-04-06.html"' in index
    ask = CliRunner().invoke(cli, [*base, "editions", "delete", "2024-04-05"])
    assert ask.exit_code == 1 and "needs --brief ID" in ask.output


def test_the_daemon_schedules_each_brief_at_its_own_times(seeds_copy: Path) -> None:
    cfg = seeds_copy / "briefs.toml"
    cfg.write_text(cfg.read_text() + TWO_BRIEFS)
    jobs = edition_jobs(load_config(cfg))
    assert [(j.brief, j.expr, j.job_id) for j in jobs] == [
        ("local", "30 6 * * *", "local/edition:#0"),
        ("wire", "0 7 * * 1-5", "wire/edition:#0"),
    ]
    single = edition_jobs(load_config(SEEDS_CONFIG))
    assert [(j.brief, j.job_id) for j in single] == [("default", "edition:#0")]


SEEDS_CONFIG = Path(__file__).resolve().parent.parent / "seeds" / "briefs.toml"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('id = "x"\nsources = ["nope"]', "briefs[0].sources[0]: no source with id 'nope'"),
        (
            'id = "x"\ntags = ["lokal"]',
            "briefs[0].tags[0]: no source has the tag 'lokal' (tags: local)",
        ),
        ('id = "X Y"', "briefs[0].id 'X Y': a brief id is lowercase letters"),
        ('title = "no id"', "briefs[0] needs an 'id'"),
        ('id = "x"\nmax_storys = 3', "unknown key briefs[0].'max_storys'"),
        ('id = "x"\nmax_stories = 0', "briefs[0].max_stories"),
        ('id = "x"\nschedule = ["61 * * * *"]', "briefs[0].schedule[0]: not a cron expression"),
        ('id = "x"\noutput = "../up"', "briefs[0].output '../up'"),
    ],
)
def test_brief_tables_are_checked_with_errors_naming_the_key(
    seeds_copy: Path, table: str, message: str
) -> None:
    cfg = seeds_copy / "briefs.toml"
    cfg.write_text(cfg.read_text() + f"\n[[briefs]]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    assert message in str(caught.value)
    assert str(cfg.resolve()) in str(caught.value)


def test_two_briefs_cannot_share_an_id_or_a_folder(seeds_copy: Path) -> None:
    cfg = seeds_copy / "briefs.toml"
    base = cfg.read_text()
    cfg.write_text(base + '\n[[briefs]]\nid = "a"\n\n[[briefs]]\nid = "a"\n')
    with pytest.raises(ConfigError, match=r"briefs\[1\]\.id 'a' is used twice"):
        load_config(cfg)
    cfg.write_text(base + '\n[[briefs]]\nid = "a"\n\n[[briefs]]\nid = "b"\noutput = "a"\n')
    with pytest.raises(ConfigError, match=r"briefs\[1\]\.output 'a': brief 'a' writes there"):
        load_config(cfg)
    cfg.write_text(base + '\n[[briefs]]\nid = "a"\noutput = ""\n\n[[briefs]]\nid = "b"\n')
    with pytest.raises(ConfigError, match="each needs a folder of its own"):
        load_config(cfg)


def test_brief_settings_inherit_brief_and_the_environment_overrides_them(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = seeds_copy / "briefs.toml"
    cfg.write_text(cfg.read_text() + TWO_BRIEFS)
    config = load_config(cfg)
    local, wire = (config.for_brief(b) for b in ("local", "wire"))
    assert local.brief.timezone == wire.brief.timezone == "Europe/London"  # from [brief]
    assert (local.brief.max_stories, wire.brief.max_stories) == (5, 12)
    assert (local.brief.language, wire.brief.language) == ("en", "fr")
    assert wire.brief.site_url == "http://localhost:8080/wire/"
    assert wire.output == config.root / "wire" and config.root == seeds_copy.parent / "output"
    assert local.brief_sources() == {"civic-ledger"}
    assert wire.brief_sources() == {"meridian-wire", "pacific-dispatch"}
    monkeypatch.setenv("BRIEFS_BRIEF_MAX_STORIES", "3")
    again = load_config(cfg)
    assert {again.for_brief(b).brief.max_stories for b in ("local", "wire")} == {3}


def _schema_11(path: Path) -> None:
    """A database as briefs of schema 11 left it: editions and deliveries without a brief."""
    open_store(str(path)).close()
    with raw_sqlite(path) as conn:
        conn.executescript(
            """
            DROP TABLE editions; DROP TABLE deliveries;
            CREATE TABLE editions (id VARCHAR(64) PRIMARY KEY, date DATE NOT NULL,
              slot VARCHAR(32) NOT NULL, built_at DATETIME NOT NULL, title TEXT NOT NULL,
              story_counts TEXT NOT NULL, content_html TEXT NOT NULL, summary TEXT NOT NULL);
            CREATE TABLE deliveries (edition_id VARCHAR(64) NOT NULL, recipient VARCHAR(320)
              NOT NULL, status VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL,
              created DATETIME NOT NULL, last_attempt DATETIME, next_attempt DATETIME,
              sent_at DATETIME, message_id TEXT, error TEXT, PRIMARY KEY (edition_id, recipient));
            CREATE INDEX ix_deliveries_status ON deliveries (status, next_attempt);
            INSERT INTO editions VALUES ('2024-04-06', '2024-04-06', '',
              '2024-04-06 20:00:00.000000', 'The Brief: Saturday', '{"s1": 3}', '<p>x</p>', 'A; B');
            INSERT INTO deliveries (edition_id, recipient, status, attempts, created, sent_at)
              VALUES ('2024-04-06', 'ann@example.org', 'sent', 1, '2024-04-06 20:01:00.000000',
              '2024-04-06 20:01:05.000000');
            UPDATE meta SET value = '11' WHERE key = 'schema_version';
            """
        )


def test_migration_keeps_editions_and_deliveries_as_the_default_briefs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema_11(path)
    with open_store(str(path)) as store:
        assert store.schema_version() == SCHEMA_VERSION
        [rec] = store.recent_editions(5)
        assert (rec.brief, rec.edition.id, rec.summary, dict(rec.story_counts)) == (
            "default",
            "2024-04-06",
            "A; B",
            {"s1": 3},
        )
        [sent] = store.deliveries("2024-04-06")
        assert (sent.brief, sent.recipient, sent.status) == ("default", "ann@example.org", "sent")
        # another brief's edition of the same day, and its own delivery to the same reader
        when = dt.datetime(2024, 4, 6, 21, tzinfo=dt.UTC)
        store.record_edition(Edition(dt.date(2024, 4, 6)), when, "Tech", {"s2": 1}, brief="tech")
        store.plan_deliveries("2024-04-06", ["ann@example.org"], when, brief="tech")
        assert [r.title for r in store.recent_editions(5, "tech")] == ["Tech"]
        assert [r.title for r in store.recent_editions(5)] == ["The Brief: Saturday"]
        assert [(d.brief, d.status) for d in store.deliveries(brief="tech")] == [
            ("tech", "pending")
        ]
        assert store.claim_delivery("2024-04-06", "ann@example.org", when) is None  # sent
        assert store.claim_delivery("2024-04-06", "ann@example.org", when, brief="tech") == 1
        assert store.delete_edition("2024-04-06", "tech")
        assert store.edition_ids() == ["2024-04-06"]
    # the step is idempotent: run again on the migrated file, it changes nothing
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        MIGRATIONS[11](conn)
    engine.dispose()
    with open_store(str(path)) as store:
        assert [r.brief for r in store.recent_editions(5, None)] == ["default"]
        assert len(store.deliveries(brief="tech")) == 1


def test_the_readmes_example_of_several_briefs_is_valid(tmp_path: Path) -> None:
    readme = (SEEDS_CONFIG.parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Several briefs over one poll\n", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    sources = "".join(
        f'\n[[sources]]\nid = "{sid}"\nurl = "https://{sid}.example.org/feed"\ntags = ["{tag}"]\n'
        for sid, tag in (("ars", "world"), ("verge", "tech"))
    )
    (tmp_path / "briefs.toml").write_text(example + sources)
    config = load_config(tmp_path / "briefs.toml")
    assert [b.id for b in config.desk] == ["world", "tech"]
    tech = config.for_brief("tech")
    assert tech.output == tmp_path / "output" / "tech"
    assert tech.brief.site_url == "https://news.example.org/tech/"
    assert tech.email.recipients == ("ann@example.org",)
    assert tech.brief_sources() == {"ars", "verge"}
    assert config.for_brief("world").brief_sources() == {"ars"}


def test_the_config_names_the_briefs_asked_and_the_failures_each_brief_shows(
    seeds_copy: Path,
) -> None:
    cfg = seeds_copy / "briefs.toml"
    cfg.write_text(cfg.read_text() + TWO_BRIEFS)
    config = load_config(cfg)
    assert config.brief_ids() == ("local", "wire")
    assert config.brief_ids(["wire", "local", "wire"]) == ("wire", "local")
    with pytest.raises(ConfigError, match=r"no brief 'sport' \(briefs: local, wire\)"):
        config.brief_ids(["wire", "sport"])
    names = {s.id: s.name for s in config.sources}
    failed = tuple((names[i], "HTTP 503") for i in ("meridian-wire", "harbour-herald"))
    # the wire draws from two sources: it lists only its own failure; seen from one brief the
    # desk is still both; a config without [[briefs]] lists every failure
    wire = config.for_brief("wire").failures_in_brief(failed)
    assert wire == ((names["meridian-wire"], "HTTP 503"),)
    assert load_config(seeds_copy / "briefs.toml").for_brief("wire").brief_ids() == (
        "local",
        "wire",
    )
    plain = seeds_copy / "plain.toml"
    plain.write_text(cfg.read_text().replace(TWO_BRIEFS, ""))
    assert load_config(plain).failures_in_brief(failed) == failed
