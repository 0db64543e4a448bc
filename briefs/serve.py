"""Serve the output folder over HTTP: feeds with their own content types, pages, the archive.

Small and strict on purpose (production belongs behind a reverse proxy, see the README):

- only GET and HEAD, only files of known types (feeds, pages, Markdown, stylesheets, images);
  never a directory listing, a hidden file (``.name``, e.g. a temporary file being written), an
  ``.eml`` (it may carry addresses) or anything outside the folder (``..``, encoded or not, and
  symbolic links that lead out are refused);
- conditional GET: a strong ETag from the content and Last-Modified from the file, answered with
  304 Not Modified; ``Cache-Control: public, max-age=N`` so readers and proxies revalidate;
- gzip for text when the client accepts it (with ``Vary: Accept-Encoding``);
- sturdy at the socket: a listen backlog of :data:`LISTEN_BACKLOG` (hundreds of readers
  connecting at once all get in), a timeout on every connection, a request body (which a GET
  should not have) read and dropped when small and refused with the connection closed
  otherwise, so a body is never taken for the next request (request smuggling behind a
  proxy); every header parse is guarded, and anything unforeseen answers 500 rather than
  dropping the connection.

Files are read whole (briefs writes them atomically, so a reader sees the old file or the new one)
and kept in a small cache keyed by path, size and modification time.

``/search?q=`` is the one page made per request, when the server is given a search page
(:class:`briefs.search.SearchPage`, over the database): its answer is never cached, and a
query that cannot be read is a 400 with the reason on the page, never a 500. With several
briefs there is one search page per path (:func:`briefs.search.search_pages`: ``/search`` for
the desk, ``/<folder>/search`` for each brief).
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import logging
import signal
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from briefs.errors import ServeError
from briefs.outputs import served_types

__all__ = ["OutputServer", "content_type", "make_server", "serve_until_stopped"]

log = logging.getLogger(__name__)

# Types served: every output's (the registry of outputs, by file name or suffix), then these
# for files of the site beside them; anything else is a 404. Other feeds (.xml, .json) are
# told apart by their content.
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
}
_TYPES = {**_STATIC_TYPES, **served_types()}
_FEED_SUFFIXES = (".xml", ".json")
# Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 1024
# Seconds a connection may stay silent (while sending its request, or idle between requests).
CONNECTION_TIMEOUT = 15
# A request body up to this size is read and dropped; a larger one is refused (413).
MAX_BODY_BYTES = 65_536
_MAX_FILE_BYTES = 50_000_000
_CACHE_ENTRIES = 256
_MIN_GZIP_BYTES = 256
# The pages have inline CSS and no scripts; images come from the outlets' sites.
_CSP = (
    "default-src 'none'; img-src http: https: data:; style-src 'self' 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


# The search page posts its form to itself.
_SEARCH_CSP = _CSP.replace("form-action 'none'", "form-action 'self'")
SEARCH_PATH = "/search"
_MAX_SEARCH_FIELDS = 20


class SearchResponder(Protocol):
    """What answers ``/search`` (:class:`briefs.search.SearchPage`)."""

    def respond(self, params: dict[str, list[str]]) -> tuple[int, str]:
        """The status and HTML page for a request's query parameters."""


def content_type(name: str, head: bytes) -> str | None:
    """The Content-Type for a file name and its first bytes, or None if it is not served."""
    if name in _TYPES:
        return _TYPES[name]
    suffix = Path(name).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    sample = head[:1024].lower()
    if suffix == ".xml":
        if b"<rss" in sample or b"<rdf:rdf" in sample:
            return "application/rss+xml; charset=utf-8"
        if b"<feed" in sample:
            return "application/atom+xml; charset=utf-8"
        return "application/xml; charset=utf-8"
    if suffix == ".json":
        if b"jsonfeed.org/version" in sample.replace(b"\\/", b"/"):
            return "application/feed+json; charset=utf-8"
        return "application/json; charset=utf-8"
    return None


