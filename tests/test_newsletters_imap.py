"""Newsletters from a real IMAP server (Dovecot on loopback, tests/mailserver.py; issue 20).

- An IMAP folder is read over TLS, STARTTLS or (on loopback) plain IMAP, with the password
  from the environment; nothing in the folder changes (no message is marked \\Seen).
- A re-poll fetches only new messages (UIDs above the last one read); a folder whose
  UIDVALIDITY changed is read by Message-ID, and nothing read before is fetched again.
- A server that drops the connection mid-fetch, a wrong password, a missing password, an
  untrusted certificate, a missing folder: each a clear error of that source alone.
- The goal: a newsletter and two feeds about one event make one story with three outlets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.config import load_config
from briefs.ingest.mailbox import read_imap
from briefs.models import ImapSettings, MailboxMemory, Source
from briefs.pipeline import run
from briefs.store import Store
from tests.mailserver import PASSWORD, CutProxy, Dovecot, newsletter

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
LETTER_HTML = """<html><body>
<p><a href="https://valleyletter.example/p/arn-dam">View this email in your browser</a></p>
<h1>The Arn dam gave way</h1>
<p>The earth dam on the Arn river above Velmar collapsed before dawn on Tuesday, flooding three
villages in the valley and forcing hundreds of residents onto their rooftops.</p>
<p>Rescue crews using boats evacuated about two hundred villagers from the flooded homes, the
regional governor said, adding that engineers had warned the dam's spillway was too small.</p>
<img src="https://pixel.valleyletter.example/o.gif" width="1" height="1">
</body></html>"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def _source(settings: ImapSettings) -> Source:
    """The IMAP source these settings describe (as the configuration would make it)."""
    options = tuple((f.name, getattr(settings, f.name)) for f in dataclasses.fields(settings))
    return Source("mail", "imap", settings.url, options=options)


def _letter(n: int, subject: str | None = None) -> bytes:
    return newsletter(
        subject or f"Letter {n}",
        "The Valley Letter <hello@valleyletter.example>",
        None,
        f"Issue {n} of the letter, about the valley and its river.",
        message_id=f"<letter-{n}@valleyletter.example>",
    )


def _config(tmp_path: Path, user: str, port: int, security: str = "none", extra: str = "") -> Path:
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        'database = "briefs.db"\noutput = "out"\n[fetch]\nextract_workers = 0\n'
        "parse_workers = 0\n[group]\nsemantic = false\n"
        f'[[sources]]\nid = "mail"\nkind = "imap"\nhost = "127.0.0.1"\nport = {port}\n'
        f'username = "{user}"\nfolder = "Newsletters"\nsecurity = "{security}"\n'
        'password_env = "TEST_IMAP_PASSWORD"\ntimeout = 10\n' + extra
    )
    return cfg


def _state(cfg: Path, source: str = "mail") -> tuple[str, str | None]:
    config = load_config(cfg)
    with Store.open(config.database) as store:
        state = store.feed_state(source)
    assert state is not None
    return str(state.last_status), state.last_error


def _titles(cfg: Path) -> list[str]:
    config = load_config(cfg)
    with Store.open(config.database) as store:
        ids = store.published_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        return sorted(a.title for a in store.articles(ids))


