"""Full-text extraction in worker processes: the same texts as in this process, on 127.0.0.1.

Pages are fetched from a real loopback server and extracted by a :class:`PageExtractor` with two
worker processes, then again in this process; hostile markup, a page over the size cap and a
dead URL are among them. A killed worker must not stop the run, and an orphaned worker must not
outlive its parent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.config import ConfigError, FetchSettings, load_config
from briefs.ingest.extract import (
    POOL_MIN_PAGES,
    PageExtractor,
    extract_page,
    extract_workers,
    fetch_full_texts,
)
from briefs.models import Article, PageRecord
from tests.feedserver import FeedServer, feed_server, static

NOW = dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "The council voted on Tuesday to keep the old swimming baths open for another five years.",
    "Engineers said the roof could be repaired for a fraction of the cost of a new building.",
    "Campaigners, who collected more than eight thousand signatures, welcomed the decision.",
    "The baths opened in 1911 and are among the last Edwardian pools still used every day.",
    "A survey last spring found damp in the changing rooms and cracks in two of the arches.",
    "Opening hours will not change while the work is done, the council's leisure chief said.",
    "The cost will be shared between the council and a heritage fund that gave a grant.",
    "Swimming clubs that train there said they had feared having to travel to the next town.",
]


def page(title: str, n: int) -> bytes:
    """An article page: menus, the headline, eight paragraphs in an order that depends on n."""
    nav = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(10))
    order = SENTENCES[n % 8 :] + SENTENCES[: n % 8]
    body = "".join(f"<p>{s} ({title}, paragraph {i}.)</p>" for i, s in enumerate(order))
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body><header><nav><ul>{nav}"
        f"</ul></nav></header><main><article><h1>{title}</h1>{body}</article></main>"
        "<footer>Copyright The Town Crier.</footer></body></html>"
    ).encode()


# Markup meant to hurt: deep nesting, stray bytes, an unclosed comment and a huge attribute.
HOSTILE = (
    b"\xff\xfe<html><body>"
    + b"<div><span>" * 3000
    + b"<p>\x00\x01 half a sentence"
    + b'<a href="'
    + b"x" * 100_000
    + b'">'
    + b"<!-- never closed"
)


def dead_url() -> str:
    """An address nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/gone"


@pytest.fixture
def site() -> Iterator[tuple[FeedServer, list[Article], dict[str, bytes]]]:
    """Ten article pages, a hostile page, a page over the size cap and a dead URL."""
    with feed_server() as server:
        html: dict[str, bytes] = {}
        articles = []
        for i in range(10):
            title = f"Swimming baths saved, report {i}"
            html[server.url(f"/p{i}")] = page(title, i)
            articles.append(Article(f"a{i}", "s", server.url(f"/p{i}"), title, NOW, NOW, "X"))
        html[server.url("/hostile")] = HOSTILE
        html[server.url("/huge")] = page("Huge", 1) + b"<!-- " + b"pad " * 60_000 + b"-->"
        for path in ("/hostile", "/huge"):
            articles.append(Article(path[1:], "s", server.url(path), "T", NOW, NOW, "X"))
        articles.append(Article("dead", "s", dead_url(), "Dead", NOW, NOW, "X"))
        for url, markup in html.items():
            server.routes[url.removeprefix(server.url(""))] = static(
                markup, content_type="text/html; charset=utf-8"
            )
        yield server, articles, html


SETTINGS = FetchSettings(allow_private=True, max_bytes=150_000, per_host=4)


def fetch(articles: list[Article], extractor: PageExtractor, **kw: object) -> dict[str, PageRecord]:
    out: dict[str, PageRecord] = {}

    def on_page(article: Article, record: PageRecord) -> None:
        out[article.url] = record
        hook = kw.get("on_page")
        if callable(hook):
            hook(len(out))

    fetch_full_texts(articles, SETTINGS, NOW, on_page, extractor=extractor)
    return out


