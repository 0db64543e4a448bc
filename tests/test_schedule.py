"""Scheduling decisions with an injected clock: local times across DST changes, a missed edition
caught up once, no double build after a restart, jittered polling, delivery after a build."""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from briefs.config import Config, cron_trigger, load_config
from briefs.ingest.due import poll_offset
from briefs.pipeline import run
from briefs.schedule import Daemon
from briefs.status import daemon_status
from briefs.store import open_store
from briefs.timetable import fire_times
from tests.rawdb import raw_database
from tests.servers import SmtpServer

LONDON = zoneinfo.ZoneInfo("Europe/London")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


class Clock:
    """A settable clock."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def configure(
    seeds: Path, tmp_path: Path, schedule: str, extra: str = "", database: str | None = None
) -> Config:
    """The demo's config with this schedule, output in tmp_path, and the given database."""
    cfg = seeds / "briefs.toml"
    text = cfg.read_text().replace('output = "../output"', f'output = "{tmp_path / "out"}"')
    if database is not None:
        text = text.replace('database = "briefs.db"', f'database = "{database}"', 1)
    cfg.write_text(text + "\n[schedule]\n" + schedule + "\n" + extra)
    return load_config(cfg)


@pytest.fixture
def system_zone_elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own zone is New York: nothing may depend on it."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_fire_times_are_local_across_both_dst_changes(system_zone_elsewhere: None) -> None:
    trigger = cron_trigger("30 6 * * *", LONDON)
    spring = fire_times(trigger, utc(2024, 3, 29), utc(2024, 4, 2))
    assert [t.astimezone(dt.UTC) for t in spring] == [
        utc(2024, 3, 29, 6, 30),  # GMT
        utc(2024, 3, 30, 6, 30),
        utc(2024, 3, 31, 5, 30),  # BST from 31 March
        utc(2024, 4, 1, 5, 30),
    ]
    assert all(t.astimezone(LONDON).strftime("%H:%M") == "06:30" for t in spring)
    autumn = fire_times(trigger, utc(2024, 10, 26), utc(2024, 10, 29))
    assert [t.astimezone(dt.UTC) for t in autumn] == [
        utc(2024, 10, 26, 5, 30),  # BST
        utc(2024, 10, 27, 6, 30),  # GMT from 27 October
        utc(2024, 10, 28, 6, 30),
    ]


def test_an_hour_that_happens_twice_builds_once_and_a_skipped_hour_still_builds() -> None:
    trigger = cron_trigger("30 1 * * *", LONDON)
    # 27 October 2024: 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT)
    assert [
        t.astimezone(dt.UTC) for t in fire_times(trigger, utc(2024, 10, 27), utc(2024, 10, 28))
    ] == [utc(2024, 10, 27, 0, 30)]
    # 31 March 2024: 01:30 does not exist (01:00 GMT -> 02:00 BST); it builds once, an hour on
    days = fire_times(trigger, utc(2024, 3, 30, 12), utc(2024, 4, 1, 12))
    assert [t.astimezone(dt.UTC) for t in days] == [utc(2024, 3, 31, 1, 30), utc(2024, 4, 1, 0, 30)]


@pytest.mark.slow
def test_editions_are_built_at_their_local_times_across_dst(
    seeds_copy: Path, tmp_path: Path, system_zone_elsewhere: None
) -> None:
    config = configure(seeds_copy, tmp_path, 'editions = ["30 6 * * *"]\ngrace_minutes = 60')
    clock = Clock(utc(2024, 3, 30, 6, 29))
    daemon = Daemon(config, clock=clock)
    [job] = daemon.jobs
    assert job.trigger.timezone == LONDON
    assert daemon.build_due(job) is None  # 06:29 GMT: not yet
    clock.now = utc(2024, 3, 30, 6, 31)
    assert daemon.build_due(job) is not None
    clock.now = utc(2024, 3, 31, 5, 29)  # 06:29 BST
    assert daemon.build_due(job) is None
    clock.now = utc(2024, 3, 31, 5, 31)  # 06:31 BST
    built = daemon.build_due(job)
    assert built is not None and built.id == "2024-03-31"
    assert daemon.store.edition_built_at("2024-03-31") == utc(2024, 3, 31, 5, 31)
    daemon.close()


