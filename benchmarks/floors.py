"""The floors the product is measured against, each run in a fresh process by ``run.py``.

    python benchmarks/floors.py feedparser DIR          bare feedparser.parse over DIR/*.xml
    python benchmarks/floors.py fastfeedparser DIR      bare fastfeedparser.parse over DIR/*.xml
    python benchmarks/floors.py lexrank CONFIG DATE     sumy LexRank over that edition's stories
    python benchmarks/floors.py trafilatura DIR         bare trafilatura.extract over DIR/*.html

Each prints one JSON object on stdout. Only the work itself is timed (not reading the files).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any


def feedparser_floor(folder: Path, sanitize: bool) -> dict[str, Any]:
    """feedparser.parse over every feed document, one after the other."""
    import feedparser

    docs = [p.read_bytes() for p in sorted(folder.glob("*.xml"))]
    entries = 0
    start = time.perf_counter()
    for data in docs:
        parsed = feedparser.parse(data) if sanitize else feedparser.parse(data, sanitize_html=False)
        entries += len(parsed.entries)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "docs": len(docs),
        "entries": entries,
        "bytes": sum(map(len, docs)),
        "sanitize_html": sanitize,
    }


def fastfeedparser_floor(folder: Path) -> dict[str, Any]:
    """fastfeedparser.parse over every feed document, one after the other (the new floor)."""
    import fastfeedparser

    docs = [p.read_bytes() for p in sorted(folder.glob("*.xml"))]
    entries = 0
    start = time.perf_counter()
    for data in docs:
        entries += len(fastfeedparser.parse(data).get("entries") or [])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "docs": len(docs), "entries": entries, "bytes": sum(map(len, docs))}


def trafilatura_floor(folder: Path) -> dict[str, Any]:
    """trafilatura.extract over every page, one after the other, in this one process."""
    import trafilatura

    pages = [p.read_bytes() for p in sorted(folder.glob("*.html"))]
    chars = 0
    start = time.perf_counter()
    for markup in pages:
        text = trafilatura.extract(markup, include_comments=False)
        chars += len(text or "")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "pages": len(pages), "chars": chars}


def edition_stories(config_path: Path, date: dt.date, scope: str) -> list[list[str]]:
    """The texts of the member articles of each story of the edition for ``date``.

    ``scope`` "edition": the stories the built edition carries (its ``max_stories``);
    "candidates": every story the build step considers (updated inside the edition window).
    Members are those published before the end of the day, as in the pipeline.
    """
    import zoneinfo

    from briefs.config import load_config
    from briefs.store import open_store

    config = load_config(config_path)
    zone = zoneinfo.ZoneInfo(config.brief.timezone)
    day_end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0, 0), zone)
    window_start = day_end - dt.timedelta(hours=config.brief.window_hours)
    store = open_store(config.database)
    try:
        stories = store.stories_updated_since(window_start)
        if scope == "edition":
            (built,) = (r for r in store.recent_editions(1000) if r.edition.id == date.isoformat())
            wanted = {story_id for story_id, _ in built.story_counts}
            stories = [s for s in stories if s.id in wanted]
        out: list[list[str]] = []
        for chunk_start in range(0, len(stories), 500):
            chunk = stories[chunk_start : chunk_start + 500]
            by_id = {a.id: a for a in store.articles([i for s in chunk for i in s.article_ids])}
            for story in chunk:
                members = [by_id[i] for i in story.article_ids if i in by_id]
                members = [a for a in members if a.published < day_end]
                if members and max(a.published for a in members) >= window_start:
                    out.append([a.text for a in members])
    finally:
        store.close()
    return out


def lexrank_floor(
    config_path: Path, date: dt.date, budget: float, seed: int, scope: str
) -> dict[str, Any]:
    """sumy's LexRank over each story of the edition (the union of its articles' texts).

    sumy fills an n-by-n sentence matrix in Python, so a story of a few thousand sentences takes
    minutes. Stories are taken in a random order until ``budget`` seconds are spent; the rest is
    extrapolated by a cost model (sentences squared, estimated from word counts), and the result
    says so.
    """
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.utils import get_stop_words

    from briefs.config import load_config
    from briefs.text import Tokenizer

    sentences = load_config(config_path).summary.sentences
    stories = edition_stories(config_path, date, scope)
    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = Tokenizer()

    def cost(texts: list[str]) -> float:
        n = sum(len(t.split()) for t in texts) / 22.0  # sentences, about
        return n * n + 50.0 * n

    order = list(range(len(stories)))
    random.Random(seed).shuffle(order)
    done_cost = 0.0
    done = 0
    spent = 0.0
    for i in order:
        texts = stories[i]
        start = time.perf_counter()
        parser = PlaintextParser.from_string("\n\n".join(texts), tokenizer)
        summarizer(parser.document, sentences)
        spent += time.perf_counter() - start
        done_cost += cost(texts)
        done += 1
        if spent >= budget:
            break
    total_cost = sum(cost(s) for s in stories)
    estimated = done < len(stories)
    seconds = spent * (total_cost / done_cost) if estimated and done_cost else spent
    return {
        "seconds": seconds,
        "measured_seconds": spent,
        "stories": len(stories),
        "stories_measured": done,
        "articles": sum(len(s) for s in stories),
        "estimated": estimated,
        "scope": scope,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: one floor per call, JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="floor", required=True)
    fp = sub.add_parser("feedparser")
    fp.add_argument("folder", type=Path)
    fp.add_argument("--no-sanitize", action="store_true")
    ffp = sub.add_parser("fastfeedparser")
    ffp.add_argument("folder", type=Path)
    lx = sub.add_parser("lexrank")
    lx.add_argument("config", type=Path)
    lx.add_argument("date", type=dt.date.fromisoformat)
    lx.add_argument("--budget", type=float, default=120.0)
    lx.add_argument("--seed", type=int, default=8)
    lx.add_argument("--scope", choices=("edition", "candidates"), default="edition")
    tr = sub.add_parser("trafilatura")
    tr.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.floor == "feedparser":
        result = feedparser_floor(args.folder, sanitize=not args.no_sanitize)
    elif args.floor == "fastfeedparser":
        result = fastfeedparser_floor(args.folder)
    elif args.floor == "lexrank":
        result = lexrank_floor(args.config, args.date, args.budget, args.seed, args.scope)
    else:
        result = trafilatura_floor(args.folder)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
