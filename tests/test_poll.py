"""Polling real HTTP on 127.0.0.1: conditional GET, status handling, limits, hostile servers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.config import FetchSettings
from briefs.ingest.due import select_sources
from briefs.ingest.outcome import cache_max_age, parse_retry_after
from briefs.ingest.poll import poll_sources
from briefs.models import FeedState, PollResult, Source
from tests.feedserver import (
    FeedServer,
    conditional,
    drip,
    feed_server,
    gzip_bomb,
    http_date,
    redirect,
    rss,
    static,
    unbounded,
)

NOW = dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)
FAST = FetchSettings(timeout=2, connect_timeout=2, total_timeout=1.5, max_bytes=300_000, per_host=4)
FEED = rss("Good", [("a", "Alpha", "First."), ("b", "Beta", "Second.")])


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


def src(server: FeedServer, sid: str, path: str, interval: int = 30) -> Source:
    return Source(sid, "feed", server.url(path), sid, interval_minutes=interval)


def poll(
    sources: list[Source],
    states: dict[str, FeedState] | None = None,
    now: dt.datetime = NOW,
    settings: FetchSettings = FAST,
    due: bool = False,
) -> dict[str, PollResult]:
    results = poll_sources(sources, states or {}, settings, now, due=due, rng=random.Random(7))
    return {r.source.id: r for r in results}


def states_of(results: dict[str, PollResult]) -> dict[str, FeedState]:
    return {k: r.state for k, r in results.items() if r.state is not None}


def test_etag_and_last_modified_make_the_second_poll_a_304(server: FeedServer) -> None:
    stamp = http_date(NOW - dt.timedelta(hours=1))
    server.routes["/etag.xml"] = conditional(FEED, etag='"v1"')
    server.routes["/lm.xml"] = conditional(FEED, last_modified=stamp)
    sources = [src(server, "etag", "/etag.xml"), src(server, "lm", "/lm.xml")]
    first = poll(sources)
    assert [len(first[s].articles) for s in ("etag", "lm")] == [2, 2]
    assert first["etag"].state and first["etag"].state.etag == '"v1"'
    assert first["lm"].state and first["lm"].state.last_modified == stamp
    second = poll(sources, states_of(first), NOW + dt.timedelta(hours=1))
    for sid in ("etag", "lm"):
        assert second[sid].not_modified and second[sid].articles == ()
        state = second[sid].state
        assert state is not None and state.last_status == "304"
        assert state.next_poll == NOW + dt.timedelta(hours=1, minutes=30)
    sent = [h for p, h in server.requests if p == "/etag.xml"]
    assert "If-None-Match" not in sent[0] and sent[1]["If-None-Match"] == '"v1"'
    assert [h.get("If-Modified-Since") for p, h in server.requests if p == "/lm.xml"] == [
        None,
        stamp,
    ]
    # the User-Agent names briefs
    assert all(h["User-Agent"].startswith("briefs/") for _, h in server.requests)


def test_permanent_redirect_moves_the_feed(server: FeedServer) -> None:
    server.routes["/old.xml"] = redirect("/new.xml", 301)
    server.routes["/new.xml"] = static(FEED)
    server.routes["/temp.xml"] = redirect("/new.xml", 302)
    sources = [src(server, "moved", "/old.xml"), src(server, "temp", "/temp.xml")]
    first = poll(sources)
    assert first["moved"].state and first["moved"].state.url == server.url("/new.xml")
    assert first["temp"].state and first["temp"].state.url is None  # 302 is not a move
    assert len(first["moved"].articles) == 2
    poll(sources, states_of(first), NOW + dt.timedelta(hours=1))
    assert server.hits["/old.xml"] == 1  # the second poll went straight to the new URL
    assert server.hits["/temp.xml"] == 2


def test_410_disables_the_source_until_re_enabled(server: FeedServer) -> None:
    server.routes["/gone.xml"] = static(b"", 410)
    gone = src(server, "gone", "/gone.xml")
    first = poll([gone])
    state = first["gone"].state
    assert state is not None and state.disabled and state.last_status == "410"
    assert first["gone"].error and "disabled" in first["gone"].error
    todo, skipped = select_sources([gone], states_of(first), NOW + dt.timedelta(days=1), due=False)
    assert todo == [] and "disabled" in skipped[0][1]
    assert poll([gone], states_of(first), NOW + dt.timedelta(days=1)) == {}
    assert server.hits["/gone.xml"] == 1
    # pointing the source at a new URL in the config starts afresh
    server.routes["/back.xml"] = static(FEED)
    back = dataclasses.replace(gone, location=server.url("/back.xml"))
    again = poll([back], states_of(first), NOW + dt.timedelta(days=1))
    assert again["gone"].state and not again["gone"].state.disabled


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(server: FeedServer, status: int) -> None:
    server.routes["/busy.xml"] = static(b"slow down", status, {"Retry-After": "7200"})
    busy = src(server, "busy", "/busy.xml", interval=10)
    first = poll([busy])
    state = first["busy"].state
    assert state is not None and state.retry_until == NOW + dt.timedelta(hours=2)
    assert state.next_poll is not None and state.next_poll >= NOW + dt.timedelta(hours=2)
    assert state.consecutive_failures == 1 and f"HTTP {status}" in (state.last_error or "")
    # even a one-off run (due=False) waits for the time the server asked for
    assert poll([busy], states_of(first), NOW + dt.timedelta(hours=1)) == {}
    later = poll([busy], states_of(first), NOW + dt.timedelta(hours=2, minutes=1))
    assert "busy" in later
    assert server.hits["/busy.xml"] == 2


def test_retry_after_forms() -> None:
    assert parse_retry_after("120", NOW) == NOW + dt.timedelta(seconds=120)
    assert parse_retry_after(http_date(NOW + dt.timedelta(hours=3)), NOW) == NOW + dt.timedelta(
        hours=3
    )
    assert parse_retry_after("99999999", NOW) == NOW + dt.timedelta(days=7)  # capped
    assert parse_retry_after("soon", NOW) is None
    assert cache_max_age("public, max-age=3600") == 3600
    assert cache_max_age("no-cache, max-age=60") is None
    assert cache_max_age(None) is None


def test_failures_back_off_exponentially_and_are_retried(server: FeedServer) -> None:
    server.routes["/flaky.xml"] = static(b"oops", 500, content_type="text/plain")
    flaky = src(server, "flaky", "/flaky.xml", interval=60)
    states: dict[str, FeedState] = {}
    now = NOW
    delays = []
    for failures in range(1, 5):
        result = poll([flaky], states, now, due=True)["flaky"]
        state = result.state
        assert state is not None and state.consecutive_failures == failures
        assert state.last_error == "HTTP 500 Internal Server Error"
        assert state.next_poll is not None
        delays.append(state.next_poll - now)
        base = dt.timedelta(hours=2 ** (failures - 1))
        assert base / 2 <= delays[-1] <= base  # equal jitter: between half and all of it
        # not due before its time, due after
        assert (
            poll([flaky], {"flaky": state}, state.next_poll - dt.timedelta(seconds=1), due=True)
            == {}
        )
        states, now = {"flaky": state}, state.next_poll
    assert delays[-1] > delays[0] * 3
    # a long outage is capped, never dropped
    capped = poll([flaky], {"flaky": dataclasses.replace(state, consecutive_failures=40)}, now)
    assert capped["flaky"].state and capped["flaky"].state.next_poll <= now + dt.timedelta(hours=24)
    server.routes["/flaky.xml"] = static(FEED)
    healed = poll([flaky], states, now, due=True)["flaky"].state
    assert healed and healed.consecutive_failures == 0 and healed.last_error is None


def test_ttl_and_max_age_are_floors_on_the_interval(server: FeedServer) -> None:
    ttl_feed = FEED.replace(b"<title>Good</title>", b"<title>Good</title><ttl>180</ttl>")
    server.routes["/ttl.xml"] = static(ttl_feed)
    server.routes["/cc.xml"] = static(FEED, headers={"Cache-Control": "max-age=7200"})
    server.routes["/short.xml"] = static(FEED, headers={"Cache-Control": "max-age=60"})
    results = poll(
        [
            src(server, "ttl", "/ttl.xml", 30),
            src(server, "cc", "/cc.xml", 30),
            src(server, "short", "/short.xml", 30),
        ]
    )
    nxt = {k: r.state.next_poll - NOW for k, r in results.items() if r.state and r.state.next_poll}
    assert nxt == {
        "ttl": dt.timedelta(hours=3),
        "cc": dt.timedelta(hours=2),
        "short": dt.timedelta(minutes=30),  # a floor never shortens our own interval
    }


def test_hostile_and_broken_servers_fail_cleanly(server: FeedServer) -> None:
    """Each hostile server is its feed's failure; the good feeds beside them are read.

    Nothing here races the clock: the drip would go on for two minutes, so a poll that ends
    within one shows the total timeout cut it off however loaded the machine is, and the
    good feeds get seconds of room (a busy CI runner made a 1.5 s total fail them).
    """
    server.routes["/good.xml"] = static(FEED)
    server.routes["/drip.xml"] = drip(0.1, total=120)
    server.routes["/huge.xml"] = static(b"<rss>" + b" " * 400_000 + b"</rss>")
    server.routes["/endless.xml"] = unbounded()
    server.routes["/bomb.xml"] = gzip_bomb()
    server.routes["/loop1.xml"] = redirect("/loop2.xml", 302)
    server.routes["/loop2.xml"] = redirect("/loop1.xml", 302)
    server.routes["/page.xml"] = static(
        b"<!doctype html><html><head><title>Hi</title></head><body><p>Welcome</p></body></html>",
        content_type="text/html",
    )
    server.routes["/invalid.xml"] = static(b"<<<< this is >> not & xml at all")
    latin1 = (
        rss("Caf\xe9", [("c", "Caf\xe9 cr\xe8me", "D\xe9j\xe0 vu.")]).decode().encode("latin-1")
    )
    server.routes["/latin1.xml"] = static(latin1)  # declared utf-8, bytes latin-1
    server.routes["/gz.xml"] = static(
        __import__("gzip").compress(FEED), headers={"Content-Encoding": "gzip"}
    )
    names = ["good", "drip", "huge", "endless", "bomb", "loop1", "page", "invalid", "latin1", "gz"]
    start = time.monotonic()
    settings = dataclasses.replace(FAST, total_timeout=4)
    results = poll([src(server, n, f"/{n}.xml") for n in names], settings=settings)
    elapsed = time.monotonic() - start
    errors = {k: r.error for k, r in results.items()}
    assert errors["good"] is None and len(results["good"].articles) == 2
    assert errors["gz"] is None and len(results["gz"].articles) == 2
    assert "took longer than 4 s in total" in (errors["drip"] or "")
    assert "300000-byte limit" in (errors["huge"] or "")
    assert "300000-byte limit" in (errors["endless"] or "")
    assert "decompressed body over" in (errors["bomb"] or "")
    assert "more than 5 redirects" in (errors["loop1"] or "")
    assert "HTML page" in (errors["page"] or "")
    assert "not a feed" in (errors["invalid"] or "")
    assert errors["latin1"] is None
    assert [a.title for a in results["latin1"].articles] == ["Café crème"]
    for name in names:
        state = results[name].state
        assert state is not None
        failed = errors[name] is not None
        assert state.consecutive_failures == (1 if failed else 0), name
        assert (state.last_status == "error") == failed, name
    assert elapsed < 60  # the drip (120 s) did not hold the poll: the total timeout ended it


def test_per_host_and_global_limits(server: FeedServer) -> None:
    for i in range(6):
        server.routes[f"/slow{i}.xml"] = static(FEED, delay=0.3)
    settings = dataclasses.replace(FAST, per_host=2, concurrency=3, total_timeout=10)
    # four feeds on one host first: without the per-host limit three of them would run at once
    sources = [
        Source(f"s{i}", "feed", server.url(f"/slow{i}.xml", "127.0.0.1" if i < 4 else "localhost"))
        for i in range(6)
    ]
    results = poll(sources, settings=settings)
    assert all(r.error is None for r in results.values()), results
    assert server.max_in_flight["127.0.0.1"] <= 2
    assert server.max_in_flight["localhost"] <= 2
    assert server.max_in_flight["*"] <= 3
    assert server.max_in_flight["*"] == 3  # and the limits still allow parallel requests


def test_due_polls_only_sources_whose_time_has_come(server: FeedServer) -> None:
    server.routes["/a.xml"] = static(FEED)
    server.routes["/b.xml"] = static(FEED)
    a, b = src(server, "a", "/a.xml", 60), src(server, "b", "/b.xml", 60)
    states = {
        "a": FeedState("a", source_url=a.location, next_poll=NOW + dt.timedelta(minutes=5)),
        "b": FeedState("b", source_url=b.location, next_poll=NOW - dt.timedelta(minutes=5)),
    }
    assert set(poll([a, b], states, due=True)) == {"b"}
    assert set(poll([a, b], states, due=False)) == {"a", "b"}  # a one-off run polls all
    off = dataclasses.replace(a, enabled=False)
    assert set(poll([off, b], states, due=False)) == {"b"}


LONG = (
    "The harbour authority said on Monday that the new breakwater would be finished before the "
    "winter storms, after engineers found that the old wall had been undermined by the currents "
    "along the northern shore, and that ships would be diverted to the southern quay meanwhile."
)


def test_a_large_poll_parses_in_worker_processes_with_the_same_results(
    server: FeedServer,
) -> None:
    from briefs.ingest.parsing import PROCESS_POLL_MIN
    from briefs.timing import Timings

    sources = []
    for i in range(PROCESS_POLL_MIN):
        items = [(f"s{i}-{j}", f"Story {i} {j}", f"{LONG} Item {i}.{j}.") for j in range(3)]
        server.routes[f"/f{i}.xml"] = static(rss(f"Feed {i}", items, f"https://f{i}.example"))
        sources.append(src(server, f"f{i}", f"/f{i}.xml"))
    server.routes["/broken.xml"] = static(b"\x00\x01 not a feed at all")
    sources.append(src(server, "broken", "/broken.xml"))
    # timeouts are not what this compares: generous ones, so a loaded machine cannot fail a feed
    settings = dataclasses.replace(
        FAST, concurrency=16, per_host=16, timeout=30, connect_timeout=30, total_timeout=60
    )

    def run(workers: int) -> tuple[dict[str, PollResult], Timings]:
        timings = Timings()
        results = poll_sources(
            sources,
            {},
            dataclasses.replace(settings, parse_workers=workers),
            NOW,
            rng=random.Random(7),
            timings=timings,
        )
        return {r.source.id: r for r in results}, timings

    before = set(_children())  # children of the test process already (a database watchdog)
    in_workers, timings = run(2)
    # the workers and the fork server that started them are gone once the poll is done
    # (multiprocessing's resource tracker, a bare interpreter, stays)
    left = {Path(f"/proc/{pid}/cmdline").read_bytes() for pid in set(_children()) - before}
    assert {c for c in left if b"resource_tracker" not in c} == set()
    in_thread, thread_timings = run(0)
    # the parse and sketch CPU is reported as spent in the worker processes
    assert timings.elsewhere.keys() == {"parse", "sketch"} and timings["parse"] > 0
    assert thread_timings.elsewhere == {} and "sketch" not in thread_timings
    # the same articles and states; only the workers sketch (a thread leaves it to linking)
    unsketched = {k: dataclasses.replace(r, sketches={}) for k, r in in_workers.items()}
    assert unsketched == in_thread
    assert len(in_workers["f7"].articles) == 3 and len(in_workers["f7"].sketches) == 3
    assert in_workers["broken"].error and not in_workers["broken"].articles


def _children() -> set[int]:
    """The live child processes of this process (Linux's /proc; empty where there is none)."""
    found: set[int] = set()
    for listing in Path("/proc/self/task").glob("*/children"):
        found.update(int(pid) for pid in listing.read_text().split())
    return found


def test_dead_parsing_workers_leave_the_parsing_to_a_thread() -> None:
    import asyncio

    from briefs.ingest.parsing import ParsePool

    feed = rss("Feed", [("a", "Alpha", LONG)])
    source = Source("s", "feed", "https://news.example.org/feed.xml", "s")
    parser = ParsePool(2, None)
    try:
        first = asyncio.run(parser.parse(feed, source, source.location, NOW, None, 100))
        assert parser.processes is not None  # started on first use, and used
        for process in list(parser.processes._processes.values()):
            process.kill()
            process.join()
        again = asyncio.run(parser.parse(feed, source, source.location, NOW, None, 100))
        assert parser.processes is None  # given up on, and the feed parsed all the same
        assert again.feed == first.feed and len(first.sketches) == 1
    finally:
        parser.shutdown()