def test_a_missed_edition_is_caught_up_once_within_the_grace_period(
    seeds_copy: Path, tmp_path: Path, database: str
) -> None:
    config = configure(
        seeds_copy,
        tmp_path,
        'editions = ["morning: 30 6 * * *", "evening: 0 18 * * *"]\ngrace_minutes = 120',
        database=database,
    )
    # the machine was off at 06:30; it starts at 08:00 BST
    clock = Clock(utc(2024, 4, 6, 7, 0))
    daemon = Daemon(config, clock=clock)
    assert [e.id for e in daemon.catch_up()] == ["2024-04-06-morning"]
    built_at = daemon.store.edition_built_at("2024-04-06-morning")
    assert built_at == utc(2024, 4, 6, 7, 0)
    assert (config.output / "2024-04-06-morning.html").is_file()
    daemon.close()
    # restarted ten minutes later: nothing to catch up, nothing rebuilt
    clock.now = utc(2024, 4, 6, 7, 10)
    again = Daemon(config, clock=clock)
    assert again.catch_up() == []
    assert again.store.edition_built_at("2024-04-06-morning") == built_at
    again.close()
    # off all the next morning, back at 09:00 BST: 06:30 is beyond the two-hour grace period
    clock.now = utc(2024, 4, 7, 8, 0)
    late = Daemon(config, clock=clock)
    assert late.catch_up() == []
    assert late.store.edition_built_at("2024-04-07-morning") is None
    status = daemon_status(config, late.store, clock.now)
    assert [(slot, last is not None) for slot, _, _, last, _ in status.editions] == [
        ("morning", False),
        ("evening", False),
    ]
    late.close()


def test_no_double_build_after_a_restart_and_a_manual_run_does_not_count_early(
    seeds_copy: Path, tmp_path: Path, database: str
) -> None:
    config = configure(seeds_copy, tmp_path, 'editions = ["30 6 * * *"]', database=database)
    # `briefs run` at 05:00 BST builds the day's edition before its scheduled time
    run(config, date=dt.date(2024, 4, 6), now=utc(2024, 4, 6, 4, 0))
    clock = Clock(utc(2024, 4, 6, 5, 30, 2))  # 06:30:02 BST: the scheduled job runs
    daemon = Daemon(config, clock=clock)
    [job] = daemon.jobs
    assert daemon.build_due(job) is not None  # built at 05:00 is before 06:30: build again
    assert daemon.build_due(job) is None  # the job firing twice does not build twice
    daemon.close()
    clock.now = utc(2024, 4, 6, 5, 45)
    restarted = Daemon(config, clock=clock)
    assert restarted.catch_up() == []
    assert restarted.store.edition_built_at("2024-04-06") == utc(2024, 4, 6, 5, 30, 2)
    restarted.close()


def test_polls_are_spread_by_jitter_and_follow_the_stored_next_poll(
    seeds_copy: Path, tmp_path: Path, database: str
) -> None:
    config = configure(seeds_copy, tmp_path, "jitter = 600", database=database)
    clock = Clock(utc(2024, 4, 6, 12))
    daemon = Daemon(config, clock=clock)
    offsets = {s.id: poll_offset(s.id, config.schedule.jitter) for s in config.sources}
    assert len(set(offsets.values())) == len(offsets)  # not all at the same moment
    assert all(dt.timedelta(0) <= o < dt.timedelta(seconds=600) for o in offsets.values())
    assert poll_offset("harbour-herald", 600) == offsets["harbour-herald"]
    # never polled: due at once, so the first edition has news
    assert len(daemon.due_sources(clock.now)) == len(config.sources)
    assert daemon.poll_due() == len(config.sources)
    assert daemon.store.article_count() == 39
    assert daemon.poll_due() == 0
    # then each source an interval (60 min) after its last poll, plus its own offset
    assert daemon.due_sources(clock.now + dt.timedelta(minutes=60)) == []
    order = sorted(offsets, key=lambda sid: offsets[sid])
    for i, sid in enumerate(order, 1):
        when = clock.now + dt.timedelta(minutes=60) + offsets[sid]
        assert sorted(s.id for s in daemon.due_sources(when)) == sorted(order[:i])
    daemon.close()


