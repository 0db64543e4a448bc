"""Resource bounds: one feed with 100,000 entries, one 50 MB article, 10,000 sources.

Each runs `briefs run` in a child process whose peak memory (ru_maxrss) is measured; the work
degrades gracefully (capped, skipped or refused with a warning) and the brief is still written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adversarial.peak import CHILD, peak_of
from tests.feedserver import feed_server, static

ROOT = Path(__file__).resolve().parents[2]
# The bounds stated in docs/reliability.md.
BIG_FEED_MB, BIG_ARTICLE_MB, MANY_SOURCES_MB = 900, 400, 600


def _run(cfg: Path, *args: str, timeout: float = 600) -> tuple[str, str, int]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    peak = peak_of(proc.stderr)
    return proc.stdout, proc.stderr, peak


def _item(i: int, text: str = "") -> str:
    return (
        f"<item><title>Entry {i} about the harbour plan</title><link>https://a.example/{i}</link>"
        f"<pubDate>Fri, 05 Apr 2024 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate>"
        f"<description>{text or f'Officials discussed item {i} on Friday.'}</description></item>"
    )


def _feed(items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://a.example/</link>{items}</channel></rss>"
    ).encode()


@pytest.mark.slow
def test_a_feed_of_100000_entries_keeps_the_newest_with_a_warning(tmp_path: Path) -> None:
    big = _feed("".join(_item(i) for i in range(100_000)))
    assert len(big) > 15_000_000
    with feed_server() as server:
        server.routes["/big.xml"] = static(big)
        server.routes["/small.xml"] = static(_feed(_item(1, "A normal feed still works.")))
        cfg = tmp_path / "briefs.toml"
        cfg.write_text(
            'output = "out"\n[brief]\ndate = "latest"\n[fetch]\nfetch_full_text = false\n'
            # the parse budget is not what this checks: under load parsing 15 MB took over 30 s
            "max_bytes = 30000000\nmax_entries = 2000\nparse_timeout = 900\n"
            f'[[sources]]\nid = "big"\nurl = "{server.url("/big.xml")}"\n'
            f'[[sources]]\nid = "small"\nurl = "{server.url("/small.xml")}"\n'
        )
        out, _err, peak = _run(cfg, "run")
    assert "2 polled, 2 ok, 0 failed" in out
    assert "New articles: 2001" in out
    listing, _, _ = _run(cfg, "sources", "list", "--json")
    status = {row["id"]: row for row in json.loads(listing)}["big"]
    assert "kept the newest 2000 of 100000 entries" in json.dumps(status)
    assert peak < BIG_FEED_MB, f"peak {peak} MB"
    print(f"\n100,000-entry feed ({len(big) / 1e6:.1f} MB): peak {peak} MB")


@pytest.mark.slow
def test_a_50_mb_article_is_refused_and_nothing_else_suffers(tmp_path: Path) -> None:
    huge_text = "word " * 10_000_000  # 50 MB
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "huge.txt").write_text("date 2024-04-05 (Big Outlet) -- " + huge_text)
    (docs / "fine.txt").write_text(
        "date 2024-04-05 (Small Outlet) -- The ferry resumed on Friday after repairs.\n"
    )
    with feed_server() as server:
        server.routes["/huge.xml"] = static(_feed(_item(1, huge_text)))
        server.routes["/ok.xml"] = static(_feed(_item(2)))
        cfg = tmp_path / "briefs.toml"
        cfg.write_text(
            'output = "out"\n[brief]\ndate = "latest"\n[fetch]\nfetch_full_text = false\n'
            f'[[sources]]\nid = "huge"\nurl = "{server.url("/huge.xml")}"\n'
            f'[[sources]]\nid = "ok"\nurl = "{server.url("/ok.xml")}"\n'
            '[[sources]]\nid = "docs"\nkind = "files"\npath = "docs"\n'
        )
        out, err, peak = _run(cfg, "run")
    assert "3 polled, 2 ok, 1 failed" in out
    assert "failed: huge: body" in out and "limit" in out
    assert "huge.txt: larger than" in err  # the seed document is skipped with a warning
    assert "New articles: 2" in out
    assert peak < BIG_ARTICLE_MB, f"peak {peak} MB"
    print(f"\n50 MB article: peak {peak} MB")


@pytest.mark.slow
def test_ten_thousand_sources(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    lines = ['output = "out"', "[brief]", 'date = "latest"', "[fetch]", "fetch_full_text = false"]
    for i in range(10_000):
        # every source is polled, parsed and tracked; one in fifty has an entry today
        (feeds / f"{i}.xml").write_bytes(_feed(_item(i) if i % 50 == 0 else ""))
        lines += ["[[sources]]", f'id = "s{i}"', f'url = "feeds/{i}.xml"']
    cfg = tmp_path / "briefs.toml"
    cfg.write_text("\n".join(lines) + "\n")
    out, _err, peak = _run(cfg, "run", timeout=900)
    assert "10000 polled, 10000 ok, 0 failed" in out
    assert "New articles: 200" in out
    assert peak < MANY_SOURCES_MB, f"peak {peak} MB"
    print(f"\n10,000 sources: peak {peak} MB")
