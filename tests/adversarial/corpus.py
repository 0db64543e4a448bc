"""A synthetic loopback news corpus: feeds of invented articles served on 127.0.0.1.

Deterministic for a seed: M feeds, each with entries about a shared pool of events so that
stories span outlets. The text is generated from a small vocabulary (no third-party text).
"""

from __future__ import annotations

import datetime as dt
import http.server
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import format_datetime
from xml.sax.saxutils import escape

PLACES = [
    "Calder Bay",
    "Northgate",
    "Marrow Island",
    "Westmarch",
    "Lowfield",
    "Ashby",
    "Tarrow",
    "Fennimore",
    "Saltmarsh",
    "Halden",
    "Orbis",
    "Kellan",
    "Brightwater",
    "Estuary Park",
]
SUBJECTS = [
    "council",
    "river authority",
    "central bank",
    "union",
    "ferry operator",
    "university",
    "hospital trust",
    "port authority",
    "energy regulator",
    "football club",
    "police",
    "water company",
    "airline",
    "school board",
]
VERBS = [
    "approved",
    "delayed",
    "announced",
    "rejected",
    "expanded",
    "suspended",
    "reviewed",
    "funded",
    "cancelled",
    "opened",
]
OBJECTS = [
    "a flood barrier",
    "new bus routes",
    "a pay deal",
    "an inquiry",
    "a rate rise",
    "a stadium plan",
    "winter timetables",
    "a research centre",
    "emergency repairs",
    "a housing scheme",
]


def _event(rng: random.Random, i: int) -> tuple[str, str, str, str]:
    return (
        rng.choice(PLACES),
        rng.choice(SUBJECTS),
        rng.choice(VERBS),
        rng.choice(OBJECTS) + f" {i}",
    )


def _article(rng: random.Random, event: tuple[str, str, str, str], outlet: int) -> tuple[str, str]:
    place, subject, verb, obj = event
    title = rng.choice(
        [
            f"{place} {subject} {verb} {obj}",
            f"{subject.capitalize()} in {place} {verb} {obj}",
            f"{obj.capitalize()}: {place} {subject} {verb} plan",
        ]
    )
    sentences = [
        f"The {subject} in {place} {verb} {obj} on Friday, officials said.",
        f"Residents of {place} had waited months for a decision on {obj}.",
        f'"We have listened to people in {place}," a spokesperson for the {subject} said.',
        f"Critics said the {subject} should have acted sooner on {obj}.",
        f"A further meeting is expected next week, according to outlet {outlet}.",
        f"The cost of {obj} was put at {rng.randint(2, 90)} million.",
    ]
    rng.shuffle(sentences[1:])
    body = "".join(f"<p>{escape(s)}</p>" for s in sentences[: rng.randint(4, 6)])
    return title, body


def build_feeds(seed: int, feeds: int, per_feed: int, start: dt.datetime) -> dict[str, bytes]:
    """Feed documents by path ("/feed/3.xml")."""
    rng = random.Random(seed)
    events = [_event(rng, i) for i in range(max(per_feed * feeds // 3, 1))]
    out: dict[str, bytes] = {}
    for f in range(feeds):
        items = []
        for j in range(per_feed):
            idx = rng.randrange(len(events))
            title, body = _article(rng, events[idx], f)
            when = start + dt.timedelta(minutes=idx * 7 + rng.randint(0, 90))
            items.append(
                f"<item><title>{escape(title)}</title><link>https://outlet{f}.example/{idx}/{j}</link>"
                f"<guid>https://outlet{f}.example/{idx}/{j}</guid><pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{escape(body)}</description></item>"
            )
        out[f"/feed/{f}.xml"] = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {f}</title><link>https://outlet{f}.example/</link>"
            + "".join(items)
            + "</channel></rss>"
        ).encode()
    return out


@contextmanager
def serve(documents: dict[str, bytes]) -> Iterator[str]:
    """Serve ``documents`` on 127.0.0.1 (ephemeral port); yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def config_text(base: str, feeds: int, extra: str = "") -> str:
    """A briefs.toml polling every feed of the corpus."""
    lines = [
        'database = "briefs.db"',
        'output = "out"',
        "[brief]",
        'title = "Crash Brief"',
        "max_stories = 40",
        "[fetch]",
        "allow_private = true",
        "fetch_full_text = false",
        extra,
    ]
    for f in range(feeds):
        lines += [
            "[[sources]]",
            f'id = "outlet{f}"',
            f'title = "Outlet {f}"',
            f'url = "{base}/feed/{f}.xml"',
        ]
    return "\n".join(lines) + "\n"
