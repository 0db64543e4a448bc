"""Which signals group news, measured offline on labelled data, and the pair model they feed.

For each labelled article (``briefs eval group`` format) this computes the product's lexical
vector (:mod:`briefs.group`'s featurizer: title twice + lead, entity weighting), an embedding
of the title with the product's embedder (:mod:`briefs.embed`), and for every pair of articles
the features the product's pair model reads (:data:`briefs.group.PAIR_FEATURES`). Gold stories
are split into folds by a hash of their id. Every model is fitted on one fold and scored on the
others (average-linkage clustering of each held-out fold at the model's own cut), so no figure
below is fitted on the data it is scored on:

* ``tfidf-avg``: the baseline of docs/quality.md, scikit-learn TF-IDF over title + first 300
  characters, average linkage, its threshold chosen on the training fold;
* ``lexical``: the product's lexical cosine alone, threshold chosen on the training fold;
* ``pair-model``: logistic regression over the pair features, fitted on the training fold,
  clusters cut where the average same-story probability reaches 0.5 (no threshold sweep).

``--fit`` prints, fitted on every fold but the last one (which stays held out), the
calibration the product ships (:data:`briefs.group.SEMANTIC_SAME_LANGUAGE` and
``SEMANTIC_CROSS_LANGUAGE``): logistic fits of "same story" against the term cosine (pairs in
one language), against the embedding cosine (pairs in one language) and against the embedding
cosine (pairs in two languages); an embedding cosine then counts as the term cosine of equal
fitted log-odds. ``--fit-all`` prints the full pair model (all features) on the same folds,
which was measured and not shipped (benchmarks/README.md, "Grouping signals").

    python benchmarks/group_signals.py ../shared/data/mmds2025-news-clustering/dev.jsonl \
        --cache /tmp/emb.npy
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from briefs.config import GroupSettings
from briefs.evaluate.group import bcubed, lead_of, load_records, pairwise, to_articles
from briefs.group import PAIR_FEATURES, pair_features, vectorize


def _fold(story: str, folds: int) -> int:
    return int(hashlib.sha1(story.encode()).hexdigest(), 16) % folds


def _cluster(sim: np.ndarray, cut: float) -> np.ndarray:
    n = sim.shape[0]
    if n < 2:
        return np.zeros(n, dtype=int)
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), method="average")
    return np.asarray(fcluster(tree, t=1.0 - cut, criterion="distance"))


def _score(
    ids: list[str], gold: dict[str, str], labels: np.ndarray, langs: list[str]
) -> dict[str, float]:
    pred = {i: str(label) for i, label in zip(ids, labels, strict=True)}
    out: dict[str, float] = {}
    for name, keep in (("all", None), ("en", "en")):
        sub = [i for i, lang in zip(ids, langs, strict=True) if keep is None or lang == keep]
        g = {i: gold[i] for i in sub}
        p = {i: pred[i] for i in sub}
        out[f"{name}_bcubed"] = bcubed(g, p)[2]
        out[f"{name}_pairwise"] = pairwise(g, p)[2]
    return out


def _best_cut(sim: np.ndarray, ids: list[str], gold: dict[str, str], langs: list[str]) -> float:
    cuts = np.arange(0.05, 0.95, 0.01)
    scores = [_score(ids, gold, _cluster(sim, c), langs)["all_bcubed"] for c in cuts]
    return float(cuts[int(np.argmax(scores))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--cache", help="embeddings cache (.npy), made if missing")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--fit-all", action="store_true")
    args = parser.parse_args()

    records = load_records(args.path)
    articles = to_articles(records, "lead")
    ids = [r.id for r in records]
    gold = {r.id: r.gold for r in records}
    langs = [r.lang for r in records]
    if args.cache and Path(args.cache).exists():
        emb = np.load(args.cache)
    else:
        from briefs.embed import load_embedder

        embedder = load_embedder()
        if embedder is None:
            raise SystemExit("no embedder installed")
        emb = embedder.embed([a.title for a in articles])
        if args.cache:
            np.save(args.cache, emb)
    settings = GroupSettings()
    docs = vectorize(articles, settings, {a.id: emb[i] for i, a in enumerate(articles)})
    n = len(records)
    feats = np.zeros((n, n, len(PAIR_FEATURES)))
    for i in range(n):
        for j in range(i + 1, n):
            feats[i, j] = feats[j, i] = pair_features(docs[i], docs[j])
    lex = feats[:, :, 0]
    texts = [r.title + " " + lead_of(r.text) for r in records]
    tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    tf_sim = (tfidf @ tfidf.T).toarray()

    fold = np.array([_fold(r.gold, args.folds) for r in records])
    same = np.array([[gold[a] == gold[b] for b in ids] for a in ids])
    upper = np.triu(np.ones((n, n), dtype=bool), 1)

    lexical_only = [i for i, name in enumerate(PAIR_FEATURES) if "semantic" not in name]
    every = list(range(len(PAIR_FEATURES)))

    def fit(mask_rows: np.ndarray, cols: list[int]) -> LogisticRegression:
        pick = upper & mask_rows[:, None] & mask_rows[None, :]
        model = LogisticRegression(C=1.0, max_iter=1000)
        model.fit(feats[pick][:, cols], same[pick])
        return model

    if args.fit:
        train = fold != args.folds - 1
        pick = upper & train[:, None] & train[None, :]
        cross = feats[:, :, PAIR_FEATURES.index("cross_language")] > 0
        sem = feats[:, :, PAIR_FEATURES.index("semantic")]
        strong = {"C": 1e4, "max_iter": 1000}
        lex_fit = LogisticRegression(**strong).fit(lex[pick & ~cross][:, None], same[pick & ~cross])
        c, d = float(lex_fit.intercept_[0]), float(lex_fit.coef_[0][0])
        for label, mask in (("SAME_LANGUAGE", ~cross), ("CROSS_LANGUAGE", cross)):
            m = LogisticRegression(**strong).fit(sem[pick & mask][:, None], same[pick & mask])
            a, b = float(m.intercept_[0]), float(m.coef_[0][0])
            print(f"SEMANTIC_{label} = ({b / d:.3f}, {(a - c) / d:.3f})")
        print("trained on", int(train.sum()), "articles")

    if args.fit_all:
        train = fold != args.folds - 1
        for label, cols in (("semantic", every), ("lexical", lexical_only)):
            model = fit(train, cols)
            coef = dict.fromkeys(PAIR_FEATURES, 0.0)
            for c, w in zip(cols, model.coef_[0], strict=True):
                coef[PAIR_FEATURES[c]] = round(float(w), 3)
            tr_idx = np.flatnonzero(train)
            m = len(tr_idx)
            flat = feats[np.ix_(tr_idx, tr_idx)].reshape(m * m, -1)[:, cols]
            prob = model.predict_proba(flat)[:, 1].reshape(m, m)
            cut = _best_cut(prob, [ids[i] for i in tr_idx], gold, [langs[i] for i in tr_idx])
            print(label, coef, "intercept", round(float(model.intercept_[0]), 3), "cut", cut)
        print("trained on", int(train.sum()), "articles")

    rows: defaultdict[str, list[dict[str, float]]] = defaultdict(list)
    for k in range(args.folds):
        train = fold == k
        test_idx = np.flatnonzero(fold != k)
        tr_idx = np.flatnonzero(train)
        tr_ids = [ids[i] for i in tr_idx]
        tr_langs = [langs[i] for i in tr_idx]
        te_ids = [ids[i] for i in test_idx]
        te_langs = [langs[i] for i in test_idx]
        sub = np.ix_(test_idx, test_idx)
        tr = np.ix_(tr_idx, tr_idx)
        cut = _best_cut(tf_sim[tr], tr_ids, gold, tr_langs)
        rows["tfidf-avg"].append(_score(te_ids, gold, _cluster(tf_sim[sub], cut), te_langs))
        cut = _best_cut(lex[tr], tr_ids, gold, tr_langs)
        rows["lexical"].append(_score(te_ids, gold, _cluster(lex[sub], cut), te_langs))
        m = len(test_idx)
        for label, cols in (("pair-model", every), ("pair-lexical", lexical_only)):
            model = fit(train, cols)
            flat = feats[sub].reshape(m * m, -1)[:, cols]
            prob = model.predict_proba(flat)[:, 1].reshape(m, m)
            rows[label].append(_score(te_ids, gold, _cluster(prob, 0.5), te_langs))
            flat = feats[tr].reshape(len(tr_idx) ** 2, -1)[:, cols]
            tr_prob = model.predict_proba(flat)[:, 1].reshape(len(tr_idx), len(tr_idx))
            cut = _best_cut(tr_prob, tr_ids, gold, tr_langs)
            rows[label + "-cut"].append(_score(te_ids, gold, _cluster(prob, cut), te_langs))
        sem = feats[:, :, 1]
        cut = _best_cut(sem[tr], tr_ids, gold, tr_langs)
        rows["semantic"].append(_score(te_ids, gold, _cluster(sem[sub], cut), te_langs))
    print(f"{'method':12} " + " ".join(f"{c:>14}" for c in rows["lexical"][0]))
    for name, results in rows.items():
        cells = []
        for key in results[0]:
            values = [r[key] for r in results]
            cells.append(f"{np.mean(values):.3f}±{(max(values) - min(values)) / 2:.3f}")
        print(f"{name:12} " + " ".join(f"{c:>14}" for c in cells))


if __name__ == "__main__":
    main()
