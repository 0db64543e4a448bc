"""Email safety: CR/LF, Unicode line breaks and encoded-word tricks cannot add headers or recipients."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest

from briefs.errors import DeliveryError
from briefs.mail import build_message
from briefs.models import Article, Brief, BriefStory, Edition, Sentence, Story, Summary
from briefs.render import Renderer

T = dt.datetime(2024, 4, 6, 7, tzinfo=dt.UTC)
TRICKS = [
    "Brief\r\nBcc: victim@evil.example",
    "Brief\nX-Injected: 1",
    "Brief\rTo: victim@evil.example",
    "Brief\u2028Bcc: victim@evil.example",
    "Brief\x85Bcc: victim@evil.example",
    "Brief\u2029Cc: victim@evil.example",
    "=?utf-8?q?Brief=0D=0ABcc:_victim@evil.example?=",
    "=?utf-8?b?QnJpZWYNCkJjYzogdmljdGltQGV2aWwuZXhhbXBsZQ==?=",
    "Brief\r\n\r\n<script>alert(1)</script>",
    "Brief\x00Bcc: victim@evil.example",
]
EXPECTED_HEADERS = {"subject", "from", "to", "date", "message-id", "mime-version", "content-type"}


def _brief(title: str, outlet: str = "Outlet") -> Brief:
    art = Article("a", "s", "https://x.example/a", title, T, T, outlet)
    sentence = Sentence("A sentence long enough to print here.", "a", outlet, art.url)
    item = BriefStory(Story("s", ("a",), T, T), Summary("s", title, (sentence,), (outlet,)), (art,))
    return Brief(Edition(dt.date(2024, 4, 6)), T, title, (item,))


@pytest.mark.parametrize("trick", TRICKS)
def test_titles_and_outlets_cannot_add_headers(trick: str) -> None:
    msg = build_message(_brief(trick, outlet=trick), Renderer(), recipients=["reader@x.example"])
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert {k.lower() for k in parsed.keys()} == EXPECTED_HEADERS  # noqa: SIM118 (Message)
    assert parsed.get_all("To") == ["reader@x.example"]
    assert (
        "victim" not in str(parsed.get("To"))
        and parsed.get("Bcc") is None
        and parsed.get("Cc") is None
    )
    subject = str(parsed["Subject"])
    assert "\n" not in subject and "\r" not in subject
    # the literal text survives as text (an encoded-word lookalike is not decoded into a header)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\r\nX-Injected" not in head


@pytest.mark.parametrize(
    "address",
    [
        "victim@evil.example\r\nBcc: other@evil.example",
        "a@x.example, b@evil.example",
        "not-an-address",
        "<a@x.example>\nCc: c@evil.example",
        "a@x.example\u2028Bcc: b@evil.example",
        "",
    ],
)
def test_bad_recipient_addresses_are_refused(address: str) -> None:
    with pytest.raises(DeliveryError, match="not an email address"):
        build_message(_brief("Brief"), Renderer(), recipients=[address])


def test_a_bad_address_in_the_recipient_list_fails_that_address_only(
    seeds_copy: Path, tmp_path: Path
) -> None:
    from tests.servers import SmtpServer
    from tests.test_delivery import cli_send, email_toml, make_config

    with SmtpServer("none") as smtp:
        config = make_config(
            seeds_copy, tmp_path, email_toml(smtp.port, ["a@reader.example"], security="none")
        )
        code, out = cli_send(
            config,
            "--to",
            "a@reader.example",
            "--to",
            "b@reader.example\r\nBcc: victim@evil.example",
            "--to",
            "not an address",
            "--to",
            "c@reader.example",
        )
    assert code == 1, out
    got = sorted(r for m in smtp.inbox.received for r in m.rcpt_tos)
    assert got == ["a@reader.example", "c@reader.example"]
    assert "not an email address" in out and "victim" not in "".join(got)
