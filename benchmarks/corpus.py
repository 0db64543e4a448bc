"""A benchmark corpus: N articles over M feeds across D days, built from ../shared/data at run time.

Nothing here holds third-party text: the generator reads the shared data sets when it runs and
writes the feeds into a temporary folder.

The model of a news day:

* **Events.** Every event starts from one real article (BBC News Summary, and the English MMDS
  articles). An event is covered by k outlets, k drawn from a truncated Zipf law (P(k) ~ 1/k^2,
  1 <= k <= max(2, M / 10)): most events have one report, a few are everywhere.
* **Versions.** The first report is the original text; every other outlet prints either a verbatim
  syndicated copy (same headline and body under its own URL) or a light rewrite: another headline
  form, sentences dropped, paragraphs reordered, the story truncated, a dateline added. No word is
  replaced by a synonym: every sentence an outlet prints is a sentence of the original.
* **Full articles.** The feeds carry full content, so every article is a full article: texts
  under ``MIN_WORDS`` words are left out and a rewrite never cuts below it. (A product that
  fetches the page of a teaser-length item would otherwise fetch pages in a benchmark whose
  premise is that there are none to fetch.)
* **More events than texts.** The real texts number about 1,300; a 50k-article day has about
  14,000 events. Events past the first pass over the texts use a *shard* of them: the same text
  with every content word (not a stop word, number or 1-2 letter word) replaced by a pseudo-word
  chosen per shard. Lengths, sentence structure, word frequencies and the overlap between the
  versions of an event are kept, and events of different shards share only function words, so
  they are different stories to any grouping method.
* **Feeds.** Outlets have lognormal sizes (a few wires publish far more than a local paper); each
  feed is an RSS 2.0 document carrying its articles with full text in ``content:encoded`` (HTML
  paragraphs) and a one-sentence ``description``, newest first.

For the extraction benchmark, :func:`build_teaser_site` makes teaser-only feeds (title and a short
description, no content) whose links point at real news pages (the article-extraction-benchmark
pages, repeated under distinct URLs to reach the requested count).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import html
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Article",
    "BaseText",
    "Corpus",
    "Site",
    "build_corpus",
    "build_teaser_site",
    "find_data_dir",
    "load_texts",
]

SECTIONS = ("world", "business", "politics", "tech", "sport", "entertainment")
CATEGORY_SECTION = {
    "business": "business",
    "entertainment": "entertainment",
    "politics": "politics",
    "sport": "sport",
    "tech": "tech",
}
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=[\"“‘(]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Every article of a full-content feed is a full article: texts shorter than this are left out
# and rewrites never cut below it, so no article looks like a teaser whose page must be fetched.
MIN_WORDS = 150


# -- source texts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaseText:
    """One real article: a headline and paragraphs (each a list of sentences)."""

    key: str
    title: str
    paragraphs: tuple[tuple[str, ...], ...]
    category: str


def find_data_dir(explicit: str | Path | None = None) -> Path:
    """The shared data folder: ``explicit``, else ``$BRIEFS_SHARED/data``, else the nearest
    ``shared/data`` above the project."""
    if not explicit and os.environ.get("BRIEFS_SHARED"):
        explicit = Path(os.environ["BRIEFS_SHARED"]) / "data"
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not path.is_dir():
            raise SystemExit(f"data folder not found: {path}")
        return path
    here = Path(__file__).resolve().parent
    for parent in here.parents:
        candidate = parent / "shared" / "data"
        if (candidate / "bbc-news-summary").is_dir():
            return candidate
    raise SystemExit("no shared/data folder above the project: pass --data DIR")


def _sentences(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in _SENTENCE_END.split(text) if s.strip())


def load_texts(data_dir: Path) -> list[BaseText]:
    """The real articles the corpus is made of (BBC News Summary dev, MMDS dev in English)."""
    texts: list[BaseText] = []
    bbc = data_dir / "bbc-news-summary" / "dev.jsonl"
    with bbc.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            paragraphs = tuple(sents for p in row["paragraphs"] if (sents := _sentences(_clean(p))))
            if row["title"].strip() and _words(paragraphs) >= MIN_WORDS:
                texts.append(
                    BaseText(f"bbc:{row['id']}", _clean(row["title"]), paragraphs, row["category"])
                )
    mmds = data_dir / "mmds2025-news-clustering" / "dev.jsonl"
    if mmds.is_file():
        with mmds.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row.get("lang_guess") != "en":
                    continue
                raw = [_clean(s["text"]) for s in row.get("sentences") or [] if s.get("text")]
                kept = [s for s in raw if s]
                # MMDS keeps sentences, not paragraphs: news paragraphs run two or three sentences.
                paragraphs = tuple(tuple(kept[i : i + 3]) for i in range(0, len(kept), 3))
                if row["title"].strip() and _words(paragraphs) >= MIN_WORDS:
                    texts.append(
                        BaseText(f"mmds:{row['id']}", _clean(row["title"]), paragraphs, "world")
                    )
    if not texts:
        raise SystemExit(f"no articles found under {data_dir}")
    return texts


def _clean(text: str) -> str:
    return " ".join(_XML_BAD.sub("", text).split())


# -- shards: the same texts with other content words ------------------------------------------


class _Shard:
    """A consistent replacement of content words by pseudo-words (shard 0 is the real text)."""

    _CONSONANTS = "bcdfghjklmnprstvwz"
    _VOWELS = "aeiou"

    def __init__(self, number: int, stop_words: frozenset[str]) -> None:
        self.number = number
        self.stop = stop_words
        self.cache: dict[str, str] = {}

    def word(self, lower: str) -> str:
        found = self.cache.get(lower)
        if found is None:
            digest = hashlib.blake2b(f"{self.number}:{lower}".encode(), digest_size=16).digest()
            out: list[str] = []
            i = 0
            while len("".join(out)) < max(len(lower), 3):
                out.append(
                    self._CONSONANTS[digest[i % 16] % 18] + self._VOWELS[digest[(i + 7) % 16] % 5]
                )
                i += 1
            found = "".join(out)[: max(len(lower), 3)]
            self.cache[lower] = found
        return found

    def _sub(self, match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if len(lower) <= 2 or lower in self.stop or lower.split("'")[0] in self.stop:
            return word
        new = self.word(lower)
        if word.isupper() and len(word) > 1:
            return new.upper()
        if word[0].isupper():
            return new.capitalize()
        return new

    def text(self, text: str) -> str:
        return text if self.number == 0 else _WORD.sub(self._sub, text)

    def apply(self, base: BaseText) -> BaseText:
        if self.number == 0:
            return base
        return BaseText(
            f"{base.key}#{self.number}",
            self.text(base.title),
            tuple(tuple(self.text(s) for s in p) for p in base.paragraphs),
            base.category,
        )


def _stop_words() -> frozenset[str]:
    from sumy.utils import get_stop_words

    return frozenset(get_stop_words("english"))


# -- the corpus -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Article:
    """One item of one feed."""

    feed: int
    event: int
    title: str
    paragraphs: tuple[str, ...]
    published: dt.datetime
    url: str
    author: str
    category: str
    kind: str  # "original", "copy" or "rewrite"


@dataclass(frozen=True, slots=True)
class FeedDoc:
    """One served feed document."""

    index: int
    source_id: str
    title: str
    tag: str
    path: str  # URL path on the server, e.g. /f/0007.xml
    base_url: str
    data: bytes
    last_modified: dt.datetime
    items: int

    @property
    def url(self) -> str:
        """The feed's absolute URL."""
        return self.base_url + self.path


