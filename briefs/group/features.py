"""What grouping reads of an article: weighted term vectors, entities, and pair evidence.

Each article is a TF-IDF vector of its title (counted twice: the headline names the event) and
its lead (the feed teaser, else the first words of the body). Term weights come from the stream
of the last ``window_hours`` with a background table (:mod:`briefs.background`) as a prior, so
there is no cold start and a word a busy day repeats everywhere stops counting. Entity-like terms
(capitalized words inside a sentence, acronyms, numbers) weigh more: events are told apart by
who, where and how many. An embedding cosine (:mod:`briefs.embed`) counts as the term cosine of
equal fitted log-odds of "same event" (:func:`semantic_equivalent`). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from sys import intern

from briefs.background import background_idf, guess_language
from briefs.config import GroupSettings
from briefs.embed import Vector
from briefs.models import Article
from briefs.text import STOP_WORDS, is_unspaced, raw_tokens, stem

__all__ = [
    "PAIR_FEATURES",
    "SEMANTIC_CROSS_LANGUAGE",
    "SEMANTIC_CROSS_LANGUAGE_LEAD",
    "SEMANTIC_PRIOR",
    "SEMANTIC_SAME_LANGUAGE",
    "article_text",
    "attach",
    "combined",
    "pair_features",
    "semantic_equivalent",
    "several_languages",
    "similarity",
    "vectorize",
]

TERMS_KEPT = 8
SHARED_KEPT = 6
# The semantic signal on the lexical scale: a pair's embedding cosine ``c`` counts as the term
# cosine ``scale * c + offset`` that is as likely to mean "same event" (both calibrated by
# logistic fits of same-event against cosine, one per signal, on two of three folds by story of
# the MMDS development set, titles embedded; ``benchmarks/group_signals.py --fit``). A pair
# in one language takes the larger of its two cosines; a pair in two languages has only the
# semantic one (its embedding cosines run lower, hence its own fit).
SEMANTIC_SAME_LANGUAGE = (3.209, -2.642)
SEMANTIC_CROSS_LANGUAGE = (4.112, -3.182)
# A pair in two languages whose articles both have a title + lead embedding (briefs.embed: a
# title alone is thin evidence for a translation) is judged on that one instead. It meets the
# threshold where the lexical threshold is set, at the cosine unrelated pairs exceed once in
# 10,000: 0.813 (81,288 pairs of MMDS Chinese and Malay reports with BBC News articles, no
# labels; 90 % bootstrap interval over the articles 0.806-0.818); the slope is the logistic
# fit's on MMDS folds 0-1, whose own threshold point (0.811) agrees (benchmarks/README.md).
SEMANTIC_CROSS_LANGUAGE_LEAD = (4.725, 0.25 - 4.725 * 0.813)
# Within one language, a pair whose term and embedding evidence both exceed the prior adds
# them, as independent evidence adds in log-odds: term cosine + semantic equivalent - prior,
# where the prior is the term cosine whose fitted log-odds are those of a pair picked at
# random from the pairs the calibrations were fitted on (1.19 % same story, MMDS folds 0-1:
# (logit(0.0119) + 7.124) / 22.636). Never less than either alone: a reworded headline's low
# term cosine does not veto its embedding, nor the reverse (the signals are not independent).
SEMANTIC_PRIOR = 0.119
_NUMBER = re.compile(r"^\d[\d.,]*$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
_COUNTS: dict[float, float] = {}  # the term counts read so far, each value once (Featurizer.read)
_SENTENCE_OPENERS = ".!?:;\"“”‘'(—–-|"


def article_text(article: Article, lead_words: int) -> tuple[str, str]:
    """What grouping reads of an article: its title and its lead.

    The lead is the feed teaser (``summary``) when there is one, else the body; either is cut to
    ``lead_words`` words (0: the whole text).
    """
    lead = article.summary or article.body
    if lead_words > 0:
        words = lead.split()
        if len(words) > lead_words:
            lead = " ".join(words[:lead_words])
    return article.title, lead


# What reading an article gives (Featurizer.read): term counts, surface forms, display forms,
# names and numbers, language.
Reading = tuple[dict[str, float], dict[str, str], dict[str, str], frozenset[str], str]


@dataclass(slots=True)
class Doc:
    """One (non-duplicate) article as grouping sees it."""

    article_id: str
    published: dt.datetime
    lang: str
    vec: dict[str, float]
    forms: dict[str, str]
    cluster: int = -1
    entities: frozenset[str] = frozenset()
    emb: Vector | None = None  # the title's embedding
    lead: Vector | None = None  # the title + lead's (pairs in two languages)
    counts: tuple[dict[str, float], dict[str, str]] = ({}, {})  # term counts, surface forms


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in _SENTENCE_OPENERS


def _title_case(text: str, toks: list[tuple[str, int]]) -> bool:
    """Headline style ("Fed Raises Rates Again"): capitals then say nothing about names."""
    content = [w for w, _ in toks if len(w) > 3 and w.lower() not in STOP_WORDS]
    if len(content) < 2:
        return False
    capitals = sum(1 for w in content if w[0].isupper())
    return capitals / len(content) >= 0.6


class Featurizer:
    """Turns articles into weighted, unit-length term vectors (with display forms).

    ``cache`` (article id -> what reading it gave) is shared by featurizers that read the
    same articles again (the orders of :mod:`briefs.group.consensus`): reading an article
    (tokens, stems, names, language) is most of the cost; the stream statistics and weights
    stay each featurizer's own.
    """

    def __init__(self, settings: GroupSettings, cache: dict[str, Reading] | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self._background: defaultdict[str, dict[str, float]] = defaultdict(dict)  # lang, term
        # per language: a word's frequency in one language says nothing about another
        self.df: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.n_docs: Counter[str] = Counter()

    def background(self, term: str, surface: str, lang: str) -> float:
        """Background document probability of a term (cached)."""
        known = self._background[lang]
        value = known.get(term)
        if value is None:
            value = known[term] = math.exp(-background_idf(term, surface, lang))
        return value

    def idf(self, term: str, surface: str, lang: str) -> float:
        """Inverse document frequency in the stream, with the background as a prior.

        The document frequency is estimated as (df + m * p_background) / (n + m): the articles
        in this language seen in the window, plus ``m`` pseudo-articles distributed like general
        text. Early on (or for a rare term) the background decides; once the stream is large,
        the stream does.
        """
        m = self.settings.prior_docs
        df = self.df[lang][term]
        p = (df + m * self.background(term, surface, lang)) / (self.n_docs[lang] + m)
        return -math.log(min(max(p, 1e-12), 1.0))

    def forget(self, doc: Doc) -> None:
        """Remove a document that left the window from the stream statistics."""
        self.df[doc.lang].subtract(doc.vec.keys())
        self.n_docs[doc.lang] -= 1

    def doc(self, article: Article) -> Doc:
        reading = self.cache.get(article.id) if self.cache is not None else None
        if reading is None:
            reading = self.read(article)
            if self.cache is not None:
                self.cache[article.id] = reading
        counts, surface, forms, entity, lang = reading
        self.df[lang].update(counts.keys())
        self.n_docs[lang] += 1
        doc = Doc(article.id, article.published, lang, {}, forms, entities=entity)
        doc.counts = (counts, surface)
        self.weigh(doc)
        return doc

    def read(self, article: Article) -> Reading:
        """An article's term counts, their surface and display forms, names, and language."""
        s = self.settings
        title, lead = article_text(article, s.lead_words)
        counts: defaultdict[str, float] = defaultdict(float)
        entity: set[str] = set()
        surface: dict[str, str] = {}
        forms: dict[str, str] = {}
        lowered: list[str] = []
        for part, weight in ((title, s.title_weight), (lead, 1.0)):
            toks = raw_tokens(part)
            caps_mean_names = not (part is title and _title_case(part, toks))
            for raw, start in toks:
                if is_unspaced(raw):
                    key = low = raw
                    is_entity = False
                else:
                    low = raw.lower().strip("'’-")
                    if _NUMBER.match(low):
                        low = low.rstrip(".,")
                        if _THOUSANDS.match(low):
                            low = low.replace(",", "")
                        key, is_entity = low, True
                    else:
                        low = _NUMBER_WORDS.get(low, low)
                        if len(low) < 2 or low in STOP_WORDS:
                            continue
                        key = low if low.isdigit() else stem(low)
                        is_entity = low.isdigit() or (
                            len(raw) >= 2
                            and raw[0].isupper()
                            and (
                                raw.isupper()
                                or (caps_mean_names and not _sentence_initial(part, start))
                            )
                        )
                # one string object per distinct word, whichever article has it: a window's
                # vectors, surfaces and forms would otherwise each hold their own copies
                key, low = intern(key), intern(low)
                lowered.append(low)
                counts[key] += weight
                surface.setdefault(key, low)
                if is_entity and key not in entity:
                    entity.add(key)
                    forms[key] = low if _NUMBER.match(low) else intern(raw.strip("'’-"))
                forms.setdefault(key, low)
                if "-" in low:  # "anti-mobilisation" also matches "mobilisation"
                    for piece in low.split("-"):
                        if len(piece) >= 3 and piece not in STOP_WORDS:
                            piece = intern(piece)
                            k2 = piece if piece.isdigit() else intern(stem(piece))
                            counts[k2] += weight * 0.5
                            surface.setdefault(k2, piece)
                            forms.setdefault(k2, piece)
        lang = guess_language(lowered, article.language)
        # counts are a few values (sums of the title's and the lead's weights): one object each
        shared = _COUNTS
        kept = {key: shared.setdefault(count, count) for key, count in counts.items()}
        return kept, surface, forms, frozenset(entity), lang

    def weigh(self, doc: Doc) -> None:
        """(Re)compute a document's unit-length vector from its counts with the current idf."""
        counts, surface = doc.counts
        vec: dict[str, float] = {}
        for key, count in counts.items():
            w = (1.0 + math.log(count)) * self.idf(key, surface[key], doc.lang)
            if key in doc.entities:
                w *= self.settings.entity_weight
            vec[key] = w
        norm = math.sqrt(sum(w * w for w in vec.values()))
        doc.vec = {t: w / norm for t, w in vec.items()} if norm else vec


def dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


# What the pair model reads of two articles (see pair_features).
PAIR_FEATURES = (
    "lexical",
    "semantic",
    "entities",
    "cross_language",
    "semantic_cross_language",
    "days_apart",
)


def pair_features(a: Doc, b: Doc) -> tuple[float, ...]:
    """The evidence that two articles report one event, as numbers for the pair model.

    ``lexical``: cosine of their weighted term vectors; ``semantic``: cosine of their
    embeddings (0 when either has none); ``entities``: share of the smaller set of names and
    numbers that the other article also has; ``cross_language``: 1 when their languages differ;
    ``semantic_cross_language``: the semantic cosine again for a pair in two languages (0
    otherwise: such a pair has little lexical evidence, and its cosine runs lower);
    ``days_apart``: time between them in days, at most 3.
    """
    semantic = float(a.emb @ b.emb) if a.emb is not None and b.emb is not None else 0.0
    small = min(len(a.entities), len(b.entities))
    entities = len(a.entities & b.entities) / small if small else 0.0
    days = abs((a.published - b.published).total_seconds()) / 86400.0
    cross = a.lang != b.lang
    return (
        dot(a.vec, b.vec),
        semantic,
        entities,
        1.0 if cross else 0.0,
        semantic if cross else 0.0,
        min(days, 3.0),
    )


