"""Hostile network, through the whole product: `briefs run` against loopback servers that reset
mid-body, drip forever, declare 10 GB, inflate a gzip bomb, loop redirects or redirect across
schemes, and feeds whose article links point at loopback, link-local (cloud metadata) and private
addresses, or at a DNS name that resolves to loopback.

Every hostile source fails with its own clear error, the good source still makes the brief, no
request reaches a refused address, the run ends in bounded time and memory.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from briefs.store import open_store
from tests.adversarial.peak import CHILD, peak_of
from tests.feedserver import FeedServer, drip, feed_server, gzip_bomb, redirect, static
from tests.rawdb import stored_articles

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT, TOTAL = 2.0, 4.0


def _reset_mid_body(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut')
    h.wfile.flush()
    # SO_LINGER 0: close with a TCP reset instead of a clean FIN.
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def _ten_gigabytes(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", str(10 * 1024**3))
    h.end_headers()
    with contextlib.suppress(OSError):
        h.wfile.write(b"<rss>" + b" " * 65536)
    h.close_connection = True


def _loopback_name() -> str | None:
    """A name that this machine's resolver maps to a loopback or private address."""
    for name in (socket.gethostname(), "localhost"):
        try:
            infos = socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)
        except OSError:
            continue
        import ipaddress

        if infos and all(not ipaddress.ip_address(i[4][0]).is_global for i in infos):
            return name
    return None


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as s:
        yield s


@pytest.mark.slow
def test_hostile_network_through_briefs_run(tmp_path: Path, server: FeedServer) -> None:
    port = server.port
    name = _loopback_name()
    ssrf = {
        "loopback": f"http://127.0.0.1:{port}/secret",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/",
        "private10": "http://10.1.2.3/admin",
        "private192": "http://192.168.0.1/",
        "ipv6-loopback": f"http://[::1]:{port}/secret",
        "decimal-ip": f"http://2130706433:{port}/secret",
        "file": "file:///etc/passwd",
    }
    if name:
        ssrf["dns-to-loopback"] = f"http://{name}:{port}/secret-by-name"
    teasers = "".join(
        f"<item><title>Report on {k}</title><link>{u}</link><guid>g-{k}</guid>"
        "<pubDate>Fri, 05 Apr 2024 10:00:00 GMT</pubDate><description>Short teaser.</description></item>"
        for k, u in ssrf.items()
    )
    server.routes["/good.xml"] = static(
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title>'
            f"<link>https://good.example/</link>{teasers}</channel></rss>"
        ).encode()
    )
    server.routes["/secret"] = static(b"internal secret", content_type="text/html")
    server.routes["/secret-by-name"] = static(b"internal secret", content_type="text/html")
    server.routes["/reset.xml"] = _reset_mid_body
    server.routes["/drip.xml"] = drip(interval=TIMEOUT / 4, total=60)
    server.routes["/huge.xml"] = _ten_gigabytes
    server.routes["/bomb.xml"] = gzip_bomb(200_000_000)
    server.routes["/loop1.xml"] = redirect("/loop2.xml", 302)
    server.routes["/loop2.xml"] = redirect("/loop1.xml", 302)
    server.routes["/to-file.xml"] = redirect("file:///etc/passwd", 302)
    server.routes["/to-ftp.xml"] = redirect("ftp://127.0.0.1/feed.xml", 301)
    hostile = ["reset", "drip", "huge", "bomb", "loop1", "to-file", "to-ftp"]
    sources = "".join(
        f'[[sources]]\nid = "{n}"\nurl = "{server.url(f"/{n}.xml")}"\n' for n in ["good", *hostile]
    )
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        'output = "out"\n[brief]\ndate = "latest"\n'
        f"[fetch]\ntimeout = {TIMEOUT}\nconnect_timeout = {TIMEOUT}\ntotal_timeout = {TOTAL}\n"
        "max_bytes = 2000000\nteaser_words = 50\n" + sources
    )
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            "--config",
            str(cfg),
            "run",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=180,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert f"{1 + len(hostile)} polled, 1 ok, {len(hostile)} failed" in out, out
    failures = dict(
        line.strip()[len("failed: ") :].split(": ", 1)
        for line in out.splitlines()
        if line.strip().startswith("failed: ")
    )
    assert "timed out" in failures["drip"] or "longer than" in failures["drip"]
    assert "limit" in failures["huge"]
    assert "decompressed body over" in failures["bomb"]
    assert "redirects" in failures["loop1"]
    assert "connection broken while reading" in failures["reset"]
    assert "unsupported URL scheme" in failures["to-file"] and "file://" in failures["to-file"]
    assert "unsupported URL scheme" in failures["to-ftp"]
    # nothing reached the loopback "internal" pages; every hostile link was refused and recorded
    assert server.hits["/secret"] == 0 and server.hits["/secret-by-name"] == 0
    with open_store(str(tmp_path / "briefs.db")) as store:
        cached = {a.url: store.page(a.url) for a in stored_articles(store)}
    pages = {url: page.status for url, page in cached.items() if page is not None}
    assert pages and set(pages.values()) == {"refused"}, pages
    peak = peak_of(proc.stderr)
    assert peak < 600, f"peak memory {peak} MB"
    assert elapsed < 60, f"took {elapsed:.0f} s"
    print(
        f"\nhostile network: {elapsed:.1f} s, peak {peak} MB, failures: {failures}, pages: {pages}"
    )
    brief = next((tmp_path / "out").glob("*.md")).read_text()
    assert "Sources that failed" in brief and "Report on" in brief
