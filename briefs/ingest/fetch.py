"""HTTP fetching with httpx: timeouts, size cap, redirects, conditional GET.

The client is a parameter (tests and benchmarks pass their own transport); nothing here reads
the clock or the database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from briefs.config import FetchSettings
from briefs.errors import FetchError

__all__ = ["FetchResult", "fetch_url", "make_client"]


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

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional GET."""
        return self.status == 304


def user_agent(settings: FetchSettings) -> str:
    """The User-Agent: names briefs and, when configured, a contact URL."""
    ua = settings.user_agent
    if settings.contact_url and settings.contact_url not in ua:
        ua = f"{ua} (+{settings.contact_url})"
    return ua


def make_client(
    settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """An AsyncClient with briefs' timeouts, limits, redirects and headers."""
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    limits = httpx.Limits(
        max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
    )
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={
            "User-Agent": user_agent(settings),
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        },
        transport=transport,
    )


async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    settings: FetchSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET ``url`` (conditionally when validators are given), streaming at most ``max_bytes``.

    Raises FetchError for network failures, redirect loops, bodies over the cap and a total time
    over the timeout. HTTP error statuses are returned, not raised: the caller decides.
    """
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(settings.timeout * 2):
            return await _get(client, url, settings, headers)
    except TimeoutError:
        raise FetchError(f"took longer than {settings.timeout * 2:.0f} s in total") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {settings.max_redirects} redirects") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid URL: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out ({exc.__class__.__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{exc.__class__.__name__}: {exc}") from exc


async def _get(
    client: httpx.AsyncClient, url: str, settings: FetchSettings, headers: dict[str, str]
) -> FetchResult:
    async with client.stream("GET", url, headers=headers) as response:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_bytes:
            raise FetchError(
                f"body of {int(declared)} bytes is over the {settings.max_bytes}-byte limit"
            )
        chunks: list[bytes] = []
        size = 0
        if response.status_code != 304:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > settings.max_bytes:
                    raise FetchError(f"body over the {settings.max_bytes}-byte limit")
                chunks.append(chunk)
        # Only a chain made entirely of permanent redirects moves the feed for good.
        permanent = None
        if response.history and all(h.status_code in (301, 308) for h in response.history):
            permanent = str(response.url)
        return FetchResult(
            status=response.status_code,
            url=str(response.url),
            content=b"".join(chunks),
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            permanent_redirect=permanent,
            retry_after=response.headers.get("retry-after"),
            cache_control=response.headers.get("cache-control"),
        )