def semantic_equivalent(a: Doc, b: Doc) -> float:
    """The term cosine that two articles' embedding cosine is worth (0 without embeddings).

    Within one language the titles' embeddings; across languages the title + lead ones where
    both have them, else the titles'. Not clipped: below the threshold it is weak evidence.
    """
    if a.lang != b.lang and a.lead is not None and b.lead is not None:
        scale, offset = SEMANTIC_CROSS_LANGUAGE_LEAD
        return scale * float(a.lead @ b.lead) + offset
    if a.emb is None or b.emb is None:
        return 0.0
    scale, offset = SEMANTIC_SAME_LANGUAGE if a.lang == b.lang else SEMANTIC_CROSS_LANGUAGE
    return scale * float(a.emb @ b.emb) + offset


def combined(lexical: float, semantic: float) -> float:
    """A same-language pair's similarity from its term cosine and its semantic equivalent:
    their sum over the prior when both exceed it, else the larger (``SEMANTIC_PRIOR``)."""
    return max(lexical, semantic, lexical + semantic - SEMANTIC_PRIOR)


def similarity(a: Doc, b: Doc) -> float:
    """A pair's similarity as placement computes it (without the time weight): within one
    language :func:`combined`, across languages the semantic equivalent alone (term overlap
    cannot judge a translation); 0 at the least."""
    semantic = semantic_equivalent(a, b)
    if a.lang != b.lang:
        return max(0.0, semantic)
    lexical = dot(a.vec, b.vec)
    if a.emb is None or b.emb is None:
        return lexical
    return max(0.0, combined(lexical, semantic))