def test_an_edition_is_delivered_after_its_build_once(
    seeds_copy: Path, tmp_path: Path, database: str
) -> None:
    with SmtpServer("none") as smtp:
        config = configure(
            seeds_copy,
            tmp_path,
            'editions = ["30 6 * * *"]',
            f'[email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
            'sender = "desk@news.example"\nrecipients = ["Ann <ann@example.org>", "bob@example.net"]\n',
            database=database,
        )
        clock = Clock(utc(2024, 4, 6, 5, 30, 1))
        daemon = Daemon(config, clock=clock)
        daemon._job_catch_up()  # what the scheduler runs at start-up: build, then deliver
        assert sorted(r.rcpt_tos[0] for r in smtp.inbox.received) == [
            "ann@example.org",
            "bob@example.net",
        ]
        assert smtp.inbox.to("ann@example.org")[0].message["To"] == "Ann <ann@example.org>"
        daemon.close()
        clock.now = utc(2024, 4, 6, 5, 50)
        restarted = Daemon(config, clock=clock)
        restarted._job_catch_up()
        restarted._job_deliver()
        assert len(smtp.inbox.received) == 2
        status = daemon_status(config, restarted.store, clock.now)
        assert status.last_edition is not None and status.deliveries == {"sent": 2}
        restarted.close()


def test_starting_the_daemon_does_not_email_an_edition_built_by_hand(
    seeds_copy: Path, tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    with SmtpServer("none") as smtp:
        config = configure(
            seeds_copy,
            tmp_path,
            'editions = ["30 6 * * *"]',
            f'[email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
            'sender = "desk@news.example"\nrecipients = ["ann@example.org"]\n',
            database=database,
        )
        # `briefs run` at 07:00 BST, after the scheduled 06:30: the edition is the user's
        run(config, date=dt.date(2024, 4, 6), now=utc(2024, 4, 6, 6, 0))
        clock = Clock(utc(2024, 4, 6, 6, 30))
        daemon = Daemon(config, clock=clock)
        with caplog.at_level(logging.INFO, "briefs.schedule"):
            daemon._job_catch_up()
            daemon._job_deliver()
        assert smtp.inbox.received == []
        assert daemon.store.deliveries() == []
        lines = [r.getMessage() for r in caplog.records if r.name == "briefs.schedule"]
        assert any(
            "deliver 2024-04-06: skipped: built by hand at 2024-04-06 07:00 BST" in line
            for line in lines
        ), lines
        daemon.close()
        # the daemon's own build is delivered, even when planned only after a restart
        next_day = Clock(utc(2024, 4, 7, 5, 30, 1))
        daemon = Daemon(config, clock=next_day)
        [job] = daemon.jobs
        assert daemon.build_due(job) is not None
        daemon.close()
        with raw_database(config.database) as sql:  # as if it died before planning them
            sql("DELETE FROM deliveries")
        restarted = Daemon(config, clock=next_day)
        restarted._job_catch_up()
        restarted._job_deliver()
        assert [r.rcpt_tos for r in smtp.inbox.received] == [["ann@example.org"]]
        restarted.close()


def _lines(func: Callable[[], object], caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    func()
    return [r.getMessage() for r in caplog.records if r.name == "briefs.schedule"]


def test_one_log_line_per_job_with_counts_and_durations(
    seeds_copy: Path, tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="briefs.schedule")
    config = configure(
        seeds_copy, tmp_path, 'editions = ["30 6 * * *"]\njitter = 0', database=database
    )
    clock = Clock(utc(2024, 4, 6, 5, 31))
    daemon = Daemon(config, clock=clock)
    [poll] = _lines(daemon.poll_due, caplog)
    assert poll.startswith("poll: 6 of 6 sources polled, 0 failed, 39 new articles, ")
    assert poll.endswith(" s")
    [build] = _lines(daemon.catch_up, caplog)
    assert build.startswith("build 2024-04-06 (scheduled 2024-04-06 06:30 BST): ")
    assert "stories" in build and build.endswith(" s")
    daemon.close()


def test_status_shows_sources_in_trouble(seeds_copy: Path, tmp_path: Path, database: str) -> None:
    config = configure(
        seeds_copy,
        tmp_path,
        "jitter = 0",
        '[[sources]]\nid = "gone"\nurl = "http://127.0.0.1:9/missing.xml"\n',
        database=database,
    )
    clock = Clock(utc(2024, 4, 6, 12))
    daemon = Daemon(config, clock=clock)
    daemon.poll_due()
    status = daemon_status(config, daemon.store, clock.now)
    assert [s.source_id for s in status.troubled] == ["gone"]
    assert status.troubled[0].consecutive_failures == 1
    assert status.daemon is None
    store = open_store(config.database)
    assert store.feed_state("gone").last_error  # type: ignore[union-attr]
    store.close()
    daemon.close()


def test_without_catch_up_a_slightly_late_scheduled_run_still_builds(
    seeds_copy: Path, tmp_path: Path
) -> None:
    config = configure(seeds_copy, tmp_path, 'editions = ["30 6 * * *"]\ngrace_minutes = 0')
    clock = Clock(utc(2024, 4, 6, 5, 31))  # 06:31 BST: a minute after the time
    daemon = Daemon(config, clock=clock)
    assert daemon.catch_up() == []  # catching up at start-up is off
    [job] = daemon.jobs
    built = daemon.build_due(job)  # what the scheduled job does when it runs a minute late
    assert built is not None and built.id == "2024-04-06"
    daemon.close()


def test_unnamed_editions_build_the_slot_open_at_their_time(
    seeds_copy: Path, tmp_path: Path
) -> None:
    cfg = seeds_copy / "briefs.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'title = "The Demo Brief"', 'title = "The Demo Brief"\nslots = ["am@09:00", "pm"]'
        )
    )
    config = configure(seeds_copy, tmp_path, 'editions = ["30 6 * * *", "0 18 * * *"]')
    clock = Clock(utc(2024, 4, 6, 5, 31))  # 06:31 BST: the morning slot is open
    daemon = Daemon(config, clock=clock)
    first, second = daemon.jobs
    built = daemon.build_due(first)
    assert built is not None and built.id == "2024-04-06-am"
    clock.now = utc(2024, 4, 6, 17, 1)  # 18:01 BST: after the 09:00 cut-off
    built = daemon.build_due(second)
    assert built is not None and built.id == "2024-04-06-pm"
    assert daemon.build_due(first) is None  # 06:30 was built, and is long past
    assert {j.job_id for j in daemon.jobs} == {"edition:#0", "edition:#1"}
    daemon.close()


