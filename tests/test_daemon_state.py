"""The daemon's and email's configuration sections and their database records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from briefs.config import load_config
from briefs.errors import ConfigError
from briefs.models import Article
from briefs.store import SCHEMA_VERSION, open_store
from briefs.store.migrations import MIGRATIONS, _add_deliveries
from tests.rawdb import raw_sqlite

T0 = dt.datetime(2024, 4, 6, 7, tzinfo=dt.UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "briefs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[brief]\ntimezone = "Europe/Paris"\n'))
    assert config.schedule.timezone == "Europe/Paris"  # defaults to the brief's zone
    assert config.schedule.editions == ("30 6 * * *",)
    assert not config.email.enabled and config.email.smtp_port == 587
    assert config.email.password_env == "BRIEFS_SMTP_PASSWORD"
    assert (config.serve.host, config.serve.port) == ("127.0.0.1", 8080)


def test_email_settings_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ca.pem").write_text("")
    monkeypatch.setenv("BRIEFS_EMAIL_RECIPIENTS", '["x@example.org", "Y <y@example.org>"]')
    config = load_config(
        write(
            tmp_path,
            '[email]\nhost = "smtp.example.org"\nsecurity = "tls"\nsender = "d@example.org"\n'
            'cafile = "ca.pem"\n',
        )
    )
    assert config.email.enabled and config.email.smtp_port == 465
    assert config.email.recipients == ("x@example.org", "Y <y@example.org>")
    assert config.email.cafile == str((tmp_path / "ca.pem").resolve())


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[schedule]\neditions = ["30 25 * * *"]', "schedule.editions[0]: not a cron expression"),
        ('[schedule]\neditions = ["30 6 * *"]', "4 fields, not 5"),
        ('[schedule]\neditions = ["0 6 * * *", "0 18 * * *"]', "two editions with the slot ''"),
        ('[schedule]\neditions = ["A: 0 6 * * *"]', "slot 'A': a slot name is lowercase"),
        (
            '[brief]\nslots = ["am@09:00", "pm"]\n[schedule]\neditions = ["noon: 0 12 * * *"]',
            "slot 'noon' is not one of brief.slots (am, pm)",
        ),
        ('[schedule]\ntimezone = "Moon/Base"', "schedule.timezone: unknown time zone"),
        ("[schedule]\npoll_tick = 0", "poll_tick must be at least 1"),
        ("[schedule]\ngrace = 5", "unknown key schedule.'grace'"),
        ('[email]\nsecurity = "ssl"', 'email.security must be "starttls", "tls" or "none"'),
        ('[email]\nhost = "h.example"', "email.sender is needed"),
        ('[email]\nhost = "h.example"\nsender = "nobody"', "email.sender: not an email address"),
        ('[email]\npassword = "hunter2"', "unknown key email.'password'"),
        (
            '[email]\nhost = "h.example"\nsender = "d@x.example"\ncafile = "none.pem"',
            "email.cafile: no such file",
        ),
        ("[serve]\nport = 'http'", "serve.port must be an integer"),
    ],
)
def test_errors_name_the_key_and_the_file(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert needle in str(info.value) and str(path.resolve()) in str(info.value)


def test_named_slots_and_seconds(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[schedule]\neditions = ["morning: 30 6 * * *", "evening: 0 0 18 * * *"]')
    )
    from briefs.timetable import edition_jobs

    jobs = edition_jobs(config)
    assert [(j.slot, j.expr, j.job_id) for j in jobs] == [
        ("morning", "30 6 * * *", "edition:morning"),
        ("evening", "0 0 18 * * *", "edition:evening"),
    ]


def test_migration_adds_the_delivery_table_and_keeps_data(tmp_path: Path) -> None:
    """A database from before the delivery records (schema version 1) is upgraded in place."""
    before = next(v for v, step in MIGRATIONS.items() if step is _add_deliveries)
    path = tmp_path / "b.db"
    store = open_store(str(path))
    store.add_articles([Article("a1", "s", "https://x.example/1", "One", T0, T0, "X")])
    store.close()
    with raw_sqlite(path) as conn:  # make it an older file: no deliveries table
        conn.execute("DROP TABLE deliveries")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(before),))
    store = open_store(str(path))
    assert store.schema_version() == SCHEMA_VERSION
    assert store.article_count() == 1
    store.plan_deliveries("2024-04-06", ["a@x.example"], T0)
    assert [d.status for d in store.deliveries("2024-04-06")] == ["pending"]
    store.close()


def test_delivery_records_move_through_their_states(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "b.db"))
    store.plan_deliveries("e1", ["a@x.example", "b@x.example", "a@x.example"], T0)
    store.plan_deliveries("e1", ["a@x.example"], T0 + dt.timedelta(hours=1))  # kept, not reset
    rows = store.deliveries("e1")
    assert [(d.recipient, d.status, d.created) for d in rows] == [
        ("a@x.example", "pending", T0),
        ("b@x.example", "pending", T0),
    ]
    assert store.claim_delivery("e1", "a@x.example", T0) == 1
    assert store.claim_delivery("e1", "a@x.example", T0) is None  # already being sent
    store.finish_delivery("e1", "a@x.example", "sent", sent_at=T0, message_id="<m@x>")
    assert store.claim_delivery("e1", "b@x.example", T0) == 1
    later = T0 + dt.timedelta(minutes=5)
    store.finish_delivery("e1", "b@x.example", "pending", error="451", next_attempt=later)
    assert store.due_deliveries(T0) == []
    assert [d.recipient for d in store.due_deliveries(later)] == ["b@x.example"]
    assert store.claim_delivery("e1", "b@x.example", later) == 2
    # the process dies while sending to b: the next sender finds it uncertain, not pending
    [stuck] = store.mark_interrupted_deliveries()
    assert (stuck.recipient, stuck.status) == ("b@x.example", "uncertain")
    assert store.due_deliveries(later) == []
    store.plan_deliveries("e1", ["a@x.example", "b@x.example"], later, resend=True)
    assert {d.status for d in store.deliveries("e1")} == {"pending"}
    store.close()


def test_the_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "docs").mkdir()  # the example's folder of seed documents (config checks it exists)
    config = load_config(write(tmp_path, example))
    assert config.schedule.editions == ("morning: 30 6 * * *", "evening: 0 18 * * *")
    assert config.email.enabled and config.email.recipients[0] == "Ann <ann@example.org>"
