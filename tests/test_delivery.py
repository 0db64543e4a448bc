"""Email delivery against a real SMTP server (aiosmtpd on 127.0.0.1): STARTTLS, implicit TLS,
login, per-recipient records, retries, refusals, crashes, dry runs, header safety."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import Config, load_config
from briefs.deliver import deliver_edition
from briefs.errors import ConfigError, DeliveryError
from briefs.mail import address_message, load_message
from briefs.pipeline import run
from briefs.store import Store, open_store
from tests.servers import SmtpServer, free_port, self_signed_cert

EDITION = "2024-04-06"


def make_config(seeds: Path, tmp_path: Path, email_toml: str) -> Config:
    cfg = seeds / "briefs.toml"
    text = cfg.read_text().replace('output = "../output"', f'output = "{tmp_path / "out"}"')
    cfg.write_text(text + "\n[email]\n" + email_toml)
    config = load_config(cfg)
    run(config, date=dt.date(2024, 4, 6))
    return config


def email_toml(port: int, recipients: list[str], **extra: object) -> str:
    lines = [
        'host = "127.0.0.1"',
        f"port = {port}",
        'sender = "The Desk <desk@news.example>"',
        f"recipients = {recipients!r}".replace("'", '"'),
        'list_unsubscribe = "https://news.example/unsubscribe"',
        "retry_delay = 0.05",
        "timeout = 5",
    ]
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"


def cli_send(config: Config, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config.path), "send", *args], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_starttls_with_login_sends_one_copy_to_each_recipient_once(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = self_signed_cert(tmp_path)
    with SmtpServer("starttls", users={"desk": "s3cret"}, cert=cert) as smtp:
        config = make_config(
            seeds_copy,
            tmp_path,
            email_toml(
                smtp.port,
                ["Ann Reader <ann@example.org>", "bob@example.net"],
                security="starttls",
                username="desk",
                cafile=str(cert[0]),
            ),
        )
        monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "s3cret")
        code, out = cli_send(config)
        assert code == 0, out
        assert "2 sent, 0 already had it, 0 failed" in out
        assert len(smtp.inbox.received) == 2
        ids = set()
        for got, addr, shown in (
            (smtp.inbox.to("ann@example.org"), "ann@example.org", "Ann Reader <ann@example.org>"),
            (smtp.inbox.to("bob@example.net"), "bob@example.net", "bob@example.net"),
        ):
            assert len(got) == 1
            assert got[0].rcpt_tos == [addr]  # nobody sees the other recipients
            assert got[0].mail_from == "desk@news.example"
            assert got[0].login == "desk"
            msg = got[0].message
            assert msg["To"] == shown
            assert msg["From"] == "The Desk <desk@news.example>"
            assert msg["Subject"] == "The Demo Brief: Saturday 6 April 2024"
            assert msg["List-Unsubscribe"] == "<https://news.example/unsubscribe>"
            assert email.utils.parsedate_to_datetime(msg["Date"]).tzinfo is not None
            assert msg["Message-ID"].endswith("@localhost>")
            ids.add(msg["Message-ID"])
            assert msg.get_content_type() == "multipart/alternative"
            assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
            html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
            assert 'style="' in html and "Calder Bay" in html
        assert len(ids) == 2
        # again: everybody already has it, nothing is sent
        code, out = cli_send(config)
        assert code == 0 and "0 sent, 2 already had it" in out
        assert len(smtp.inbox.received) == 2
        # a new address given on the command line gets it; the others do not
        code, out = cli_send(config, "--to", "carol@example.com")
        assert code == 0 and "1 sent" in out
        assert len(smtp.inbox.received) == 3


# aiosmtpd counts only STARTTLS as TLS and warns about AUTH on an implicit-TLS listener
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls_with_login(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = self_signed_cert(tmp_path)
    with SmtpServer("tls", users={"desk": "pw"}, cert=cert) as smtp:
        config = make_config(
            seeds_copy,
            tmp_path,
            email_toml(
                smtp.port,
                ["ann@example.org"],
                security="tls",
                username="desk",
                cafile=str(cert[0]),
                password_env="MY_SMTP_PW",
            ),
        )
        monkeypatch.setenv("MY_SMTP_PW", "pw")
        store = open_store(config.database)
        report = deliver_edition(config, store, EDITION)
        assert report.sent == ("ann@example.org",) and report.ok
        assert smtp.inbox.received[0].login == "desk"
        [row] = store.deliveries(EDITION)
        assert row.status == "sent" and row.attempts == 1 and row.message_id
        store.close()


def test_setup_mistakes_stop_with_a_clear_message_and_record_nothing_as_failed(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = self_signed_cert(tmp_path)
    with SmtpServer("starttls", users={"desk": "right"}, cert=cert) as smtp:
        toml = email_toml(smtp.port, ["ann@example.org"], username="desk", cafile=str(cert[0]))
        config = make_config(seeds_copy, tmp_path, toml)
        monkeypatch.delenv("BRIEFS_SMTP_PASSWORD", raising=False)
        code, out = cli_send(config)
        assert code == 1 and "$BRIEFS_SMTP_PASSWORD is empty" in out
        monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "wrong")
        code, out = cli_send(config)
        assert code == 1 and "refused the login of 'desk'" in out and "535" in out
        assert out.strip().count("\n") == 0  # one line, no traceback
        # without the CA file the self-signed certificate is not trusted
        untrusted = dataclasses.replace(config, email=dataclasses.replace(config.email, cafile=""))
        store = open_store(config.database)
        with pytest.raises(DeliveryError, match="certificate not trusted"):
            deliver_edition(untrusted, store, EDITION)
        assert [d.status for d in store.deliveries(EDITION)] == ["pending"]
        assert smtp.inbox.received == []
        store.close()


def test_temporary_failures_are_retried_and_refusals_recorded(
    seeds_copy: Path, tmp_path: Path
) -> None:
    with SmtpServer("none") as smtp:
        smtp.inbox.replies = {
            "bob@example.net": ["451 4.3.0 try again later", ""],
            "carol@example.com": ["550 5.1.1 no such mailbox"],
            "dan@example.com": ["452 4.2.2 mailbox full"],
        }
        config = make_config(
            seeds_copy,
            tmp_path,
            email_toml(
                smtp.port,
                ["ann@example.org", "bob@example.net", "carol@example.com", "dan@example.com"],
                security="none",
                max_attempts=3,
            ),
        )
        code, out = cli_send(config)
        assert code == 1
        assert "2 sent, 0 already had it, 2 failed, 0 to retry" in out
        assert "failed: carol@example.com: carol@example.com refused: 550 5.1.1 no such" in out
        assert "failed: dan@example.com: gave up after 3 attempts" in out
        assert len(smtp.inbox.to("bob@example.net")) == 1
        assert smtp.inbox.rcpt_attempts["bob@example.net"] == 2
        assert smtp.inbox.rcpt_attempts["carol@example.com"] == 1  # 5xx: not retried
        assert smtp.inbox.rcpt_attempts["dan@example.com"] == 3
        store = open_store(config.database)
        rows = {d.recipient: d for d in store.deliveries(EDITION)}
        assert rows["bob@example.net"].status == "sent" and rows["bob@example.net"].attempts == 2
        assert rows["carol@example.com"].status == "failed"
        assert "550" in (rows["carol@example.com"].error or "")
        store.close()
        # a later run does not retry refusals
        code, out = cli_send(config)
        assert "0 sent, 2 already had it, 2 failed" in out
        assert smtp.inbox.rcpt_attempts["carol@example.com"] == 1


def test_unreachable_server_leaves_deliveries_to_retry_later(
    seeds_copy: Path, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here
    config = make_config(
        seeds_copy, tmp_path, email_toml(port, ["ann@example.org"], security="none")
    )
    store = open_store(config.database)
    now = dt.datetime(2024, 4, 6, 7, tzinfo=dt.UTC)
    report = deliver_edition(config, store, EDITION, wait=False, clock=lambda: now)
    assert [a for a, _ in report.pending] == ["ann@example.org"]
    assert "cannot reach 127.0.0.1" in report.pending[0][1]
    [row] = store.deliveries(EDITION)
    assert row.attempts == 1 and row.next_attempt == now + dt.timedelta(seconds=0.05)
    assert store.due_deliveries(now) == []
    assert len(store.due_deliveries(now + dt.timedelta(seconds=1))) == 1
    store.close()


class _Crash(BaseException):
    """Stands for the process dying (kill -9, power cut) at a chosen point."""


class CrashingStore(Store):
    """The real store, except that the process 'dies' when the Nth send is about to start."""

    def __init__(self, store: Store, crash_at: int) -> None:
        super().__init__(store.engine)
        self.claims = 0
        self.crash_at = crash_at

    def claim_delivery(
        self, edition_id: str, recipient: str, now: dt.datetime, *, brief: str = "default"
    ) -> int | None:
        self.claims += 1
        if self.claims == self.crash_at:
            raise _Crash
        return super().claim_delivery(edition_id, recipient, now, brief=brief)


def test_a_crash_between_recipients_resumes_and_nobody_gets_it_twice(
    seeds_copy: Path, tmp_path: Path
) -> None:
    recipients = ["ann@example.org", "bob@example.net", "carol@example.com"]
    with SmtpServer("none") as smtp:
        config = make_config(
            seeds_copy, tmp_path, email_toml(smtp.port, recipients, security="none")
        )
        store = open_store(config.database)
        with pytest.raises(_Crash):
            deliver_edition(config, CrashingStore(store, crash_at=2), EDITION)
        assert [r.rcpt_tos for r in smtp.inbox.received] == [["ann@example.org"]]
        report = deliver_edition(config, store, EDITION)
        assert report.sent == ("bob@example.net", "carol@example.com")
        assert report.already_sent == ("ann@example.org",)
        assert sorted(r.rcpt_tos[0] for r in smtp.inbox.received) == sorted(recipients)
        store.close()


def test_interrupted_while_sending_is_reported_not_resent(seeds_copy: Path, tmp_path: Path) -> None:
    with SmtpServer("none") as smtp:
        config = make_config(
            seeds_copy,
            tmp_path,
            email_toml(smtp.port, ["ann@example.org", "bob@example.net"], security="none"),
        )
        store = open_store(config.database)
        now = dt.datetime.now(dt.UTC)
        # a previous sender died after handing ann's copy to the server, before recording it
        store.plan_deliveries(EDITION, ["ann@example.org"], now)
        assert store.claim_delivery(EDITION, "ann@example.org", now) == 1
        store.close()
        code, out = cli_send(config)
        assert code == 1
        assert "1 sent, 0 already had it, 0 failed, 0 to retry, 1 uncertain" in out
        assert "uncertain: ann@example.org" in out
        assert [r.rcpt_tos for r in smtp.inbox.received] == [["bob@example.net"]]
        code, out = cli_send(config, "--resend", "--to", "ann@example.org")
        assert code == 0 and "1 sent" in out
        assert len(smtp.inbox.to("ann@example.org")) == 1


def test_dry_run_writes_the_messages_and_sends_nothing(seeds_copy: Path, tmp_path: Path) -> None:
    config = make_config(
        seeds_copy,
        tmp_path,
        email_toml(free_port(), ["Ann <ann@example.org>", "bob@example.net"], security="none"),
    )
    code, out = cli_send(config, "--dry-run")
    assert code == 0, out
    files = sorted((config.output / "outbox" / EDITION).glob("*.eml"))
    assert [f.name for f in files] == ["001-ann@example.org.eml", "002-bob@example.net.eml"]
    msg = load_message(files[0])
    assert msg["To"] == "Ann <ann@example.org>" and msg["From"] == "The Desk <desk@news.example>"
    store = open_store(config.database)
    assert store.deliveries() == []
    store.close()


def test_dry_run_on_the_demo_writes_one_example_message(seeds_copy: Path, tmp_path: Path) -> None:
    """The demo has no [email] at all: `briefs send --dry-run` as documented still works."""
    args = ["--config", str(seeds_copy / "briefs.toml")]
    assert CliRunner().invoke(cli, [*args, "run"], catch_exceptions=False).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "send", "--dry-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 message(s) written (no email.recipients: one example message)" in result.output
    (written,) = (tmp_path / "output" / "outbox" / EDITION).glob("*.eml")
    msg = load_message(written)
    assert msg["To"] == "Example Reader <reader@example.invalid>"
    assert str(msg["Subject"]) == "The Demo Brief: Saturday 6 April 2024"
    # sending for real still needs recipients
    result = CliRunner().invoke(cli, [*args, "send"])
    assert result.exit_code == 1 and "no recipients" in result.output


def test_no_header_injection_through_addresses_or_urls(seeds_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    for recipient in ["ann@example.org\r\nBcc: victim@evil.example", "a@x.example, b@y.example"]:
        bad.write_text("[email]\n" + email_toml(25, [recipient]))
        with pytest.raises(ConfigError, match=r"email\.recipients\[0\]: not an email address"):
            load_config(bad)
    config = make_config(seeds_copy, tmp_path, email_toml(25, ["a@x.example"], security="none"))
    template = load_message(config.output / f"{EDITION}.eml")
    for recipient in ["a@x.example, b@y.example", "a@x.example\nBcc: v@evil.example"]:
        with pytest.raises(DeliveryError, match="not an email address"):
            address_message(
                template,
                sender="d@news.example",
                recipient=recipient,
                domain="news.example",
                edition_id=EDITION,
                now=dt.datetime.now(dt.UTC),
            )
    msg = address_message(
        template,
        sender="d@news.example",
        recipient="a@x.example",
        domain="news.example",
        edition_id=EDITION,
        now=dt.datetime.now(dt.UTC),
        list_unsubscribe="https://x.example/u\r\nBcc: victim@evil.example",
    )
    raw = msg.as_bytes()
    assert b"\nBcc:" not in raw and msg["Bcc"] is None


def test_password_is_never_sent_in_clear_to_a_remote_server(tmp_path: Path) -> None:
    from briefs.transport import SmtpTransport

    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        '[email]\nhost = "mail.example.org"\nsecurity = "none"\nusername = "u"\n'
        'sender = "d@example.org"\n'
    )
    config = load_config(cfg)
    with pytest.raises(DeliveryError, match="unencrypted"):
        SmtpTransport(config.email, "pw")
