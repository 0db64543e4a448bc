"""A brief built from a day of real world-news feeds (../shared/data/news-feeds-2026-02-17, the
10 development outlets) quotes what a reader would not object to: no teaser cut off at its
length limit, no photo caption, and, for a story several outlets reported, more than one of them
when they carry distinct quotable sentences.

The captions are found independently of the sentence rules: every ``media:description`` and
``media:credit`` the feeds themselves mark as describing a picture.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import lxml.etree

from briefs.config import load_config
from briefs.pipeline import build_edition, run
from briefs.store import open_store
from briefs.summarize import clean_sentence
from briefs.text import split_sentences
from briefs.timing import Timings
from tests.conftest import shared_path

FEEDS = (
    "bbc-news-world", "nyt-world", "aljazeera-all", "npr-world", "cbsnews-world",
    "washingtonpost-world", "dawn-world", "japantoday-world", "restofworld", "time-world",
)  # fmt: skip
MEDIA = "http://search.yahoo.com/mrss/"
_ELLIPSIS = re.compile(r"(?:\.\s?\.\s?\.|…)\W*$")


def _captions(folder: Path) -> set[str]:
    out: set[str] = set()
    for name in FEEDS:
        tree = lxml.etree.parse(str(folder / f"{name}.xml"))
        for tag in ("description", "credit"):
            for node in tree.iter(f"{{{MEDIA}}}{tag}"):
                text = " ".join("".join(node.itertext()).split())
                out.update(s for s in split_sentences(text) if len(s.split()) >= 4)
    return out


def test_a_real_news_day_quotes_no_cut_teaser_no_caption_and_several_outlets(
    tmp_path: Path,
) -> None:
    folder = shared_path("data", "news-feeds-2026-02-17")
    lines = [
        'database = "news.db"',
        'output = "out"',
        "[brief]",
        'timezone = "UTC"',
        "max_stories = 60",
        "[fetch]",
        "fetch_full_text = false",  # the feeds as they are: many are teasers
    ]
    for name in FEEDS:
        lines += ["[[sources]]", f'id = "{name}"', f'url = "{folder / name}.xml"']
    (tmp_path / "briefs.toml").write_text("\n".join(lines) + "\n")
    config = load_config(tmp_path / "briefs.toml")
    now = dt.datetime(2026, 2, 18, 23, 0, tzinfo=dt.UTC)
    report = run(config, date=dt.date(2026, 2, 18), now=now)
    store = open_store(config.database)
    try:
        brief, _ = build_edition(config, store, report.edition, now, Timings())
    finally:
        store.close()
    assert len(brief.stories) >= 10
    captions = _captions(folder)
    assert len(captions) >= 20  # the check has something to find
    several = 0
    for story in brief.stories:
        quoted = list(story.summary.sentences) + [e.sentence for e in story.summary.timeline]
        for sentence in quoted:
            assert not _ELLIPSIS.search(sentence.text), sentence.text
            assert sentence.text not in captions, sentence.text
        outlets = {a.outlet for a in story.articles if not a.duplicate_of}
        if len(outlets) < 2:
            continue
        # outlets with something of their own to quote (a quotable sentence no other prints)
        own: dict[str, set[str]] = {}
        for a in story.articles:
            if not a.duplicate_of:
                texts = {clean_sentence(s) for s in split_sentences(a.text)} - {None}
                own.setdefault(a.outlet, set()).update(t for t in texts if t)
        distinct = [o for o, texts in own.items() if texts - set().union(*(
            t for other, t in own.items() if other != o))]  # fmt: skip
        if len(distinct) >= 2:
            several += 1
            # quoted in the story: its summary or its timeline of earlier days
            assert len({s.outlet for s in quoted}) >= 2, (
                story.summary.headline,
                [s.outlet for s in quoted],
            )
    assert several >= 5
