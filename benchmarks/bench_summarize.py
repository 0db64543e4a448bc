"""Summarizer speed and memory against sumy's own LexRank, on the same text, in the same run.

Two workloads are built from ../shared/data/bbc-news-summary/dev.jsonl at run time (the text
is third-party and never copied into the project):

* one big story: the 20 longest articles of one BBC category (about 700 sentences);
* a day's brief: 40 stories of 1 to 6 articles each (consecutive articles of a category).

For each, it times (CPU time, best of ``--repeat`` runs, caches cleared before each) and
measures the peak memory allocated (tracemalloc):

* the whole stage, ``summarize_story`` (split, clean, tokenize, score, select), against sumy's
  ``LexRankSummarizer`` on a document of the same articles (sumy's plain-text parser with
  briefs' offline tokenizer, sumy's stemmer and stop words: parse plus summarize);
* the whole stage again with the stem cache warm (a running process has stemmed most words
  of the language already; new texts still pay for splitting, cleaning and tokenizing);
* the ranking alone, from the same words: sumy's LexRank (which stems and builds its matrix)
  against briefs' vectorized LexRank (stemming included, stem cache cold).

Run:  PYTHONPATH=. python benchmarks/bench_summarize.py [--repeat 3] [--methods] [--data FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sumy.nlp.stemmers import Stemmer  # noqa: E402
from sumy.parsers.plaintext import PlaintextParser  # noqa: E402
from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: E402
from sumy.summarizers.text_rank import TextRankSummarizer  # noqa: E402

from briefs import text as text_module  # noqa: E402
from briefs.config import SUMMARY_METHODS, SummarySettings  # noqa: E402
from briefs.models import Article, Story  # noqa: E402
from briefs.summarize import score as score_module  # noqa: E402
from briefs.summarize import summarize_story  # noqa: E402
from briefs.summarize.graph import lexrank  # noqa: E402
from briefs.summarize.score import STOP_WORDS, SumyTokenizer  # noqa: E402
from briefs.text import split_sentences  # noqa: E402

# ../shared beside the project; $BRIEFS_SHARED points elsewhere (e.g. from a git worktree).
SHARED = Path(os.environ.get("BRIEFS_SHARED") or ROOT.parent / "shared")
DATA = SHARED / "data" / "bbc-news-summary" / "dev.jsonl"
T0 = dt.datetime(2024, 4, 6, tzinfo=dt.UTC)
Workload = list[tuple[Story, list[Article]]]


def _article(row: dict[str, Any], n: int) -> Article:
    return Article(
        id=row["id"],
        source_id=f"outlet-{n % 7}",
        url=f"https://example.org/{row['id']}",
        title=row["title"],
        published=T0,
        fetched=T0,
        outlet=f"Outlet {n % 7}",
        body="\n\n".join(row["paragraphs"]),
        body_origin="extracted",
    )


def _story(ident: str, articles: list[Article]) -> tuple[Story, list[Article]]:
    return Story(ident, tuple(a.id for a in articles), T0, T0, articles[0].title), articles


def build_workloads(path: Path) -> tuple[Workload, Workload]:
    """The big story and the day's 40 stories."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    politics = [r for r in rows if r["category"] == "politics"]
    longest = sorted(politics, key=lambda r: -len(split_sentences(r["text"])))[:20]
    big = [_story("big", [_article(r, i) for i, r in enumerate(longest)])]
    day: Workload = []
    sizes = [1, 2, 3, 4, 5, 6, 2, 3]
    by_category: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_category.setdefault(row["category"], []).append(row)
    pools = list(by_category.values())
    i = 0
    while len(day) < 40:
        pool = pools[len(day) % len(pools)]
        size = sizes[len(day) % len(sizes)]
        members = pool[i : i + size]
        day.append(_story(f"day-{len(day)}", [_article(r, j) for j, r in enumerate(members)]))
        if len(day) % len(pools) == 0:
            i += size
    return big, day


def _cold(keep_stems: bool = False) -> None:
    text_module._split_paragraph.cache_clear()
    score_module._words.cache_clear()
    if not keep_stems:
        text_module.stem.cache_clear()
    gc.collect()


