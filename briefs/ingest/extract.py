"""Full article text: fetch the page of a teaser-only article and extract its main text.

Extraction is trafilatura with ``include_comments=False`` and its other options at their
defaults. ``favor_precision`` scored higher on the whole development set of the extraction
benchmark (F1 0.975 against 0.965) but not on every fold of it (below bare trafilatura on 2 of
10 folds, 9 of 91 pages worse) nor on held-back pages (0.953 against 0.955): options are kept
only when they hold on every fold (``benchmarks/extract_options.py``), and none did.

Fetching follows the same politeness rules as feeds (limits per host and overall, timeouts, size
cap, User-Agent) and, because the links come from untrusted feeds, the URL guard of
:mod:`briefs.ingest.netguard`. Every outcome becomes a :class:`~briefs.models.PageRecord` that the
caller caches per URL, so no page is fetched twice: a refused URL or a permanent failure is never
retried, a transient one (network, 5xx, 429) at most ``MAX_ATTEMPTS`` times, hours apart.
Within one run, a host that cannot be reached (no DNS answer, connection refused) is not tried
again for the other articles that link to it.

Extraction is CPU work (about 17 ms a page) and holds the GIL: with many pages it runs in worker
processes (:class:`PageExtractor`, ``fetch.extract_workers``, one per core by default), pipelined
with the fetching, so fetching, extracting and storing overlap and every core is used. A few
pages are extracted in one thread of this process instead: starting the workers costs more than
it saves there. Only pages under the size cap (``fetch.max_bytes``) ever reach a worker (the
fetch refuses bigger ones); a page that makes extraction fail is that page's failure; a worker
that dies (a crash, the OOM killer) fails the pages it had in hand (retried in a later run) and
the rest of the run extracts in this process, with a warning.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from urllib.parse import urlsplit

import httpx

from briefs.config import FetchSettings
from briefs.errors import ExtractionError, FetchError, UnsafeURLError
from briefs.ingest.bounds import MAX_BODY, cap
from briefs.ingest.clean import clean_text
from briefs.ingest.fetch import PAGE_ACCEPT, FetchResult, HostLimiter, fetch_url, make_client
from briefs.ingest.maintext import extract_text
from briefs.ingest.netguard import check_url
from briefs.ingest.progress import NullProgress, Progress
from briefs.ingest.workers import WorkerPool, stop_fork_server
from briefs.models import Article, PageRecord, word_count

__all__ = [
    "MAX_ATTEMPTS",
    "POOL_MIN_PAGES",
    "PageExtractor",
    "extract_page",
    "extract_text",
    "extract_workers",
    "fetch_full_texts",
    "needs_full_text",
    "word_count",
]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAY = dt.timedelta(hours=6)
_WORD = re.compile(r"\w+")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# Fewer pages than this are extracted in this process. Measured: starting the fork server and
# two workers costs about 0.26 s of CPU (0.5 s wall), and handing a page over about 1 ms, while
# a second core saves about half of the ~17 ms a page takes: the pool pays for itself from
# about 35 pages on (and a handful of pages is done before the workers would be ready).
POOL_MIN_PAGES = 40

PageCallback = Callable[[Article, PageRecord], None]


def needs_full_text(article: Article, teaser_words: int) -> bool:
    """True when the feed gave only a teaser of this article and it has a page to fetch."""
    if article.body_origin not in ("none", "feed"):
        return False
    if not article.url.startswith(("http://", "https://")):
        return False
    return word_count(article.body or article.summary) < teaser_words


def _without_headline(text: str, title: str) -> str:
    """The text without a first paragraph that only repeats the headline."""
    first, _, rest = text.partition("\n\n")
    if title and _WORD.findall(first.lower()) == _WORD.findall(title.lower()):
        return rest
    return text


def extract_page(page: str | bytes, url: str | None, title: str) -> str:
    """The article text of a page (:func:`extract_text`) without a repeat of its headline."""
    return _without_headline(extract_text(page, url), title)


def extract_workers(settings: FetchSettings, pages: int) -> int:
    """How many worker processes extract ``pages`` pages; 0: one thread of this process."""
    return settings.extract_workers if pages >= POOL_MIN_PAGES else 0


class PageExtractor:
    """Runs :func:`extract_page` for the fetch loop: in ``workers`` processes, or in one thread.

    The processes are a :class:`briefs.ingest.workers.WorkerPool`, started in the background;
    until they are ready, pages are extracted in this process's extraction thread, so starting
    them delays nothing. At most two pages per worker are handed over at a time. A worker that
    dies breaks the pool: the pages handed over fail (transiently: a later run tries them
    again) and from then on pages are extracted in this process, with a warning. Workers leave
    SIGINT and SIGTERM to this process and exit when it closes the pool or ends, however it
    ends. Use as a context manager; leaving it on an exception (Ctrl-C included) ends the
    workers at once.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="briefs-extract")
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._ready = threading.Event()
        # pages extracted by the workers and in this process (the latter also while they start)
        self.counts = {"workers": 0, "here": 0}
        self.worker_pids: frozenset[int] = frozenset()  # those seen running a task, for tests
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        if workers > 0:
            self._pool = WorkerPool(workers)
            threading.Thread(
                target=self._start, args=(self._pool,), name="briefs-extract-start", daemon=True
            ).start()

    def _start(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        """Start the fork server and every worker (a task each), off the event loop's thread."""
        try:
            pids = {f.result() for f in [pool.submit(os.getpid) for _ in range(self.workers)]}
        except concurrent.futures.CancelledError:
            return  # closed while starting
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            self._fall_back(pool, exc)
        else:
            self.worker_pids = frozenset(pids)
            self._ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the worker processes take pages; False without workers (or on timeout)."""
        return self._ready.wait(timeout) and self._pool is not None

    @property
    def in_flight(self) -> int:
        """How many pages may wait for extraction at once without leaving a worker idle."""
        return 2 * self.workers if self.workers > 0 else 1

    async def extract(self, page: bytes, url: str, title: str) -> str:
        """The article text of one page; ExtractionError when extraction failed."""
        pool = self._pool
        loop = asyncio.get_running_loop()
        if pool is not None and self._ready.is_set():
            if self._slots is None or self._slots[0] is not loop:  # one semaphore per loop
                self._slots = (loop, asyncio.Semaphore(2 * self.workers))
            async with self._slots[1]:
                try:
                    future = pool.submit(extract_page, page, url, title)
                except (BrokenProcessPool, RuntimeError) as exc:
                    self._fall_back(pool, exc)  # not handed over: extracted here below
                else:
                    try:
                        text: str = await asyncio.wrap_future(future)
                        self.counts["workers"] += 1
                        return text
                    except BrokenProcessPool as exc:
                        self._fall_back(pool, exc)
                        raise ExtractionError(
                            "the extraction worker process died", transient=True
                        ) from exc
                    except Exception as exc:  # a hostile page's own failure
                        log.warning("page %s: extraction failed: %r", url, exc)
                        raise ExtractionError(f"extraction failed: {exc!r}") from exc
        try:
            text = await loop.run_in_executor(self._thread, extract_page, page, url, title)
        except Exception as exc:  # a hostile page's own failure
            log.warning("page %s: extraction failed: %r", url, exc)
            raise ExtractionError(f"extraction failed: {exc!r}") from exc
        self.counts["here"] += 1
        return text

    def _fall_back(self, pool: concurrent.futures.ProcessPoolExecutor, exc: BaseException) -> None:
        if self._pool is pool:
            self._pool = None
            log.warning(
                "the extraction worker processes stopped (%s); extracting in this process",
                str(exc) or type(exc).__name__,
            )
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self, wait: bool = True) -> None:
        """Shut the workers and the thread down; ``wait=False`` ends the workers at once."""
        pool, self._pool = self._pool, None
        if pool is not None:
            # Without waiting, the workers end at once (see briefs.ingest.workers), busy or not.
            pool.shutdown(wait=wait, cancel_futures=True)
            if wait:
                stop_fork_server()
        self._thread.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> PageExtractor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.close(wait=exc_type is None)


def fetch_full_texts(
    articles: Sequence[Article],
    settings: FetchSettings,
    now: dt.datetime,
    on_page: PageCallback,
    *,
    attempts: dict[str, int] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Progress | None = None,
    extractor: PageExtractor | None = None,
) -> int:
    """Fetch and extract the page of each article; call ``on_page`` with every outcome.

    ``attempts`` gives how many times a URL was tried before (for transient failures).
    ``extractor``: where pages are extracted (default: a :class:`PageExtractor` with
    :func:`extract_workers` processes, closed at the end). Returns how many pages yielded
    text. ``on_page`` runs as each page completes, so a crash part way loses nothing already
    fetched.
    """
    unique: dict[str, Article] = {}
    for article in articles:
        unique.setdefault(article.url, article)
    if not unique:
        return 0
    if extractor is None:
        with PageExtractor(extract_workers(settings, len(unique))) as own:
            return fetch_full_texts(
                articles,
                settings,
                now,
                on_page,
                attempts=attempts,
                transport=transport,
                progress=progress,
                extractor=own,
            )
    ok = asyncio.run(
        _fetch_all(
            list(unique.values()),
            settings,
            now,
            on_page,
            attempts or {},
            transport,
            progress or NullProgress(),
            extractor,
        )
    )
    log.info(
        "full text: %d of %d pages with text; extracted %d in %d worker processes, %d here",
        ok,
        len(unique),
        extractor.counts["workers"],
        extractor.workers,
        extractor.counts["here"],
    )
    return ok


async def _fetch_all(
    articles: list[Article],
    settings: FetchSettings,
    now: dt.datetime,
    on_page: PageCallback,
    attempts: dict[str, int],
    transport: httpx.AsyncBaseTransport | None,
    progress: Progress,
    extractor: PageExtractor,
) -> int:
    limiter = HostLimiter(settings.concurrency, settings.per_host)
    # Pages fetched and not yet extracted are held in memory (each at most max_bytes): as many
    # as are fetched at once plus those waiting for the extraction.
    held = asyncio.Semaphore(max(settings.concurrency, 1) + extractor.in_flight)
    unreachable: dict[str, str] = {}
    ok = 0
    progress.start("pages", len(articles))

    async def one(client: httpx.AsyncClient, article: Article) -> None:
        nonlocal ok
        tries = attempts.get(article.url, 0) + 1
        async with held:
            page = await _fetch_page(
                client,
                limiter,
                extractor,
                article.url,
                article.title,
                settings,
                now,
                tries,
                unreachable,
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


def _failed_page(
    url: str,
    now: dt.datetime,
    tries: int,
    error: str,
    status: int | None = None,
    transient: bool = False,
) -> PageRecord:
    """A page that could not be read: tried again later when the failure may pass."""
    retry = transient and tries < MAX_ATTEMPTS
    error = cap(" ".join(clean_text(error, inline=True).split()), 500)
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


def _refused_page(url: str, now: dt.datetime, tries: int, exc: UnsafeURLError) -> PageRecord:
    log.info("page %s: refused: %s", url, exc)
    return PageRecord(url=url, status="refused", fetched=now, error=str(exc), attempts=tries)


async def _fetch_page(
    client: httpx.AsyncClient,
    limiter: HostLimiter,
    extractor: PageExtractor,
    url: str,
    title: str,
    settings: FetchSettings,
    now: dt.datetime,
    tries: int,
    unreachable: dict[str, str],
) -> PageRecord:
    host = (urlsplit(url).hostname or "").lower()
    try:
        check_url(url, settings.allow_private)
    except UnsafeURLError as exc:
        return _refused_page(url, now, tries, exc)
    try:
        async with limiter.slot(url):
            # Checked once holding the host's slot: an earlier request may just have failed.
            if host in unreachable:
                error = f"host unreachable in this run: {unreachable[host]}"
                return _failed_page(url, now, tries, error, transient=True)
            result = await fetch_url(client, url, settings, accept=PAGE_ACCEPT)
    except UnsafeURLError as exc:
        return _refused_page(url, now, tries, exc)
    except FetchError as exc:
        cause = exc.__cause__
        if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
            unreachable[host] = str(exc)
        return _failed_page(url, now, tries, str(exc), transient=True)
    return await _read_page(extractor, url, title, result, now, tries)


async def _read_page(
    extractor: PageExtractor,
    url: str,
    title: str,
    result: FetchResult,
    now: dt.datetime,
    tries: int,
) -> PageRecord:
    """The article text of a fetched answer, or why there is none."""
    status = result.status
    if status >= 400 or not 200 <= status < 300:
        transient = status >= 500 or status in (408, 429)
        return _failed_page(
            url, now, tries, f"HTTP {status} {result.reason}".strip(), status, transient
        )
    content_type = (result.content_type or "text/html").split(";")[0].strip().lower()
    if content_type not in _HTML_TYPES:
        return _failed_page(url, now, tries, f"not an HTML page ({content_type})", status)
    try:
        text = await extractor.extract(result.content, result.url, title)
    except ExtractionError as exc:
        return _failed_page(url, now, tries, str(exc), status, exc.transient)
    if not text:
        return _failed_page(url, now, tries, "no article text found on the page", status)
    text = cap(clean_text(text), MAX_BODY)
    return PageRecord(
        url=url, status="ok", fetched=now, text=text, http_status=status, attempts=tries
    )
