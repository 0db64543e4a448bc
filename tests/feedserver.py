"""A real HTTP server on 127.0.0.1 (ephemeral port) with scripted routes, for ingest tests.

Each route is a function of the request handler that writes the whole answer. The server
records every request (path and headers) and how many were in flight at once, overall and per
Host header, so tests can check politeness as well as results.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import gzip
import io
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/rss+xml; charset=utf-8",
) -> None:
    """Write one complete answer with a Content-Length."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body and handler.command != "HEAD":
        handler.wfile.write(body)


def rss(
    title: str, items: list[tuple[str, str, str]], base: str = "https://news.example.org"
) -> bytes:
    """An RSS 2.0 feed; items are (slug, title, description)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{base}/{slug}</link><guid>{base}/{slug}</guid>"
        f"<pubDate>Fri, 05 Apr 2024 10:00:00 GMT</pubDate><description>{d}</description></item>"
        for slug, t, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{base}/</link>{entries}</channel></rss>"
    ).encode()


def conditional(body: bytes, etag: str | None = None, last_modified: str | None = None) -> Route:
    """A feed that answers 304 to a matching If-None-Match / If-Modified-Since."""

    def route(h: BaseHTTPRequestHandler) -> None:
        if etag and h.headers.get("If-None-Match") == etag:
            send(h, 304, headers={"ETag": etag})
            return
        if last_modified and h.headers.get("If-Modified-Since") == last_modified:
            send(h, 304, headers={"Last-Modified": last_modified})
            return
        headers = {}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        send(h, 200, body, headers)

    return route


def static(
    body: bytes,
    status: int = 200,
    headers: dict[str, str] | None = None,
    content_type: str = "application/rss+xml; charset=utf-8",
    delay: float = 0.0,
) -> Route:
    """The same answer every time (after ``delay`` seconds)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        if delay:
            time.sleep(delay)
        send(h, status, body, headers, content_type)

    return route


def redirect(location: str, status: int = 301) -> Route:
    """A redirect to ``location`` (a path or a URL)."""
    return static(b"", status, {"Location": location}, "text/plain")


def drip(interval: float = 0.2, total: float = 5.0) -> Route:
    """A feed that sends one byte every ``interval`` seconds (a slow-drip attack)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        end = time.monotonic() + total
        try:
            while time.monotonic() < end:
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass

    return route


def unbounded(chunk: bytes = b"<!-- padding -->" * 4096, total: int = 50_000_000) -> Route:
    """A 200 without Content-Length that streams ``total`` bytes (closes the connection)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        sent = 0
        try:
            while sent < total:
                h.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass

    return route


@functools.cache
def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as z:
        block = b"\0" * 1_000_000
        for _ in range(size // len(block)):
            z.write(block)
    return out.getvalue()


def gzip_bomb(size: int = 50_000_000) -> Route:
    """A tiny gzip body (about 50 KB) that inflates to ``size`` bytes."""
    return static(_bomb(size), headers={"Content-Encoding": "gzip"})


def http_date(when: dt.datetime) -> str:
    """An HTTP date."""
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


class _Server(ThreadingHTTPServer):
    """socketserver's listen backlog is 5: a poll opens up to fetch.concurrency (16) connections
    at once, and on a busy machine the accept loop falls behind, the kernel drops the SYNs past
    the backlog and the client's retry comes a second later, past a 2 s connect timeout. With
    room for every connection, connecting never waits on the accept loop."""

    request_queue_size = 128
    daemon_threads = True


class FeedServer:
    """The server: ``routes`` maps a path to a route; ``url(path)`` gives its address."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                host = (self.headers.get("Host") or "").split(":")[0]
                with server._lock:
                    server.hits[path] += 1
                    server.requests.append((path, dict(self.headers.items())))
                    for key in ("*", host):
                        server.in_flight[key] += 1
                        server.max_in_flight[key] = max(
                            server.max_in_flight[key], server.in_flight[key]
                        )
                try:
                    route = server.routes.get(path)
                    if route is None:
                        send(self, 404, b"not found", content_type="text/plain")
                    else:
                        route(self)
                finally:
                    with server._lock:
                        for key in ("*", host):
                            server.in_flight[key] -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """The absolute URL of a path on this server."""
        return f"http://{host}:{self.port}{path}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    """A running FeedServer, stopped afterwards."""
    server = FeedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
