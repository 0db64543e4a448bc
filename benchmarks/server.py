"""A loopback HTTP server for the benchmark: feeds and pages from memory, with conditional GET.

It listens on several loopback addresses (127.0.0.1, 127.0.0.2, ...; Linux routes all of 127/8 to
the loopback interface), so the product sees many hosts, as it would on the web, and a per-host
connection limit does not serialize the whole run. Every response carries an ETag and a
Last-Modified; a request whose If-None-Match or If-Modified-Since matches gets 304 Not Modified,
so polling again with nothing new is all 304s. Responses are gzip-compressed when the client asks.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["Resource", "SiteServer"]


@dataclass(frozen=True, slots=True)
class Resource:
    """One served document, with its validators precomputed."""

    data: bytes
    gzipped: bytes
    content_type: str
    etag: str
    last_modified: str
    modified: dt.datetime

    @classmethod
    def make(
        cls, data: bytes, content_type: str, modified: dt.datetime, compress: bool = True
    ) -> Resource:
        """A resource for ``data`` last modified at ``modified``."""
        return cls(
            data=data,
            gzipped=gzip.compress(data, compresslevel=6, mtime=0) if compress else b"",
            content_type=content_type,
            etag='"' + hashlib.sha1(data).hexdigest()[:20] + '"',
            last_modified=email.utils.format_datetime(
                modified.astimezone(dt.UTC).replace(microsecond=0), usegmt=True
            ),
            modified=modified.astimezone(dt.UTC).replace(microsecond=0),
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path.split("?", 1)[0]
        kind = path.split("/")[1] if path.count("/") > 1 else "root"
        resource = site.resources.get(path)
        if resource is None:
            site.count(f"{kind}:404")
            self._send(404, b"not found", "text/plain", {})
            return
        if self._not_modified(resource):
            site.count(f"{kind}:304")
            self.send_response(304)
            self.send_header("ETag", resource.etag)
            self.send_header("Last-Modified", resource.last_modified)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        site.count(f"{kind}:200")
        headers = {"ETag": resource.etag, "Last-Modified": resource.last_modified}
        body = resource.data
        if resource.gzipped and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = resource.gzipped
            headers["Content-Encoding"] = "gzip"
        self._send(200, body, resource.content_type, headers)

    def _not_modified(self, resource: Resource) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return resource.etag in {t.strip() for t in inm.split(",")} or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            return resource.modified <= since
        return False

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: thousands of requests per run


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], site: SiteServer) -> None:
        super().__init__(address, _Handler)
        self.site = site


class SiteServer:
    """Serves a path -> Resource map on ``hosts`` loopback addresses, each on its own port."""

    def __init__(self, hosts: int = 16) -> None:
        self.resources: dict[str, Resource] = {}
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._servers = [_Server((f"127.0.0.{i + 1}", 0), self) for i in range(max(1, hosts))]
        self._threads: list[threading.Thread] = []

    @property
    def base_urls(self) -> list[str]:
        """``http://127.0.0.N:PORT`` for every listening address."""
        return [f"http://{s.server_address[0]!s}:{s.server_address[1]}" for s in self._servers]

    def publish(self, items: Iterable[tuple[str, Resource]]) -> None:
        """Add or replace documents (a path such as ``/f/0001.xml`` and its resource)."""
        self.resources.update(items)

    def clear(self) -> None:
        """Forget every document and reset the counters."""
        self.resources.clear()
        self.reset_counts()

    def count(self, key: str) -> None:
        """Record one response as ``kind:status`` (kind: the first path segment, e.g. ``f``)."""
        with self._lock:
            self.counts[key] += 1

    def reset_counts(self) -> Counter[str]:
        """Return the counts so far and start again from zero."""
        with self._lock:
            counts, self.counts = self.counts, Counter()
        return counts

    def start(self) -> SiteServer:
        """Serve in background threads."""
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