def test_a_folder_is_read_without_changing_it_and_a_repoll_fetches_only_new_messages(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    for n in (1, 2):
        dovecot.deliver("repoll", _letter(n))
    dovecot.deliver("repoll", _letter(9), folder="INBOX")  # another folder: not read
    cfg = _config(tmp_path, "repoll", dovecot.port)
    run(load_config(cfg), date=NOW.date(), now=NOW)
    assert _state(cfg) == ("ok, 2 messages", None)
    assert _titles(cfg) == ["Letter 1", "Letter 2"]
    assert all("\\Seen" not in flags for flags in dovecot.flags("repoll", "Newsletters"))
    run(load_config(cfg), date=NOW.date(), now=NOW + dt.timedelta(hours=1))
    assert _state(cfg) == ("ok, 0 messages", None)
    dovecot.deliver("repoll", _letter(3))
    dovecot.deliver("repoll", _letter(1))  # the same message again, under a new UID
    run(load_config(cfg), date=NOW.date(), now=NOW + dt.timedelta(hours=2))
    assert _state(cfg) == ("ok, 2 messages", None)
    assert _titles(cfg) == ["Letter 1", "Letter 2", "Letter 3"]
    assert len(dovecot.flags("repoll", "Newsletters")) == 4  # nothing deleted
    assert all("\\Seen" not in flags for flags in dovecot.flags("repoll", "Newsletters"))


def test_a_folder_whose_uidvalidity_changed_is_read_by_message_id(dovecot: Dovecot) -> None:
    for n in (1, 2, 3):
        dovecot.deliver("validity", _letter(n))
    settings = ImapSettings("127.0.0.1", "validity", "Newsletters", "none", dovecot.port)
    source = _source(settings)
    first = read_imap(source, settings, PASSWORD, MailboxMemory(), NOW)
    assert first.messages == 3 and {m.uid for m in first.seen} == {1, 2, 3}
    (validity,) = {m.uidvalidity for m in first.seen}
    # the server renumbered the folder (another UIDVALIDITY): what was read is known by id
    known = MailboxMemory(
        message_ids=frozenset(m.message_id for m in first.seen[:2]),
        last_uid=((int(validity or 0) + 1, 2),),
    )
    again = read_imap(source, settings, PASSWORD, known, NOW)
    assert again.messages == 1 and [a.title for a in again.articles] == ["Letter 3"]
    # under the same UIDVALIDITY, only UIDs above the last one read are fetched
    above = read_imap(
        source, settings, PASSWORD, MailboxMemory(last_uid=((int(validity or 0), 2),)), NOW
    )
    assert [m.uid for m in above.seen] == [3]


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_with_the_servers_certificate(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    user = f"secure-{security}"
    dovecot.deliver(user, _letter(1))
    port = dovecot.tls_port if security == "tls" else dovecot.port
    cfg = _config(tmp_path, user, port, security, extra=f'cafile = "{dovecot.cafile}"\n')
    run(load_config(cfg), date=NOW.date(), now=NOW)
    assert _state(cfg) == ("ok, 1 message", None)
    # without the certificate to trust, the connection is refused: the source's error
    cfg.write_text(cfg.read_text().replace(f'cafile = "{dovecot.cafile}"\n', ""))
    run(load_config(cfg), date=NOW.date(), now=NOW + dt.timedelta(days=1))
    status, error = _state(cfg)
    assert status == "error" and error is not None
    assert error.startswith("TLS with IMAP server 127.0.0.1:") and "certificate" in error


def test_login_folder_and_password_errors_are_the_sources_own(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Valley Times</title>'
        "<link>https://times.example/</link><item><title>Rain in the valley</title>"
        "<link>https://times.example/rain</link><pubDate>Tue, 10 Mar 2026 08:00:00 GMT</pubDate>"
        "<description>It rained in the valley all night long.</description></item>"
        "</channel></rss>"
    )
    extra = '[[sources]]\nid = "times"\nurl = "feed.xml"\n'
    cfg = _config(tmp_path, "errors", dovecot.port, extra=extra)
    monkeypatch.delenv("TEST_IMAP_PASSWORD", raising=False)
    report = run(load_config(cfg), date=NOW.date(), now=NOW)
    assert [name for name, _ in report.sources_failed] == ["mail"]
    assert _state(cfg)[1] == (
        "$TEST_IMAP_PASSWORD is not set: it holds the IMAP password of errors at 127.0.0.1 "
        "(password_env names the variable)"
    )
    assert _titles(cfg) == ["Rain in the valley"]  # the rest of the brief is built
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong-" + PASSWORD)
    run(load_config(cfg), date=NOW.date(), now=NOW + dt.timedelta(days=1))
    error = _state(cfg)[1]
    assert error == f"IMAP login refused for errors at 127.0.0.1:{dovecot.port}"
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    run(load_config(cfg), date=NOW.date(), now=NOW + dt.timedelta(days=2))
    assert _state(cfg)[1] == f"no IMAP folder 'Newsletters' at 127.0.0.1:{dovecot.port}"
    # nothing anywhere shows the password
    config = load_config(cfg)
    with Store.open(config.database) as store:
        assert PASSWORD not in repr(store.feed_states())
    assert PASSWORD not in repr(config)


def test_a_server_that_drops_the_connection_mid_fetch_fails_that_source_alone(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    for n in (1, 2, 3):
        dovecot.deliver("dropped", _letter(n))
    with CutProxy(dovecot.port, nth=2, keep=120) as proxy:
        cfg = _config(tmp_path, "dropped", proxy.port)
        report = run(load_config(cfg), date=NOW.date(), now=NOW)
        assert proxy.cuts == 1
        assert [name for name, _ in report.sources_failed] == ["mail"]
        status, error = _state(cfg)
        assert status == "error" and error is not None
        assert error.startswith(
            f"IMAP connection to 127.0.0.1:{proxy.port} lost while fetching message 2 of 3"
        )
        assert _titles(cfg) == ["Letter 1"]  # what was read before the cut is kept
        proxy.nth = 10**9  # the server recovers: the next poll reads the other two
        run(load_config(cfg), date=NOW.date(), now=NOW + dt.timedelta(days=1))
    assert _state(cfg) == ("ok, 2 messages", None)
    assert _titles(cfg) == ["Letter 1", "Letter 2", "Letter 3"]


def _rss(path: Path, outlet: str, site: str, title: str, text: str) -> None:
    path.write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>'
        f"<link>https://{site}/</link><item><title>{title}</title>"
        f"<link>https://{site}/arn-dam</link><pubDate>Tue, 10 Mar 2026 09:00:00 GMT</pubDate>"
        f"<description>{text}</description></item></channel></rss>"
    )


def test_a_newsletter_and_two_feeds_about_one_event_are_one_story_with_three_outlets(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    dovecot.deliver(
        "goal",
        newsletter(
            "Arn dam collapse floods three villages",
            "The Valley Letter <hello@valleyletter.example>",
            LETTER_HTML,
        ),
    )
    _rss(
        tmp_path / "times.xml",
        "Valley Times",
        "times.example",
        "Three villages flooded as Arn dam collapses above Velmar",
        "The Arn river dam above Velmar collapsed before dawn, flooding three villages; "
        "rescue boats evacuated about two hundred residents from rooftops, the governor said.",
    )
    _rss(
        tmp_path / "post.xml",
        "River Post",
        "post.example",
        "Velmar dam collapse: rescuers evacuate villagers from flooded homes",
        "Rescuers in boats evacuated hundreds of villagers after the earth dam on the Arn "
        "river collapsed and flooded three villages in the valley below Velmar.",
    )
    extra = (
        '[[sources]]\nid = "times"\nurl = "times.xml"\n[[sources]]\nid = "post"\nurl = "post.xml"\n'
    )
    cfg = _config(tmp_path, "goal", dovecot.port, extra=extra)
    config = load_config(cfg)
    report = run(config, date=NOW.date(), now=NOW)
    assert report.sources_failed == () and report.new_articles == 3
    with Store.open(config.database) as store:
        stories = store.stories_published_between(NOW - dt.timedelta(days=1), NOW)
        assert len(stories) == 1
        members = store.articles(stories[0].article_ids)
    assert sorted(a.outlet for a in members) == ["River Post", "The Valley Letter", "Valley Times"]
    letter = next(a for a in members if a.source_id == "mail")
    assert letter.url == "https://valleyletter.example/p/arn-dam"
    page = (tmp_path / "out" / "index.html").read_text()
    assert "The Valley Letter" in page and "pixel.valleyletter" not in page
