"""Modelling research for the feedback classifier, by cross-validation on the TRAINING part only.

    nice .venv/bin/python benchmarks/feedback_research.py [EXPERIMENT ...]

Each experiment is scored by 5-fold out-of-fold predictions on the 80% training part of the
benchmark's fixed split (``benchmarks/feedback.py``); the 20% test part is never read here, so
choosing a configuration from these numbers does not tune on the held-out set. Per-label
thresholds are chosen on the same out-of-fold scores (as ``TopicClassifier`` does), which makes
every figure here slightly optimistic by the same amount; compare rows with each other, not
with the held-out figures in BENCHMARKS.md.

To keep it fast, TF-IDF vocabularies are fitted once on the whole training part (not per fold)
and embeddings are cached under ``benchmarks/.cache/``. MiniLM embeddings ("accurate mode") come
from ``benchmarks/peers/encode_minilm.py`` run in a research venv (torch is not a dependency).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback import DEFAULT_DATA, REPO, fixed_split, load_data, sentiment_values

CACHE = REPO / "benchmarks" / ".cache"
GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class Data:
    def __init__(self) -> None:
        from carelens.feedback.text import clean_texts, content_free_mask

        frame, Y, names = load_data(DEFAULT_DATA)
        train, _ = fixed_split(Y)  # the held-out part is never touched here
        self.rows = train
        self.frame = frame.iloc[train].reset_index(drop=True)
        self.names = names
        self.lnp = names.index("Labelling not possible")
        texts = self.frame["FFT answer"].tolist()
        self.free = content_free_mask(texts)
        self.texts = clean_texts(texts)
        self.Y = Y[train]
        self.sentiment = sentiment_values(self.frame)
        self.score = self.frame["FFT categorical answer"].tolist()
        self.question = self.frame["FFT question"].fillna("").str.replace(r"\s+", " ", regex=True).tolist()
        self._cache: dict = {}

    def block(self, name: str):
        if name in self._cache:
            return self._cache[name]
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import OneHotEncoder

        if name == "word":
            m = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode", dtype=np.float32).fit_transform(self.texts)
        elif name == "char":
            m = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=150_000, dtype=np.float32).fit_transform(self.texts)
        elif name.startswith(("word:", "char:")):  # e.g. "char:3-6", "word:1-3", "word:1-2:1" (min_df 1)
            kind, grams, *rest = name.split(":")
            lo, hi = (int(x) for x in grams.split("-"))
            min_df = int(rest[0]) if rest else 2
            extra = {"strip_accents": "unicode"} if kind == "word" else {"analyzer": "char_wb", "max_features": 150_000}
            m = TfidfVectorizer(ngram_range=(lo, hi), min_df=min_df, sublinear_tf=True, dtype=np.float32, **extra).fit_transform(self.texts)
        elif name == "question":
            m = OneHotEncoder(handle_unknown="ignore", min_frequency=10).fit_transform(np.array(self.question, dtype=object)[:, None])
        elif name == "score":
            import pandas as pd

            from carelens.feedback.features import fft_score_onehot

            m = fft_score_onehot(pd.DataFrame({"fft_score": self.score}))
        elif name == "static":
            from carelens.feedback.embeddings import StaticEmbedder

            m = StaticEmbedder().transform(self.texts)
        elif name.startswith("static:"):
            from carelens.feedback.embeddings import StaticEmbedder

            m = StaticEmbedder(name.split(":", 1)[1]).transform(self.texts)
        elif name == "minilm":
            m = np.load(CACHE / "minilm_fft_v6_train.npy")[self.rows]
        else:
            raise KeyError(name)
        self._cache[name] = m
        return m

    def features(self, spec: dict[str, float]):
        blocks = []
        for name, w in spec.items():
            b = self.block(name)
            blocks.append(sparse.csr_matrix(b * np.float32(w)) if not sparse.issparse(b) else b * np.float32(w))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)


def oof_topic_scores(X, Y, C=10.0, class_weight="balanced", seed=0):
    """Out-of-fold decision scores per label (5-fold), like TopicClassifier.fit."""
    oof = np.full(Y.shape, -20.0)
    for tr, te in KFold(5, shuffle=True, random_state=seed).split(X):
        for j in range(Y.shape[1]):
            y = Y[tr, j]
            if y.sum() < 2:
                continue
            m = LogisticRegression(C=C, class_weight=class_weight, solver="liblinear", dual=True, max_iter=2000, tol=1e-3)
            oof[te, j] = m.fit(X[tr], y).decision_function(X[te])
    return oof


def oof_nb_scores(X, Y, n_sparse: int, C=10.0, alpha=1.0, seed=0):
    """NB-LR (Wang & Manning 2012): per label, scale TF-IDF columns by the log-count ratio.

    At prediction the scaling folds into the weights (w * r), so it costs nothing at run time.
    Dense columns (embeddings, beyond ``n_sparse``) keep scale 1.
    """
    oof = np.full(Y.shape, -20.0)
    X = sparse.csr_matrix(X)
    for tr, te in KFold(5, shuffle=True, random_state=seed).split(X):
        Xtr = X[tr]
        for j in range(Y.shape[1]):
            y = Y[tr, j]
            if y.sum() < 2:
                continue
            p = alpha + np.asarray(Xtr[y == 1].sum(axis=0)).ravel()
            q = alpha + np.asarray(Xtr[y == 0].sum(axis=0)).ravel()
            r = np.ones(X.shape[1], dtype=np.float32)  # dense columns (embeddings) keep scale 1
            r[:n_sparse] = np.log((p[:n_sparse] / p[:n_sparse].sum()) / (q[:n_sparse] / q[:n_sparse].sum()))
            D = sparse.diags(r)
            m = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=2000, tol=1e-3)
            oof[te, j] = m.fit(Xtr @ D, y).decision_function(X[te] @ D)
    return oof


def calibrate(oof, Y):
    proba = np.zeros_like(oof)
    for j in range(Y.shape[1]):
        if Y[:, j].sum() < 2:
            continue
        p = LogisticRegression(C=100.0).fit(oof[:, [j]], Y[:, j])
        proba[:, j] = p.predict_proba(oof[:, [j]])[:, 1]
    return proba


def thresholds(proba, Y, strategy="per_label"):
    th = np.full(Y.shape[1], 0.5)
    if strategy == "global":
        fs = [f1_score(Y, proba >= t, average="macro", zero_division=0) for t in GRID]
        return np.full(Y.shape[1], GRID[int(np.argmax(fs))])
    g = thresholds(proba, Y, "global")[0] if strategy == "shrunk" else None
    for j in range(Y.shape[1]):
        if Y[:, j].sum() < 2:
            continue
        fs = np.array([f1_score(Y[:, j], proba[:, j] >= t, zero_division=0) for t in GRID])
        th[j] = GRID[int(np.argmax(fs))]
        if strategy == "shrunk":  # rare labels: lean on the global threshold
            n = Y[:, j].sum()
            w = n / (n + 20)
            th[j] = w * th[j] + (1 - w) * g
    return th


def topic_metrics(d: Data, proba, th):
    """Macro/micro over all 32 labels; content-free rows get 'Labelling not possible' by rule."""
    P = (proba >= th).astype(int)
    P[:, d.lnp] = 0
    P[d.free] = 0
    P[d.free, d.lnp] = 1
    present = d.Y.sum(axis=0) > 0
    return f1_score(d.Y[:, present], P[:, present], average="macro", zero_division=0), f1_score(d.Y, P, average="micro", zero_division=0)


def run_topics(d: Data, name: str, spec: dict, C=10.0, class_weight="balanced", strategy="per_label", ensemble=None):
    t0 = time.perf_counter()
    keep = ~d.free  # models train on comments with text (content-free are labelled by rule)
    Yk = d.Y[keep]
    proba = np.zeros(d.Y.shape)
    oof = oof_topic_scores(d.features(spec)[keep], Yk, C=C, class_weight=class_weight)
    p = calibrate(oof, Yk)
    if ensemble:
        spec2, C2, w = ensemble
        p2 = calibrate(oof_topic_scores(d.features(spec2)[keep], Yk, C=C2, class_weight=class_weight), Yk)
        p = (1 - w) * p + w * p2
    proba[keep] = p
    th = np.full(d.Y.shape[1], 0.5)
    th_k = thresholds(p, Yk, strategy)
    th[:] = th_k
    macro, micro = topic_metrics(d, proba, th)
    print(f"topics   {name:<48} macro {macro:.3f} micro {micro:.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)
    return proba


def run_stacked(d: Data, name: str, spec: dict, C=10.0, mix=0.5):
    """Label co-occurrence: a second per-label LR over all first-stage out-of-fold probabilities."""
    t0 = time.perf_counter()
    keep = ~d.free
    Yk = d.Y[keep]
    p1 = cached_oof_proba(d, "tfidf_static", spec, C=C)
    Z = np.hstack([p1, np.log(p1 + 1e-4)])
    p2 = np.zeros_like(p1)
    for tr, te in KFold(5, shuffle=True, random_state=1).split(Z):
        for j in range(Yk.shape[1]):
            if Yk[tr, j].sum() < 2:
                continue
            m = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(Z[tr], Yk[tr, j])
            p2[te, j] = m.predict_proba(Z[te])[:, 1]
    p2 = calibrate(np.log(p2 + 1e-6) - np.log(1 - p2 + 1e-6), Yk)
    p = (1 - mix) * p1 + mix * p2
    proba = np.zeros(d.Y.shape)
    proba[keep] = p
    macro, micro = topic_metrics(d, proba, thresholds(p, Yk))
    print(f"topics   {name:<48} macro {macro:.3f} micro {micro:.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)


def cached_oof_proba(d: Data, key: str, spec: dict, C=10.0) -> np.ndarray:
    path = CACHE / f"oof_{key}.npy"
    if path.exists():
        return np.load(path)
    keep = ~d.free
    p = calibrate(oof_topic_scores(d.features(spec)[keep], d.Y[keep], C=C), d.Y[keep])
    np.save(path, p)
    return p


def run_cached_ensemble(d: Data, name: str, parts: dict[str, tuple[dict, float]]) -> None:
    """Average of calibrated out-of-fold probabilities of separately trained models."""
    keep = ~d.free
    Yk = d.Y[keep]
    p = sum(w * cached_oof_proba(d, key, spec) for key, (spec, w) in parts.items()) / sum(w for _, w in parts.values())
    full = np.zeros(d.Y.shape)
    full[keep] = p
    macro, micro = topic_metrics(d, full, thresholds(p, Yk))
    print(f"topics   {name:<48} macro {macro:.3f} micro {micro:.3f}", flush=True)


def run_nb(d: Data, name: str, spec: dict, C=10.0, key: str | None = None) -> None:
    t0 = time.perf_counter()
    keep = ~d.free
    Yk = d.Y[keep]
    n_sparse = sum(d.block(k).shape[1] for k in spec if k in ("word", "char"))
    p = calibrate(oof_nb_scores(d.features(spec)[keep], Yk, n_sparse, C=C), Yk)
    if key:
        np.save(CACHE / f"oof_{key}.npy", p)
    full = np.zeros(d.Y.shape)
    full[keep] = p
    macro, micro = topic_metrics(d, full, thresholds(p, Yk))
    print(f"topics   {name:<48} macro {macro:.3f} micro {micro:.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)


def run_postprocessing(d: Data, key: str = "tfidf_static", spec: dict | None = None) -> None:
    """Decision rules on one set of out-of-fold probabilities (cheap to compare)."""
    spec = spec or {**TFIDF, "static": 1.0}
    keep = ~d.free
    Yk = d.Y[keep]
    p = cached_oof_proba(d, key, spec)
    full = np.zeros(d.Y.shape)
    full[keep] = p
    for strategy in ("per_label", "global", "shrunk"):
        th = thresholds(p, Yk, strategy)
        macro, micro = topic_metrics(d, full, th)
        print(f"post     {key + ': ' + strategy:<48} macro {macro:.3f} micro {micro:.3f}", flush=True)
    th = thresholds(p, Yk)
    for r in (0.3, 0.5, 0.7, 0.9):  # at least one label when the best is near its threshold
        q = full.copy()
        none = (q >= th).sum(axis=1) == 0
        best = q.argmax(axis=1)
        lift = none & (q[np.arange(len(q)), best] >= r * th[best]) & ~d.free
        q[np.flatnonzero(lift), best[lift]] = 1.0
        macro, micro = topic_metrics(d, q, th)
        print(f"post     {key + f': at least one label if >= {r} x thr':<48} macro {macro:.3f} micro {micro:.3f}", flush=True)


def run_sentiment(d: Data, name: str, spec: dict, C=4.0, class_weight="balanced"):
    from carelens.feedback.sentiment import to_three_classes

    t0 = time.perf_counter()
    ok = ~d.free & ~np.isnan(d.sentiment)
    X = d.features(spec)[ok]
    y = d.sentiment[ok].astype(int)
    pred = np.zeros(len(y), dtype=int)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        m = LogisticRegression(C=C, class_weight=class_weight, max_iter=3000, tol=1e-3).fit(X[tr], y[tr])
        pred[te] = m.predict(X[te])
    f5 = f1_score(y, pred, average="macro")
    f3 = f1_score(to_three_classes(y), to_three_classes(pred), average="macro")
    print(f"sentiment {name:<47} macro5 {f5:.3f} macro3 {f3:.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)


TFIDF = {"word": 1.0, "char": 1.0}


# --------------------------------------------------------------------------- kernel SVM research
# Second round (2026-12): SVMs on precomputed kernels of the same feature blocks, scored with
# *honest* thresholds: for each outer fold, every label's threshold is chosen on the other four
# folds' out-of-fold probabilities, so the threshold optimism of the rows above is gone (these
# figures are ~0.03 lower than the "optimistic" ones for the same model). Each row is the mean of
# three 5-fold splits (seeds 11, 22, 33); the spread between seeds is printed too.
KSEEDS = (11, 22, 33)


def kernel_blocks(d: Data) -> dict[str, np.ndarray]:
    """Linear kernels (rows with text only) of each feature block, cached in memory."""
    if "_kernels" not in d._cache:
        keep = ~d.free
        out = {}
        for name in ("word", "char", "static", "question", "score", "minilm"):
            try:
                b = d.block(name)
            except FileNotFoundError:  # MiniLM embeddings not cached: skip those rows
                continue
            b = sparse.csr_matrix(b) if not sparse.issparse(b) else sparse.csr_matrix(b)
            b = b[keep]
            out[name] = np.asarray((b @ b.T).todense(), dtype=np.float64)
        d._cache["_kernels"] = out
    return d._cache["_kernels"]


def block_kernel(d: Data, name: str) -> np.ndarray:
    """Linear kernel (rows with text only) of any block ``Data.block`` knows, cached in memory."""
    key = f"_kernel:{name}"
    if key not in d._cache:
        b = d.block(name)
        b = sparse.csr_matrix(b)[~d.free]
        d._cache[key] = np.asarray((b @ b.T).todense(), dtype=np.float64)
    return d._cache[key]


def cosine(K: np.ndarray) -> np.ndarray:
    dg = np.sqrt(np.diag(K)).copy()
    dg[dg == 0] = 1.0
    return K / dg[:, None] / dg[None, :]


def svm_oof_kernel(K: np.ndarray, Y: np.ndarray, folds, C: float = 1.0) -> np.ndarray:
    """Out-of-fold SVM decision scores (balanced class weights) on a precomputed kernel."""
    from joblib import Parallel, delayed
    from sklearn.svm import SVC

    oof = np.full(Y.shape, -20.0)

    def one(tr, te, j):
        if Y[tr, j].sum() < 2:
            return None
        m = SVC(kernel="precomputed", C=C, class_weight="balanced").fit(K[np.ix_(tr, tr)], Y[tr, j])
        return m.decision_function(K[np.ix_(te, tr)])

    jobs = [(f, j) for f in range(len(folds)) for j in range(Y.shape[1])]
    res = Parallel(n_jobs=2, prefer="threads")(delayed(one)(folds[f][0], folds[f][1], j) for f, j in jobs)
    for (f, j), r in zip(jobs, res):
        if r is not None:
            oof[folds[f][1], j] = r
    return oof


def honest_metrics(d: Data, P: np.ndarray, folds, min_tune: int = 10) -> tuple[float, float]:
    """Macro/micro F1 with each fold's thresholds chosen on the other folds (as the product: tuned
    only for labels with enough positives, else 0.5)."""
    keep = ~d.free
    Yk = d.Y[keep]
    pred = np.zeros(Yk.shape, dtype=np.int8)
    for tr, te in folds:
        for j in range(Yk.shape[1]):
            t = 0.5
            if Yk[tr, j].sum() >= 0.8 * min_tune:
                fs = [f1_score(Yk[tr, j], P[tr, j] >= g, zero_division=0) for g in GRID]
                t = GRID[int(np.argmax(fs))]
            pred[te, j] = P[te, j] >= t
    full = np.zeros(d.Y.shape)
    full[keep] = pred
    return topic_metrics(d, full, np.full(d.Y.shape[1], 0.5))


def run_kernel(d: Data, name: str, make_kernel, C: float = 1.0, oof_fn=None) -> None:
    """Mean honest macro/micro F1 over three 5-fold splits of a kernel SVM (or of ``oof_fn``)."""
    t0 = time.perf_counter()
    keep = ~d.free
    Yk = d.Y[keep]
    K = make_kernel(kernel_blocks(d)) if make_kernel else None
    scores = []
    for seed in KSEEDS:
        folds = list(KFold(5, shuffle=True, random_state=seed).split(np.arange(keep.sum())))
        oof = oof_fn(folds) if oof_fn else svm_oof_kernel(K, Yk, folds, C)
        scores.append(honest_metrics(d, calibrate(oof, Yk), folds))
    s = np.array(scores)
    print(f"honest   {name:<58} macro {s[:, 0].mean():.3f} (seeds {np.round(s[:, 0], 3)}) micro {s[:, 1].mean():.3f}"
          f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


def lr_oof(d: Data, spec: dict, C: float = 10.0):
    keep = ~d.free
    X = d.features(spec)[keep]
    Yk = d.Y[keep]

    def fn(folds):
        oof = np.full(Yk.shape, -20.0)
        for tr, te in folds:
            for j in range(Yk.shape[1]):
                if Yk[tr, j].sum() < 2:
                    continue
                m = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=2000, tol=1e-3)
                oof[te, j] = m.fit(X[tr], Yk[tr, j]).decision_function(X[te])
        return oof

    return fn


def _rbf(K: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    return np.exp(-gamma * (2.0 - 2.0 * cosine(K)))


def _best_f1(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    fs = [f1_score(y, p >= g, zero_division=0) for g in GRID]
    k = int(np.argmax(fs))
    return fs[k], GRID[k]


def run_per_label_choice(d: Data, name: str, parts: list, min_tune: int = 10) -> None:
    """Per label, the better of several kernel SVMs, chosen (with its threshold) on the other folds."""
    t0 = time.perf_counter()
    keep = ~d.free
    Yk = d.Y[keep]
    kernels = [make(kernel_blocks(d)) for make in parts]
    scores, chosen = [], []
    for seed in KSEEDS:
        folds = list(KFold(5, shuffle=True, random_state=seed).split(np.arange(keep.sum())))
        Ps = [calibrate(svm_oof_kernel(K, Yk, folds), Yk) for K in kernels]
        pred = np.zeros(Yk.shape, dtype=np.int8)
        for tr, te in folds:
            for j in range(Yk.shape[1]):
                if Yk[tr, j].sum() < 0.8 * min_tune:
                    pred[te, j] = Ps[0][te, j] >= 0.5
                    continue
                fits = [_best_f1(Yk[tr, j], P[tr, j]) for P in Ps]
                m = int(np.argmax([f for f, _ in fits]))
                chosen.append(m)
                pred[te, j] = Ps[m][te, j] >= fits[m][1]
        full = np.zeros(d.Y.shape)
        full[keep] = pred
        scores.append(topic_metrics(d, full, np.full(d.Y.shape[1], 0.5)))
    s = np.array(scores)
    share = np.bincount(chosen, minlength=len(parts)) / max(1, len(chosen))
    print(f"honest   {name:<58} macro {s[:, 0].mean():.3f} (seeds {np.round(s[:, 0], 3)}) micro {s[:, 1].mean():.3f}"
          f"  choices {np.round(share, 2)}  ({time.perf_counter() - t0:.0f} s)", flush=True)


def run_mix(d: Data, name: str, parts: list[tuple[object, float]]) -> None:
    """Mean honest macro/micro F1 of a weighted average of kernel SVMs' calibrated probabilities."""
    t0 = time.perf_counter()
    keep = ~d.free
    Yk = d.Y[keep]
    kernels = [(make(kernel_blocks(d)), w) for make, w in parts]
    scores = []
    for seed in KSEEDS:
        folds = list(KFold(5, shuffle=True, random_state=seed).split(np.arange(keep.sum())))
        P = sum(w * calibrate(svm_oof_kernel(K, Yk, folds), Yk) for K, w in kernels) / sum(w for _, w in kernels)
        scores.append(honest_metrics(d, P, folds))
    s = np.array(scores)
    print(f"honest   {name:<58} macro {s[:, 0].mean():.3f} (seeds {np.round(s[:, 0], 3)}) micro {s[:, 1].mean():.3f}"
          f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


def experiments(d: Data, which: list[str]) -> None:
    E = {
        "t_tfidf": lambda: run_topics(d, "word+char TF-IDF, LR C=10", TFIDF),
        "t_static": lambda: run_topics(d, "+ packaged static (w=1) [default]", {**TFIDF, "static": 1.0}),
        "t_static2": lambda: run_topics(d, "+ packaged static (w=2)", {**TFIDF, "static": 2.0}),
        "t_static05": lambda: run_topics(d, "+ packaged static (w=0.5)", {**TFIDF, "static": 0.5}),
        "t_minilm": lambda: run_topics(d, "+ MiniLM (w=1) [accurate mode]", {**TFIDF, "minilm": 1.0}),
        "t_minilm2": lambda: run_topics(d, "+ MiniLM (w=2)", {**TFIDF, "minilm": 2.0}),
        "t_question": lambda: run_topics(d, "+ static + FFT question type", {**TFIDF, "static": 1.0, "question": 1.0}),
        "t_score": lambda: run_topics(d, "+ static + FFT score", {**TFIDF, "static": 1.0, "score": 1.0}),
        "t_C4": lambda: run_topics(d, "+ static, C=4", {**TFIDF, "static": 1.0}, C=4.0),
        "t_C30": lambda: run_topics(d, "+ static, C=30", {**TFIDF, "static": 1.0}, C=30.0),
        "t_noweight": lambda: run_topics(d, "+ static, no class weights", {**TFIDF, "static": 1.0}, class_weight=None),
        "t_global": lambda: run_topics(d, "+ static, one global threshold", {**TFIDF, "static": 1.0}, strategy="global"),
        "t_shrunk": lambda: run_topics(d, "+ static, per-label thresholds shrunk to global", {**TFIDF, "static": 1.0}, strategy="shrunk"),
        "t_ens": lambda: run_topics(d, "ensemble: TF-IDF LR + static-emb LR (avg)", TFIDF, ensemble=({"static": 1.0}, 10.0, 0.5)),
        "t_ens_minilm": lambda: run_topics(d, "ensemble: TF-IDF LR + MiniLM LR (avg)", TFIDF, ensemble=({"minilm": 1.0}, 10.0, 0.5)),
        "t_stack": lambda: run_stacked(d, "+ static, stacked co-occurrence (mix 0.5)", {**TFIDF, "static": 1.0}),
        "t_stack_only": lambda: run_stacked(d, "+ static, stacked co-occurrence only", {**TFIDF, "static": 1.0}, mix=1.0),
        "c_tfidf": lambda: run_cached_ensemble(d, "TF-IDF LR (cached)", {"tfidf": (TFIDF, 1)}),
        "c_static": lambda: run_cached_ensemble(d, "TF-IDF+static LR (cached)", {"tfidf_static": ({**TFIDF, "static": 1.0}, 1)}),
        "c_minilm": lambda: run_cached_ensemble(d, "TF-IDF+MiniLM LR (cached)", {"tfidf_minilm": ({**TFIDF, "minilm": 1.0}, 1)}),
        "c_question": lambda: run_cached_ensemble(d, "TF-IDF+static+question LR", {"tfidf_static_q": ({**TFIDF, "static": 1.0, "question": 1.0}, 1)}),
        "c_ens_ts": lambda: run_cached_ensemble(d, "avg(TF-IDF LR, static-only LR)", {"tfidf": (TFIDF, 1), "static_only": ({"static": 1.0}, 1)}),
        "c_ens_tsm": lambda: run_cached_ensemble(d, "avg(TF-IDF+static LR, TF-IDF+MiniLM LR)", {"tfidf_static": ({**TFIDF, "static": 1.0}, 1), "tfidf_minilm": ({**TFIDF, "minilm": 1.0}, 1)}),
        "c_ens_tm": lambda: run_cached_ensemble(d, "avg(TF-IDF LR, MiniLM-only LR)", {"tfidf": (TFIDF, 1), "minilm_only": ({"minilm": 1.0}, 1)}),
        "c_ens_3": lambda: run_cached_ensemble(d, "avg(TF-IDF+static LR, static-only LR)", {"tfidf_static": ({**TFIDF, "static": 1.0}, 1), "static_only": ({"static": 1.0}, 1)}),
        "nb_static": lambda: run_nb(d, "NB-LR: TF-IDF(NB-scaled)+static, C=10", {**TFIDF, "static": 1.0}, key="nb_static"),
        "nb_static_C1": lambda: run_nb(d, "NB-LR: TF-IDF(NB-scaled)+static, C=1", {**TFIDF, "static": 1.0}, C=1.0, key="nb_static_C1"),
        "c_ens_nb": lambda: run_cached_ensemble(d, "avg(TF-IDF+static LR, NB-LR)", {"tfidf_static": ({**TFIDF, "static": 1.0}, 1), "nb_static": ({}, 1)}),
        "p_static": lambda: run_postprocessing(d),
        "p_minilm": lambda: run_postprocessing(d, "tfidf_minilm", {**TFIDF, "minilm": 1.0}),
        "s_default": lambda: run_sentiment(d, "TF-IDF + static + score, C=4 [default]", {**TFIDF, "static": 1.0, "score": 1.0}),
        "s_noscore": lambda: run_sentiment(d, "TF-IDF + static, no score", {**TFIDF, "static": 1.0}),
        "s_tfidf": lambda: run_sentiment(d, "TF-IDF + score", {**TFIDF, "score": 1.0}),
        "s_minilm": lambda: run_sentiment(d, "TF-IDF + MiniLM + score", {**TFIDF, "minilm": 1.0, "score": 1.0}),
        "s_question": lambda: run_sentiment(d, "TF-IDF + static + score + question", {**TFIDF, "static": 1.0, "score": 1.0, "question": 1.0}),
        "s_score3": lambda: run_sentiment(d, "TF-IDF + static + score x3", {**TFIDF, "static": 1.0, "score": 3.0}),
        "s_C1": lambda: run_sentiment(d, "TF-IDF + static + score, C=1", {**TFIDF, "static": 1.0, "score": 1.0}, C=1.0),
        "s_C16": lambda: run_sentiment(d, "TF-IDF + static + score, C=16", {**TFIDF, "static": 1.0, "score": 1.0}, C=16.0),
        # second round: kernel SVMs, honest thresholds, 3 seeds (see kernel_blocks)
        "k_lr": lambda: run_kernel(d, "LR C=10 word+char+static (previous default)", None, oof_fn=lr_oof(d, {**TFIDF, "static": 1.0})),
        "k_linear": lambda: run_kernel(d, "linear SVM C=1 word+char+static [default]", lambda B: B["word"] + B["char"] + B["static"]),
        "k_linear05": lambda: run_kernel(d, "linear SVM C=1 word+char+0.5 static", lambda B: B["word"] + B["char"] + 0.5 * B["static"]),
        "k_linear_qs": lambda: run_kernel(d, "linear SVM + FFT question + score (0.5 each)", lambda B: B["word"] + B["char"] + 0.5 * B["static"] + 0.5 * B["question"] + 0.5 * B["score"]),
        "k_wordpoly": lambda: run_kernel(d, "SVM, word block squared (W+W^2/2)+C+S/2", lambda B: B["word"] + 0.5 * B["word"] ** 2 + B["char"] + 0.5 * B["static"]),
        "k_poly2": lambda: run_kernel(d, "SVM poly-2 on cosine (Kn + Kn^2/2)", lambda B: (lambda Kn: Kn + 0.5 * Kn ** 2)(cosine(B["word"] + B["char"] + 0.5 * B["static"]))),
        "k_rbf": lambda: run_kernel(d, "SVM RBF (gamma 1) on cosine [accurate mode]", lambda B: _rbf(B["word"] + B["char"] + 0.5 * B["static"])),
        "k_minilm": lambda: run_kernel(d, "linear SVM word+char+0.5 MiniLM", lambda B: B["word"] + B["char"] + 0.5 * B["minilm"]),
        # third round (2026-12-02): combining the RBF default with the linear model
        "k_rbf_plus_linear": lambda: run_kernel(d, "SVM on RBF + cosine (sum kernel)", lambda B: (lambda Kb: _rbf(Kb) + cosine(Kb))(B["word"] + B["char"] + 0.5 * B["static"])),
        "k_mix_rbf_linear": lambda: run_mix(d, "avg(RBF SVM, linear SVM) probabilities", [
            (lambda B: _rbf(B["word"] + B["char"] + 0.5 * B["static"]), 1.0), (lambda B: B["word"] + B["char"] + B["static"], 1.0)]),
        "k_rbf_char36": lambda: run_kernel(d, "SVM RBF, char_wb 3-6 instead of 2-5", lambda B: _rbf(B["word"] + block_kernel(d, "char:3-6") + 0.5 * B["static"])),
        "k_rbf_char14": lambda: run_kernel(d, "SVM RBF, char_wb 1-4 instead of 2-5", lambda B: _rbf(B["word"] + block_kernel(d, "char:1-4") + 0.5 * B["static"])),
        "k_rbf_word13": lambda: run_kernel(d, "SVM RBF, word 1-3 instead of 1-2", lambda B: _rbf(block_kernel(d, "word:1-3") + B["char"] + 0.5 * B["static"])),
        "k_rbf_word11": lambda: run_kernel(d, "SVM RBF, word unigrams only", lambda B: _rbf(block_kernel(d, "word:1-1") + B["char"] + 0.5 * B["static"])),
        "k_rbf_mindf1": lambda: run_kernel(d, "SVM RBF, word 1-2 with min_df 1", lambda B: _rbf(block_kernel(d, "word:1-2:1") + B["char"] + 0.5 * B["static"])),
        "k_rbf_static1": lambda: run_kernel(d, "SVM RBF, static weight 1 (as the product)", lambda B: _rbf(B["word"] + B["char"] + B["static"])),
        "k_rbf_nochar": lambda: run_kernel(d, "SVM RBF, no char block", lambda B: _rbf(B["word"] + 0.5 * B["static"])),
        "k_choose_rbf_linear": lambda: run_per_label_choice(d, "per label: RBF or linear SVM, chosen on other folds", [
            lambda B: _rbf(B["word"] + B["char"] + 0.5 * B["static"]), lambda B: B["word"] + B["char"] + B["static"]]),
        "k_rbf_g15": lambda: run_kernel(d, "SVM RBF (gamma 1.5) on cosine", lambda B: _rbf(B["word"] + B["char"] + 0.5 * B["static"], 1.5)),
        "k_rbf_minilm": lambda: run_kernel(d, "SVM RBF on cosine, MiniLM instead of static", lambda B: _rbf(B["word"] + B["char"] + 0.5 * B["minilm"])),
    }
    for key in which or list(E):
        E[key]()


if __name__ == "__main__":
    experiments(Data(), sys.argv[1:])
