"""Story -> Summary: the few sentences sources printed that best tell the story, attributed.

1. Candidates: the sentences of every member article (full text, else feed text), skipping
   articles marked as duplicates and bodies already seen, cleaned (:mod:`.clean`).
2. Importance of a sentence = centrality x support x position prior:

   * centrality: the configured sumy method's score (:mod:`.score`), divided by the best
     score in the same article, so every outlet's account is on one scale (centrality over a
     union of articles otherwise favours the longest one);
   * support: how much of what the sentence says the rest of the story also says, summed over
     its distinct terms (for each term, the number of other sentences carrying it), divided by
     the story's best; content that several outlets carry is what the story is about;
   * position prior, by the sentence's place among its article's kept sentences (k = 0 is the
     lead). News is written lead first, and the share of a report's key facts in its k-th
     sentence falls roughly as 1/(k+1) (Zipf-like; the human salience scores of the MMDS data
     and the reference extracts of the BBC data both fall this way, towards a floor). With
     several articles, each article's lead is its own account of the event, centrality across
     the union of texts favours the longest one, and position is what compares them: the prior
     is 1/(k+1). A one-article story is summarized mostly by centrality within its one text,
     with a lead bonus of 1 + LEAD_BONUS/(k+1) (a quarter for the lead).
3. Selection: greedy by importance within the sentence and word budget (a sentence from an
   outlet already quoted counts 1 - OUTLET_PENALTY of its importance: a second outlet's
   account is preferred unless the first outlet's sentence is a third more important; a
   one-outlet story is unaffected), skipping a sentence
   whose tf-idf cosine to one already chosen reaches REDUNDANCY (it says the same thing; wire
   copy reprinted by two outlets is the extreme case) or that repeats one word for word;
   optionally with an MMR diversity term.
4. Order: document order for a one-article summary; order of importance otherwise.

A developing story (``since`` given: the previous edition's cut-off) is told as news: the first
sentences come from its new reports (published since then), chosen as above among them, where
a new sentence that says what an earlier report said (cosine at REDUNDANCY) is not news and
cannot lead (when the reader was told those earlier reports); what the new reports cannot fill
is context from any report. Its ``timeline`` tells the
earlier days, newest first, one sentence each (the most important of that day's reports not
already quoted), at most TIMELINE_DAYS days.

Headline: a member's title, chosen among the latest reports (the new ones, else the latest
day's): the one closest to what those reports' sentences say. A title that is the text's own
first sentence cut short (what a feed or document without a title gets from ingest), or that
ends in an ellipsis, is no title: then the report's first quotable sentence is the headline if
it has at most HEADLINE_WORDS words, else another member's title (latest first), else an
honest label, "From <outlet>: untitled report".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from briefs.config import SummarySettings
from briefs.models import Article, Sentence, Story, Summary, TimelineEntry
from briefs.summarize.candidates import (
    Candidate,
    candidates,
    distinct_articles,
    text_key,
    unit_tfidf,
)
from briefs.summarize.clean import clean_sentence, is_title
from briefs.summarize.graph import FloatArray, count_matrix
from briefs.summarize.score import ScoringInput, score_sentences, sentence_terms
from briefs.text import split_sentences

__all__ = [
    "HEADLINE_WORDS",
    "LEAD_BONUS",
    "OUTLET_PENALTY",
    "REDUNDANCY",
    "TIMELINE_DAYS",
    "Tuning",
    "story_headline",
    "summarize_sentences",
    "summarize_shared",
    "summarize_story",
]

LEAD_BONUS = 0.25
REDUNDANCY = 0.5
OUTLET_PENALTY = 0.25
TIMELINE_DAYS = 3
# The longest first sentence that may stand as a headline (the seed-document reader shortens
# longer ones to this many words; a headline is rarely longer).
HEADLINE_WORDS = 16


@dataclass(frozen=True, slots=True)
class Tuning:
    """The weighing of evidence (defaults are the product's; evaluation varies them)."""

    lead_bonus: float = LEAD_BONUS  # one-article stories: prior 1 + lead_bonus / (k + 1)
    harmonic_prior: bool = True  # several articles: prior 1 / (k + 1); False: as one article
    support: bool = True  # multiply by the content support across the story
    per_article: bool = True  # centrality scaled per article (False: per story)
    redundancy: float = REDUNDANCY  # tf-idf cosine at which two sentences say the same thing
    diversity: float = 0.0  # MMR: weight of the similarity to sentences already chosen
    # How "says the same thing" is measured: "tfidf" (idf over the story's sentences) or
    # "terms" (cosine of the sets of terms; the event's own words, frequent in every sentence,
    # then count fully, so paraphrased restatements are caught too).
    similarity: str = "tfidf"
    # A sentence from an outlet already quoted counts (1 - outlet_penalty) of its importance.
    outlet_penalty: float = OUTLET_PENALTY


DEFAULT_TUNING = Tuning()


def _scaled(scores: FloatArray, groups: np.ndarray | None = None) -> FloatArray:
    """Scores shifted to be non-negative and divided by the best (per group when given)."""
    out = np.asarray(scores, dtype=np.float64).copy()
    if len(out) == 0:
        return out
    out[~np.isfinite(out)] = 0.0
    if out.min() < 0:
        out -= out.min()
    if groups is None:
        top = out.max()
        return out / top if top > 0 else np.ones(len(out))
    for g in np.unique(groups):
        mask = groups == g
        top = out[mask].max()
        out[mask] = out[mask] / top if top > 0 else 1.0
    return out


def _support(counts: sparse.csr_matrix) -> FloatArray:
    """Per sentence: sum over its distinct terms of how many other sentences carry them."""
    present = (counts > 0).astype(np.float64).tocsr()
    df = np.asarray(present.sum(axis=0)).ravel()
    return np.asarray(present @ (df - 1.0), dtype=np.float64)


def _prior(ranks: FloatArray, articles: int, tuning: Tuning) -> FloatArray:
    if articles > 1 and tuning.harmonic_prior:
        return 1.0 / (ranks + 1.0)
    return 1.0 + tuning.lead_bonus / (ranks + 1.0)


def _importance(
    cands: Sequence[Candidate],
    counts: sparse.csr_matrix,
    method: str,
    titles: Sequence[str],
    tuning: Tuning,
) -> FloatArray:
    article_of = np.array([c.article for c in cands])
    data = ScoringInput(
        texts=[c.sentence.text for c in cands],
        terms=[c.terms for c in cands],
        article_of=list(article_of),
        titles=titles,
    )
    raw = score_sentences(method, data)
    importance = _scaled(raw, article_of if tuning.per_article else None)
    if tuning.support:
        importance = importance * _scaled(_support(counts))
    articles = len({c.article for c in cands})
    ranks = np.array([c.rank for c in cands], dtype=np.float64)
    return np.asarray(importance * _prior(ranks, articles, tuning), dtype=np.float64)


def _redundancy_space(
    counts: sparse.csr_matrix, unit: sparse.csr_matrix, tuning: Tuning
) -> sparse.csr_matrix:
    """Unit rows whose dot products are the similarities the redundancy test uses."""
    if tuning.similarity != "terms":
        return unit
    present = (counts > 0).astype(np.float64)
    norms = np.sqrt(np.asarray(present.sum(axis=1)).ravel())
    return (sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ present).tocsr()


def _select(
    cands: Sequence[Candidate],
    importance: FloatArray,
    unit: sparse.csr_matrix,
    settings: SummarySettings,
    tuning: Tuning,
    *,
    allowed: np.ndarray | None = None,
    chosen: Sequence[int] = (),
    limit: int | None = None,
) -> list[int]:
    """Greedy pick by importance, skipping what repeats a pick; ``allowed`` restricts the pool,
    ``chosen`` are picks already made (they count against the budget and for redundancy)."""
    picked = list(chosen)
    words = sum(len(cands[i].sentence.text.split()) for i in picked)
    max_sim = np.zeros(len(cands))
    seen: set[str] = set()
    for i in picked:
        seen.add(text_key(cands[i].sentence.text))
        max_sim = np.maximum(max_sim, (unit @ unit.getrow(i).T).toarray().ravel())
    available = np.ones(len(cands), dtype=bool) if allowed is None else allowed.copy()
    available[list(picked)] = False
    top = float(importance.max()) if len(importance) else 0.0
    relevance = importance / top if top > 0 else importance
    wanted = settings.sentences if limit is None else min(limit, settings.sentences)
    outlets = np.array([c.sentence.outlet for c in cands], dtype=object)
    needs = np.array([-1 if c.after is None else c.after for c in cands], dtype=np.int64)
    while len(picked) < wanted and available.any():
        value = relevance - tuning.diversity * max_sim
        if tuning.outlet_penalty and picked:
            quoted = np.isin(outlets, [cands[i].sentence.outlet for i in picked])
            value = np.where(quoted, value * (1.0 - tuning.outlet_penalty), value)
        value[~available] = -np.inf
        # A sentence that refers back is quoted after the one it refers to: once that one is
        # picked, or together with it (the pair is worth the mean of the two, for two places).
        waiting = (needs >= 0) & ~np.isin(needs, picked)
        for w in np.flatnonzero(waiting & available):
            j = int(needs[w])
            ready = available[j] and not waiting[j] and len(picked) + 2 <= wanted
            value[w] = (value[w] + value[j]) / 2 if ready else -np.inf
        i = int(np.argmax(value))
        if value[i] == -np.inf:
            break
        available[i] = False
        group = [int(needs[i]), i] if waiting[i] else [i]
        keys = [text_key(cands[k].sentence.text) for k in group]
        if any(k in seen for k in keys) or any(max_sim[k] >= tuning.redundancy for k in group):
            continue  # says what a chosen sentence says
        n_words = sum(len(cands[k].sentence.text.split()) for k in group)
        if picked and words + n_words > settings.words:
            continue  # too long for what is left of the budget; a shorter one may fit
        for k, key in zip(group, keys, strict=True):
            picked.append(k)
            available[k] = False
            seen.add(key)
            similarity = (unit @ unit.getrow(k).T).toarray().ravel()
            max_sim = np.maximum(max_sim, similarity)
        words += n_words
    return picked[len(chosen) :]


def _closest(
    titles: Sequence[tuple[str, str]], centroid: FloatArray | None, vocabulary: dict[str, int]
) -> tuple[str, str]:
    """The (title, article id) whose terms are closest to the centroid (the first on ties)."""
    if len(titles) == 1 or centroid is None:
        return titles[0]
    best, best_score = titles[0], -1.0
    for title, ident in titles:
        terms = [vocabulary[t] for t in sentence_terms(title) if t in vocabulary]
        if not terms:
            continue
        vector = np.zeros(len(vocabulary))
        np.add.at(vector, terms, 1.0)
        norm = float(np.linalg.norm(vector))
        score = float(vector @ centroid) / norm if norm else 0.0
        if score > best_score + 1e-12:
            best, best_score = (title, ident), score
    return best


def _first_sentence(article: Article) -> str | None:
    """The article's first quotable sentence, if it is short enough to stand as a headline."""
    for raw in split_sentences(article.text[:4000]):
        text = clean_sentence(raw)
        if text is not None:
            return text if len(text.split()) <= HEADLINE_WORDS else None
    return None


def _headline(
    story: Story,
    articles: Sequence[Article],
    latest: Sequence[Article],
    centroid: FloatArray | None,
    vocabulary: dict[str, int],
) -> tuple[str, str]:
    """(headline, article id): a member's title among the latest reports, closest to what their
    sentences say; never a made-up one (see the module docstring for untitled reports)."""
    titled = [(" ".join(a.title.split()), a.id) for a in latest if is_title(a)]
    if titled:
        return _closest(list(dict.fromkeys(titled)), centroid, vocabulary)
    for article in latest:
        first = _first_sentence(article)
        if first:
            return first, article.id
    for article in sorted(articles, key=lambda a: (a.published, a.id), reverse=True):
        if is_title(article):
            return " ".join(article.title.split()), article.id
    if not articles:
        return story.title, ""
    outlet = (latest or articles)[0].outlet
    return f"From {outlet}: untitled report", ""


def _outlets(articles: Sequence[Article]) -> tuple[str, ...]:
    primary = [a.outlet for a in articles if not a.duplicate_of]
    return tuple(dict.fromkeys(primary or [a.outlet for a in articles]))


def _titles_only(
    story: Story,
    articles: Sequence[Article],
    headline: tuple[str, str],
    settings: SummarySettings,
) -> Summary:
    """No quotable sentence: the other members' titles, each attributed, say what there is."""
    seen = {text_key(headline[0])}
    sentences: list[Sentence] = []
    for article in articles:
        key = text_key(article.title)
        if not key or key in seen or len(sentences) >= settings.sentences or not is_title(article):
            continue
        seen.add(key)
        sentences.append(Sentence(article.title.strip(), article.id, article.outlet, article.url))
    return Summary(
        story.id, headline[0], tuple(sentences), _outlets(articles), headline_id=headline[1]
    )


def _latest(
    articles: Sequence[Article], since: dt.datetime | None, zone: dt.tzinfo
) -> list[Article]:
    """The reports the headline is chosen among: those since ``since``, else the latest day's
    (newest first)."""
    if not articles:
        return []
    newest = sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
    if since is not None:
        fresh = [a for a in newest if a.published >= since]
        if fresh:
            return fresh
    day = newest[0].published.astimezone(zone).date()
    return [a for a in newest if a.published.astimezone(zone).date() == day]


def _timeline(
    cands: Sequence[Candidate],
    articles: Sequence[Article],
    importance: FloatArray,
    chosen: Sequence[int],
    since: dt.datetime,
    zone: dt.tzinfo,
) -> tuple[TimelineEntry, ...]:
    """One sentence for each of the story's earlier days (before ``since``), newest first."""
    taken = set(chosen)
    best: dict[dt.date, int] = {}
    for i, cand in enumerate(cands):
        published = articles[cand.article].published
        if published >= since or i in taken or cand.after is not None:
            continue  # (a sentence that refers back cannot stand alone in the timeline)
        day = published.astimezone(zone).date()
        if day not in best or importance[i] > importance[best[day]]:
            best[day] = i
    days = sorted(best, reverse=True)[:TIMELINE_DAYS]
    return tuple(TimelineEntry(day, cands[best[day]].sentence) for day in days)


def _centroid(
    cands: Sequence[Candidate],
    articles: Sequence[Article],
    latest: Sequence[Article],
    unit: sparse.csr_matrix,
) -> FloatArray:
    """What the latest reports' sentences say (all sentences when those have none)."""
    fresh_ids = {a.id for a in latest}
    fresh_rows = [i for i, c in enumerate(cands) if articles[c.article].id in fresh_ids]
    return np.asarray(unit[fresh_rows or list(range(len(cands)))].sum(axis=0)).ravel()


def story_headline(
    story: Story,
    articles: Sequence[Article],
    *,
    since: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> str:
    """The headline :func:`summarize_story` gives the story (same arguments), without scoring
    its sentences: what ``briefs stories`` shows, so it names a story as the edition does."""
    distinct = distinct_articles(sorted(articles, key=lambda a: (a.published, a.id)))
    cands = candidates(distinct, [split_sentences(a.text) for a in distinct])
    latest = _latest(distinct, since, zone)
    if not cands:
        return _headline(story, distinct, latest, None, {})[0]
    vocabulary: dict[str, int] = {}
    unit = unit_tfidf(count_matrix([c.terms for c in cands], vocabulary))
    centroid = _centroid(cands, distinct, latest, unit)
    return _headline(story, distinct, latest, centroid, vocabulary)[0]


def summarize_sentences(
    story: Story,
    articles: Sequence[Article],
    sentences: Sequence[Sequence[str]],
    settings: SummarySettings,
    tuning: Tuning = DEFAULT_TUNING,
    *,
    since: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
    told: bool = True,
) -> Summary:
    """Summarize a story whose articles come already split into sentences (one list each).

    With ``since``, the story is told as it developed since then (see the module docstring);
    ``told`` says whether the reader was told its earlier reports (it was in the previous
    edition): only then does a new sentence repeating one of them not count as news.
    """
    cands = candidates(articles, sentences)
    latest = _latest(articles, since, zone)
    if not cands or settings.sentences <= 0:
        return _titles_only(story, articles, _headline(story, articles, latest, None, {}), settings)
    vocabulary: dict[str, int] = {}
    counts = count_matrix([c.terms for c in cands], vocabulary)
    unit = unit_tfidf(counts)
    centroid = _centroid(cands, articles, latest, unit)
    headline = _headline(story, articles, latest, centroid, vocabulary)
    importance = _importance(cands, counts, settings.method, [a.title for a in articles], tuning)
    space = _redundancy_space(counts, unit, tuning)
    new = np.array([since is not None and articles[c.article].published >= since for c in cands])
    developing = since is not None and bool(new.any()) and not bool(new.all())
    if not developing:
        chosen = _select(cands, importance, space, settings, tuning)
        if len({cands[i].article for i in chosen}) <= 1:
            chosen.sort(key=lambda i: cands[i].sentence.position)
        timeline: tuple[TimelineEntry, ...] = ()
    else:
        assert since is not None
        lead_pool = new
        if told:
            # A new sentence that repeats what an earlier report said (and the reader was
            # told) is not news: it cannot lead.
            old = space[np.flatnonzero(~new)]
            similar = np.asarray((space @ old.T).max(axis=1).toarray()).ravel()
            novel = new & (similar < tuning.redundancy)
            lead_pool = novel if novel.any() else new
        lead = _select(cands, importance, space, settings, tuning, allowed=lead_pool)
        chosen = lead + _select(cands, importance, space, settings, tuning, chosen=lead)
        timeline = _timeline(cands, articles, importance, chosen, since, zone)
    return Summary(
        story.id,
        headline[0],
        tuple(cands[i].sentence for i in chosen),
        _outlets(articles),
        timeline=timeline,
        headline_id=headline[1],
    )


def summarize_story(
    story: Story,
    articles: Sequence[Article],
    settings: SummarySettings,
    tuning: Tuning = DEFAULT_TUNING,
    *,
    since: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
    told: bool = True,
) -> Summary:
    """Pick up to ``settings.sentences`` sentences (and ``settings.words`` words) for a story.

    The result does not depend on the order the articles come in: they are taken in order of
    publication (then id), so a reprint counts as a copy of the earliest printing and ties go
    to the earliest report. With ``since`` (the previous edition's cut-off) a developing story
    leads with its new reports and gets a timeline of its earlier days (days in ``zone``).
    """
    articles = sorted(articles, key=lambda a: (a.published, a.id))
    distinct = distinct_articles(articles)
    texts = [split_sentences(a.text) for a in distinct]
    summary = summarize_sentences(
        story, distinct, texts, settings, tuning, since=since, zone=zone, told=told
    )
    if summary.sentences or not distinct:
        return dataclasses.replace(summary, outlets=_outlets(articles))
    # Nothing quotable in the bodies: fall back on every member's title.
    fallback = _titles_only(story, articles, (summary.headline, summary.headline_id), settings)
    return dataclasses.replace(summary, sentences=fallback.sentences, outlets=_outlets(articles))


@functools.lru_cache(maxsize=256)
def summarize_shared(
    story: Story,
    articles: tuple[Article, ...],
    settings: SummarySettings,
    since: dt.datetime | None,
    zone: dt.tzinfo,
    told: bool,
) -> Summary:
    """:func:`summarize_story`, remembered: a summary is a function of exactly these (frozen,
    compared by value) arguments, so the briefs of a run that see a story with the same
    members since the same time share one summary instead of making it each."""
    return summarize_story(story, articles, settings, since=since, zone=zone, told=told)
