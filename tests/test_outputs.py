"""Outputs are independent and bounded, whatever the sources did (issue 13, output side).

- The email edition is one output among several: written only when email is configured or
  asked for (``--email``), and when it cannot be made (over ``brief.email_max_bytes``) the pages,
  feeds and Markdown are still written and the run says what was left out.
- The public "Sources that failed" note names the outlets ("unavailable"), at most
  ``FAILED_SHOWN`` of them and "and N more"; the reasons (server paths, raw errors) are the
  operator's: the run report, ``briefs status``.
- A 200 KB title is cut to its displayed length everywhere it is rendered; C1 controls and
  bidi overrides never reach the terminal, Markdown, HTML, feeds or email.
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
from briefs.display import FAILED_SHOWN, MAX_TITLE_CHARS

WHEN = dt.datetime(2024, 4, 6, 9, tzinfo=dt.UTC)
GONE = 25  # failing sources, more than the note shows
TEXT = (
    "The Fennimore bridge over the river Calder was closed to traffic on Saturday after "
    "engineers found cracks in two of its steel supports, the county highways department said."
)
# C1 controls (CSI, NEL, DCS), bidi embeddings, overrides and isolates, a BOM: none may reach
# any output
HOSTILE = "\x9b\x85\x90\u202e\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\ufeff"


def _rss(title: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Local Wire</title><link>https://local.example/</link><description>d</description>"
        f"<item><title>{escape(title)}</title><link>https://local.example/a1</link>"
        f"<guid>https://local.example/a1</guid><pubDate>{format_datetime(WHEN)}</pubDate>"
        f"<description>{escape(TEXT)}</description></item></channel></rss>"
    )


def _site(tmp_path: Path, title: str, extra: str = "") -> Path:
    (tmp_path / "local.xml").write_text(_rss(title), encoding="utf-8")
    for i in range(GONE):  # there (a missing file is a config error) but unreadable as a feed
        (tmp_path / "feeds" / f"missing-{i}.xml").mkdir(parents=True, exist_ok=True)
    gone = "".join(
        f'[[sources]]\nid = "gone-{i}"\ntitle = "Gone Gazette {i}"\nurl = "http://127.0.0.1:9/gone-{i}.xml"\n'
        for i in range(GONE)
    )
    (tmp_path / "briefs.toml").write_text(
        'database = "b.db"\noutput = "out"\n'
        f'[brief]\ntitle = "Local Brief"\ntimezone = "UTC"\n{extra}\n'
        '[[sources]]\nid = "local"\ntitle = "Local Wire"\nurl = "local.xml"\n' + gone,
        encoding="utf-8",
    )
    return tmp_path / "briefs.toml"


def _cli(cfg: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def _outputs(out: Path) -> dict[str, str]:
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file()}
    assert {"2024-04-06.md", "2024-04-06.html", "index.html", "feed.xml", "stories.json"} <= set(
        texts
    )
    return texts


def test_the_failed_sources_note_is_bounded_and_names_outlets_only(tmp_path: Path) -> None:
    cfg = _site(tmp_path, "Bridge closed after cracks found")
    report = _cli(cfg, "run", "--date", "2024-04-06", "--email")
    # the operator sees every failure with its reason
    assert f"{GONE + 1} polled, 1 ok, {GONE} failed" in report
    assert report.count("failed: Gone Gazette 3: cannot connect") == 1
    assert report.count("failed: Gone Gazette") == GONE
    texts = _outputs(tmp_path / "out")
    msg = email.message_from_bytes(
        (tmp_path / "out" / "2024-04-06.eml").read_bytes(), policy=email.policy.default
    )
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    texts["email.txt"] = plain.get_content()
    texts["email.html"] = html.get_content()
    more = GONE - FAILED_SHOWN
    for name in ("2024-04-06.md", "2024-04-06.html", "email.txt", "email.html", "feed.xml"):
        public = texts[name]
        assert "Sources that failed" in public, name
        assert public.count("Gone Gazette") == FAILED_SHOWN, name
        assert f"and {more} more" in public, name
        # readers see "unavailable", never a server path or a raw error
        assert "unavailable" in public and "cannot connect" not in public, name
        assert "127.0.0.1" not in public and "connection attempts" not in public, name
    status = _cli(cfg, "status")
    assert "gone-3: 1 failure, last error: cannot connect" in status  # the operator's detail


def test_the_email_is_written_only_when_configured_or_asked_for(tmp_path: Path) -> None:
    cfg = _site(tmp_path, "Bridge closed after cracks found")
    out = tmp_path / "out"
    _cli(cfg, "run", "--date", "2024-04-06")
    assert not (out / "2024-04-06.eml").exists()
    _cli(cfg, "build", "--date", "2024-04-06", "--email")
    assert (out / "2024-04-06.eml").stat().st_size > 0
    # recipients configured (a dry run needs no server): written without --email
    other = tmp_path / "other"
    other.mkdir()
    cfg = _site(other, "Bridge closed", '[email]\nrecipients = ["ann@example.org"]')
    _cli(cfg, "run", "--date", "2024-04-06")
    assert (other / "out" / "2024-04-06.eml").is_file()
    assert "1 message(s) written" in _cli(cfg, "send", "--dry-run")


def test_an_email_over_its_cap_never_stops_the_other_outputs(tmp_path: Path) -> None:
    # a site_url this long makes even an email without stories larger than the smallest cap
    site = "https://brief.example.net/" + "n" * 3000 + "/"
    cfg = _site(
        tmp_path,
        "Bridge closed after cracks found",
        f'site_url = "{site}"\nemail_max_bytes = 10000',
    )
    out = tmp_path / "out"
    out.mkdir()
    (out / "2024-04-06.eml").write_text("an older build's email")
    report = _cli(cfg, "run", "--date", "2024-04-06", "--email")
    assert "Not written: 2024-04-06.eml: email edition is over 10000 bytes" in report
    texts = _outputs(out)
    assert "Bridge closed after cracks found" in texts["2024-04-06.md"]
    assert "Bridge closed after cracks found" in texts["feed.xml"]
    # the stale email of an earlier build is gone: `send` cannot mail it as this edition
    assert not (out / "2024-04-06.eml").exists()
    sent = _cli(cfg, "send", "--dry-run", "--to", "ann@example.org", code=1)
    assert "2024-04-06.eml does not exist" in sent


@pytest.mark.parametrize("size", [200_000])
def test_a_huge_hostile_title_is_cut_and_cleaned_in_every_output(tmp_path: Path, size: int) -> None:
    title = "Bridge \x9b31m" + HOSTILE + ("closed " * (size // 7))
    cfg = _site(tmp_path, title)
    _cli(cfg, "run", "--date", "2024-04-06", "--email")
    out = tmp_path / "out"
    texts = _outputs(out)
    raw = email.message_from_bytes(
        (out / "2024-04-06.eml").read_bytes(), policy=email.policy.default
    )
    for part in raw.walk():
        if part.get_content_maintype() == "text":
            texts[f"email.{part.get_content_subtype()}"] = part.get_content()
    assert {"email.plain", "email.html"} <= set(texts)
    for name, content in texts.items():
        assert not any(ch in content for ch in HOSTILE), name
        assert "closed " * 200 not in content, name  # never the whole title
    assert len(texts["2024-04-06.html"]) < 100_000
    # the email keeps its story in full: the title no longer squeezes it out
    assert "Fennimore bridge" in texts["email.plain"]
    feed = feedparser.parse((out / "stories.xml").read_bytes())
    assert len(feed.entries[0].title) <= MAX_TITLE_CHARS
    stories = json.loads(texts["stories.json"])
    assert len(stories["items"][0]["title"]) <= MAX_TITLE_CHARS
    # and the terminal: `stories list` shows the edition's headline without its controls
    listed = _cli(cfg, "stories", "list", "--date", "2024-04-06")
    assert stories["items"][0]["title"].split()[0] in listed
    assert not any(ch in listed for ch in HOSTILE)


def test_log_lines_carry_no_control_characters_to_the_terminal() -> None:
    """The CLI's own logging set-up, in a process of its own: whatever a log line quotes (a
    feed title, a server's reply), no control or bidi character of it reaches the terminal;
    a traceback keeps its line breaks."""
    import subprocess
    import sys

    script = (
        "import logging\n"
        "from briefs.cli.app import setup_logging\n"
        "setup_logging(1, False)\n"
        "log = logging.getLogger('briefs.test')\n"
        "log.warning('feed %s: %s', '\\x1b[2Jtitle\\u202e', 'reply\\x9b31m\\x85')\n"
        "try:\n    raise ValueError('x')\nexcept ValueError:\n    log.exception('boom')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "feed [2Jtitle: reply31m" in proc.stderr, proc.stderr
    assert not any(ch in proc.stderr for ch in "\x1b\x9b\x85\u202e")
    assert "Traceback (most recent call last):\n" in proc.stderr


def test_the_render_boundary_cuts_what_ingest_did_not() -> None:
    """Defence in depth: a Brief whose headline, titles and outlet are 200 KB each (as a row
    stored by an older briefs could be) renders them cut, with an ellipsis, in every format."""
    import dataclasses

    from briefs.display import MAX_NAME_CHARS
    from briefs.mail import build_message
    from briefs.render import Renderer
    from tests.model import fixed_brief

    huge = "Bridge " + HOSTILE + "closed " * 30_000
    brief = fixed_brief(3)
    first = brief.stories[0]
    first = dataclasses.replace(
        first,
        summary=dataclasses.replace(first.summary, headline=huge),
        articles=tuple(dataclasses.replace(a, title=huge, outlet=huge) for a in first.articles),
    )
    brief = dataclasses.replace(brief, stories=(first, *brief.stories[1:]))
    renderer = Renderer()
    msg = build_message(brief, renderer)
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    outputs = {
        "md": renderer.markdown(brief),
        "page": renderer.html_page(brief, []),
        "fragment": renderer.html_fragment(brief),
        "story": renderer.story_html(brief, first),
        "email.txt": plain.get_content(),
        "email.html": html.get_content(),
    }
    for name, content in outputs.items():
        assert "closed " * 100 not in content, name
        assert not any(ch in content for ch in HOSTILE), name
        assert "Bridge closed closed" in content and "…" in content, name
    # the whole edition fits the email: the headline no longer squeezes the stories out
    assert all(s.summary.sentences[0].text[:40] in outputs["email.txt"] for s in brief.stories[1:])
    assert len(outputs["page"]) < 100_000 and MAX_NAME_CHARS < MAX_TITLE_CHARS
