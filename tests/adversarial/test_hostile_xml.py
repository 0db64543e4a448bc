"""Hostile XML: entity expansion bombs, external entities and DTD retrieval.

Each document is parsed by the product's parse layer in a child process with a memory limit, while
a loopback HTTP server records any request: no expansion blow-up, no file read, no request made.
Every document goes through the product's way in (``parse_feed``, which sends documents with a
DTD to feedparser) and, forced, through the fast path alone (fastfeedparser as briefs calls it),
so that neither parser is the only defence.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

MEMORY_LIMIT_MB = 512
SECRET = "briefs-adversarial-secret-3f9c"


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        body = b'<!ENTITY x "pwned">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _billion_laughs() -> bytes:
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(ents) + ']><rss version="2.0"><channel>'
        "<title>&lol9;</title><item><title>&lol9;</title><link>https://a.example/1</link>"
        "<description>&lol9;</description></item></channel></rss>"
    ).encode()


def _quadratic() -> bytes:
    big = "x" * 100_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]><rss version="2.0"><channel>'
        "<item><title>t</title><link>https://a.example/1</link><description>"
        + "&a;" * 100_000
        + "</description></item></channel></rss>"
    ).encode()


def _xxe_file(secret_file: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]>'
        '<rss version="2.0"><channel><title>&x;</title><item><title>a &x;</title>'
        "<link>https://a.example/1</link><description>&x;</description></item></channel></rss>"
    ).encode()


def _xxe_net(base: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{base}/entity">]>'
        '<rss version="2.0"><channel><item><title>a &x;</title>'
        "<link>https://a.example/1</link></item></channel></rss>"
    ).encode()


def _param_entity(base: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "{base}/param.dtd"> %p;]>'
        '<rss version="2.0"><channel><item><title>a</title><link>https://a.example/1</link></item>'
        "</channel></rss>"
    ).encode()


def _dtd(base: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{base}/evil.dtd">'
        '<rss version="2.0"><channel><item><title>a</title><link>https://a.example/1</link></item>'
        "</channel></rss>"
    ).encode()


def _atom_xinclude(secret_file: Path) -> bytes:
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:xi="http://www.w3.org/2001/XInclude"><title>t</title><entry><title>e</title>'
        f'<id>urn:x</id><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        f'<xi:include href="{secret_file.as_uri()}" parse="text"/></div></content></entry></feed>'
    ).encode()


_CHILD = textwrap.dedent(
    """
    import datetime as dt, resource, sys, json
    limit = int(sys.argv[2]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from briefs.errors import ParseError
    from briefs.ingest import parse, xmlfeed
    from briefs.models import Source
    data = open(sys.argv[1], "rb").read()
    read = parse.parse_feed if sys.argv[3] == "product" else xmlfeed.parse_fast
    try:
        parsed = read(data, Source("x", "feed", "x"), url="https://a.example/feed",
                      now=dt.datetime(2024, 4, 7, tzinfo=dt.UTC))
        texts = [parsed.title] + [a.title + a.summary + a.body for a in parsed.articles]
    except ParseError as exc:
        texts = ["ParseError: " + str(exc)]
    except xmlfeed.Unfit as exc:  # the fast path refused its own result: feedparser's turn
        texts = ["Unfit: " + str(exc)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"texts": texts, "peak_mb": peak}))
    """
)


@pytest.fixture(params=["product", "fast"])
def path(request: pytest.FixtureRequest) -> str:
    """Through parse_feed as the product calls it, or through the fast path alone."""
    return str(request.param)


def _parse_in_child(tmp_path: Path, data: bytes, path: str) -> dict[str, object]:
    import json

    doc = tmp_path / "doc.xml"
    doc.write_bytes(data)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(doc), str(MEMORY_LIMIT_MB + 1024), path],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize("kind", ["billion_laughs", "quadratic"])
def test_entity_bombs_do_not_expand(tmp_path: Path, kind: str, path: str) -> None:
    data = _billion_laughs() if kind == "billion_laughs" else _quadratic()
    result = _parse_in_child(tmp_path, data, path)
    total = sum(len(t) for t in result["texts"])  # type: ignore[union-attr]
    assert total < 2 * len(data), f"{kind} expanded to {total} characters"
    assert int(result["peak_mb"]) < MEMORY_LIMIT_MB  # type: ignore[call-overload]


def test_external_entities_read_no_file(tmp_path: Path, path: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    for data in (_xxe_file(secret), _atom_xinclude(secret)):
        result = _parse_in_child(tmp_path, data, path)
        assert not any(SECRET in t for t in result["texts"])  # type: ignore[union-attr]


def test_no_request_is_made_for_entities_or_dtds(tmp_path: Path, recorder: str, path: str) -> None:
    for data in (_xxe_net(recorder), _param_entity(recorder), _dtd(recorder)):
        result = _parse_in_child(tmp_path, data, path)
        assert not any("pwned" in t for t in result["texts"])  # type: ignore[union-attr]
    assert _Recorder.hits == []