def attach(doc: Doc, vector: Vector | None) -> None:
    """Give a document its embeddings: ``vector`` is the title's (one row) or the title's and
    the title + lead's (two rows, as :mod:`briefs.embed` makes them)."""
    if vector is None:
        doc.emb = doc.lead = None
    elif vector.ndim == 2:
        doc.emb, doc.lead = vector[0], vector[1]
    else:
        doc.emb, doc.lead = vector, None


def several_languages(articles: Sequence[Article]) -> bool:
    """Whether the articles are in more than one language, judged by their titles (cheaply:
    it decides whether their title + lead embeddings are worth making, see briefs.embed)."""
    seen: set[str] = set()
    for a in articles:
        if a.duplicate_of:
            continue
        seen.add(guess_language([w.lower() for w, _ in raw_tokens(a.title)], a.language))
        if len(seen - {""}) > 1:
            return True
    return False


def vectorize(
    articles: Sequence[Article],
    settings: GroupSettings,
    embeddings: dict[str, Vector] | None = None,
) -> list[Doc]:
    """Articles as grouping sees them, featurized in time order as the stream would be."""
    features = Featurizer(settings)
    docs = {a.id: features.doc(a) for a in sorted(articles, key=lambda a: (a.published, a.id))}
    out = [docs[a.id] for a in articles]
    if embeddings:
        for doc in out:
            attach(doc, embeddings.get(doc.article_id))
    return out


def shared_terms(a: Doc, b: Doc, k: int = SHARED_KEPT) -> tuple[str, ...]:
    common = sorted((t for t in a.vec if t in b.vec), key=lambda t: (-a.vec[t] * b.vec[t], t))
    return tuple(a.forms.get(t, t) for t in common[:k])


def terms_of(docs: Sequence[Doc], k: int = TERMS_KEPT) -> tuple[str, ...]:
    """The terms that hold a story together: weight summed over members, shared ones first."""
    if not docs:
        return ()
    weight: defaultdict[str, float] = defaultdict(float)
    df: Counter[str] = Counter()
    forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        for t, w in d.vec.items():
            weight[t] += w
            df[t] += 1
            forms[t][d.forms.get(t, t)] += 1
    need = 2 if len(docs) > 1 else 1
    ranked = sorted((t for t in weight if df[t] >= need), key=lambda t: (-df[t] * weight[t], t))
    return tuple(forms[t].most_common(1)[0][0] for t in ranked[:k])
