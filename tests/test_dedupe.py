"""Deduplication at three levels: same entry again, same URL in two feeds, syndicated copies."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from briefs.config import load_config
from briefs.ingest.dedupe import estimate_similarity, link_duplicates, sketch_text
from briefs.models import Article, Printing
from briefs.pipeline import poll_and_group
from briefs.store import open_store
from briefs.timing import Timings
from tests.builders import article
from tests.rawdb import raw_sqlite, stored_articles

T0 = dt.datetime(2024, 4, 5, 9, tzinfo=dt.UTC)

WIRE = (
    "Officials in the coastal province said on Tuesday that the new desalination plant would "
    "supply drinking water to about two hundred thousand homes by the end of next year. The "
    "plant, built by a consortium of three engineering firms, uses reverse osmosis and will be "
    "powered in part by a solar farm on reclaimed land nearby. Environmental groups have raised "
    "concerns about the brine it will return to the sea, and the provincial government has "
    "promised to publish monitoring data every month. The project cost about nine hundred "
    "million and was financed with a loan from a regional development bank."
)
REWRITE = (
    "A desalination plant opening next year will serve two hundred thousand households in the "
    "coastal province, local officials announced. Critics worry about brine discharge, while "
    "the government pledged monthly environmental reports on the solar-assisted facility."
)


def art(aid: str, source: str, text: str, hours: float = 0, **kw: object) -> Article:
    url = f"https://{source}.example/{aid}"
    return article(
        aid,
        at=T0,
        hours=hours,
        fetched=T0,
        source=source,
        outlet=source,
        url=url,
        body=text,
        body_origin="feed",
        **kw,
    )


def printing(a: Article) -> Printing | None:
    sketch = sketch_text(a.text)
    if sketch is None:
        return None
    return Printing(a.id, a.source_id, a.published, a.duplicate_of, sketch.signature)


def links_for(*articles: Article, stored: tuple[Article, ...] = ()) -> dict[str, str]:
    new = [p for a in articles if (p := printing(a)) is not None]
    old = [printing(a) for a in stored]
    assert None not in old
    return link_duplicates(new, [p for p in old if p is not None])


def test_wire_copy_under_another_outlet_is_linked_to_the_first_printing() -> None:
    edited = "Desalination plant to open next year. " + WIRE + " (Reporting by A. Writer.)"
    links = links_for(
        art("orig", "ap", WIRE, 0),
        art("copy1", "paper", edited, 2),
        art("copy2", "daily", WIRE, 3),
        art("other", "times", REWRITE, 1),
    )
    assert links == {"copy1": "orig", "copy2": "orig"}


def test_copies_link_to_the_root_of_stored_originals() -> None:
    original = art("orig", "ap", WIRE, 0)
    first_copy = art("c1", "paper", WIRE, 1, duplicate_of="orig")
    # only the first copy is a candidate (say the original is outside the band lookup)
    assert links_for(art("c2", "daily", WIRE, 2), stored=(first_copy,)) == {"c2": "orig"}
    assert links_for(art("c2", "daily", WIRE, 2), stored=(original,)) == {"c2": "orig"}


def test_same_source_short_texts_and_old_articles_are_not_linked() -> None:
    # one source repeating itself is not syndication
    assert links_for(art("a", "ap", WIRE, 0), art("b", "ap", WIRE, 1)) == {}
    # too short to compare
    assert sketch_text("Click here to read the full story on our website.") is None
    # a copy printed more than a week later is a different occasion
    assert links_for(art("a", "ap", WIRE, 0), art("b", "paper", WIRE, 24 * 8)) == {}


def test_similarity_estimate_tracks_shared_text() -> None:
    a = sketch_text(WIRE)
    half = sketch_text(WIRE[: len(WIRE) // 2] + " " + REWRITE)
    b = sketch_text(REWRITE)
    assert a and b and half
    assert estimate_similarity(a.signature, a.signature) == 1.0
    assert estimate_similarity(a.signature, b.signature) < 0.1
    assert 0.15 < estimate_similarity(a.signature, half.signature) < 0.6


FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>
<link>https://{host}/</link>{items}</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://{host}/{slug}</link><guid>{guid}</guid>
<pubDate>{date}</pubDate><description>{text}</description></item>"""


def write_feed(
    path: Path,
    title: str,
    host: str,
    items: list[tuple[str, str, str, str]],
    date: str = "Fri, 05 Apr 2024 10:00:00 GMT",
) -> None:
    path.write_text(
        FEED.format(
            title=title,
            host=host,
            items="".join(
                ITEM.format(title=t, host=host, slug=s, guid=g, text=x, date=date)
                for s, g, t, x in items
            ),
        )
    )


