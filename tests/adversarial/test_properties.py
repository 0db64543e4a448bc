"""Malformed input everywhere: property-based tests (hypothesis) on the parsers at the edges.

Each property says what must hold for ANY input: a typed result or one of our own errors, never
another exception; nothing lost; nothing naive.
"""

from __future__ import annotations

import datetime as dt
import shutil
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefs.config import load_config
from briefs.errors import ConfigError, ParseError
from briefs.ingest.files import parse_seed_document
from briefs.ingest.parse import parse_feed
from briefs.ingest.urls import canonical_url
from briefs.models import Source
from briefs.text import split_sentences

NOW = dt.datetime(2024, 4, 7, 12, tzinfo=dt.UTC)
SRC = Source("t", "files", "/tmp", "Docs")
PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like news as well as noise: words, abbreviations, quotes, odd whitespace, unicode.
news_bits = st.sampled_from(
    [
        "Mr.",
        "U.S.",
        "Jan. 5",
        "3 p.m.",
        '"',
        "“",
        "”",
        "(Reuters) --",
        "date 2024-04-06",
        "\n\n",
        "\n",
        " ",
        ".",
        "!",
        "?",
        "—",
        "title:",
        "url:",
        "source:",
        "é",
        "中文",
        "\u200b",
        "\r\n",
        "\t",
    ]
)
newsish = st.lists(st.one_of(st.text(max_size=20), news_bits), max_size=40).map("".join)


@PROFILE
@given(newsish)
def test_seed_documents_parse_or_fail_cleanly(text: str) -> None:
    try:
        article = parse_seed_document(text, SRC, "doc.txt", NOW)
    except ParseError:
        return
    assert article.body.strip()
    assert article.title.strip() or article.body
    assert article.published.tzinfo is not None
    assert "\n" not in article.title


@PROFILE
@given(newsish)
def test_sentence_splitter_loses_nothing(text: str) -> None:
    sentences = split_sentences(text)
    assert all(s == s.strip() and s for s in sentences)
    squash = lambda value: "".join(value.split())  # noqa: E731
    # Every non-space character survives, in order (paragraph breaks only ever end sentences).
    from briefs.text import normalize_space

    assert squash("".join(sentences)) == squash(normalize_space(text))


url_parts = st.sampled_from(
    [
        "http://",
        "https://",
        "HTTPS://",
        "javascript:",
        "//",
        "ftp://",
        "a.example",
        "EXAMPLE.com",
        ":443",
        ":80",
        ":99999",
        "/",
        "?",
        "&",
        "#",
        "utm_source=x",
        "id=1",
        "fbclid=2",
        "%2F",
        "@",
        "[::1]",
        "..",
        " ",
        "\n",
        "é",
        "xn--",
    ]
)
urlish = st.lists(
    st.one_of(url_parts, st.text(alphabet=string.printable, max_size=8)), max_size=12
).map("".join)


@PROFILE
@given(urlish, st.one_of(st.none(), urlish))
def test_canonical_url_is_total_and_idempotent(raw: str, base: str | None) -> None:
    once = canonical_url(raw, base)
    assert isinstance(once, str)
    if once.startswith(("http://", "https://")):
        from urllib.parse import parse_qsl, urlsplit

        assert "#" not in once
        keys = [k.lower() for k, _ in parse_qsl(urlsplit(once).query, keep_blank_values=True)]
        assert not any(k.startswith("utm_") for k in keys)
        assert canonical_url(once) == once


dates = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "Fri, 05 Apr 2024 10:00:00 +0200",
            "2024-04-05T10:00:00Z",
            "Sat, 31 Dec 9999 23:59:59 GMT",
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "2024-02-30",
            "yesterday",
            "",
            "Fri, 05 Apr 2024 25:61:61 +9999",
        ]
    ),
)


@PROFILE
@given(dates, dates)
def test_feed_dates_are_aware_and_never_in_the_future(pub: str, upd: str) -> None:
    from xml.sax.saxutils import escape

    data = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><title>x</title>"
        f"<link>https://a.example/1</link><pubDate>{escape(pub)}</pubDate></item>"
        f"<item><title>y</title><link>https://a.example/2</link><pubDate>{escape(upd)}</pubDate></item>"
        "</channel></rss>"
    ).encode("utf-8", "surrogatepass")
    try:
        parsed = parse_feed(data, SRC, url="https://a.example/feed", now=NOW)
    except ParseError:
        return
    for article in parsed.articles:
        assert article.published.tzinfo is not None
        assert article.published <= NOW + dt.timedelta(hours=2)


toml_values = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.booleans().map(lambda b: str(b).lower()),
    st.floats(allow_nan=False, allow_infinity=False, width=32)
    .map(repr)
    .filter(lambda s: "e" not in s),
    st.text(alphabet=string.ascii_letters + " /.-", max_size=12).map(lambda s: f'"{s}"'),
    st.just("[1, 2]"),
    st.just('["a", "b"]'),
    st.just("{ a = 1 }"),
)
keys = st.sampled_from(
    [
        "title",
        "timezone",
        "max_stories",
        "sections",
        "mute",
        "window_hours",
        "threshold",
        "sentences",
        "method",
        "timeout",
        "max_bytes",
        "allow_private",
        "date",
        "colour",
        "id",
        "url",
        "kind",
        "path",
        "tags",
        "interval",
        "enabled",
    ]
)
tables = st.sampled_from(["brief", "summary", "group", "fetch", "nonsense", "[sources]"])


@PROFILE
@given(
    st.lists(st.tuples(tables, st.lists(st.tuples(keys, toml_values), max_size=4)), max_size=4),
    st.binary(max_size=30),
)
def test_config_loader_gives_config_or_config_error(sections: list, junk: bytes) -> None:  # type: ignore[type-arg]
    lines: list[str] = []
    for table, pairs in sections:
        lines.append(f"[{table}]")
        seen = set()
        for key, value in pairs:
            if key not in seen:
                seen.add(key)
                lines.append(f"{key} = {value}")
    folder = Path(tempfile.mkdtemp(prefix="briefs-cfg-"))
    path = folder / "briefs.toml"
    path.write_bytes("\n".join(lines).encode() + (b"\n#" + junk if junk else b""))
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert str(path.resolve()) in str(exc) or str(path) in str(exc)
        return
    finally:
        shutil.rmtree(folder)
    assert config.brief.max_stories >= 0
