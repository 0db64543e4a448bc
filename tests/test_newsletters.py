"""Newsletters as sources (issue 20), read from a maildir the test writes; the IMAP side is
tests/test_newsletters_imap.py.

- A message is an article: its subject (encoded-words decoded) as title, the sender's name as
  outlet, the HTML part's main text (else the text part), the web version's link, its Date.
- A digest (linked headings) is one article per item; a newsletter without them stays whole.
- Bad input is a message's error, counted in the source's status; the rest is built: no text
  part, a 20 MB attachment (never read whole), malformed MIME, forged dates, encoded-word
  tricks; scripts and tracking pixels never reach the brief, and nothing is ever fetched.
- A re-poll reads only new messages, and the maildir is never changed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from briefs.config import load_config
from briefs.errors import ConfigError
from briefs.ingest.letters import parse_message, read_letter
from briefs.models import Source
from briefs.pipeline import run
from briefs.store import SCHEMA_VERSION, Store
from tests.feedserver import feed_server, static
from tests.mailserver import newsletter
from tests.rawdb import raw_sqlite

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
SOURCE = Source("letters", "maildir", "/nowhere")

ONE_STORY = """<html><head><style>p {color: red}</style>
<script>document.write('INJECTED-BY-SCRIPT')</script></head><body>
<table><tr><td><a href="https://letters.example/p/dam-flood?utm_source=email">View in browser</a>
</td></tr></table>
<h1>The dam on the Arn river failed before dawn</h1>
<p>The old earth dam above the town of Velmar gave way at about four in the morning, sending a
wall of water down the Arn valley and flooding three villages before anyone could be warned.</p>
<p>Rescue teams from the regional capital reached the villages by boat and lifted about two
hundred residents from rooftops, the regional governor said at a briefing in Velmar.</p>
<img src="https://track.letters.example/open.gif?u=123" width="1" height="1" alt="">
<p>Engineers had warned last year that the spillway of the dam was too small for a wet spring,
according to a report seen by this newsletter.</p>
<p><a href="https://letters.example/unsubscribe">Unsubscribe</a></p>
</body></html>"""

DIGEST = """<html><body>
<p><a href="https://digest.example/web/42">Read online</a></p>
<p>Good morning! Here is what happened overnight.</p>
<h2><a href="https://news.example/dam">Dam fails on the Arn river, three villages flooded</a></h2>
<p>An earth dam above Velmar gave way before dawn.</p>
<h2><a href="https://news.example/rates">Central bank holds rates at four percent</a></h2>
<p>The bank's board voted seven to two.</p><p>Markets barely moved.</p>
<h2><a href="https://news.example/final">Cup final goes to penalties</a></h2>
<p>Harbour City won after a goalless draw.</p>
<p>You are receiving this because you subscribed. Unsubscribe or manage preferences.</p>
<p>Digest Ltd, 1 Harbour Road</p>
</body></html>"""


def _read(raw: bytes) -> list:
    return list(read_letter(parse_message(raw), SOURCE, NOW).articles)


def test_a_newsletter_is_an_article_with_its_subject_sender_text_link_and_date() -> None:
    raw = newsletter(
        "=?utf-8?q?The_Arn_dam_has_failed_=E2=80=94_what_we_know?=",
        '"=?utf-8?b?VGhlIFZhbGxleSBMZXR0ZXI=?=" <hello@letters.example>',
        ONE_STORY,
        "The plain text of the same newsletter.",
    )
    (article,) = _read(raw)
    assert article.title == "The Arn dam has failed — what we know"
    assert article.outlet == "The Valley Letter"
    assert article.url == "https://letters.example/p/dam-flood"  # tracking parameters dropped
    assert article.published == dt.datetime(2026, 3, 10, 7, 30, tzinfo=dt.UTC)
    assert article.body.startswith("The old earth dam above the town of Velmar gave way")
    assert "spillway" in article.body and "plain text" not in article.body
    assert "INJECTED" not in article.body and "color" not in article.body
    assert article.body_origin == "mail" and article.image_url is None
    assert article.guid == "issue-1@letters.example"


def test_a_plain_text_newsletter_gives_its_text_and_the_view_online_link() -> None:
    text = (
        "Trouble reading this? View it online:\nhttps://plain.example/issues/7\n\n"
        "The Arn dam failed this morning and three villages were flooded.\n\n"
        "Rescuers lifted two hundred people from rooftops."
    )
    (article,) = _read(newsletter("Issue 7", "plain@plain.example", None, text))
    assert article.url == "https://plain.example/issues/7"
    assert article.outlet == "plain.example"  # no display name: the sender's domain
    assert article.body.endswith("Rescuers lifted two hundred people from rooftops.")


def test_a_digest_is_one_article_per_linked_heading_without_greeting_or_footer() -> None:
    articles = _read(newsletter("Morning digest", "Digest <d@digest.example>", DIGEST))
    assert [(a.title, a.url) for a in articles] == [
        ("Dam fails on the Arn river, three villages flooded", "https://news.example/dam"),
        ("Central bank holds rates at four percent", "https://news.example/rates"),
        ("Cup final goes to penalties", "https://news.example/final"),
    ]
    assert [a.body for a in articles] == [
        "An earth dam above Velmar gave way before dawn.",
        "The bank's board voted seven to two.\n\nMarkets barely moved.",
        "Harbour City won after a goalless draw.",
    ]
    assert len({a.id for a in articles}) == 3 and {a.outlet for a in articles} == {"Digest"}
    assert [a.guid for a in articles] == [f"issue-1@letters.example#{i}" for i in (1, 2, 3)]


def test_headings_that_are_not_links_keep_the_newsletter_whole() -> None:
    unlinked = DIGEST.replace('<a href="https://news.example/', '<span data-x="').replace(
        "</a></h2>", "</span></h2>"
    )
    (article,) = _read(newsletter("Morning digest", "Digest <d@digest.example>", unlinked))
    assert article.title == "Morning digest" and article.url == "https://digest.example/web/42"
    # one linked heading is not a digest either
    one = DIGEST.split("<h2>", 2)
    single = one[0] + "<h2>" + one[1] + "</body></html>"
    (whole,) = _read(newsletter("Morning digest", "Digest <d@digest.example>", single))
    assert whole.title == "Morning digest"


def _maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def _drop(maildir: Path, name: str, raw: bytes, sub: str = "new") -> Path:
    path = maildir / sub / name
    path.write_bytes(raw)
    return path


def _config(tmp_path: Path, extra: str = "") -> Path:
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        'database = "briefs.db"\noutput = "out"\n[brief]\ntitle = "Test"\n'
        "[fetch]\nfetch_full_text = true\nallow_private = true\nextract_workers = 0\n"
        "parse_workers = 0\n[group]\nsemantic = false\n"
        '[[sources]]\nid = "letters"\nkind = "maildir"\npath = "Mail/Newsletters"\n' + extra
    )
    return cfg


def _status(config_path: Path, source_id: str = "letters") -> str:
    config = load_config(config_path)
    with Store.open(config.database) as store:
        state = store.feed_state(source_id)
    assert state is not None
    return f"{state.last_status} | {state.last_error}"


BAD = {
    # no text part at all: a PDF alone
    "1.nopart": (
        b"From: Pdf <pdf@x.example>\r\nSubject: Report\r\nMessage-ID: <pdf@x>\r\n"
        b"Date: Tue, 10 Mar 2026 06:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
    ),
    # a multipart whose boundary is never declared nor used
    "2.malformed": (
        b"From: Broken <b@x.example>\r\nSubject: Broken\r\nMessage-ID: <broken@x>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"\x00\xff garbage with no boundary\r\n"
    ),
}


def test_bad_messages_are_each_their_own_error_and_the_brief_is_built(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path / "Mail" / "Newsletters")
    for name, raw in BAD.items():
        _drop(maildir, name, raw)
    # a 20 MB attachment after the text: the text is read, the attachment never whole
    big = newsletter("Big attachment", "Big <big@x.example>", None, "The dam story, in short.")
    head, _, rest = big.partition(b"\n\n")
    attached = (
        head.replace(b"Content-Type: text/plain", b"X-Old-Type: text/plain")
        + b'\nContent-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\n'
        + rest
        + b'\n--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="x.bin"\n'
        + b"Content-Transfer-Encoding: base64\n\n"
        + b"QUJD" * (5 * 1024 * 1024)
        + b"\n--B--\n"
    )
    assert len(attached) > 20_000_000
    _drop(maildir, "3.big", attached)
    # forged dates: far future, long past, nonsense
    for i, date in enumerate(
        ("Fri, 31 Dec 9999 23:59:59 +0000", "Mon, 1 Jan 1900 00:00:00 +0000", "yesterday-ish")
    ):
        _drop(
            maildir,
            f"4.date{i}",
            newsletter(
                f"Dated {i}",
                "Dates <d@x.example>",
                None,
                f"Text {i}.",
                date=date,
                message_id=f"<d{i}@x>",
            ),
        )
    # encoded-word tricks: a line break and a bidi override inside, an unknown charset, a
    # subject that decodes to another encoded-word, one far too long
    subjects = {
        "5.newline": b"=?utf-8?q?Headline=0D=0ABcc:_victim@x.example?=",
        "5.bidi": b"=?utf-8?b?"
        + __import__("base64").b64encode("Safe \u202etxt.exe".encode())
        + b"?=",
        "5.charset": b"=?x-no-such-charset?q?caf=E9?=",
        "5.nested": b"=?utf-8?q?=3D=3Futf-8=3Fq=3Fhi=3F=3D?=",
        "5.long": b"=?utf-8?q?" + b"Long_" * 400 + b"?=",
    }
    for name, subject in subjects.items():
        _drop(
            maildir,
            name,
            b"From: Tricks <t@x.example>\r\nSubject: "
            + subject
            + b"\r\nMessage-ID: <"
            + name.encode()
            + b"@x>\r\nDate: Tue, 10 Mar 2026 06:00:00 +0000\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nA body.\r\n",
        )
    config = load_config(_config(tmp_path))
    report = run(config, date=NOW.date(), now=NOW)
    assert report.sources_failed == ()
    status = _status(config.path)
    assert status.startswith("ok, 11 messages, 1 over 2000000 bytes read in part, skipped 2")
    assert "no text part" in status and "application/pdf" in status
    with Store.open(config.database) as store:
        ids = store.published_since(dt.datetime(1969, 1, 1, tzinfo=dt.UTC))
        stored = {a.title: a for a in store.articles(ids)}
    assert stored["Big attachment"].body == "The dam story, in short."
    assert stored["Dated 0"].published == NOW  # a future date is the time it was read
    assert stored["Dated 1"].published == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert stored["Dated 2"].published == NOW
    titles = set(stored)
    assert "Headline Bcc: victim@x.example" in titles  # one line: no header injection
    assert "Safe txt.exe" in titles  # the bidi override removed
    assert any(t.startswith("caf") for t in titles)
    assert "=?utf-8?q?hi?=" in titles  # decoded once, never twice
    assert any(t.startswith("Long Long") and len(t) <= 300 for t in titles)
    assert all("\n" not in t and "\r" not in t for t in titles)
    assert len(stored) == 9  # 11 messages, 2 unreadable
    assert (tmp_path / "out").is_dir()


def test_no_remote_image_or_page_is_ever_fetched_because_of_a_newsletter(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path / "Mail" / "Newsletters")
    with feed_server() as server:
        server.routes["/open.gif"] = static(b"GIF89a", content_type="image/gif")
        server.routes["/web"] = static(
            b"<html><body><p>web</p></body></html>", content_type="text/html"
        )
        html = ONE_STORY.replace(
            "https://track.letters.example/open.gif?u=123", server.url("/open.gif")
        ).replace("https://letters.example/p/dam-flood?utm_source=email", server.url("/web"))
        html = html.replace("<p>Engineers", f'<p><img src="{server.url("/open.gif")}">Engineers')
        short = f'<html><body><p><a href="{server.url("/web")}">View in browser</a></p><p>Short.</p></body></html>'
        _drop(maildir, "1.letter", newsletter("Dam", "Letter <l@x.example>", html))
        _drop(
            maildir,
            "2.short",
            newsletter("Teaser", "Letter <l@x.example>", short, message_id="<s@x>"),
        )
        config = load_config(_config(tmp_path))
        run(config, date=NOW.date(), now=NOW)
        assert server.requests == []  # not the pixel, not the web version (fetch_full_text is on)
    page = (tmp_path / "out" / "index.html").read_text()
    assert "open.gif" not in page and "INJECTED" not in page and "<script>document" not in page
    assert "gave way at about four in the morning" in page


def test_a_repoll_reads_only_new_messages_and_never_changes_the_maildir(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path / "Mail" / "Newsletters")
    first = _drop(
        maildir, "1700000000.M1P1.host", newsletter("First", "L <l@x.example>", ONE_STORY)
    )
    read = _drop(
        maildir,
        "1700000001.M2P1.host:2,S",
        newsletter("Second", "L <l@x.example>", None, "Second text.", message_id="<2@x>"),
        "cur",
    )
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (first, read)}
    cfg = _config(tmp_path)
    run(load_config(cfg), date=NOW.date(), now=NOW)
    assert _status(cfg).startswith("ok, 2 messages")
    later = NOW + dt.timedelta(hours=2)
    run(load_config(cfg), date=NOW.date(), now=later)
    assert _status(cfg).startswith("ok, 0 messages")
    # the same message moved to cur/ with a flag (by a mail client), and a copy of the first
    # message under another file name: neither is read again; a new one is
    os.rename(first, maildir / "cur" / "1700000000.M1P1.host:2,S")
    _drop(maildir, "1700000002.M3P1.host", newsletter("First", "L <l@x.example>", ONE_STORY))
    _drop(
        maildir,
        "1700000003.M4P1.host",
        newsletter("Third", "L <l@x.example>", None, "Third.", message_id="<3@x>"),
    )
    run(load_config(cfg), date=NOW.date(), now=later + dt.timedelta(hours=2))
    assert _status(cfg).startswith("ok, 2 messages")  # the copy and the third, read
    config = load_config(cfg)
    with Store.open(config.database) as store:
        ids = store.published_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        assert sorted(a.title for a in store.articles(ids)) == [
            "First",
            "Second",
            "Third",
        ]
        memory = store.mailbox_memory("letters")
    # the copy is remembered by its file name: it is not opened again
    assert memory.message_ids == {
        "issue-1@letters.example",
        "2@x",
        "3@x",
        "place:1700000002.M3P1.host",
    }
    assert "1700000002.M3P1.host" in memory.names
    run(load_config(cfg), date=NOW.date(), now=later + dt.timedelta(hours=4))
    assert _status(cfg).startswith("ok, 0 messages")
    assert read.exists() and before[read] == (read.stat().st_mtime_ns, read.read_bytes())
    moved = maildir / "cur" / "1700000000.M1P1.host:2,S"
    assert moved.read_bytes() == before[first][1]


def test_mailbox_sources_are_checked_when_the_config_is_loaded(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    with pytest.raises(ConfigError, match=r"sources\[0\]\.path: no such folder .*Mail/Newsletters"):
        load_config(cfg)
    (tmp_path / "Mail" / "Newsletters").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"is not a maildir \(it has no cur/ and new/"):
        load_config(cfg)
    _maildir(tmp_path / "Mail" / "Newsletters")
    (source,) = load_config(cfg).sources
    assert source.location == str((tmp_path / "Mail" / "Newsletters").resolve())
    for body, message in (
        ('kind = "imap"\nhost = "mail.example"', r"sources\[0\]\.username: an IMAP source needs"),
        (
            'kind = "imap"\nhost = "mail.example"\nusername = "me"\nsecurity = "none"',
            r"sources\[0\]\.security: 'none' would send the password in clear",
        ),
        (
            'kind = "imap"\nhost = "mail.example"\nusername = "me"\nsecurity = "ssl"',
            r"security: 'ssl' is not one of tls, starttls, none",
        ),
        ('kind = "imap"\nhost = "mail.example"\nusername = "me"\nport = 70000', r"port: 70000"),
        (
            'kind = "imap"\nhost = "mail.example"\nusername = "me"\ncafile = "nope.pem"',
            r"cafile: no such file .*nope.pem",
        ),
        ('kind = "imap"\nusername = "me"', r"sources\[0\] needs a 'host'"),
        ('url = "https://x.example/rss"\nfolder = "INBOX"', r"sources\[0\]\.'folder'"),
    ):
        cfg.write_text(f"[[sources]]\n{body}\n")
        with pytest.raises(ConfigError, match=message):
            load_config(cfg)
    cfg.write_text(
        '[[sources]]\nid = "mail"\nkind = "imap"\nhost = "imap.example.org"\n'
        'username = "me@example.org"\nfolder = "News letters"\n'
    )
    (imap,) = load_config(cfg).sources
    assert imap.location == "imaps://me%40example.org@imap.example.org:993/News%20letters"
    assert dict(imap.options)["folder"] == "News letters"


def test_the_seen_messages_step_upgrades_a_schema_10_database_and_can_run_twice(
    tmp_path: Path,
) -> None:
    from briefs.store.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    with Store.open(str(path)) as store:
        assert store.schema_version() == SCHEMA_VERSION
    with raw_sqlite(path) as conn:
        conn.execute("DROP TABLE seen_messages")
        conn.execute("UPDATE meta SET value = '10' WHERE key = 'schema_version'")
    with Store.open(str(path)) as store:
        assert store.schema_version() == SCHEMA_VERSION
        with store.engine.begin() as conn:
            MIGRATIONS[10](conn)  # again: nothing to do, no error
        assert store.mailbox_memory("x").message_ids == frozenset()


def test_a_poll_reads_at_most_the_newest_messages_and_leaves_older_ones_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefs.ingest import mailbox

    monkeypatch.setattr(mailbox, "MAX_MESSAGES", 2)
    maildir = _maildir(tmp_path / "Mail" / "Newsletters")
    for n in (1, 2, 3):
        path = _drop(
            maildir,
            f"m{n}",
            newsletter(f"N{n}", "L <l@x.example>", None, f"T{n}.", message_id=f"<{n}@x>"),
        )
        os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n))
    cfg = _config(tmp_path)
    run(load_config(cfg), date=NOW.date(), now=NOW)
    assert _status(cfg).startswith("ok, 2 messages, 1 older left unread (the newest 2 are read)")
    run(load_config(cfg), date=NOW.date(), now=NOW + dt.timedelta(hours=2))
    assert _status(cfg).startswith("ok, 0 messages |")
    config = load_config(cfg)
    with Store.open(config.database) as store:
        ids = store.published_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        assert sorted(a.title for a in store.articles(ids)) == ["N2", "N3"]


def test_the_readmes_newsletter_example_is_a_valid_configuration(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Newsletters: IMAP folders and maildirs\n", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    _maildir(tmp_path / "Mail" / "Newsletters")
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(example)
    imap, maildir = load_config(cfg).sources
    assert imap.location == "imaps://me%40fastmail.com@imap.fastmail.com:993/Newsletters"
    assert (imap.kind, maildir.kind) == ("imap", "maildir")
    assert maildir.location == str((tmp_path / "Mail" / "Newsletters").resolve())