def measure(
    func: Callable[[], object], repeat: int, keep_stems: bool = False
) -> tuple[float, float]:
    """Best CPU time (s) over ``repeat`` cold runs, and peak traced memory (MB) of one run.

    CPU time of this process, not wall time: on a shared machine other jobs stretch wall
    time by a factor that changes from run to run.
    """
    best = float("inf")
    for _ in range(repeat):
        _cold(keep_stems)
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    _cold()
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / 1e6


def ours(workload: Workload, method: str) -> Callable[[], object]:
    """The whole stage: split, clean, tokenize, score, select, headline."""
    settings = SummarySettings(method=method)
    return lambda: [summarize_story(story, arts, settings) for story, arts in workload]


def _documents(workload: Workload) -> list[Any]:
    return [
        PlaintextParser.from_string("\n\n".join(a.body for a in arts), SumyTokenizer()).document
        for _, arts in workload
    ]


def sumy(workload: Workload, cls: type[Any] = LexRankSummarizer) -> Callable[[], object]:
    """sumy's plain-text parser and summarizer, as a sumy user runs them."""

    def run() -> list[object]:
        out = []
        for document in _documents(workload):
            summarizer = cls(Stemmer("english"))
            summarizer.stop_words = STOP_WORDS
            out.append(summarizer(document, 3))
        return out

    return run


def sumy_ranking(workload: Workload) -> Callable[[], object]:
    """sumy's LexRank on documents already split into words (its stemming, matrix, power)."""
    documents = _documents(workload)
    for document in documents:
        for sentence in document.sentences:
            _ = sentence.words  # cached on the sentence: tokenizing is not timed

    def run() -> list[object]:
        out = []
        for document in documents:
            summarizer = LexRankSummarizer(Stemmer("english"))
            summarizer.stop_words = STOP_WORDS
            out.append(summarizer(document, 3))
        return out

    return run


def ours_ranking(workload: Workload) -> Callable[[], object]:
    """The same from the same words: lower-case, stop words, stem (cold cache), LexRank."""
    words = [[s.words for s in d.sentences] for d in _documents(workload)]

    def run() -> list[object]:
        out = []
        for document in words:
            terms = [
                tuple(
                    score_module._stem(w)
                    for w in (x.lower() for x in sentence)
                    if w not in STOP_WORDS
                )
                for sentence in document
            ]
            out.append(lexrank(terms))
        return out

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", action="store_true", help="also time every method")
    parser.add_argument("--data", type=Path, default=DATA, help="bbc-news-summary dev.jsonl")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"{args.data} is not present (pass --data)")
    big, day = build_workloads(args.data)
    for name, workload in (("20-article story", big), ("40-story day", day)):
        n_articles = sum(len(a) for _, a in workload)
        n_sentences = sum(len(split_sentences(x.body)) for _, a in workload for x in a)
        print(f"\n{name}: {len(workload)} stories, {n_articles} articles, {n_sentences} sentences")
        base_t, base_m = measure(sumy(workload), args.repeat)
        print(f"  sumy LexRank, parse + summarize     {base_t:8.3f} s  peak {base_m:7.1f} MB")
        methods = SUMMARY_METHODS if args.methods else ("textrank", "lexrank")
        for method in methods:
            t, m = measure(ours(workload, method), args.repeat)
            print(
                f"  briefs {method:<9} whole stage        {t:8.3f} s  peak {m:7.1f} MB"
                f"  {base_t / t:6.1f}x sumy LexRank"
            )
        t, _ = measure(ours(workload, "textrank"), args.repeat, keep_stems=True)
        print(
            f"  briefs textrank  stems cached         {t:8.3f} s"
            f"                {base_t / t:6.1f}x sumy LexRank"
        )
        rank_t, rank_m = measure(sumy_ranking(workload), args.repeat)
        print(f"  sumy LexRank, from words            {rank_t:8.3f} s  peak {rank_m:7.1f} MB")
        t, m = measure(ours_ranking(workload), args.repeat)
        print(
            f"  briefs LexRank, from words          {t:8.3f} s  peak {m:7.1f} MB"
            f"  {rank_t / t:6.1f}x"
        )
        if args.methods:
            tr_t, tr_m = measure(sumy(workload, TextRankSummarizer), 1)
            print(f"  sumy TextRank, parse + summarize    {tr_t:8.3f} s  peak {tr_m:7.1f} MB")


if __name__ == "__main__":
    main()
