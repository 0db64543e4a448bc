"""Real servers on 127.0.0.1 for tests: an SMTP server (aiosmtpd), a static HTTP server for
feeds, free ports, and a throwaway TLS certificate made with the openssl command."""

from __future__ import annotations

import email
import email.policy
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    """A port that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost and its key, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed (needed to make a test certificate)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Received:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, _class=EmailMessage, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives.

    ``replies`` maps a recipient to the replies its RCPT commands get, in turn (the last one
    repeats); an empty string means accept.
    """

    received: list[Received] = field(default_factory=list)
    replies: dict[str, list[str]] = field(default_factory=dict)
    rcpt_attempts: dict[str, int] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
        queue = self.replies.get(address)
        if queue:
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
            if reply:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        auth = getattr(session, "auth_data", None)
        login = auth.decode() if isinstance(auth, bytes) else None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, login)
        )
        return "250 Message accepted for delivery"

    def to(self, addr: str) -> list[Received]:
        return [r for r in self.received if addr in r.rcpt_tos]


def _authenticator(users: dict[str, str], attempts: list[str]) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        attempts.append(data.login.decode() if isinstance(data, LoginPassword) else "?")
        ok = (
            isinstance(data, LoginPassword)
            and users.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)

    return check


class SmtpServer:
    """aiosmtpd on 127.0.0.1 at a free port: plain, STARTTLS or implicit TLS, optional AUTH."""

    def __init__(
        self,
        security: str = "none",
        users: dict[str, str] | None = None,
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        from aiosmtpd.controller import Controller

        self.inbox = Inbox()
        self.logins: list[str] = []  # every AUTH attempt, by user name
        self.port = free_port()
        self.security = security
        kwargs: dict[str, Any] = {}
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif security == "tls":
            kwargs.update(ssl_context=context)
        if users is not None:
            kwargs.update(
                authenticator=_authenticator(users, self.logins),
                auth_required=True,
                # aiosmtpd only counts STARTTLS as TLS; implicit TLS is encrypted from the start
                auth_require_tls=security == "starttls",
            )
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, server_hostname="localhost", **kwargs
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticHttp:
    """A plain static HTTP server for a folder (stands in for news sites' feeds)."""

    def __init__(self, root: Path) -> None:
        handler = lambda *a, **k: _QuietHandler(*a, directory=str(root), **k)  # noqa: E731
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StaticHttp:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
