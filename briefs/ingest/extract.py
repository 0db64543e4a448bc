"""Full article text: fetch the page of a teaser-only article and extract its main text.

Extraction is trafilatura with ``include_comments=False`` and ``favor_precision=True``: on the
article-extraction benchmark's development pages that scored F1 0.975 against 0.965 for the
default (less menu and related-links text, the same recall); see ``briefs eval extract``.

Fetching follows the same politeness rules as feeds (limits per host and overall, timeouts, size
cap, User-Agent) and, because the links come from untrusted feeds, the URL guard of
:mod:`briefs.ingest.netguard`. Every outcome becomes a :class:`~briefs.models.PageRecord` that the
caller caches per URL, so no page is fetched twice: a refused URL or a permanent failure is never
retried, a transient one (network, 5xx, 429) at most ``MAX_ATTEMPTS`` times, hours apart.
Within one run, a host that cannot be reached (no DNS answer, connection refused) is not tried
again for the other articles that link to it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx
import trafilatura

from briefs.config import FetchSettings
from briefs.errors import FetchError, UnsafeURLError
from briefs.ingest.fetch import PAGE_ACCEPT, HostLimiter, fetch_url, make_client
from briefs.ingest.netguard import check_url
from briefs.ingest.progress import NullProgress, Progress
from briefs.models import Article, PageRecord

__all__ = [
    "MAX_ATTEMPTS",
    "extract_text",
    "fetch_full_texts",
    "needs_full_text",
    "word_count",
]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAY = dt.timedelta(hours=6)
_WORD = re.compile(r"\w+")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")

PageCallback = Callable[[Article, PageRecord], None]


def word_count(text: str) -> int:
    """Words in a text (runs of letters and digits)."""
    return len(_WORD.findall(text))


def needs_full_text(article: Article, teaser_words: int) -> bool:
    """True when the feed gave only a teaser of this article and it has a page to fetch."""
    if article.body_origin not in ("none", "feed"):
        return False
    if not article.url.startswith(("http://", "https://")):
        return False
    return word_count(article.body or article.summary) < teaser_words


def extract_text(page: str | bytes, url: str | None = None) -> str:
    """The main text of an HTML page, paragraphs separated by blank lines ("" if none)."""
    if not page or not page.strip():
        return ""
    try:
        text = trafilatura.extract(
            page,
            url=url,
            include_comments=False,
            favor_precision=True,
            include_tables=True,
            with_metadata=False,
        )
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        # trafilatura and lxml raise these on hostile markup; the page is just unusable.
        log.debug("extraction failed for %s: %s", url, exc)
        return ""
    if not text:
        return ""
    paragraphs = [" ".join(line.split()) for line in text.splitlines()]
    return "\n\n".join(p for p in paragraphs if p)


def _without_headline(text: str, title: str) -> str:
    """The text without a first paragraph that only repeats the headline."""
    first, _, rest = text.partition("\n\n")
    if title and _WORD.findall(first.lower()) == _WORD.findall(title.lower()):
        return rest
    return text


def fetch_full_texts(
    articles: Sequence[Article],
    settings: FetchSettings,
    now: dt.datetime,
    on_page: PageCallback,
    *,
    attempts: dict[str, int] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Progress | None = None,
) -> int:
    """Fetch and extract the page of each article; call ``on_page`` with every outcome.

    ``attempts`` gives how many times a URL was tried before (for transient failures).
    Returns how many pages yielded text. ``on_page`` runs as each page completes, so a crash
    part way loses nothing already fetched.
    """
    unique: dict[str, Article] = {}
    for article in articles:
        unique.setdefault(article.url, article)
    if not unique:
        return 0
    return asyncio.run(
        _fetch_all(
            list(unique.values()),
            settings,
            now,
            on_page,
            attempts or {},
            transport,
            progress or NullProgress(),
        )
    )


async def _fetch_all(
    articles: list[Article],
    settings: FetchSettings,
    now: dt.datetime,
    on_page: PageCallback,
    attempts: dict[str, int],
    transport: httpx.AsyncBaseTransport | None,
    progress: Progress,
) -> int:
    limiter = HostLimiter(settings.concurrency, settings.per_host)
    unreachable: dict[str, str] = {}
    ok = 0
    progress.start("pages", len(articles))

    async def one(client: httpx.AsyncClient, article: Article) -> None:
        nonlocal ok
        tries = attempts.get(article.url, 0) + 1
        page = await _fetch_page(
            client, limiter, article.url, article.title, settings, now, tries, unreachable
        )
        if page.status == "ok":
            ok += 1
        on_page(article, page)
        progress.advance("pages", urlsplit(article.url).hostname or "")

    try:
        async with make_client(settings, transport, untrusted=True) as client:
            await asyncio.gather(*(one(client, a) for a in articles))
    finally:
        progress.finish("pages")
    return ok


async def _fetch_page(
    client: httpx.AsyncClient,
    limiter: HostLimiter,
    url: str,
    title: str,
    settings: FetchSettings,
    now: dt.datetime,
    tries: int,
    unreachable: dict[str, str],
) -> PageRecord:
    host = (urlsplit(url).hostname or "").lower()

    def failed(error: str, status: int | None = None, transient: bool = False) -> PageRecord:
        retry = transient and tries < MAX_ATTEMPTS
        log.info("page %s: %s", url, error)
        return PageRecord(
            url=url,
            status="failed",
            fetched=now,
            error=error,
            http_status=status,
            attempts=tries,
            next_try=now + RETRY_DELAY * tries if retry else None,
        )

    try:
        check_url(url, settings.allow_private)
    except UnsafeURLError as exc:
        log.info("page %s: refused: %s", url, exc)
        return PageRecord(url=url, status="refused", fetched=now, error=str(exc), attempts=tries)
    try:
        async with limiter.slot(url):
            # Checked once holding the host's slot: an earlier request may just have failed.
            if host in unreachable:
                return failed(f"host unreachable in this run: {unreachable[host]}", transient=True)
            result = await fetch_url(client, url, settings, accept=PAGE_ACCEPT)
    except UnsafeURLError as exc:
        log.info("page %s: refused: %s", url, exc)
        return PageRecord(url=url, status="refused", fetched=now, error=str(exc), attempts=tries)
    except FetchError as exc:
        cause = exc.__cause__
        if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
            unreachable[host] = str(exc)
        return failed(str(exc), transient=True)
    status = result.status
    if status >= 400 or not 200 <= status < 300:
        transient = status >= 500 or status in (408, 429)
        return failed(f"HTTP {status} {result.reason}".strip(), status, transient)
    content_type = (result.content_type or "text/html").split(";")[0].strip().lower()
    if content_type not in _HTML_TYPES:
        return failed(f"not an HTML page ({content_type})", status)
    text = await asyncio.to_thread(extract_text, result.content, result.url)
    text = _without_headline(text, title)
    if not text:
        return failed("no article text found on the page", status)
    return PageRecord(
        url=url, status="ok", fetched=now, text=text, http_status=status, attempts=tries
    )
