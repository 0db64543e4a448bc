"""Errors carry their subject (issue 17, as rss2email's do): a source error names the source and
the URL it concerns, filled in by the layer that knows them, and keeps them across a process
boundary (parse workers hand their errors back pickled: the subject is instance state, which
exceptions pickle with their arguments)."""

from __future__ import annotations

import asyncio
import datetime as dt
import pickle

import httpx
import pytest

from briefs.config import FetchSettings
from briefs.errors import ExtractionError, FetchError, ParseError, SourceError, about
from briefs.ingest.fetch import fetch_url
from briefs.ingest.parse import parse_feed
from briefs.models import Source
from tests.servers import free_port

NOW = dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)


def test_a_fetch_failure_names_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    settings = FetchSettings(allow_private=True, connect_timeout=2, total_timeout=3)

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await fetch_url(client, url, settings)

    with pytest.raises(FetchError, match="cannot connect") as caught:
        asyncio.run(go())
    assert caught.value.url == url
    assert caught.value.source == ""  # the fetcher does not know which source asked


def test_a_parse_failure_names_its_source_and_url() -> None:
    source = Source("ledger", "feed", "https://example.org/feed", "Ledger")
    page = b"<!doctype html><html><head><title>Home</title></head><body>hi</body></html>"
    with pytest.raises(ParseError, match="HTML page") as caught:
        parse_feed(page, source, url="https://example.org/feed?page=2", now=NOW)
    assert caught.value.source == "ledger"
    assert caught.value.url == "https://example.org/feed?page=2"


def test_the_deepest_layer_names_win() -> None:
    exc = SourceError("boom", url="https://a.example/x")
    about(exc, source="a", url="https://b.example/y")
    assert (exc.source, exc.url) == ("a", "https://a.example/x")


@pytest.mark.parametrize(
    "exc",
    [
        ParseError("not a feed", source="s1", url="https://example.org/f"),
        ExtractionError("timed out", transient=True, source="s2", url="https://example.org/p"),
    ],
)
def test_the_subject_survives_pickling(exc: SourceError) -> None:
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    assert (back.source, back.url) == (exc.source, exc.url)
    assert getattr(back, "transient", None) == getattr(exc, "transient", None)
