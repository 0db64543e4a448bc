"""Fixed Brief models for the render, feed and email tests.

``fixed_brief`` is a realistic edition built from invented text (deterministic: the same call
always gives the same model, so golden files can be compared byte for byte). ``hostile_brief``
carries everything a malicious feed could send: script tags, event-handler attributes,
``javascript:`` and ``data:`` links, CR/LF and other control characters, Markdown and CommonMark
syntax, XML-breaking characters.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from briefs.models import (
    Article,
    Brief,
    BriefStory,
    Edition,
    Sentence,
    Story,
    Summary,
    TimelineEntry,
)

NOW = dt.datetime(2024, 4, 6, 6, 30, tzinfo=dt.UTC)
EDITION = Edition(dt.date(2024, 4, 6))

OUTLETS = (
    "Harbour Herald",
    "Meridian Wire",
    "The Northgate Times",
    "The Civic Ledger",
    "Pacific Dispatch",
    "Lanternfield Gazette",
    "Saltmarsh Courier",
    "Tidewater Review",
)
PLACES = ("Calder Bay", "Northgate", "Point Sable", "Marrow Island", "Lanternfield", "Ashby")
SUBJECTS = (
    "the city council",
    "the regional transport authority",
    "a coalition of local businesses",
    "researchers at Tarrow University",
    "the harbour board",
    "emergency services",
)
VERBS = (
    "approved a plan to",
    "said it would",
    "announced that it had agreed to",
    "warned that it may have to",
    "voted on Friday to",
)
OBJECTS = (
    "rebuild the flood defences along the river before the autumn storms",
    "extend late-night ferry services to the islands for a trial period of six months",
    "publish the full findings of the review into last week's outage",
    "hire 40 more inspectors to clear a backlog of safety checks",
    "reopen the coastal road once engineers have finished their survey",
    "cut fares for students and pensioners from the start of next month",
)


def _pick(seq: tuple[str, ...], n: int) -> str:
    return seq[n % len(seq)]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(i: int, j: int) -> str:
    return (
        f"In {_pick(PLACES, i + j)}, {_pick(SUBJECTS, i * 3 + j)} {_pick(VERBS, i + 2 * j)} "
        f"{_pick(OBJECTS, i * 5 + j)}, according to a statement released on "
        f"{_pick(('Thursday', 'Friday', 'Saturday'), i + j)} evening."
    )


def _sid(i: int) -> str:
    return hashlib.sha1(f"story-{i}".encode()).hexdigest()[:16]


def story(i: int, outlets: int = 4, sentences: int = 3, section: str = "") -> BriefStory:
    """Story ``i`` of the fixed model (deterministic)."""
    t0 = NOW - dt.timedelta(hours=30 - i % 24)
    arts: list[Article] = []
    for k in range(outlets):
        outlet = _pick(OUTLETS, i + k)
        slug = f"{_pick(PLACES, i).lower().replace(' ', '-')}-story-{i}-report-{k}"
        host = outlet.lower().replace("the ", "").replace(" ", "")
        arts.append(
            Article(
                id=f"a{i}-{k}",
                source_id=host,
                url=f"https://{host}.example/2024/04/05/{slug}",
                title=f"{_pick(PLACES, i + k)}: {_cap(_pick(SUBJECTS, i + k))} acts",
                published=t0 + dt.timedelta(hours=k),
                fetched=NOW,
                outlet=outlet,
                image_url=f"https://{host}.example/img/{slug}.jpg" if k == 1 else None,
            )
        )
    sents = tuple(
        Sentence(_sentence(i, j), arts[j % outlets].id, arts[j % outlets].outlet,
                 arts[j % outlets].url, j)
        for j in range(sentences)
    )  # fmt: skip
    headline = f"{_pick(PLACES, i)}: {_cap(_pick(SUBJECTS, i))} {_pick(VERBS, i)} act"
    developing = i % 3 == 1
    # a developing story tells its earlier day in one sentence of that day's report
    timeline = (
        (TimelineEntry((t0 - dt.timedelta(days=1)).date(), Sentence(
            _sentence(i, sentences), arts[0].id, arts[0].outlet, arts[0].url, sentences
        )),) if developing else ()
    )  # fmt: skip
    return BriefStory(
        story=Story(_sid(i), tuple(a.id for a in arts), t0, arts[-1].published, headline),
        summary=Summary(
            _sid(i), headline, sents, tuple(dict.fromkeys(a.outlet for a in arts)), timeline
        ),
        articles=tuple(arts),
        status="developing" if developing else "new",
        day=2 if developing else 1,
        added=2 if developing else outlets,
        section=section,
    )


def fixed_brief(n: int = 6, *, sections: bool = True, failed: bool = True) -> Brief:
    """A realistic edition of ``n`` stories (the first two in "world", the rest in "tech")."""
    items = tuple(
        story(
            i,
            outlets=1 + (7 - i) % 6 if i < 8 else 2,
            section=("world" if i < 2 else "tech") if sections else "",
        )
        for i in range(n)
    )
    fails = (("Coastline Post", "HTTP 503 Service Unavailable"),) if failed else ()
    return Brief(EDITION, NOW, "The Test Brief", items, fails, "Europe/London")


EVIL = (
    "<script>alert('x')</script><img src=x onerror=alert(1)> "
    '[click](javascript:alert(1)) <a href="javascript:alert(2)">a</a> '
    "*bold* _it_ `code` # not a heading &amp; &lt;b&gt; ]]> \x0b\x1b"
)


def hostile_brief() -> Brief:
    """Every field a feed controls, made hostile."""
    bad_urls = (
        "javascript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "https://ok.example/a\r\nLocation: https://evil.example/",
        " JaVaScRiPt:alert(3)",
        "vbscript:msgbox(1)",
        'https://ok.example/"><script>alert(4)</script>',
    )
    items = []
    for i, url in enumerate(bad_urls):
        art = Article(
            id=f"evil{i}",
            source_id="evil",
            url=url,
            title=f"Title\r\nBcc: victim@evil.example {EVIL}",
            published=NOW - dt.timedelta(hours=i),
            fetched=NOW,
            outlet=f"Evil <b onmouseover=alert(1)>Outlet</b> {i}\n- [x](javascript:y)",
            image_url=url if i % 2 else "javascript:alert('img')",
            author="<script>alert('author')</script>",
        )
        sentence = Sentence(f"1. {EVIL} sentence {i}.", art.id, art.outlet, art.url)
        items.append(
            BriefStory(
                Story(f"evil-{i}", (art.id,), art.published, art.published, EVIL),
                Summary(f"evil-{i}", f"Head\r\nline {EVIL}", (sentence,), (art.outlet,)),
                (art,),
                section="<script>alert('section')</script>" if i % 2 else "",
            )
        )
    return Brief(
        Edition(dt.date(2024, 4, 6)),
        NOW,
        "Brief\r\nBcc: victim@evil.example <script>alert('t')</script>",
        tuple(items),
        failed_sources=(("<script>alert('src')</script>\r\n", f"error {EVIL}"),),
        timezone="UTC",
    )
