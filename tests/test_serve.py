"""`briefs serve`: a real server on 127.0.0.1; content types, conditional GET, gzip, escapes."""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.config import load_config
from briefs.pipeline import run
from briefs.publish import Publisher
from briefs.serve import OutputServer, make_server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OutputServer, Path]]:
    import shutil

    from tests.conftest import SEEDS

    base = tmp_path_factory.mktemp("serve")
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    cfg = seeds / "briefs.toml"
    cfg.write_text(cfg.read_text().replace('output = "../output"', 'output = "../site/out"'))
    config = load_config(cfg)
    run(config, date=dt.date(2024, 4, 6), email=True)
    out = config.output
    assert (out / "2024-04-06.eml").is_file()  # there, and never served
    (out / ".hidden.html").write_text("hidden")
    (out / "sub").mkdir()
    (out / "sub" / "index.html").write_text("<p>sub</p>")
    (out / "empty").mkdir()
    (base / "site" / "secret.html").write_text("TOP SECRET")
    (out / "link.html").symlink_to(base / "site" / "secret.html")
    (out / "notes.bin").write_bytes(b"\x00\x01")
    server = make_server(out, "127.0.0.1", 0, max_age=120)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, out
    server.shutdown()
    server.server_close()


def request(
    server: OutputServer, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/stories.xml", "application/rss+xml; charset=utf-8"),
        ("/stories.atom", "application/atom+xml; charset=utf-8"),
        ("/stories.json", "application/feed+json; charset=utf-8"),
        ("/archive.html", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/2024-04-06.html", "text/html; charset=utf-8"),
        ("/2024-04-06.md", "text/markdown; charset=utf-8"),
        ("/sub/", "text/html; charset=utf-8"),
        ("/feed.xml?utm_source=reader", "application/rss+xml; charset=utf-8"),
    ],
)
def test_content_types_and_cache_headers(
    site: tuple[OutputServer, Path], path: str, ctype: str
) -> None:
    server, _ = site
    status, headers, body = request(server, path)
    assert status == 200
    assert headers["content-type"] == ctype
    assert headers["cache-control"] == "public, max-age=120"
    assert headers["etag"].startswith('"') and headers["last-modified"].endswith("GMT")
    assert headers["x-content-type-options"] == "nosniff"
    assert int(headers["content-length"]) == len(body)
    if path.endswith(".json"):
        assert json.loads(body)["version"] == "https://jsonfeed.org/version/1.1"
    if ctype.startswith("text/html"):
        assert "script-src" not in headers["content-security-policy"]  # default-src 'none'
        assert "default-src 'none'" in headers["content-security-policy"]


def test_conditional_get_answers_304(site: tuple[OutputServer, Path]) -> None:
    server, out = site
    status, headers, body = request(server, "/feed.xml")
    etag, modified = headers["etag"], headers["last-modified"]
    status, headers304, body = request(server, "/feed.xml", headers={"If-None-Match": etag})
    assert status == 304 and body == b""
    assert headers304["etag"] == etag and headers304["cache-control"] == "public, max-age=120"
    status, _, _ = request(server, "/feed.xml", headers={"If-None-Match": f'"other", W/{etag}'})
    assert status == 304
    status, _, body = request(server, "/feed.xml", headers={"If-Modified-Since": modified})
    assert status == 304 and body == b""
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    status, _, body = request(server, "/feed.xml", headers={"If-Modified-Since": old})
    assert status == 200 and body
    # If-None-Match wins over If-Modified-Since
    status, _, _ = request(
        server, "/feed.xml", headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}
    )
    assert status == 200
    # a new version of the file gets a new ETag, and the old one no longer matches
    Publisher(out).write("feed.xml", (out / "feed.xml").read_bytes() + b"\n")
    status, headers, _ = request(server, "/feed.xml", headers={"If-None-Match": etag})
    assert status == 200 and headers["etag"] != etag


def test_gzip_when_accepted(site: tuple[OutputServer, Path]) -> None:
    server, out = site
    _, plain_headers, plain = request(server, "/2024-04-06.html")
    status, headers, body = request(
        server, "/2024-04-06.html", headers={"Accept-Encoding": "br, gzip;q=0.8"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == plain == (out / "2024-04-06.html").read_bytes()
    assert len(body) < len(plain) / 2
    assert headers["etag"] != plain_headers["etag"]
    status, again, _ = request(
        server,
        "/2024-04-06.html",
        headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]},
    )
    assert status == 304 and again["etag"] == headers["etag"]
    _, refused, body = request(server, "/2024-04-06.html", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused and body == plain


def test_head_and_other_methods(site: tuple[OutputServer, Path]) -> None:
    server, _ = site
    _, get_headers, body = request(server, "/atom.xml")
    status, headers, head_body = request(server, "/atom.xml", method="HEAD")
    assert status == 200 and head_body == b""
    assert headers["content-length"] == get_headers["content-length"] == str(len(body))
    status, headers, _ = request(server, "/atom.xml", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.html",
        "/%2e%2e/secret.html",
        "/..%2fsecret.html",
        "/%2E%2E%2Fsecret.html",
        "/sub/../../secret.html",
        "/sub/..%2f..%2fsecret.html",
        "//etc/passwd",
        "/..%5c..%5csecret.html",
        "/%00",
        "/feed.xml%00.html",
        "/%ff",
        "/link.html",  # a symbolic link that leads outside the folder
        "/.hidden.html",
        "/empty/",  # a folder without index.html: no listing
        "/empty",
        "/2024-04-06.eml",  # email editions may carry addresses
        "/notes.bin",  # not a type we serve
        "/missing.html",
        "http://evil.example/../secret.html",
    ],
)
def test_nothing_outside_the_folder_and_no_listing(
    site: tuple[OutputServer, Path], path: str
) -> None:
    server, _ = site
    status, _, body = request(server, path)
    assert status == 404, path
    assert b"TOP SECRET" not in body and b"hidden" not in body and b"<a href" not in body