@dataclass
class Corpus:
    """What was generated, and the facts the harness reports."""

    feeds: list[FeedDoc]
    articles: int
    events: int
    shards: int
    texts: int
    start: dt.datetime
    end: dt.datetime
    kinds: dict[str, int] = field(default_factory=dict)
    coverage_max: int = 0

    @property
    def edition_date(self) -> dt.date:
        """The day the benchmark builds: the last day of the corpus (UTC)."""
        return (self.end - dt.timedelta(seconds=1)).date()

    @property
    def feed_bytes(self) -> int:
        """Total size of the feed documents."""
        return sum(len(f.data) for f in self.feeds)


def _coverage(rng: np.random.Generator, kmax: int) -> Iterator[int]:
    ks = np.arange(1, kmax + 1)
    p = 1.0 / ks**2
    p /= p.sum()
    while True:
        yield from (int(k) for k in rng.choice(ks, size=4096, p=p))


_PLACES = (
    "Northfield", "Harbour", "Eastvale", "Kingsbridge", "Lakeside", "Westmoor", "Riverton",
    "Ashford", "Bellhaven", "Cedar", "Dunmore", "Fairport", "Glenrock", "Highgate", "Ironwood",
    "Juniper", "Larkspur", "Millbrook", "Newhaven", "Oakridge", "Pinecrest", "Queensway",
    "Redcliff", "Stonebridge", "Thornbury", "Upton", "Valemont", "Whitby", "Yarrow", "Zephyr",
)  # fmt: skip
_PAPERS = (
    "Courier", "Herald", "Gazette", "Times", "Post", "Chronicle", "Observer", "Ledger", "Wire",
    "Dispatch", "Tribune", "Sentinel", "Express", "Journal", "Record", "News", "Standard",
)  # fmt: skip