def _compressible(ctype: str) -> bool:
    base = ctype.split(";")[0]
    return base.startswith("text/") or base.endswith(("xml", "json")) or base == "image/svg+xml"


@dataclass
class _Entry:
    data: bytes
    ctype: str
    etag: str
    mtime: float
    _gz: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gz is None:
            self._gz = gzip.compress(self.data, compresslevel=6, mtime=0)
        return self._gz


class OutputServer(ThreadingHTTPServer):
    """An HTTP server for one output folder."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        root: Path,
        max_age: int = 300,
        search: SearchResponder | Mapping[str, SearchResponder] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.max_age = max_age
        if search is None or isinstance(search, Mapping):
            self.searches: dict[str, SearchResponder] = dict(search or {})
        else:
            self.searches = {SEARCH_PATH: search}
        self._cache: OrderedDict[Path, tuple[tuple[int, int, int], _Entry]] = OrderedDict()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """The base URL the server listens on."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def locate(self, raw_path: str) -> tuple[Path | None, bool]:
        """The file a request path names, or None; and whether to redirect to path + "/"."""
        path = unquote(urlsplit(raw_path).path, errors="strict")
        if "\x00" in path or "\\" in path:
            return None, False
        parts = [p for p in path.split("/") if p]
        if any(p.startswith(".") for p in parts):
            return None, False  # "..", ".hidden", ".feed.xml.tmp"
        target = self.root.joinpath(*parts)
        if path.endswith("/") or not parts:
            target = target / "index.html"
        try:
            resolved = target.resolve(strict=True)
        except (OSError, RuntimeError):
            return None, False
        if not resolved.is_relative_to(self.root):
            return None, False  # a symbolic link that leads out of the folder
        if resolved.is_dir():
            return None, (resolved / "index.html").is_file()
        if not resolved.is_file():
            return None, False
        return resolved, False

    def entry(self, path: Path) -> _Entry | None:
        """The file's bytes and metadata, from the cache when the file is unchanged."""
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and cached[0] == key:
                self._cache.move_to_end(path)
                return cached[1]
        if st.st_size > _MAX_FILE_BYTES:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        ctype = content_type(path.name, data)
        if ctype is None:
            return None
        digest = hashlib.sha256(data).hexdigest()[:32]
        item = _Entry(data, ctype, f'"{digest}"', st.st_mtime)
        with self._lock:
            self._cache[path] = (key, item)
            self._cache.move_to_end(path)
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return item


