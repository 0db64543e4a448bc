"""A real IMAP server for the newsletter tests: Debian's Dovecot, started with its own
configuration in a temporary folder (its own ports on 127.0.0.1, any user name with one static
password, a maildir per user), and a TCP proxy that cuts a connection in the middle of a fetch.

Dovecot refuses to run its login processes as root and to give mail to uid 0: as root, mail
belongs to the package's ``dovecot`` user (its folder is made for it) and logins run as
``dovenull``; as another user, every process runs as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest
from imap_tools import MailBoxUnencrypted

PASSWORD = "letters-secret"


def dovecot_binary() -> str:
    """The dovecot program, or skip (``.ci/run`` installs dovecot-imapd when it is missing)."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if found is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    """``with Dovecot() as imap:``; ``imap.port`` (plain, STARTTLS offered), ``imap.tls_port``
    (implicit TLS), ``imap.cafile`` (the self-signed certificate to trust)."""

    def __init__(self) -> None:
        self.binary = dovecot_binary()
        self.root = Path(tempfile.mkdtemp(prefix="briefs-dovecot-"))
        self.port = free_port()
        self.tls_port = free_port()
        self.cafile = self.root / "cert.pem"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dovecot:
        try:
            self._configure()
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _configure(self) -> None:
        root = self.root
        os.chmod(root, 0o755)  # the mail user (not root) must reach its maildir below
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(root / "key.pem"),
                "-out",
                str(self.cafile),
            ],
            check=True,
            capture_output=True,
        )
        mail = root / "mail"
        mail.mkdir()
        if os.getuid() == 0:
            owner = pwd.getpwnam("dovecot")
            os.chown(mail, owner.pw_uid, owner.pw_gid)
            users = (
                "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
                "service auth {\n  user = root\n}\nservice auth-worker {\n  user = root\n}\n"
            )
            uid, gid, chroot = owner.pw_uid, owner.pw_gid, ""
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
            uid, gid, chroot = os.getuid(), os.getgid(), "  chroot =\n"
        (root / "dovecot.conf").write_text(
            f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{self.cafile}
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
{users}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
mail_location = maildir:{mail}/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
{chroot}}}
service anvil {{
{chroot}}}
"""
        )

    def _start(self) -> None:
        conf = self.root / "dovecot.conf"
        with (self.root / "stderr.log").open("wb") as stderr:
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = (self.root / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"dovecot exited: {err}{self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as s,
            ):
                if s.recv(64).startswith(b"* OK"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()}")

    def box(self, user: str) -> MailBoxUnencrypted:
        """A logged-in client of the test's own (to deliver and look at messages)."""
        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(
            user, PASSWORD, initial_folder=None
        )

    def deliver(self, user: str, raw: bytes, folder: str = "Newsletters") -> None:
        """Put one message in the user's folder (IMAP APPEND; the folder made if need be)."""
        with self.box(user) as box:
            if not box.folder.exists(folder):
                box.folder.create(folder)
            box.append(raw, folder, flag_set=())

    def flags(self, user: str, folder: str = "Newsletters") -> list[tuple[str, ...]]:
        """Every message's flags, in UID order (read without changing them)."""
        with self.box(user) as box:
            box.folder.set(folder, readonly=True)
            return [m.flags for m in box.fetch(headers_only=True, mark_seen=False)]


class CutProxy:
    """A TCP proxy to ``port`` on 127.0.0.1 that, on the ``nth`` message fetched of a
    connection (the nth ``BODY.PEEK[]`` command it forwards), passes ``keep`` bytes of the
    server's answer and then closes both sides: a server that drops the connection mid-fetch.
    """

    def __init__(self, port: int, nth: int = 1, keep: int = 300) -> None:
        self.target = port
        self.nth = nth
        self.keep = keep
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._threads: list[threading.Thread] = []
        self._closing = False

    def __enter__(self) -> CutProxy:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            state = {"fetches": 0, "armed": False, "passed": 0}
            for args in ((client, server, state, True), (server, client, state, False)):
                thread = threading.Thread(target=self._pump, args=args, daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(
        self, src: socket.socket, dst: socket.socket, state: dict[str, int], up: bool
    ) -> None:
        with contextlib.suppress(OSError):
            for chunk in _chunks(src):
                if up:
                    state["fetches"] += chunk.count(b"BODY.PEEK[]")
                    if state["fetches"] >= self.nth:
                        state["armed"] = True
                    dst.sendall(chunk)
                    continue
                if state["armed"]:
                    room = self.keep - state["passed"]
                    dst.sendall(chunk[: max(room, 0)])
                    state["passed"] += len(chunk)
                    if state["passed"] >= self.keep:
                        self.cuts += 1
                        break
                    continue
                dst.sendall(chunk)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def _chunks(sock: socket.socket) -> Iterator[bytes]:
    while True:
        data = sock.recv(65536)
        if not data:
            return
        yield data


def newsletter(
    subject: str,
    sender: str,
    html: str | None,
    text: str | None = None,
    *,
    date: str = "Tue, 10 Mar 2026 07:30:00 +0000",
    message_id: str = "<issue-1@letters.example>",
) -> bytes:
    """A newsletter as sent: headers, then its text and HTML parts (multipart/alternative)."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = "reader@home.example"
    msg["Date"] = date
    msg["Message-ID"] = message_id
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    return msg.as_bytes()
