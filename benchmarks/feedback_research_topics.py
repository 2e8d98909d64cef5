"""Topic research, round 4: the framework's examples as training rows, scored by cross-validation on
the TRAINING part only and on the behavioural suite's DEV part.

    nice .venv/bin/python benchmarks/feedback_research_topics.py [EXPERIMENT ...]

Each experiment trains the product's topic model design (RBF-kernel SVM per label on cosine of
word + char + static features, Platt scaling, per-label thresholds) and prints:
- honest macro / micro F1 over the real comments of the training part (5-fold, seeds 11/22/33 as
  in feedback_research.py: each fold's thresholds are chosen on the other folds' out-of-fold
  probabilities; the framework examples are added to every training fold, never scored);
- the topic tests of the behavioural suite's DEV part (plain_topic, negation_topic), for the model
  fitted on the whole training part with thresholds from its out-of-fold probabilities.
The held-out part of the split and the suite's held-out part are never read.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback import DEFAULT_DATA, fixed_split, load_data  # noqa: E402

SEEDS = (11, 22, 33)
GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


class Data:
    def __init__(self, examples_from: str | None = None) -> None:
        from carelens.feedback import load_framework
        from carelens.feedback.behaviour import load_part, part_texts
        from carelens.feedback.text import clean_texts, content_free_mask

        frame, Y, names = load_data(DEFAULT_DATA)
        train, _ = fixed_split(Y)  # the held-out part is never touched here
        framework = load_framework(examples_from)
        self.labels = framework.learnable_labels
        cols = [names.index(n) for n in self.labels]
        texts = frame["FFT answer"].iloc[train].tolist()
        keep = ~content_free_mask(texts)
        self.texts = clean_texts([t for t, k in zip(texts, keep) if k])
        self.Y = Y[train][keep][:, cols]
        self.ex_texts = [ex for label in framework.labels if label.name in self.labels for ex in label.examples]
        self.ex_Y = np.zeros((len(self.ex_texts), len(self.labels)), dtype=np.int8)
        k = 0
        for label in framework.labels:
            if label.name in self.labels:
                for _ in label.examples:
                    self.ex_Y[k, self.labels.index(label.name)] = 1
                    k += 1
        dev = load_part("dev")
        self.suite: list[tuple[str, str]] = []  # (text, expected topic) for plain and negation comments
        for topic, sides in dev["plain"].items():
            for items in sides.values():
                self.suite.extend((next(iter(item.values())), topic) for item in items)
        self.suite.extend((e["text"], e["topic"]) for e in dev["negation"])
        assert not set(part_texts("heldout")) & set(self.ex_texts)
        print(f"{len(self.texts)} comments, {len(self.ex_texts)} framework examples, {len(self.suite)} suite comments", flush=True)


def kernel(d: Data, gamma: float = 1.0, static_weight: float = 1.0, linear: bool = False):
    """RBF on cosine over [real; examples; suite] rows, features fitted on real + examples (as the product)."""
    from carelens.feedback.features import TextFeatures

    fit_texts = d.texts + d.ex_texts
    features = TextFeatures(embedding_weight=static_weight).fit(fit_texts)
    X = normalize(features.transform(fit_texts + [t for t, _ in d.suite])).astype(np.float32)
    S = np.asarray((X @ X.T).todense(), dtype=np.float64)
    return S if linear else np.exp(2.0 * gamma * (S - 1.0))


def fit_scores(K, train_rows, test_rows, Y, sample_weight, C=1.0, n_jobs=2):
    """Decision scores of one SVM per label on ``test_rows``."""
    def one(j):
        y = Y[train_rows, j]
        if y.sum() < 2:
            return np.full(len(test_rows), -20.0)
        m = SVC(kernel="precomputed", C=C, class_weight="balanced", cache_size=50)
        m.fit(K[np.ix_(train_rows, train_rows)], y, sample_weight=sample_weight)
        return m.decision_function(K[np.ix_(test_rows, train_rows)])

    return np.stack(Parallel(n_jobs=n_jobs, prefer="threads")(delayed(one)(j) for j in range(Y.shape[1])), axis=1)


def krr_scores(K, train_rows, test_rows, Y, sample_weight, lam=1.0, n_jobs=2):
    """Kernel ridge regression on +-1 targets, every label from one Cholesky factorisation."""
    from scipy.linalg import cho_factor, cho_solve

    Kt = K[np.ix_(train_rows, train_rows)].astype(np.float64)
    Kt[np.diag_indices_from(Kt)] += lam / np.asarray(sample_weight, dtype=np.float64)
    T = 2.0 * Y[train_rows].astype(np.float64) - 1.0
    A = cho_solve(cho_factor(Kt, lower=True, overwrite_a=True, check_finite=False), T, check_finite=False)
    return K[np.ix_(test_rows, train_rows)] @ A


def platt(oof, Y):
    out = np.zeros_like(oof)
    params = []
    for j in range(Y.shape[1]):
        if Y[:, j].sum() < 2:
            params.append((1.0, 0.0))
            continue
        m = LogisticRegression(C=100.0).fit(oof[:, [j]], Y[:, j])
        params.append((m.coef_[0, 0], m.intercept_[0]))
        out[:, j] = m.predict_proba(oof[:, [j]])[:, 1]
    return out, np.array(params)


def best_thresholds(P, Y, min_tune=10):
    th = np.full(Y.shape[1], 0.5)
    for j in range(Y.shape[1]):
        if Y[:, j].sum() >= min_tune:
            fs = [f1_score(Y[:, j], P[:, j] >= g, zero_division=0) for g in GRID]
            th[j] = GRID[int(np.argmax(fs))]
    return th


def run(d: Data, name: str, example_weight: float = 1.0, C: float = 1.0, gamma: float = 1.0, with_examples: bool = True,
        static_weight: float = 1.0, ridge: float | None = None, linear: bool = False) -> None:
    """``ridge``: kernel ridge regression with this penalty instead of the SVMs; ``linear``: the
    cosine kernel itself instead of the RBF."""
    t0 = time.perf_counter()
    K = kernel(d, gamma, static_weight, linear)
    n, e = len(d.texts), len(d.ex_texts)
    real, ex = np.arange(n), np.arange(n, n + e)
    suite_rows = np.arange(n + e, K.shape[0])
    Y_all = np.vstack([d.Y, d.ex_Y])
    scores = []
    for seed in SEEDS:
        folds = list(KFold(5, shuffle=True, random_state=seed).split(real))
        oof = np.full(d.Y.shape, -20.0)
        for tr, te in folds:
            rows = np.concatenate([tr, ex]) if with_examples else tr
            w = np.concatenate([np.ones(len(tr)), np.full(len(ex) if with_examples else 0, example_weight)])
            oof[te] = fit_scores(K, rows, te, Y_all, w, C) if ridge is None else krr_scores(K, rows, te, Y_all, w, ridge)
        P, _ = platt(oof, d.Y)
        pred = np.zeros(d.Y.shape, dtype=np.int8)
        for tr, te in folds:  # honest: each fold's thresholds from the other folds
            pred[te] = P[te] >= best_thresholds(P[tr], d.Y[tr], min_tune=8)
        present = d.Y.sum(axis=0) > 0
        scores.append((f1_score(d.Y[:, present], pred[:, present], average="macro", zero_division=0),
                       f1_score(d.Y, pred, average="micro", zero_division=0)))
    s = np.array(scores)
    # the whole training part (+ examples): suite topics, thresholds from the last seed's out-of-fold
    rows = np.concatenate([real, ex]) if with_examples else real
    w = np.concatenate([np.ones(n), np.full(len(ex) if with_examples else 0, example_weight)])
    raw = fit_scores(K, rows, suite_rows, Y_all, w, C) if ridge is None else krr_scores(K, rows, suite_rows, Y_all, w, ridge)
    _, params = platt(oof, d.Y)
    proba = 1.0 / (1.0 + np.exp(-(raw * params[:, 0] + params[:, 1])))
    th = best_thresholds(P, d.Y)
    hits = [proba[k, d.labels.index(topic)] >= th[d.labels.index(topic)] for k, (_, topic) in enumerate(d.suite)]
    print(f"{name:<56} macro {s[:, 0].mean():.3f} (seeds {np.round(s[:, 0], 3)}) micro {s[:, 1].mean():.3f} | "
          f"dev suite topic right {np.mean(hits):.0%} ({time.perf_counter() - t0:.0f} s)", flush=True)


def experiments(which: list[str]) -> None:
    d = Data()
    E = {
        "none": lambda: run(d, "RBF, no framework examples", with_examples=False),
        "ex1": lambda: run(d, "RBF + framework examples (weight 1)"),
        "ex3": lambda: run(d, "RBF + framework examples (weight 3)", example_weight=3.0),
        "ex10": lambda: run(d, "RBF + framework examples (weight 10)", example_weight=10.0),
        "krr1": lambda: run(d, "RBF kernel ridge (lambda 1) + examples", ridge=1.0),
        "krr03": lambda: run(d, "RBF kernel ridge (lambda 0.3) + examples", ridge=0.3),
        "krr3": lambda: run(d, "RBF kernel ridge (lambda 3) + examples", ridge=3.0),
        "krr01": lambda: run(d, "RBF kernel ridge (lambda 0.1) + examples", ridge=0.1),
        "krr015": lambda: run(d, "RBF kernel ridge (lambda 0.15) + examples", ridge=0.15),
        "krr03_g15": lambda: run(d, "RBF (gamma 1.5) kernel ridge (lambda 0.3) + examples", ridge=0.3, gamma=1.5),
        "krr03_g07": lambda: run(d, "RBF (gamma 0.7) kernel ridge (lambda 0.3) + examples", ridge=0.3, gamma=0.7),
        "krr03_ex3": lambda: run(d, "RBF kernel ridge (lambda 0.3) + examples weight 3", ridge=0.3, example_weight=3.0),
        "krr_lin01": lambda: run(d, "linear (cosine) kernel ridge (lambda 0.1) + examples", ridge=0.1, linear=True),
        "krr_lin1": lambda: run(d, "linear (cosine) kernel ridge (lambda 1) + examples", ridge=1.0, linear=True),
    }
    for key in which or list(E):
        E[key]()


if __name__ == "__main__":
    experiments(sys.argv[1:])
