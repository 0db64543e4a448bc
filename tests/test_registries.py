"""Where things plug in (issue 17): the registry of outputs, the registry of source readers and
the delivery transport, each read by every place that needs it.

- Every file a build writes is named by an output of the registry, the freshness check wants
  exactly the wanted outputs' files of the edition, and ``briefs serve`` answers each served
  output with the type the registry declares (the email never).
- A source kind is its reader: the config validates kinds and locations with it, polling
  dispatches to it, OPML export asks it; a new kind registered there is loaded and polled.
- Delivery errors carry their subject (the recipient, or the server), and a transport that
  records nothing gets one copy per recipient without touching the delivery records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import smtplib
import threading
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from briefs.config import load_config
from briefs.deliver import deliver_edition
from briefs.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from briefs.ingest.opml import exportable
from briefs.ingest.poll import poll_sources
from briefs.ingest.readers import READERS, PollIO
from briefs.mail import load_message
from briefs.models import Article, FeedState, PollResult, Source
from briefs.outputs import OUTPUTS, edition_files, owned_files, served_types, shared_files
from briefs.pipeline import run
from briefs.serve import content_type, make_server
from briefs.store import Store
from briefs.transport import SmtpTransport
from tests.servers import SmtpServer

DAY = dt.date(2024, 4, 6)
EDITION = "2024-04-06"


def _config_with_output(seeds: Path, tmp_path: Path, extra: str = "") -> Path:
    cfg = seeds / "briefs.toml"
    text = cfg.read_text().replace('output = "../output"', f'output = "{tmp_path / "out"}"')
    cfg.write_text(text + extra)
    return cfg


def test_every_file_a_build_writes_is_an_output_of_the_registry(
    seeds_copy: Path, tmp_path: Path
) -> None:
    config = load_config(_config_with_output(seeds_copy, tmp_path))
    report = run(config, date=DAY, email=True)
    out = (tmp_path / "out").resolve()
    written = {Path(f).relative_to(out).as_posix() for f in report.files}
    named = set(owned_files(EDITION)) | set(shared_files(config))
    patterns = [p for o in OUTPUTS for p in o.patterns]
    by_pattern = {w for w in written if any(fnmatch.fnmatch(w, p) for p in patterns)}
    assert by_pattern and all(w.startswith("stories/") for w in by_pattern)  # story pages
    assert written and written - by_pattern <= named
    # the section feeds are named by the configured sections
    assert {"stories-world.xml", "stories-world.atom", "stories-world.json"} <= written
    assert not set(shared_files()) >= written - by_pattern
    # the outputs this build wanted are all there, the email among them when asked for
    asked = {"email": True}
    assert set(edition_files(config, EDITION, asked)) == {
        f"{EDITION}.{s}" for s in ("md", "html", "eml")
    }
    assert set(edition_files(config, EDITION, {"email": False})) == {
        f"{EDITION}.md",
        f"{EDITION}.html",
    }
    assert {o.name for o in OUTPUTS} >= {"markdown", "page", "feeds", "story-feeds", "email"}


@pytest.mark.parametrize("name", ["md", "html", "eml"])
def test_a_missing_file_of_a_wanted_output_makes_the_edition_out_of_date(
    seeds_copy: Path, tmp_path: Path, name: str
) -> None:
    config = load_config(_config_with_output(seeds_copy, tmp_path))
    run(config, date=DAY, email=True)
    assert run(config, date=DAY, email=True).unchanged
    (tmp_path / "out" / f"{EDITION}.{name}").unlink()
    again = run(config, date=DAY, email=True)
    assert not again.unchanged
    assert (tmp_path / "out" / f"{EDITION}.{name}").is_file()


def test_serve_answers_each_output_with_the_registry_type_and_never_the_email(
    seeds_copy: Path, tmp_path: Path
) -> None:
    config = load_config(_config_with_output(seeds_copy, tmp_path))
    run(config, date=DAY, email=True)
    out = tmp_path / "out"
    types = served_types()
    server = make_server(out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for name in (f"{EDITION}.md", f"{EDITION}.html", "feed.xml", "atom.xml", "feed.json"):
            declared = types.get(name) or types[Path(name).suffix]
            with urllib.request.urlopen(server.url + name, timeout=10) as answer:
                assert answer.headers["Content-Type"] == declared, name
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.url + f"{EDITION}.eml", timeout=10)
        refused.value.close()
        assert refused.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
    assert content_type("stories.atom", b"") == types["stories.atom"]


def test_source_kinds_and_locations_are_checked_by_their_reader(tmp_path: Path) -> None:
    cfg = tmp_path / "briefs.toml"
    (tmp_path / "docs").mkdir()
    (tmp_path / "feed.xml").write_text("<rss/>")
    cfg.write_text(
        '[[sources]]\nid = "a"\nurl = "feed.xml"\n'
        '[[sources]]\nid = "b"\nkind = "files"\npath = "docs"\n'
        '[[sources]]\nid = "c"\nurl = "https://news.example/rss"\n'
    )
    config = load_config(cfg)
    assert [s.kind for s in config.sources] == ["feed", "files", "feed"]
    assert exportable(config.sources) == [config.sources[2]]
    for body, message in (
        (
            'kind = "gopher"\nurl = "x"',
            r"sources\[0\]\.kind: unknown source kind 'gopher' \(feed or files or imap or maildir\)",
        ),
        ('kind = "files"\npath = "nowhere"', r"sources\[0\]\.path: no such folder"),
        ('kind = "files"\npath = "https://x.example/"', r"is not a local folder"),
        ('url = "htp://x.example/rss"', r"sources\[0\]\.url: 'htp://x.example/rss' is not an http"),
        ('url = "https:///rss"', r"has no host name"),
    ):
        cfg.write_text(f"[[sources]]\n{body}\n")
        with pytest.raises(ConfigError, match=message):
            load_config(cfg)


class _Wire:
    """A source kind of the test's own: one article per poll, made from the location."""

    kind = "wire"
    keys = ("url",)
    label = "wire"
    options = ()

    def locate(self, value: str, options: object, base: Path) -> tuple[str, dict[str, str]]:
        return value, {}

    def check(self, location: str) -> str | None:
        return None if location.startswith("wire://") else f"{location!r} is not wire://NAME"

    async def read(self, io: PollIO, source: Source, state: FeedState) -> PollResult:
        name = source.location.removeprefix("wire://")
        article = Article(
            id=f"wire-{name}",
            source_id=source.id,
            url=f"https://wire.example/{name}",
            title=f"Wire story {name}",
            published=io.now,
            fetched=io.now,
            outlet="Wire",
            summary="A wire story.",
        )
        return io.succeeded(source, state, (article,), "ok")

    def exportable(self, source: Source) -> bool:
        return False