def _outlet_name(i: int) -> str:
    place = _PLACES[i % len(_PLACES)]
    paper = _PAPERS[(i // len(_PLACES)) % len(_PAPERS)]
    cycle = i // (len(_PLACES) * len(_PAPERS))
    return f"The {place} {paper}" + (f" {cycle + 1}" if cycle else "")


def _headline(title: str, form: int, outlet: str, category: str) -> str:
    if form == 1:
        small = {"a", "an", "the", "of", "in", "on", "to", "for", "and", "at", "by", "as"}
        words = title.split()
        return " ".join(
            w if (j and w.lower() in small) or not w[:1].islower() else w[:1].upper() + w[1:]
            for j, w in enumerate(words)
        )
    if form == 2:
        return f"{category.capitalize()}: {title}"
    if form == 3:
        return f"{title} | {outlet}"
    if form == 4:
        words = title.split()
        return " ".join(words[: max(3, len(words) * 2 // 3)]) + "…" if len(words) > 5 else title
    return title


def _rewrite(text: BaseText, rng: np.random.Generator, outlet: str) -> tuple[str, tuple[str, ...]]:
    """A light rewrite: another headline form, dropped sentences, reordering, truncation."""
    title = _headline(text.title, int(rng.integers(0, 5)), outlet, text.category)
    paragraphs = [list(p) for p in text.paragraphs]
    # The lead paragraph is kept whole (it is what every outlet keeps); later sentences drop out.
    for p in paragraphs[1:]:
        keep = [s for s in p if rng.random() > 0.15]
        p[:] = keep
    paragraphs = [p for p in paragraphs if p]
    if len(paragraphs) > 3 and rng.random() < 0.3:
        i, j = sorted(rng.choice(np.arange(1, len(paragraphs)), size=2, replace=False))
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
    if len(paragraphs) > 2 and rng.random() < 0.25:
        cut = max(2, int(len(paragraphs) * rng.uniform(0.4, 0.7)))
        # a truncated story is still a full article, never a teaser-length stub
        while cut < len(paragraphs) and _words(paragraphs[:cut]) < MIN_WORDS:
            cut += 1
        paragraphs = paragraphs[:cut]
    if _words(paragraphs) < MIN_WORDS:
        paragraphs = [list(p) for p in text.paragraphs]  # too much dropped: print it whole
    out = [" ".join(p) for p in paragraphs]
    if out and rng.random() < 0.3:
        out[0] = f"({outlet}) — {out[0]}"
    return title, tuple(out)


def _words(paragraphs: Sequence[Sequence[str]]) -> int:
    return sum(len(s.split()) for p in paragraphs for s in p)


def build_corpus(
    n_articles: int,
    n_feeds: int,
    *,
    days: int,
    texts: Sequence[BaseText],
    base_urls: Sequence[str],
    seed: int = 8,
    end: dt.datetime | None = None,
) -> Corpus:
    """``n_articles`` over ``n_feeds`` feeds, spread over the ``days`` days before ``end``."""
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2025, 3, 12, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    span = (end - start).total_seconds()
    stop = _stop_words()
    weights = rng.lognormal(0.0, 0.8, size=n_feeds)
    weights /= weights.sum()
    names = [_outlet_name(i) for i in range(n_feeds)]
    tags = [SECTIONS[int(rng.integers(0, len(SECTIONS)))] for _ in range(n_feeds)]
    kmax = max(2, min(n_feeds, n_feeds // 10))
    order = rng.permutation(len(texts))
    shards: dict[int, _Shard] = {}
    per_feed: list[list[Article]] = [[] for _ in range(n_feeds)]
    kinds = {"original": 0, "copy": 0, "rewrite": 0}
    coverage = _coverage(rng, kmax)
    made = 0
    event = 0
    biggest = 0
    while made < n_articles:
        k = min(next(coverage), n_articles - made)
        shard_no, pos = divmod(event, len(texts))
        shard = shards.setdefault(shard_no, _Shard(shard_no, stop))
        base = shard.apply(texts[int(order[pos])])
        outlets = rng.choice(n_feeds, size=k, replace=False, p=weights)
        t0 = start + dt.timedelta(seconds=float(rng.uniform(0, span * 0.97)))
        for j, feed in enumerate(outlets):
            feed = int(feed)
            if j == 0:
                title, paragraphs, kind, when = base.title, _flat(base), "original", t0
            else:
                delay = dt.timedelta(hours=float(rng.exponential(3.0)))
                when = min(t0 + delay, end - dt.timedelta(seconds=1))
                if rng.random() < 0.2:
                    title, paragraphs, kind = base.title, _flat(base), "copy"
                else:
                    title, paragraphs = _rewrite(base, rng, names[feed])
                    kind = "rewrite"
            kinds[kind] += 1
            host = base_urls[feed % len(base_urls)]
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower())[:60].strip("-") or "story"
            per_feed[feed].append(
                Article(
                    feed=feed,
                    event=event,
                    title=title,
                    paragraphs=paragraphs,
                    published=when.replace(microsecond=0),
                    url=f"{host}/a/{feed:04d}/{event:06d}-{slug}.html",
                    author=f"{names[feed].removeprefix('The ')} staff",
                    category=base.category,
                    kind=kind,
                )
            )
        biggest = max(biggest, k)
        made += k
        event += 1
    feeds = [
        _feed_doc(i, names[i], tags[i], base_urls[i % len(base_urls)], per_feed[i], end)
        for i in range(n_feeds)
    ]
    return Corpus(
        feeds=feeds,
        articles=made,
        events=event,
        shards=len(shards),
        texts=len(texts),
        start=start,
        end=end,
        kinds=kinds,
        coverage_max=biggest,
    )


def _flat(text: BaseText) -> tuple[str, ...]:
    return tuple(" ".join(p) for p in text.paragraphs)


def _cdata(markup: str) -> str:
    return "<![CDATA[" + markup.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _rfc822(when: dt.datetime) -> str:
    return email.utils.format_datetime(when, usegmt=True)


def _feed_doc(
    index: int, name: str, tag: str, base_url: str, items: list[Article], end: dt.datetime
) -> FeedDoc:
    items.sort(key=lambda a: a.published, reverse=True)
    built = items[0].published if items else end - dt.timedelta(days=1)
    link = f"{base_url}/f/{index:04d}/"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
        f"<title>{html.escape(name)}</title>\n<link>{link}</link>\n",
        f"<description>Latest stories from {html.escape(name)}</description>\n",
        f'<atom:link href="{base_url}/f/{index:04d}.xml" rel="self" type="application/rss+xml"/>\n',
        f"<language>en</language>\n<lastBuildDate>{_rfc822(built)}</lastBuildDate>\n",
        "<ttl>30</ttl>\n",
    ]
    for a in items:
        lead = a.paragraphs[0] if a.paragraphs else a.title
        description = " ".join(_sentences(lead)[:1]) or lead
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>\n" for p in a.paragraphs)
        out.append(
            "<item>\n"
            f"<title>{html.escape(a.title, quote=False)}</title>\n"
            f"<link>{a.url}</link>\n"
            f'<guid isPermaLink="true">{a.url}</guid>\n'
            f"<pubDate>{_rfc822(a.published)}</pubDate>\n"
            f"<dc:creator>{html.escape(a.author, quote=False)}</dc:creator>\n"
            f"<category>{html.escape(a.category, quote=False)}</category>\n"
            f"<description>{html.escape(description, quote=False)}</description>\n"
            f"<content:encoded>{_cdata(body)}</content:encoded>\n"
            "</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return FeedDoc(
        index=index,
        source_id=f"feed-{index:04d}",
        title=name,
        tag=tag,
        path=f"/f/{index:04d}.xml",
        base_url=base_url,
        data="".join(out).encode("utf-8"),
        last_modified=built,
        items=len(items),
    )


# -- the extraction site: teaser feeds and real article pages --------------------------------


@dataclass
class Site:
    """Teaser feeds and the article pages they link to."""

    feeds: list[FeedDoc]
    pages: dict[str, bytes]  # URL path -> HTML bytes
    page_urls: list[str]  # absolute URLs, in feed order

    @property
    def page_bytes(self) -> int:
        """Total size of the pages."""
        return sum(len(p) for p in self.pages.values())


def build_teaser_site(
    n_pages: int,
    n_feeds: int,
    *,
    data_dir: Path,
    base_urls: Sequence[str],
    end: dt.datetime,
) -> Site:
    """Teaser-only RSS feeds whose items link to real news pages served by the benchmark server."""
    bench = data_dir / "article-extraction-benchmark"
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    sources: list[tuple[str, bytes, str]] = []
    for page in sorted((bench / "html").glob("*.html.gz")):
        pid = page.name.removesuffix(".html.gz")
        body = str(truth.get(pid, {}).get("articleBody") or "")
        sources.append((pid, gzip.decompress(page.read_bytes()), body))
    if not sources:
        raise SystemExit(f"no pages under {bench / 'html'}")
    pages: dict[str, bytes] = {}
    per_feed: list[list[Article]] = [[] for _ in range(n_feeds)]
    urls: list[str] = []
    for i in range(n_pages):
        pid, markup, body = sources[i % len(sources)]
        feed = i % n_feeds
        base = base_urls[feed % len(base_urls)]
        path = f"/p/{i:05d}-{pid[:12]}.html"
        pages[path] = markup
        words = body.split()
        teaser = " ".join(words[:30]) + ("…" if len(words) > 30 else "")
        title = " ".join(words[:10]) or f"Page {i}"
        when = end - dt.timedelta(minutes=7 * i + 1)
        per_feed[feed].append(
            Article(feed, i, title, (teaser,), when, base + path, "", "world", "teaser")
        )
        urls.append(base + path)
    feeds = [
        _teaser_doc(i, base_urls[i % len(base_urls)], items, end)
        for i, items in enumerate(per_feed)
    ]
    return Site(feeds, pages, urls)


def _teaser_doc(index: int, base_url: str, items: list[Article], end: dt.datetime) -> FeedDoc:
    items.sort(key=lambda a: a.published, reverse=True)
    built = items[0].published if items else end
    name = f"Teaser Outlet {index:03d}"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n',
        f"<title>{name}</title>\n<link>{base_url}/t/{index:03d}/</link>\n",
        f"<description>{name}</description>\n<lastBuildDate>{_rfc822(built)}</lastBuildDate>\n",
    ]
    for a in items:
        out.append(
            "<item>\n"
            f"<title>{html.escape(a.title, quote=False)}</title>\n"
            f"<link>{a.url}</link>\n<guid>{a.url}</guid>\n"
            f"<pubDate>{_rfc822(a.published)}</pubDate>\n"
            f"<description>{html.escape(a.paragraphs[0], quote=False)}</description>\n"
            "</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return FeedDoc(
        index=index,
        source_id=f"teaser-{index:03d}",
        title=name,
        tag="world",
        path=f"/t/{index:03d}.xml",
        base_url=base_url,
        data="".join(out).encode("utf-8"),
        last_modified=built,
        items=len(items),
    )


def zipf_mean(kmax: int) -> float:
    """Mean coverage of an event under the truncated 1/k^2 law (for the README's arithmetic)."""
    num = sum(1 / k for k in range(1, kmax + 1))
    den = sum(1 / k**2 for k in range(1, kmax + 1))
    return num / den if den else math.nan
