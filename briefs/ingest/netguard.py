"""Which article URLs briefs may fetch: never private networks, unless the config allows them.

Article links come from untrusted feeds. A link to ``http://192.168.1.1/`` or to a name that
resolves to ``127.0.0.1`` would make briefs probe the machine's own network (server-side request
forgery). Two checks, both needed:

* :func:`check_url` looks at the URL alone, with no network: the scheme must be http(s); a
  literal IP address must be public; names under reserved top-level domains (RFC 2606/6761:
  ``.example``, ``.invalid``, ``localhost``, ``.test`` ...) are refused outright, so a feed full of
  documentation links costs no DNS lookup and no time.
* :class:`GuardedTransport` checks every address a name resolves to *at connect time* and
  connects to the address it checked, so neither a redirect to an internal host nor a DNS answer
  that changes between check and connection (rebinding) gets through.

The configured feed URLs themselves are the user's choice and are not checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from urllib.parse import urlsplit

import httpcore
import httpx

from briefs.errors import UnsafeURLError

__all__ = ["GuardedTransport", "RefusedConnection", "check_url", "is_public_address"]

# Never resolvable on the public internet: refused even when private hosts are allowed.
ALWAYS_REFUSED = (".example", ".invalid", ".onion")
# Local by definition: refused unless private hosts are allowed (intranets, tests).
LOCAL_NAMES = (".localhost", ".test", ".local", ".internal", ".home.arpa", ".lan")
DNS_TIMEOUT = 5.0


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (not private, loopback, link-local,
    multicast, reserved, shared or unspecified)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _host_kind(host: str) -> str:
    """ "ip" for an IP literal, "refused"/"local" for reserved names, else "name"."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
        return "ip"
    except ValueError:
        pass
    dotted = "." + host.lower().rstrip(".")
    if dotted.endswith(ALWAYS_REFUSED):
        return "refused"
    if dotted == ".localhost" or dotted.endswith(LOCAL_NAMES):
        return "local"
    return "name"


def check_url(url: str, allow_private: bool = False) -> None:
    """Raise UnsafeURLError when ``url`` must not be fetched; never touches the network."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as exc:
        raise UnsafeURLError(f"invalid URL {url!r}: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURLError(f"refusing a {parts.scheme or 'relative'!s} URL: {url}")
    if not host:
        raise UnsafeURLError(f"URL without a host: {url}")
    kind = _host_kind(host)
    if kind == "refused":
        raise UnsafeURLError(f"refusing a reserved domain that never resolves: {host}")
    if allow_private:
        return
    if kind == "local":
        raise UnsafeURLError(f"refusing a local host name: {host}")
    if kind == "ip" and not is_public_address(host):
        raise UnsafeURLError(f"refusing a non-public address: {host}")


class RefusedConnection(httpcore.ConnectError):
    """Raised at connect time for a non-public address (httpx keeps it as ``__cause__``)."""


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then connects to a checked address."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if _host_kind(host) in ("refused", "local"):
            raise RefusedConnection(f"refusing host {host}")
        try:
            async with asyncio.timeout(min(timeout or DNS_TIMEOUT, DNS_TIMEOUT)):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        bad = [a for a in addresses if not is_public_address(a)]
        if bad or not addresses:
            # Refuse the whole name when any address is private: a mixed answer is a trick.
            raise RefusedConnection(
                f"refusing {host}: resolves to a non-public address {bad[0] if bad else '(none)'}"
            )
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedConnection("refusing a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport that only connects to public addresses.

    Environment proxies are not used (a proxy would hide the real destination from the check).
    """

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx builds its pool without a way to choose the network backend; replace the pool
        # with one that has the same settings and the guarded backend (tests cover this).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(httpcore.AnyIOBackend()),
        )