def test_a_new_source_kind_plugs_in_through_the_reader_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(READERS, "wire", _Wire())  # type: ignore[index]
    cfg = tmp_path / "briefs.toml"
    cfg.write_text('[[sources]]\nkind = "wire"\nurl = "wire://one"\nid = "w"\n')
    config = load_config(cfg)
    now = dt.datetime(2024, 4, 6, 9, tzinfo=dt.UTC)
    (result,) = poll_sources(config.sources, {}, config.fetch, now)
    assert result.error is None and [a.title for a in result.articles] == ["Wire story one"]
    assert result.state is not None and result.state.next_poll is not None
    cfg.write_text('[[sources]]\nkind = "wire"\nurl = "ftp://nope"\n')
    with pytest.raises(ConfigError, match=r"sources\[0\]\.url: 'ftp://nope' is not wire://NAME"):
        load_config(cfg)


def test_a_delivery_error_carries_its_recipient_and_server(
    seeds_copy: Path, tmp_path: Path
) -> None:
    with SmtpServer("none") as smtp:
        smtp.inbox.replies["carol@example.com"] = ["550 5.1.1 no such mailbox"]
        extra = (
            f'\n[email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsender = "d@news.example"\n'
            'recipients = ["carol@example.com"]\ntimeout = 5\nsecurity = "none"\n'
        )
        config = load_config(_config_with_output(seeds_copy, tmp_path, extra))
        run(config, date=DAY)
        message = load_message(tmp_path / "out" / f"{EDITION}.eml")
        transport = SmtpTransport(config.email, None)
        transport.connect()
        try:
            with pytest.raises(PermanentDeliveryError) as refused:
                transport.send(message, "carol@example.com")
        finally:
            transport.close()
        assert refused.value.recipient == "carol@example.com"
        assert isinstance(refused.value.__cause__, smtplib.SMTPRecipientsRefused)
    unreachable = SmtpTransport(dataclasses.replace(config.email, port=smtp.port), None)
    with pytest.raises(TransientDeliveryError) as lost:
        unreachable.connect()
    assert lost.value.server == f"127.0.0.1:{smtp.port}" and lost.value.recipient == ""


class _Copies:
    """A transport that records nothing: copies kept in memory (like the dry run's files)."""

    records = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, EmailMessage]] = []

    def connect(self) -> None:
        pass

    def send(self, msg: EmailMessage, recipient: str) -> None:
        self.sent.append((recipient, msg))

    def close(self) -> None:
        pass


def test_a_transport_that_records_nothing_gets_one_copy_per_recipient(
    seeds_copy: Path, tmp_path: Path
) -> None:
    extra = '\n[email]\nrecipients = ["Ann <ann@example.org>", "bob@example.net"]\n'
    config = load_config(_config_with_output(seeds_copy, tmp_path, extra))
    run(config, date=DAY, email=True)
    copies = _Copies()
    with Store.open(config.database) as store:
        report = deliver_edition(config, store, EDITION, transport=copies)
        assert store.deliveries() == []
    assert [r for r, _ in copies.sent] == ["ann@example.org", "bob@example.net"]
    assert [str(m["To"]) for _, m in copies.sent] == ["Ann <ann@example.org>", "bob@example.net"]
    assert report.failed == () and report.sent == ()