def test_a_refused_login_pauses_delivery_instead_of_retrying_every_tick(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.servers import self_signed_cert

    cert = self_signed_cert(tmp_path)
    with SmtpServer("starttls", users={"desk": "right"}, cert=cert) as smtp:
        config = configure(
            seeds_copy,
            tmp_path,
            'editions = ["30 6 * * *"]\npoll_tick = 60',
            f'[email]\nhost = "127.0.0.1"\nport = {smtp.port}\nusername = "desk"\n'
            f'cafile = "{cert[0]}"\nsender = "desk@news.example"\n'
            'recipients = ["ann@example.org"]\nretry_delay = 120\n',
        )
        monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "wrong")
        clock = Clock(utc(2024, 4, 6, 5, 31))
        daemon = Daemon(config, clock=clock)
        daemon._job_catch_up()  # builds, then tries to deliver: the login is refused
        tried = len(smtp.logins)  # (smtplib tries each AUTH mechanism the server offers)
        assert tried >= 1
        clock.now += dt.timedelta(seconds=60)
        daemon._job_deliver()  # the next tick: paused, no new login
        assert len(smtp.logins) == tried
        monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "right")  # fixed (as after a restart)
        clock.now += dt.timedelta(seconds=61)  # 2 minutes after the failure
        daemon._job_deliver()
        assert len(smtp.logins) > tried
        assert [r.rcpt_tos for r in smtp.inbox.received] == [["ann@example.org"]]
        daemon.close()