class _Handler(BaseHTTPRequestHandler):
    server: OutputServer
    protocol_version = "HTTP/1.1"
    server_version = "briefs"
    sys_version = ""
    timeout = CONNECTION_TIMEOUT

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._guarded(body=True)

    def do_HEAD(self) -> None:
        self._guarded(body=False)

    def _not_allowed(self) -> None:
        if not self._drop_body():
            return
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _drop_body(self) -> bool:
        """Read and drop the request's body, if any; False (after answering, with the connection
        closed) when it cannot be read safely: chunked, unparseable, or over MAX_BODY_BYTES.

        A body left unread would be parsed as the next request on this connection.
        """
        lengths = self.headers.get_all("Content-Length") or []
        if self.headers.get("Transfer-Encoding") is not None:
            self._refuse(HTTPStatus.BAD_REQUEST, "a request body is not accepted here")
            return False
        if not lengths:
            return True
        values = {v.strip() for v in ",".join(lengths).split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            self._refuse(HTTPStatus.BAD_REQUEST, "bad Content-Length")
            return False
        size = int(next(iter(values)))
        if size > MAX_BODY_BYTES:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
            return False
        while size > 0:
            chunk = self.rfile.read(min(size, 65_536))
            if not chunk:
                self.close_connection = True
                return False
            size -= len(chunk)
        return True

    def _refuse(self, status: HTTPStatus, reason: str) -> None:
        payload = f"{reason}\n".encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _guarded(self, body: bool) -> None:
        if not self._drop_body():
            return
        self._headers_sent = False
        try:
            self._respond(body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            # A server answers: an unforeseen request is a 500 and a log line, never a dropped
            # connection with a traceback on stderr.
            log.exception("serve: %s %s failed", self.command, self.path[:200])
            self.close_connection = True
            if not self._headers_sent:
                self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    _headers_sent = False

    def end_headers(self) -> None:
        self._headers_sent = True
        super().end_headers()

    def _search(self, responder: SearchResponder, query: str, body: bool) -> None:
        try:
            params = parse_qs(
                query, keep_blank_values=True, errors="replace", max_num_fields=_MAX_SEARCH_FIELDS
            )
        except ValueError:
            self._refuse(HTTPStatus.BAD_REQUEST, "too many query parameters")
            return
        status, page = responder.respond(params)
        payload = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", _SEARCH_CSP)
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def _respond(self, body: bool) -> None:
        parts = urlsplit(self.path)
        responder = self.server.searches.get(unquote(parts.path, errors="replace"))
        if responder is not None:
            self._search(responder, parts.query, body)
            return
        try:
            path, redirect = self.server.locate(self.path)
        except UnicodeDecodeError:
            path, redirect = None, False
        if redirect:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", urlsplit(self.path).path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        item = self.server.entry(path) if path is not None else None
        if item is None:
            self._not_found(body)
            return
        compressible = _compressible(item.ctype)
        use_gzip = (
            compressible
            and len(item.data) >= _MIN_GZIP_BYTES
            and _accepts_gzip(self.headers.get("Accept-Encoding", ""))
        )
        etag = f'{item.etag[:-1]}-gz"' if use_gzip else item.etag
        common = [
            ("ETag", etag),
            ("Last-Modified", email.utils.formatdate(item.mtime, usegmt=True)),
            ("Cache-Control", f"public, max-age={self.server.max_age}"),
        ]
        if compressible:
            common.append(("Vary", "Accept-Encoding"))
        if self._not_modified(etag, item.mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in common:
                self.send_header(name, value)
            self.end_headers()
            return
        payload = item.gzipped() if use_gzip else item.data
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", item.ctype)
        self.send_header("Content-Length", str(len(payload)))
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        for name, value in common:
            self.send_header(name, value)
        self.send_header("X-Content-Type-Options", "nosniff")
        if item.ctype.startswith("text/html"):
            self.send_header("Content-Security-Policy", _CSP)
            self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
                if since.tzinfo is None:
                    return False
                return int(mtime) <= since.timestamp()
            except (TypeError, ValueError, OverflowError, IndexError, OSError):
                return False  # not a date we can compare: answer in full
        return False

    def _not_found(self, body: bool) -> None:
        payload = b"Not found\n"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def _accepts_gzip(header: str) -> bool:
    for item in header.split(","):
        token, _, params = item.strip().partition(";")
        if token.strip().lower() not in ("gzip", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        return q > 0
    return False


def make_server(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_age: int = 300,
    search: SearchResponder | Mapping[str, SearchResponder] | None = None,
) -> OutputServer:
    """A server for ``root`` bound to host:port (port 0: any free port). Not yet serving.
    ``search``: what answers ``/search``, or what answers each search path (``{"/search":
    ..., "/wire/search": ...}``); none: a 404, as for any unknown path."""
    if not root.is_dir():
        raise ServeError(f"{root} is not a folder: build an edition first (briefs run)")
    try:
        return OutputServer((host, port), root, max_age, search)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def serve_until_stopped(server: OutputServer, stop: threading.Event | None = None) -> None:
    """Serve until SIGTERM or SIGINT (or ``stop`` is set); then close the server."""
    stop = stop or threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, on_signal)
    thread = threading.Thread(target=server.serve_forever, name="briefs-serve", daemon=True)
    thread.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