def test_worker_processes_extract_the_same_texts(
    site: tuple[FeedServer, list[Article], dict[str, bytes]],
) -> None:
    server, articles, html = site
    with PageExtractor(2) as pool:
        assert pool.wait_ready(30)
        assert pool.worker_pids and os.getpid() not in pool.worker_pids
        got = fetch(articles, pool)
        # ten articles and the hostile page went to the workers; the huge page and the dead
        # URL never reached extraction
        assert pool.counts == {"workers": 11, "here": 0}
    with PageExtractor(0) as here:
        assert not here.wait_ready(0)
        want = fetch(articles, here)
        assert here.counts == {"workers": 0, "here": 11}
    assert got == want
    for article in articles[:10]:
        record = got[article.url]
        assert record.status == "ok"
        assert record.text == extract_page(html[article.url], article.url, article.title)
        assert record.text.count("\n\n") == 7 and article.title not in record.text.split("\n\n")
    assert got[server.url("/hostile")].status == "failed"
    assert "max_bytes" in str(got[server.url("/huge")].error) or "150000" in str(
        got[server.url("/huge")].error
    )
    dead = got[articles[-1].url]
    assert dead.status == "failed" and dead.next_try is not None  # a network error: retried


def test_a_killed_worker_does_not_stop_the_run(
    site: tuple[FeedServer, list[Article], dict[str, bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _server, articles, html = site
    articles = [
        dataclass_copy(a, f"{a.id}-{k}", f"{a.url}?copy={k}")
        for k in range(3)
        for a in articles[:10]
    ]
    killed: list[int] = []

    with PageExtractor(2) as pool:
        assert pool.wait_ready(30)

        def kill_a_worker(done: int) -> None:
            if done == 3 and not killed:
                pid = min(pool.worker_pids)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        with caplog.at_level(logging.WARNING, logger="briefs.ingest.extract"):
            got = fetch(articles, pool, on_page=kill_a_worker)
        assert killed and not pool.wait_ready(0)  # the pool is gone
        assert pool.counts["here"] > 0  # the rest was extracted in this process
    assert len(got) == 30
    for article in articles:
        record = got[article.url]
        if record.status == "ok":
            base = article.url.split("?")[0]
            assert record.text == extract_page(html[base], article.url, article.title)
        else:  # handed to the pool when it broke: tried again in a later run
            assert record.error == "the extraction worker process died"
            assert record.next_try is not None
    stopped = [r for r in caplog.records if "worker processes stopped" in r.getMessage()]
    assert len(stopped) == 1


def dataclass_copy(article: Article, ident: str, url: str) -> Article:
    return dataclasses.replace(article, id=ident, url=url)


WORKER_SCRIPT = """
import sys, time
from briefs.ingest.extract import PageExtractor
pool = PageExtractor(2)
assert pool.wait_ready(30)
print(" ".join(map(str, sorted(pool.worker_pids))), flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before open, or between open and read
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see the workers")
def test_workers_exit_when_their_parent_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the multiprocessing resource tracker reports the kill
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as proc:
        try:
            assert proc.stdout is not None
            pids = [int(p) for p in proc.stdout.readline().split()]
            assert pids and all(_alive(p) for p in pids)
        finally:
            proc.kill()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


GROUP_SCRIPT = """
import asyncio, signal, sys, threading
from briefs.ingest.extract import PageExtractor
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())  # as the daemon does: finish the job
with PageExtractor(2) as pool:
    assert pool.wait_ready(30)
    print("ready", flush=True)
    assert stop.wait(30)
    page = b"<html><body><article><h1>T</h1>" + b"<p>" + b"A sentence of news. " * 40 + b"</p>"
    text = asyncio.run(pool.extract(page + b"</article></body></html>", "http://x/a", "T"))
    print(pool.counts["workers"], len(text.split()), flush=True)
"""


def test_sigterm_to_the_process_group_leaves_the_workers_to_the_parent() -> None:
    # A service manager stops the daemon by signalling all its processes; the daemon finishes
    # its job, so the workers (and the fork server they come from) must survive the signal.
    with subprocess.Popen(
        [sys.executable, "-c", GROUP_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.stdout.readline().split() == ["1", "160"]  # extracted by a worker
        assert proc.wait(timeout=30) == 0


def test_how_many_workers(tmp_path: Path) -> None:
    many = POOL_MIN_PAGES
    assert extract_workers(FetchSettings(extract_workers=2), many - 1) == 0  # a few pages
    assert extract_workers(FetchSettings(extract_workers=2), many) == 2
    assert extract_workers(FetchSettings(extract_workers=0), 10 * many) == 0
    cores = os.cpu_count() or 1
    assert FetchSettings().extract_workers == (cores if cores > 1 else 0)
    cfg = tmp_path / "briefs.toml"
    cfg.write_text("[fetch]\nextract_workers = -1\n")
    with pytest.raises(ConfigError, match=r"fetch\.extract_workers"):
        load_config(cfg)
    cfg.write_text("[fetch]\nextract_workers = 3\n")
    assert load_config(cfg).fetch.extract_workers == 3
