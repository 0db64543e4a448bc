"""A property over the whole run (issue 13): one hostile source beside one good source.

Hypothesis builds the hostile source: RSS, Atom or JSON Feed; hostile headers (status,
Cache-Control max-age, Retry-After, content type); hostile dates, numbers (``<ttl>``, the
syndication period), text (lone surrogates, C0/C1 controls, bidi overrides, 50 KB titles) and
nesting (deep JSON arrays, deep XML elements, deep HTML in the content). A real loopback server
serves it beside a good feed; ``briefs run`` runs in this process through the CLI, twice.

Every run exits 0; the good source's articles are in every output (Markdown, HTML, the email,
the edition and story feeds); the hostile source is recorded (polled, its error one line if it
failed); everything stored from it is inside the documented bounds; and the next run works.
"""

from __future__ import annotations

import email
import email.policy
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from briefs.cli import cli
from briefs.ingest.bounds import MAX_AUTHOR, MAX_OUTLET, MAX_TITLE
from tests.feedserver import FeedServer, feed_server, rss, static
from tests.rawdb import raw_sqlite

GOOD_TITLES = ("Harbour wall finished after storms", "Ferry service returns to the islands")
GOOD = rss(
    "Good Gazette",
    [
        ("harbour", GOOD_TITLES[0], "Crews finished the harbour wall on Friday, the port said."),
        ("ferry", GOOD_TITLES[1], "The island ferry runs again from Monday, its operator said."),
    ],
    "https://good.example.org",
)
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

DATES = st.sampled_from(
    [
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 -1200",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1969-12-31T23:59:59Z",
        "Fri, 05 Apr 2024 09:00:00 GMT",
        "2024-04-05T09:00:00Z",
        "yesterday",
        "",
        "2024-13-45T99:99:99Z",
    ]
)
NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["9" * 20, "9" * 5000, "-1", "1e308", "nan", "١٢٣", " 7 ", "0x10"]),
)
# Characters that break things: controls, bidi, separators, noncharacters, markup, entities.
NASTY = st.sampled_from(
    [
        "\x00",
        "\x1b[2J",
        "\x7f",
        "\x85",
        "\x9b",
        "\u202e",
        "\u2066",
        "\u2028",
        "\ufeff",
        "\uffff",
        "&#x202e;",
        "&#0;",
        "<b>",
        "]]>",
        "&amp;",
        "\r\n",
        "ﷺ",
        "👍",
    ]
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(NASTY, st.text(max_size=5)), max_size=12).map("".join),
    st.integers(1, 50_000).map(lambda n: "long " * (n // 5)),
)
SURROGATE_TEXT = st.lists(
    st.one_of(TEXT, st.sampled_from(["\ud800", "\udfff", "\udbff\udc00"])), max_size=4
).map("".join)


@dataclass(frozen=True)
class Hostile:
    """One hostile source: its body and how the server answers."""

    body: bytes
    status: int
    headers: dict[str, str]
    content_type: str


def _xml_text(value: str) -> str:
    # XML cannot carry surrogates at all; what it can carry is escaped (markup stays text).
    return escape("".join(c if not 0xD800 <= ord(c) <= 0xDFFF else "?" for c in value))


@st.composite
def hostile_sources(draw: st.DrawFn, kind: str) -> Hostile:
    depth = draw(st.sampled_from([0, 50, 5000, 30_000]))
    items = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "title": SURROGATE_TEXT if kind == "json" else TEXT,
                    "body": SURROGATE_TEXT if kind == "json" else TEXT,
                    "author": SURROGATE_TEXT if kind == "json" else TEXT,
                    "date": DATES,
                    "link": st.sampled_from(
                        [
                            "https://bad.example.org/a",
                            "javascript:alert(1)",
                            "",
                            "x" * 5000,
                            "http://[::ffff:127.0.0.1]/",
                            "https://bad.example.org/\u202e",
                        ]
                    ),
                }
            ),
            min_size=1,
            max_size=3,
        )
    )
    title = draw(SURROGATE_TEXT if kind == "json" else TEXT)
    ttl = draw(NUMBERS)
    if kind == "json":
        body = _json_feed(title, items, depth, raw=draw(st.booleans()))
    else:
        body = _xml_feed(kind, title, ttl, items, depth, draw(NUMBERS))
    headers = {}
    if draw(st.booleans()):
        headers["Cache-Control"] = f"public, max-age={draw(NUMBERS)}"
    if draw(st.booleans()):
        headers["Retry-After"] = draw(st.one_of(NUMBERS, DATES))
    status = draw(st.sampled_from([200, 200, 200, 200, 200, 429, 503, 500]))
    content_type = draw(
        st.sampled_from(
            [
                "application/rss+xml",
                "application/json",
                "text/html",
                "application/xml; charset=utf-16",
            ]
        )
    )
    event(f"{kind}, depth {depth}, status {status}")
    return Hostile(body, status, headers, content_type)