def test_three_levels_through_the_pipeline(tmp_path: Path) -> None:
    write_feed(
        tmp_path / "wire.xml",
        "Wire",
        "wire.example",
        [("plant", "g-plant", "Desalination plant", WIRE), ("other", "g-other", "Other", REWRITE)],
    )
    # the same wire article also appears in a second feed of the wire (same URL)
    write_feed(
        tmp_path / "wire-top.xml",
        "Wire top",
        "wire.example",
        [("plant", "top-plant", "Desalination plant", WIRE)],
    )
    write_feed(
        tmp_path / "paper.xml",
        "Paper",
        "paper.example",
        [("water", "p-1", "Water plant for the coast", "From the wire: " + WIRE)],
        date="Fri, 05 Apr 2024 11:00:00 GMT",  # printed an hour after the wire
    )
    cfg = tmp_path / "briefs.toml"
    cfg.write_text(
        'database = "b.db"\n[fetch]\nfetch_full_text = false\n'
        + "".join(
            f'[[sources]]\nid = "{n}"\nurl = "{n}.xml"\n' for n in ("wire", "wire-top", "paper")
        )
    )
    config = load_config(cfg)
    store = open_store(config.database)
    try:
        _, new, _ = poll_and_group(config, store, T0 + dt.timedelta(hours=1), Timings())
        assert new == 3  # level 2: one wire article, though it is in two feeds
        # level 1: the wire changes the link but keeps the GUID; and changes the GUID but
        # keeps the link: the same entries again
        write_feed(
            tmp_path / "wire.xml",
            "Wire",
            "wire.example",
            [
                ("plant-updated", "g-plant", "Desalination plant", WIRE),
                ("other", "g-other-v2", "Other", REWRITE),
            ],
        )
        _, new, _ = poll_and_group(config, store, T0 + dt.timedelta(hours=2), Timings())
        assert new == 0
    finally:
        store.close()
    stored = stored_articles(tmp_path / "b.db")
    got = {a.url: a.duplicate_of for a in stored}
    ids = {a.url: a.id for a in stored}
    # level 3: the paper's copy is stored and linked to the wire's original
    assert got == {
        "https://wire.example/plant": None,
        "https://wire.example/other": None,
        "https://paper.example/water": ids["https://wire.example/plant"],
    }


def test_a_guid_shared_by_many_entries_is_not_an_identity(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "b.db"))
    same_guid = [dataclasses.replace(art(f"a{i}", "s", f"text {i}"), guid="1") for i in range(3)]
    assert len(store.add_articles(same_guid)) == 3
    store.close()


def test_signatures_do_not_depend_on_the_process(tmp_path: Path) -> None:
    # Signatures are stored and compared across runs: no per-process hash seed may enter them.
    import subprocess
    import sys

    code = (
        "import sys; from briefs.ingest.dedupe import sketch_text; "
        "sys.stdout.write(sketch_text(sys.stdin.read()).signature.hex())"
    )
    here = sketch_text(WIRE)
    assert here is not None
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=WIRE,
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(Path(__file__).parents[1])},
        )
        assert out.stdout == here.signature.hex()


def test_upgrade_to_numbered_sketches_sketches_the_window_again(tmp_path: Path) -> None:
    from briefs.ingest.copies import link_copies, resketch_window
    from briefs.store import SCHEMA_VERSION

    path = tmp_path / "b.db"
    now = T0 + dt.timedelta(hours=6)
    store = open_store(str(path))
    store.add_articles(
        [art("orig", "ap", WIRE, 0), art("old", "ap", REWRITE + " " + WIRE, -24 * 9)]
    )
    store.close()
    # Make it a schema 4 file: the old band table keyed by article id, an old-format sketch.
    with raw_sqlite(path) as conn:
        conn.executescript(
            "DROP TABLE sketch_bands; DROP TABLE sketches;"
            "CREATE TABLE sketches (article_id VARCHAR(40) PRIMARY KEY, published DATETIME NOT"
            " NULL, signature BLOB NOT NULL);"
            "CREATE TABLE sketch_bands (band_key BIGINT, article_id VARCHAR(40),"
            " PRIMARY KEY (band_key, article_id));"
            "INSERT INTO sketches VALUES ('orig', '2024-04-05 09:00:00.000000', zeroblob(512));"
            "INSERT INTO sketch_bands VALUES (1, 'orig');"
            "UPDATE meta SET value = '4' WHERE key = 'schema_version';"
        )
    store = open_store(str(path))
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.sketch_candidates([1], T0 - dt.timedelta(days=30)) == []  # old rows dropped
        store.add_articles([art("copy", "paper", WIRE, 3)])
        # only the week's articles are sketched again, and not the ones about to be linked
        assert resketch_window(store, now, skip={"copy"}) == 1
        assert resketch_window(store, now, skip={"copy"}) == 0  # remembered: once
        assert link_copies(store, {"copy"}) == 1
        assert store.articles(["copy"])[0].duplicate_of == "orig"
    finally:
        store.close()
