"""Grouping at scale: N articles over 7 days through briefs.group.group_articles.

Articles are built at run time from the texts in ../shared/data (BBC News, MMDS, the feed
snapshots; nothing is copied into the project). Each synthetic story takes a real article as a
template and makes it a new event: capitalized words and numbers are replaced by names and
numbers of its own, and 40% of the other words by words drawn from the pooled vocabulary; each
report of the story rewords that again (15% of words, shuffled sentences). Stories have 1-8
reports (geometric, mean about 2.5) spread over up to a day; story starts are uniform over 7
days. Every article has a title, a teaser (its first two sentences) and a body (realistic
lengths: the template's).

The whole stream goes through one ``group_articles`` call (it works in time-ordered rounds),
with the default settings (72-hour window). Each size runs in a fresh process so that peak
memory (max RSS) is its own.

    PYTHONPATH=. python benchmarks/bench_group.py            # 5,000 and 50,000, ratio
    BRIEFS_SHARED=/path/to/shared PYTHONPATH=. python benchmarks/bench_group.py
    PYTHONPATH=. python benchmarks/bench_group.py --sizes 2000
    PYTHONPATH=. python benchmarks/bench_group.py --semantic --recluster

``--semantic`` gives every article a random unit vector as its embedding (seeded): the cost of
grouping's semantic path (nearest neighbours, calibrated similarities), not its quality, and
not the cost of embedding (``--embed-rate`` measures that: titles per second of the real model
in this process, one thread). ``--recluster`` turns on the window re-clustering.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BRIEFS_SHARED") or ROOT.parent / "shared") / "data"
DAYS = 7
_WORD = re.compile(r"\S+")


def _templates() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    bbc = DATA / "bbc-news-summary" / "dev.jsonl"
    mmds = DATA / "mmds2025-news-clustering" / "dev.jsonl"
    for path in (bbc, mmds):
        if not path.is_file():
            sys.exit(f"missing {path} (the shared data lives beside the project)")
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("lang_guess", "en") == "en" and row.get("title") and row.get("text"):
                out.append((row["title"], row["text"]))
    return out


def _rewrite(
    words: list[str], rate: float, names: dict[str, str], vocab: list[str], rng: random.Random
) -> list[str]:
    out = []
    for w in words:
        core = w.strip(".,;:!?\"'()")
        if core and (core[0].isupper() or core[0].isdigit()):
            new = names.setdefault(
                core, _name(rng) if core[0].isupper() else str(rng.randint(2, 99999))
            )
            out.append(w.replace(core, new))
        elif core and rng.random() < rate:
            out.append(w.replace(core, rng.choice(vocab)))
        else:
            out.append(w)
    return out


def _name(rng: random.Random) -> str:
    syllables = ("ka", "lo", "ren", "vi", "tor", "sa", "mel", "dun", "ar", "qui", "bel", "os")
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()


def build(n: int, seed: int = 7) -> list[object]:
    """``n`` articles over 7 days (briefs.models.Article), in no particular order."""
    from briefs.models import Article

    rng = random.Random(seed)
    templates = _templates()
    vocab = [w.lower() for _, text in templates[:400] for w in _WORD.findall(text) if w.isalpha()]
    start = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    articles: list[Article] = []
    story = 0
    while len(articles) < n:
        story += 1
        title, text = rng.choice(templates)
        names: dict[str, str] = {}
        base_title = _rewrite(title.split(), 0.4, names, vocab, rng)
        base_text = _rewrite(text.split(), 0.4, names, vocab, rng)
        t0 = start + dt.timedelta(seconds=rng.uniform(0, DAYS * 86400))
        size = min(1 + int(rng.expovariate(1 / 1.5)), 8)
        for k in range(size):
            if len(articles) >= n:
                break
            words = _rewrite(base_text, 0.15, names, vocab, rng)
            sentences = re.split(r"(?<=[.!?])\s+", " ".join(words))
            head, rest = sentences[:2], sentences[2:]
            rng.shuffle(rest)
            body = " ".join(head + rest)
            published = t0 + dt.timedelta(seconds=rng.uniform(0, 86400) if k else 0)
            aid = f"s{story}r{k}"
            articles.append(
                Article(
                    id=aid,
                    source_id=f"src{rng.randint(1, 60)}",
                    url=f"https://bench.example/{aid}",
                    title=" ".join(_rewrite(base_title, 0.15, names, vocab, rng)),
                    published=published,
                    fetched=published,
                    outlet="bench",
                    summary=" ".join(head),
                    body=body,
                    body_origin="feed",
                )
            )
    return articles  # type: ignore[return-value]


def measure(
    n: int, semantic: bool = False, recluster: bool = False, consensus: int = 0
) -> dict[str, float]:
    """Build n articles, group them, return seconds, peak RSS and story count."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from briefs.config import GroupSettings
    from briefs.group import group_articles

    articles = build(n)
    embeddings = None
    if semantic:
        rows = np.random.default_rng(7).standard_normal((n, 384)).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        embeddings = {a.id: rows[i] for i, a in enumerate(articles)}
    settings = GroupSettings(recluster=recluster, consensus_orders=consensus)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t, cpu = time.perf_counter(), time.process_time()
    stories = group_articles(articles, [], {}, settings, embeddings)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = [len(s.article_ids) for s in stories]
    return {
        "articles": n,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "articles_per_cpu_second": round(n / cpu),
        "peak_rss_mb": round(peak),
        "rss_before_grouping_mb": round(rss_before),
        "stories": len(stories),
        "largest_story": max(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 50000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--semantic", action="store_true")
    parser.add_argument("--recluster", action="store_true")
    parser.add_argument("--consensus", type=int, default=0, metavar="N", help="consensus_orders")
    parser.add_argument("--embed-rate", type=int, metavar="N", help="embed N titles, print rate")
    args = parser.parse_args()
    flags = [f for f, on in (("--semantic", args.semantic), ("--recluster", args.recluster)) if on]
    flags += ["--consensus", str(args.consensus)]
    if args.embed_rate:
        sys.path.insert(0, str(ROOT))
        from briefs.embed import load_embedder

        model = load_embedder()
        if model is None:
            sys.exit("no embedding model installed")
        titles = [a.title for a in build(args.embed_rate)]
        t, cpu = time.perf_counter(), time.process_time()
        model.embed(titles)
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(
            json.dumps(
                {
                    "titles": len(titles),
                    "seconds": round(seconds, 2),
                    "titles_per_second": round(len(titles) / seconds, 1),
                    "titles_per_cpu_second": round(len(titles) / cpu, 1),
                }
            )
        )
        return
    if args.one:
        print(json.dumps(measure(args.one, args.semantic, args.recluster, args.consensus)))
        return
    results = []
    for n in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(n), *flags], capture_output=True, text=True
        )
        if done.returncode:
            sys.exit(f"size {n} failed:\n{done.stderr}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    if len(results) >= 2:
        small, big = results[0], results[-1]
        ratio = big["seconds"] / small["seconds"]
        cpu_ratio = big["cpu_seconds"] / small["cpu_seconds"]
        print(
            f"time ratio {big['articles']}/{small['articles']}: wall {ratio:.1f}, "
            f"CPU {cpu_ratio:.1f} (linear would be {big['articles'] / small['articles']:.0f})"
        )


if __name__ == "__main__":
    main()
