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

Every outgoing request goes through both (see :func:`briefs.ingest.fetch.make_client`), redirect
hops included; the one exception is a configured feed's own origin (scheme, host and port),
which the user chose. An IPv6 address that embeds an IPv4 address is judged by that address.
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

__all__ = [
    "GuardedTransport",
    "RefusedConnection",
    "check_url",
    "embedded_ipv4",
    "is_public_address",
]

# Never resolvable on the public internet: refused even when private hosts are allowed.
ALWAYS_REFUSED = (".example", ".invalid", ".onion")
# Local by definition: refused unless private hosts are allowed (intranets, tests).
LOCAL_NAMES = (".localhost", ".test", ".local", ".internal", ".home.arpa", ".lan")
DNS_TIMEOUT = 5.0


_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_V4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: IPv4-mapped (``::ffff:a.b.c.d``),
    IPv4-compatible (``::a.b.c.d``), IPv4-translated (``::ffff:0:a.b.c.d``), NAT64
    (``64:ff9b::/96`` and the local-use ``64:ff9b:1::/48``), 6to4 (``2002::/16``) and Teredo
    (``2001::/32``: its server and its client). Such an address reaches the IPv4 host, so it
    is judged by it."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if (
        any(ip in net for net in _NAT64)
        or ip in _V4_TRANSLATED
        or (ip in _V4_COMPATIBLE and int(ip) > 1)
    ):
        found.append(low32)
    return found


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (not private, loopback, link-local,
    multicast, reserved, shared or unspecified); an IPv6 address that embeds an IPv4 one
    (see :func:`embedded_ipv4`) must be public in both forms."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner and not all(v4.is_global and not v4.is_multicast for v4 in inner):
            return False
        if ip.ipv4_mapped is not None:
            return True  # ::ffff:0:0/96 itself is "reserved"; the IPv4 address decides
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
        raise UnsafeURLError(f"unsupported URL scheme {parts.scheme or '(none)'!r}: {url}")
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


def allow_private_would_allow(url: str) -> bool:
    """True when ``fetch.allow_private`` is all that refuses ``url`` (a hint worth giving).

    A scheme other than http(s), a URL without a host or a reserved domain is refused
    whatever the setting, so a message about it must not suggest the setting.
    """
    try:
        check_url(url, allow_private=True)
    except UnsafeURLError:
        return False
    return True


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
