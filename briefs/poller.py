"""Polling shared by several pollers: claim due sources, poll them, store, release.

``briefs daemon --role poller`` processes (any number, on any hosts, over one database) and the
``all`` daemon poll through :func:`poll_shared`. Each round a poller reads which sources are
due and not claimed, claims a batch of them (:meth:`briefs.store.Store.claim_sources`: one
upsert that takes only sources nobody holds, or whose holder's lease ran out), polls and
stores them exactly as ``briefs run`` does, and deletes its claims. Storing a source's poll
moves its next poll time on before its claim goes, and the poll reads the states again after
claiming, so no source is polled twice in one interval; a killed poller's sources are claimed
by another once its lease expires (``schedule.lease_seconds``).

Sources are claimed by host (the due sources of a host in the same batch, up to
``schedule.claim_batch``), so per-host politeness (``fetch.per_host``, Retry-After) has one
owner at a time. Batches follow the
config's order (as one ``briefs run`` stores them): a poller that reaches for a batch another
just took gets none of it, and takes the next one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx

from briefs.collect import poll_and_store
from briefs.config import Config
from briefs.ingest.due import select_sources
from briefs.models import Source
from briefs.store import Store
from briefs.timing import Timings

__all__ = ["poll_shared", "poller_name"]

log = logging.getLogger(__name__)


def poller_name() -> str:
    """This process's name in claims: host, pid and a random tag (a pid can be reused)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{random.randrange(16**6):06x}"


def _host(source: Source) -> str:
    return (urlsplit(source.location).hostname or source.location).lower()


def _batch(sources: Sequence[Source], size: int) -> list[Source]:
    """Up to ``size`` sources, whole hosts in the order of their first source (a host with
    more sources than a batch is split: each part then has its own per-host limit)."""
    by_host: dict[str, list[Source]] = {}
    for source in sources:
        by_host.setdefault(_host(source), []).append(source)
    picked: list[Source] = []
    for group in by_host.values():
        room = size - len(picked)
        if room <= 0:
            break
        picked.extend(group[:room])
    return picked


def poll_shared(
    config: Config,
    store: Store,
    clock: Callable[[], dt.datetime],
    timings: Timings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    owner: str,
    stop: threading.Event | None = None,
) -> tuple[int, int, tuple[tuple[str, str], ...]]:
    """Poll the due sources no other poller holds, a claimed batch at a time, until none is
    left; return (polled, new articles, failed (name, error) pairs) as :func:`poll_and_store`.
    """
    settings = config.schedule
    lease = dt.timedelta(seconds=settings.lease_seconds)
    tried: set[str] = set()  # each source at most once per call, whatever happens to it
    polled = new = 0
    failed: list[tuple[str, str]] = []
    while stop is None or not stop.is_set():
        now = clock()
        due, _ = select_sources(
            config.sources, store.feed_states(), now, due=True, jitter=settings.jitter
        )
        held = store.source_claims(now)
        free = [s for s in due if s.id not in held and s.id not in tried]
        if not free:
            break
        wanted = _batch(free, settings.claim_batch)
        tried.update(s.id for s in wanted)
        claimed = store.claim_sources([s.id for s in wanted], owner, now, lease)
        if not claimed:
            continue
        mine = tuple(s for s in wanted if s.id in claimed)
        log.debug("claimed %d of %d sources", len(mine), len(wanted))
        try:
            # due=True: the states are read again now that the claims are ours, so a source
            # another poller finished since the list above was read is skipped, not re-polled
            batch = dataclasses.replace(config, sources=mine)
            p, n, f = poll_and_store(batch, store, now, timings, transport, True, None)
        finally:
            store.release_sources(claimed, owner)
        polled += p
        new += n
        failed.extend(f)
    return polled, new, tuple(failed)
