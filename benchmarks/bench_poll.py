"""Benchmark: polling 500 feeds on a loopback server (see benchmarks/README.md, "bench_poll").

    PYTHONPATH=. python benchmarks/bench_poll.py [--feeds 500] [--json]

Generates FEEDS synthetic RSS feeds of 20-50 entries (a fixed seed; half carry full content in
``content:encoded``, half only a snippet), serves them from a separate process on 127.0.0.1
with ETags, then measures in this process:

1. the first poll (every feed answers 200 and is parsed into Articles),
2. a second poll with the stored validators (every feed answers 304),
3. bare ``feedparser.parse`` over the same bytes, sequentially, with no network,

and reports both poll times, their ratio, entries per second for the first poll against bare
feedparser, and the peak resident memory of this process. Wall times and CPU times (of this
process: the server runs in its own) are both given: on a shared machine the CPU figures are
the steadier ones.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import feedparser

from briefs.config import FetchSettings
from briefs.ingest.poll import poll_sources
from briefs.models import FeedState, Source

_TEXT = (
    "government minister said talks would continue after officials met in the capital on "
    "tuesday while markets rose and analysts warned that prices could climb further as the "
    "storm moved north and thousands were evacuated from coastal towns where rescue teams "
    "worked through the night to reach villages cut off by floodwater and damaged roads"
)
WORDS = _TEXT.split()


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def make_feed(index: int, rng: random.Random) -> bytes:
    """One RSS 2.0 feed of 20-50 items; even feeds carry full content, odd ones a snippet."""
    full = index % 2 == 0
    items = []
    for j in range(rng.randint(20, 50)):
        title = _sentence(rng, rng.randint(6, 12)).rstrip(".")
        summary = " ".join(_sentence(rng, rng.randint(10, 20)) for _ in range(2))
        when = dt.datetime(2024, 4, 6, tzinfo=dt.UTC) - dt.timedelta(minutes=37 * j + index)
        content = ""
        if full:
            paragraphs = "".join(
                f"<p>{' '.join(_sentence(rng, rng.randint(12, 25)) for _ in range(3))}</p>"
                for _ in range(rng.randint(5, 9))
            )
            content = f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded>"
        items.append(
            f"<item><title>{title}</title>"
            f"<link>https://outlet{index}.example.org/{when:%Y/%m/%d}/story-{j}?utm_source=rss</link>"
            f'<guid isPermaLink="false">outlet{index}-{j}</guid>'
            f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
            f"<description>&lt;p&gt;{summary}&lt;/p&gt;</description>{content}"
            f'<media:thumbnail url="https://img.example.org/{index}/{j}.jpg"/></item>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>Outlet {index}</title><link>https://outlet{index}.example.org/</link>"
        f"<description>Feed {index}</description>{''.join(items)}</channel></rss>"
    ).encode()


def serve(folder: str, ready: Any, port_box: Any, connections: Any) -> None:
    """The server process: every feed from ``folder`` with an ETag; 304 when it matches.

    A minimal asyncio HTTP/1.1 server with keep-alive, so that the benchmark measures the
    poller rather than Python's http.server (a thread and an email parser per request).
    """
    feeds = {f"/{p.name}": p.read_bytes() for p in Path(folder).glob("*.xml")}
    etags = {k: '"' + hashlib.sha1(v).hexdigest()[:16] + '"' for k, v in feeds.items()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.value += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                body = feeds.get(path)
                if body is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                elif headers.get("if-none-match") == etags[path]:
                    writer.write(
                        f"HTTP/1.1 304 Not Modified\r\nETag: {etags[path]}\r\n"
                        "Content-Length: 0\r\n\r\n".encode()
                    )
                else:
                    writer.write(
                        f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8"
                        f"\r\nETag: {etags[path]}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_box.value = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    rng = random.Random(2024)
    blobs = [make_feed(i, rng) for i in range(args.feeds)]
    with tempfile.TemporaryDirectory() as folder:
        for i, blob in enumerate(blobs):
            Path(folder, f"feed{i}.xml").write_bytes(blob)
        ready = multiprocessing.Event()
        port = multiprocessing.Value("i", 0)
        connections = multiprocessing.Value("i", 0)
        server = multiprocessing.Process(
            target=serve, args=(folder, ready, port, connections), daemon=True
        )
        server.start()
        ready.wait(30)
        try:
            figures = measure(blobs, port.value, connections)
        finally:
            server.terminate()
            server.join()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:<34} {value}")


def measure(blobs: list[bytes], port: int, connections: Any) -> dict[str, object]:
    """The three measurements."""
    now = dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)
    # All feeds live on one loopback host, so the per-host limit is raised to the global one;
    # with real feeds spread over many hosts the default (2 per host) does not bind.
    settings = dataclasses.replace(FetchSettings(), concurrency=16, per_host=16)
    sources = [
        Source(f"feed{i}", "feed", f"http://127.0.0.1:{port}/feed{i}.xml", interval_minutes=1)
        for i in range(len(blobs))
    ]
    rss_before = peak_rss_mb()

    start, cpu = time.perf_counter(), time.process_time()
    first = poll_sources(sources, {}, settings, now)
    first_s = time.perf_counter() - start
    first_cpu = time.process_time() - cpu
    errors = [r.error for r in first if r.error]
    entries = sum(len(r.articles) for r in first)
    rss_first = peak_rss_mb()

    first_connections = connections.value
    states: dict[str, FeedState] = {r.source.id: r.state for r in first if r.state}
    start, cpu = time.perf_counter(), time.process_time()
    second = poll_sources(sources, states, settings, now + dt.timedelta(minutes=5))
    second_s = time.perf_counter() - start
    second_cpu = time.process_time() - cpu
    not_modified = sum(r.not_modified for r in second)
    second_connections = connections.value - first_connections

    start, cpu = time.perf_counter(), time.process_time()
    bare_entries = sum(len(feedparser.parse(blob).entries) for blob in blobs)
    bare_s = time.perf_counter() - start
    bare_cpu = time.process_time() - cpu

    ours_rate = entries / first_s
    bare_rate = bare_entries / bare_s
    return {
        "feeds": len(blobs),
        "bytes": sum(len(b) for b in blobs),
        "entries": entries,
        "errors": len(errors),
        "first poll (s)": round(first_s, 2),
        "second poll, all 304 (s)": round(second_s, 3),
        "304 answers": not_modified,
        "TCP connections, first / second": f"{first_connections} / {second_connections}",
        "second / first": round(second_s / first_s, 3),
        "first poll CPU (s)": round(first_cpu, 2),
        "second poll CPU (s)": round(second_cpu, 3),
        "second / first, CPU": round(second_cpu / first_cpu, 3),
        "first poll entries/s": round(ours_rate),
        "bare feedparser.parse entries/s": round(bare_rate),
        "bare / ours": round(bare_rate / ours_rate, 2),
        "first poll entries per CPU-s": round(entries / first_cpu),
        "bare feedparser entries per CPU-s": round(bare_entries / bare_cpu),
        "bare / ours, CPU": round((bare_entries / bare_cpu) / (entries / first_cpu), 2),
        "peak RSS before polling (MB)": round(rss_before),
        "peak RSS after first poll (MB)": round(rss_first),
        "peak RSS at end (MB)": round(peak_rss_mb()),
    }


if __name__ == "__main__":
    main()