def _json_feed(title: str, items: list[dict[str, str]], depth: int, raw: bool) -> bytes:
    """A JSON Feed; ``raw`` writes characters as they are (a lone surrogate becomes bytes that
    are not UTF-8), else as ``\\u`` escapes (which decode to lone surrogates)."""
    entries = [
        {
            "id": item["link"] or "id",
            "url": item["link"],
            "title": item["title"],
            "content_html": f"<p>{item['body']}</p>" + "<div>" * min(depth, 5000),
            "authors": [{"name": item["author"]}],
            "date_published": item["date"],
        }
        for item in items
    ]
    doc = json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": entries},
        ensure_ascii=not raw,
    )
    if depth > 1000:  # nested past the decoder's recursion limit
        doc = doc[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    return doc.encode("utf-8", "surrogatepass")


def _xml_feed(
    kind: str, title: str, ttl: str, items: list[dict[str, str]], depth: int, freq: str
) -> bytes:
    nest = "<x>" * min(depth, 8000) + "</x>" * min(depth, 8000)
    if kind == "rss":
        entries = "".join(
            f"<item><title>{_xml_text(i['title'])}</title><link>{_xml_text(i['link'])}</link>"
            f"<author>{_xml_text(i['author'])}</author><pubDate>{_xml_text(i['date'])}</pubDate>"
            f"<description>{_xml_text(i['body'])}{_xml_text('<i>' * min(depth, 5000))}"
            f"</description>{nest}</item>"
            for i in items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>'
            f"<title>{_xml_text(title)}</title><ttl>{_xml_text(ttl)}</ttl>"
            f"<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>{_xml_text(freq)}"
            f"</sy:updateFrequency>{entries}</channel></rss>"
        ).encode()
    entries = "".join(
        f"<entry><title>{_xml_text(i['title'])}</title>"
        f'<link href="{_xml_text(i["link"])}"/><id>{_xml_text(i["link"]) or "x"}</id>'
        f"<author><name>{_xml_text(i['author'])}</name></author>"
        f"<updated>{_xml_text(i['date'])}</updated>"
        f'<content type="html">{_xml_text(i["body"])}</content>{nest}</entry>'
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{_xml_text(title)}</title>{entries}</feed>"
    ).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with feed_server() as s:
        s.routes["/good.xml"] = static(GOOD)
        yield s


def _run(cfg: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(cfg), "run", "--date", "2024-04-05", "--email"], catch_exceptions=True
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _assert_good_everywhere(out: Path) -> None:
    texts = {
        name: (out / name).read_text(encoding="utf-8")
        for name in (
            "2024-04-05.md",
            "2024-04-05.html",
            "feed.xml",
            "atom.xml",
            "stories.xml",
            "stories.atom",
        )
    }
    edition = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    texts["feed.json"] = " ".join(i["content_html"] for i in edition["items"])
    stories = json.loads((out / "stories.json").read_text(encoding="utf-8"))
    texts["stories.json"] = " ".join(i["title"] for i in stories["items"])
    message = email.message_from_bytes(
        (out / "2024-04-05.eml").read_bytes(), policy=email.policy.default
    )
    texts["eml"] = " ".join(
        str(part.get_content()) for part in message.walk() if part.get_content_maintype() == "text"
    )
    for name, text in texts.items():
        for title in GOOD_TITLES:
            assert title in text, (name, title)


def _assert_stored_within_bounds(db: Path) -> None:
    # Raw: opening a store would quarantine out-of-range rows before they could be seen.
    with raw_sqlite(db) as conn:
        rows = conn.execute(
            "select title, author, outlet, summary, body, published from articles"
        ).fetchall()
        states = dict(conn.execute("select source_id, last_error from feed_state").fetchall())
    assert set(states) == {"good", "hostile"}
    assert states["good"] is None
    error = states["hostile"]
    assert error is None or ("\n" not in error and len(error) <= 600), error
    for title, author, outlet, summary, body, published in rows:
        assert len(title) <= MAX_TITLE and len(author) <= MAX_AUTHOR and len(outlet) <= MAX_OUTLET
        assert "1970-01-01" <= published < "9000"
        for text in (title, author, outlet, summary, body):
            text.encode("utf-8")
            assert not BIDI & set(text)
            assert not any(
                (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text
            )


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(data=st.data())
def test_one_hostile_source_never_stops_the_run(
    server: FeedServer, kind: str, data: st.DataObject
) -> None:
    hostile = data.draw(hostile_sources(kind))
    server.routes["/hostile"] = static(
        hostile.body, hostile.status, hostile.headers, hostile.content_type
    )
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        cfg = tmp / "briefs.toml"
        cfg.write_text(
            f'database = "{tmp / "b.db"}"\noutput = "{tmp / "out"}"\n'
            "[fetch]\ntimeout = 5\ntotal_timeout = 10\nfetch_full_text = false\n"
            f'[[sources]]\nid = "good"\nurl = "{server.url("/good.xml")}"\n'
            f'[[sources]]\nid = "hostile"\nurl = "{server.url("/hostile")}"\n'
        )
        code, output = _run(cfg)
        assert code == 0, output
        assert "Sources: 2 polled" in output, output
        _assert_good_everywhere(tmp / "out")
        _assert_stored_within_bounds(tmp / "b.db")
        code, output = _run(cfg)  # the next run works too (with whatever was stored)
        assert code == 0, output
        _assert_good_everywhere(tmp / "out")
