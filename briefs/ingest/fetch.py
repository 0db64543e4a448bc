"""HTTP fetching with httpx: limits, timeouts, bounded bodies, redirects, conditional GET.

The client and its transport are parameters (tests and benchmarks pass their own); nothing here
reads the clock or the database. Politeness lives here too: :class:`HostLimiter` caps requests
in flight overall and per host, and every request names briefs and its contact URL.

Bodies are streamed *raw* and decompressed here with a bound on the output, so neither a huge
body nor a small gzip bomb is ever held in memory beyond ``max_bytes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from briefs.config import FetchSettings
from briefs.errors import FetchError, SourceError, UnsafeURLError, about
from briefs.ingest.netguard import GuardedTransport, RefusedConnection, check_url

__all__ = [
    "FEED_ACCEPT",
    "PAGE_ACCEPT",
    "FetchResult",
    "HostLimiter",
    "fetch_url",
    "make_client",
    "user_agent",
]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
CHUNK = 64 * 1024
DRAIN_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one GET returned."""

    status: int
    url: str
    content: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    permanent_redirect: str | None = None
    retry_after: str | None = None
    cache_control: str | None = None
    reason: str = ""

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional GET."""
        return self.status == 304


class HostLimiter:
    """Caps requests in flight: ``total`` overall and ``per_host`` to any one host."""

    def __init__(self, total: int, per_host: int) -> None:
        self._total = asyncio.Semaphore(max(total, 1))
        self._per_host_limit = max(per_host, 1)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        """Hold one request slot for the host of ``url`` (host first, so a busy host never
        holds global slots while it waits)."""
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            host = ""
        sem = self._hosts.setdefault(host, asyncio.Semaphore(self._per_host_limit))
        async with sem, self._total:
            yield


def user_agent(settings: FetchSettings) -> str:
    """The User-Agent: names briefs and, when configured, a contact URL."""
    ua = settings.user_agent
    if settings.contact_url and settings.contact_url not in ua:
        ua = f"{ua} (+{settings.contact_url})"
    return ua


def make_client(
    settings: FetchSettings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    untrusted: bool = False,
) -> httpx.AsyncClient:
    """An AsyncClient with briefs' timeouts, limits, redirects and headers, and the address
    guard on every request it makes, redirect hops included.

    Unless ``settings.allow_private`` is set, only public addresses are fetched: every URL is
    checked (:func:`~briefs.ingest.netguard.check_url`) and connections go to checked public
    addresses only (:class:`~briefs.ingest.netguard.GuardedTransport`), with one exception:
    a request :func:`fetch_url` makes for a configured feed (``trusted``) may go to that
    feed's own origin (scheme, host and port), which the user chose. ``untrusted`` (article
    pages, discovery) trusts no origin at all.
    """
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    # A few idle connections are enough to reuse one for the next request to the same host;
    # httpcore checks every idle connection on every request, so a large idle pool costs CPU
    # (measured: 500 requests over 16 idle connections take twice the CPU of 4).
    limits = httpx.Limits(
        max_connections=max(settings.concurrency, 1),
        max_keepalive_connections=max(min(settings.concurrency, 2 * settings.per_host, 8), 1),
    )
    if transport is None:
        plain = httpx.AsyncHTTPTransport(limits=limits)
        guarded: httpx.AsyncBaseTransport = (
            plain if settings.allow_private else GuardedTransport(limits)
        )
        transport = _SplitTransport(plain, guarded)

    async def _check(request: httpx.Request) -> None:
        # Called for the first request and again for every redirect hop (httpx copies the
        # extensions onto the redirect's request, so the trusted origin travels along).
        trusted = None if untrusted else request.extensions.get(TRUSTED_ORIGIN)
        own = trusted is not None and _origin(str(request.url)) == trusted
        hop = request.extensions.get(_HOPS, -1) + 1
        if not own:
            try:
                check_url(str(request.url), settings.allow_private)
            except UnsafeURLError as exc:
                if hop:
                    raise UnsafeURLError(f"redirect to {request.url} refused: {exc}") from None
                raise
        request.extensions = {**request.extensions, GUARD: not own, _HOPS: hop}

    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": user_agent(settings), "Accept-Encoding": "gzip, deflate"},
        transport=transport,
        event_hooks={"request": [_check]},
    )


# Request extensions (httpx hands them to the transport and copies them to redirect hops):
# the origin of the configured feed a request is for, and whether this hop must be guarded.
TRUSTED_ORIGIN = "briefs_trusted_origin"
GUARD = "briefs_guard"
_HOPS = "briefs_hops"


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port made explicit."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
        return scheme, (parts.hostname or "").lower(), port
    except ValueError:
        return "", "", None


class _SplitTransport(httpx.AsyncBaseTransport):
    """Sends a guarded request (see make_client) through the guarded transport, and a request
    to a configured feed's own origin through the plain one."""

    def __init__(self, plain: httpx.AsyncBaseTransport, guarded: httpx.AsyncBaseTransport):
        self.plain = plain
        self.guarded = guarded

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        chosen = self.guarded if request.extensions.get(GUARD, True) else self.plain
        return await chosen.handle_async_request(request)

    async def aclose(self) -> None:
        await self.plain.aclose()
        if self.guarded is not self.plain:
            await self.guarded.aclose()