def test_folder_with_an_index_redirects_to_the_slash(site: tuple[OutputServer, Path]) -> None:
    server, _ = site
    status, headers, _ = request(server, "/sub")
    assert status == 301 and headers["location"] == "/sub/"


def test_port_in_use_is_a_clear_error(site: tuple[OutputServer, Path]) -> None:
    from briefs.errors import ServeError

    server, out = site
    with pytest.raises(ServeError, match=r"cannot listen on 127\.0\.0\.1"):
        make_server(out, "127.0.0.1", server.server_address[1])


# -- sturdy at the socket (issue 13) -----------------------------------------------------------


def _exchange(server: OutputServer, raw: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes on one connection; everything the server answers until it closes."""
    import socket

    host, port = server.server_address[:2]
    with socket.create_connection((str(host), port), timeout=timeout) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _statuses(answer: bytes) -> list[bytes]:
    import re

    return re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)


def test_a_get_body_is_never_taken_for_the_next_request(site: tuple[OutputServer, Path]) -> None:
    server, _ = site
    hidden = b"GET /.hidden.html HTTP/1.1\r\nHost: x\r\n\r\n"
    # a small body is read and dropped: the connection goes on with the next real request
    raw = (
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(hidden)
        + hidden
        + b"GET /missing.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    answer = _exchange(server, raw)
    statuses = _statuses(answer)
    assert statuses == [b"200", b"404"], answer[:300]
    assert b"hidden" not in answer.replace(b".hidden", b"")
    # chunked, conflicting or absurd lengths: refused and the connection closed, so nothing
    # after them is parsed as a request
    for headers in (
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 5\r\nContent-Length: 50\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 99999999999999999999999\r\n",
    ):
        raw = b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + hidden
        answer = _exchange(server, raw)
        statuses = _statuses(answer)
        assert len(statuses) == 1 and statuses[0] in (b"400", b"413"), headers
    # a POST with a body: 405, and the body is not the next request either
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(hidden) + hidden
    answer = _exchange(server, raw)
    statuses = _statuses(answer)
    assert statuses == [b"405"]


@pytest.mark.parametrize(
    "headers",
    [
        {"If-Modified-Since": "Mon, 01 Jan 99999999999999 00:00:00 GMT"},
        {"If-Modified-Since": "Sat, 31 Dec 9999 23:59:59 +2400"},
        {"If-Modified-Since": "Thu, 01 Jan 0000 00:00:00 GMT"},
        {"If-Modified-Since": "x" * 8000},
        {"If-Modified-Since": "-1"},
        {"If-None-Match": ", " * 4000},
        {"Accept-Encoding": "gzip;q=nan, *;q=1e999, br;q=-inf"},
        {"Accept-Encoding": "gzip;q=" + "9" * 5000},
        {"Host": "\u00ff" * 100},
    ],
)
def test_absurd_headers_get_a_normal_answer(
    site: tuple[OutputServer, Path], headers: dict[str, str]
) -> None:
    server, _ = site
    wire = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("latin-1")
    answer = _exchange(server, b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n" + wire + b"\r\n")
    assert answer.startswith((b"HTTP/1.1 200 OK", b"HTTP/1.1 304 Not Modified")), answer[:200]


def test_five_hundred_readers_at_once_are_all_answered(site: tuple[OutputServer, Path]) -> None:
    """500 clients connect at the same moment (a barrier), then each fetches a feed."""
    import socket
    import time

    server, out = site
    expected = (out / "feed.xml").stat().st_size
    host, port = server.server_address[:2]
    clients = 500
    barrier = threading.Barrier(clients)
    results: list[tuple[int, float]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def reader() -> None:
        try:
            barrier.wait(timeout=60)
            start = time.monotonic()
            with socket.create_connection((str(host), port), timeout=30) as sock:
                sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK") and len(body) == expected
            with lock:
                results.append((200, time.monotonic() - start))
        except Exception as exc:  # every failure is counted and reported
            with lock:
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, f"{len(errors)} of {clients} failed, e.g. {errors[:3]}"
    assert len(results) == clients
    slowest = max(seconds for _, seconds in results)
    print(f"500 concurrent readers: all answered, slowest {slowest:.2f} s")
    # A connection the listen queue drops is retried by the client's kernel after 1, 3, 7,
    # 15 s...: with the old backlog of 5 the slowest reader here waited about 21 s.
    assert slowest < 10
