"""End to end with a real feed reader: newsboat subscribes to the feed `briefs serve` serves."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from briefs.config import load_config
from briefs.pipeline import run
from briefs.serve import make_server


def reload(newsboat: str, folder: Path) -> None:
    subprocess.run(
        [
            newsboat,
            "-u",
            str(folder / "urls"),
            "-c",
            str(folder / "cache.db"),
            "-C",
            str(folder / "config"),
            "-x",
            "reload",
        ],
        check=True,
        capture_output=True,
        timeout=60,
        env={"HOME": str(folder), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )


def items(folder: Path, feed_url: str) -> list[tuple[str, str]]:
    with sqlite3.connect(folder / "cache.db") as conn:
        rows = conn.execute(
            "SELECT guid, title FROM rss_item WHERE feedurl = ? AND deleted = 0 ORDER BY pubDate",
            (feed_url,),
        ).fetchall()
    return [(str(g), str(t)) for g, t in rows]


@pytest.mark.slow
def test_newsboat_sees_each_edition_once(seeds_copy: Path, tmp_path: Path) -> None:
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        pytest.skip("newsboat is not installed (apt-get install newsboat; .ci/run installs it)")
    cfg = seeds_copy / "briefs.toml"
    cfg.write_text(cfg.read_text().replace('output = "../output"', 'output = "../out"'))
    config = load_config(cfg)
    run(config, date=dt.date(2024, 4, 5), now=dt.datetime(2024, 4, 5, 18, tzinfo=dt.UTC))
    server = make_server(config.output, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        reader = tmp_path / "reader"
        reader.mkdir()
        url = f"{server.url}feed.xml"
        (reader / "urls").write_text(url + "\n")
        (reader / "config").write_text("")
        reload(newsboat, reader)
        first = items(reader, url)
        assert [g.rsplit("/", 1)[-1] for g, _ in first] == ["2024-04-05"]
        assert first[0][1] == "The Demo Brief: Friday, 5 April 2024"
        # a new edition is built and served: one new item, nothing twice
        run(config, date=dt.date(2024, 4, 6), now=dt.datetime(2024, 4, 6, 18, tzinfo=dt.UTC))
        reload(newsboat, reader)
        second = items(reader, url)
        assert len(second) == 2 and len({g for g, _ in second}) == 2
        assert set(second) - set(first) == {
            (second[-1][0], "The Demo Brief: Saturday, 6 April 2024")
        }
        # nothing new: a reload changes nothing
        reload(newsboat, reader)
        assert items(reader, url) == second
    finally:
        server.shutdown()
        server.server_close()