async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    settings: FetchSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limiter: HostLimiter | None = None,
    accept: str = FEED_ACCEPT,
    trusted: str | None = None,
) -> FetchResult:
    """GET ``url`` (conditionally when validators are given), keeping at most ``max_bytes``.

    ``trusted`` is the configured URL of the feed this request is for: its origin is the
    user's choice and is not guarded (every other origin, redirect hops included, is; see
    :func:`make_client`). A connection the server dropped before answering (a stale
    keep-alive connection) is tried once more at once.

    Raises FetchError for network failures, redirect loops, bodies over the cap and a whole
    request over ``total_timeout``; UnsafeURLError when the guard refuses the URL or a
    redirect. HTTP error statuses are returned, not raised (their bodies are not read): the
    caller decides what they mean.
    """
    headers = {"Accept": accept}
    extensions: dict[str, object] = {TRUSTED_ORIGIN: _origin(trusted)} if trusted else {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    slot = limiter.slot(url) if limiter is not None else contextlib.nullcontext()
    try:
        async with slot, asyncio.timeout(settings.total_timeout):
            return await _get(client, url, settings, headers, extensions)
    except (TimeoutError, httpx.HTTPError) as exc:
        error = _failure(exc, settings)
        about(error, url=url)
        # a timeout or a redirect loop says all there is; the others keep httpx's cause
        quiet = isinstance(exc, TimeoutError | httpx.TooManyRedirects)
        raise error from (None if quiet else exc)
    except SourceError as exc:
        about(exc, url=url)
        raise


def _failure(exc: TimeoutError | httpx.HTTPError, settings: FetchSettings) -> SourceError:
    """The FetchError (or UnsafeURLError) that an httpx failure means."""
    if isinstance(exc, TimeoutError):
        return FetchError(f"took longer than {settings.total_timeout:g} s in total")
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError(f"more than {settings.max_redirects} redirects")
    if isinstance(exc, httpx.InvalidURL):
        return FetchError(f"invalid URL: {exc}")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return UnsafeURLError(f"unsupported URL scheme: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"timed out ({exc.__class__.__name__})")
    if isinstance(exc, httpx.ConnectError):
        if isinstance(exc.__cause__, RefusedConnection):
            return UnsafeURLError(str(exc.__cause__))
        return FetchError(f"cannot connect: {exc}")
    if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
        # a reset or a close mid-body: httpx often has no message of its own for these
        detail = str(exc) or str(exc.__context__ or "") or exc.__class__.__name__
        return FetchError(f"connection broken while reading the answer ({detail})")
    return FetchError(f"{exc.__class__.__name__}: {exc or 'no detail'}")


async def _send(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    extensions: dict[str, object],
) -> httpx.Response:
    """Send the request (following redirects), retrying once at once when the server closed
    the connection without answering: a keep-alive connection it had dropped meanwhile."""
    for attempt in (1, 2):
        request = client.build_request("GET", url, headers=headers, extensions=dict(extensions))
        try:
            return await client.send(request, stream=True)
        except httpx.RemoteProtocolError as exc:
            if attempt == 2 or "without sending a response" not in str(exc):
                raise
    raise AssertionError("unreachable")


async def _get(
    client: httpx.AsyncClient,
    url: str,
    settings: FetchSettings,
    headers: dict[str, str],
    extensions: dict[str, object],
) -> FetchResult:
    response = await _send(client, url, headers, extensions)
    async with contextlib.aclosing(response):
        content = b""
        if 200 <= response.status_code < 300:
            content = await _read_body(response, settings.max_bytes)
        else:
            await _drain(response)
        # Only a chain made entirely of permanent redirects moves the feed for good.
        permanent = None
        if response.history and all(h.status_code in (301, 308) for h in response.history):
            permanent = str(response.url)
        return FetchResult(
            status=response.status_code,
            url=str(response.url),
            content=content,
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            permanent_redirect=permanent,
            retry_after=response.headers.get("retry-after"),
            cache_control=response.headers.get("cache-control"),
            reason=response.reason_phrase,
        )


async def _drain(response: httpx.Response) -> None:
    """Read and drop a small body (a 304's, an error page) so the connection can be reused;
    a large one is not worth it: the connection is closed instead."""
    declared = _declared_length(response)
    if declared is not None and declared > DRAIN_LIMIT:
        return
    size = 0
    async for raw in response.aiter_raw(CHUNK):
        size += len(raw)
        if size > DRAIN_LIMIT:
            return


def _declared_length(response: httpx.Response) -> int | None:
    """The Content-Length, when it is one (ASCII digits; at most 10**19, which is over any
    limit anyway)."""
    value = response.headers.get("content-length", "").strip()
    if not value.isascii() or not value.isdigit():
        return None
    return min(int(value[:20]), 10**19)


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    declared = _declared_length(response)
    if declared is not None and declared > max_bytes:
        raise FetchError(f"body of {declared} bytes is over the {max_bytes}-byte limit")
    decoder = _Decoder(response.headers.get("content-encoding", ""), max_bytes)
    chunks: list[bytes] = []
    raw_size = 0
    async for raw in response.aiter_raw(CHUNK):
        raw_size += len(raw)
        if raw_size > max_bytes:
            raise FetchError(f"body over the {max_bytes}-byte limit")
        chunks.append(decoder.decode(raw))
    chunks.append(decoder.flush())
    return b"".join(chunks)


class _Decoder:
    """Content-Encoding (gzip, deflate, identity) with the decoded size bounded."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        self.codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        self.codings = [c for c in self.codings if c != "identity"]
        if len(self.codings) > 1 or any(
            c not in ("gzip", "x-gzip", "deflate") for c in self.codings
        ):
            raise FetchError(f"unsupported content-encoding {encoding!r}")
        self.coding = self.codings[0] if self.codings else ""
        self.limit = max_bytes
        self.size = 0
        self._z: zlib._Decompress | None = self._new() if self.coding else None
        self._first = True

    def _new(self, raw_deflate: bool = False) -> zlib._Decompress:
        if self.coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise FetchError(f"decompressed body over the {self.limit}-byte limit")
        return data

    def decode(self, data: bytes) -> bytes:
        if self._z is None:
            return self._count(data)
        try:
            if self._first and self.coding == "deflate":
                # "deflate" is zlib-wrapped by the standard, raw deflate by some servers.
                self._first = False
                try:
                    return self._inflate(data)
                except zlib.error:
                    self._z = self._new(raw_deflate=True)
            self._first = False
            return self._inflate(data)
        except zlib.error as exc:
            raise FetchError(f"corrupt {self.coding} body: {exc}") from exc

    def _inflate(self, data: bytes) -> bytes:
        assert self._z is not None
        out: list[bytes] = []
        while data:
            # Ask for one byte more than we may keep: getting it means the body is too big.
            room = self.limit - self.size + 1
            piece = self._z.decompress(data, room)
            out.append(self._count(piece))
            data = self._z.unconsumed_tail
            if self._z.eof:
                rest = self._z.unused_data
                if not rest or self.coding == "deflate":
                    break
                self._z = self._new()  # another gzip member follows
                data = rest
        return b"".join(out)

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        try:
            return self._count(self._z.flush())
        except zlib.error as exc:
            raise FetchError(f"corrupt {self.coding} body: {exc}") from exc
