"""Sentiment research: cross-validation on the TRAINING part only, plus the behavioural suite's DEV part.

    nice .venv/bin/python benchmarks/feedback_research_sentiment.py [EXPERIMENT ...]

Each experiment prints, for one sentiment design:
- 5-class and 3-class macro F1, out-of-fold (5-fold stratified, seeds 0 and 1) on the rows of the
  benchmark's training part that have text and a coder's sentiment, with and without the FFT score;
- the sentiment tests of the behavioural suite's DEV part (plain, negation, directional, FFT score,
  FFT ties), for the design fitted on the whole training part.
The held-out part of the split (benchmarks/feedback.py) and the suite's held-out part are never read.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback import DEFAULT_DATA, fixed_split, load_data, sentiment_values  # noqa: E402

SENTIMENT_TESTS = ("plain_sentiment", "negation_sentiment", "directional", "fft_score", "fft_ties")
CLASSES = np.array([1, 2, 3, 4, 5])


class Data:
    def __init__(self) -> None:
        from carelens.feedback.features import TextFeatures, normalise_fft_score
        from carelens.feedback.text import clean_texts, content_free_mask

        frame, Y, _ = load_data(DEFAULT_DATA)
        train, _ = fixed_split(Y)  # the held-out part is never touched here
        frame = frame.iloc[train].reset_index(drop=True)
        texts = frame["FFT answer"].tolist()
        keep = ~content_free_mask(texts)
        self.all_texts = clean_texts([t for t, k in zip(texts, keep) if k])  # what the product fits its features on
        y = sentiment_values(frame)
        ok = keep & ~np.isnan(y)
        self.texts = clean_texts([t for t, k in zip(texts, ok) if k])
        self.y = y[ok].astype(int)
        self.Y = Y[train][ok]  # v7 topic labels of the same rows
        self.scores = normalise_fft_score(frame["FFT categorical answer"].to_numpy()[ok])
        from carelens.feedback.behaviour import part_texts

        self.suite_texts = list(dict.fromkeys(part_texts("dev")))
        t0 = time.perf_counter()
        self.features = TextFeatures().fit(self.all_texts)
        self.X = self.features.transform(self.texts)
        self.X_suite = self.features.transform(self.suite_texts)
        print(f"{len(self.texts)} rows with sentiment; features in {time.perf_counter() - t0:.0f} s", flush=True)


def score_onehot(scores) -> sparse.csr_matrix:
    from carelens.feedback.features import fft_score_onehot

    return fft_score_onehot(pd.DataFrame({"fft_score": list(scores)}))


def fit_lr(X, y, C=4.0, sample_weight=None, class_weight="balanced"):
    if class_weight == "sqrt":  # half-way between none and balanced
        counts = np.bincount(y, minlength=6)
        class_weight = {int(c): float(np.sqrt(len(y) / (5 * counts[c]))) for c in np.unique(y)}
    return LogisticRegression(C=C, class_weight=class_weight, max_iter=3000, tol=1e-3).fit(X, y, sample_weight=sample_weight)


def full_proba(model, X) -> np.ndarray:
    proba = model.predict_proba(X)
    out = np.zeros((X.shape[0], 5))
    out[:, np.searchsorted(CLASSES, model.classes_)] = proba
    return out


def score_likelihood(y, scores) -> dict[str, np.ndarray]:
    """log P(class | score) - log P(class), Laplace-smoothed, per FFT score value ("" = none)."""
    prior = np.bincount(y, minlength=6)[1:] + 1.0
    prior /= prior.sum()
    out = {"": np.zeros(5)}
    for s in ("1", "2", "3", "4", "5", "6"):
        counts = np.bincount(y[scores == s], minlength=6)[1:] + 1.0
        out[s] = np.log(counts / counts.sum()) - np.log(prior)
    return out


def combine(p_text: np.ndarray, scores, lik: dict, weight: float, gate: float | None) -> np.ndarray:
    """Text probabilities times the score's likelihood ratio (naive Bayes); the gate keeps a clear
    text direction: when P(positive) or P(negative) of the text alone >= gate, only that side's classes."""
    logp = np.log(np.clip(p_text, 1e-9, 1)) + weight * np.stack([lik.get(s, lik[""]) for s in scores])
    if gate is not None:
        pos, neg = p_text[:, :2].sum(axis=1), p_text[:, 3:].sum(axis=1)
        logp[pos >= gate, 2:] = -np.inf
        logp[neg >= gate, :3] = -np.inf
    p = np.exp(logp - logp.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def macro(y, pred) -> tuple[float, float]:
    from carelens.feedback.sentiment import to_three_classes

    return f1_score(y, pred, average="macro"), f1_score(to_three_classes(y), to_three_classes(pred), average="macro")


class SuiteAdapter:
    """What run_suite needs of a model: sentiment (and its probabilities) for texts and scores."""

    def __init__(self, predict) -> None:
        self.predict = predict  # (texts, scores or None) -> (n, 5) probabilities

    def classify(self, texts, fft_scores=None):
        p = self.predict(list(texts), None if fft_scores is None else [str(s) for s in fft_scores])
        return pd.DataFrame({"topics": [[] for _ in texts], "sentiment": CLASSES[p.argmax(axis=1)],
                             "sentiment_probabilities": [dict(zip(CLASSES.tolist(), row)) for row in p.tolist()]})


def suite_rates(predict) -> dict[str, float]:
    from carelens.feedback.behaviour import run_suite

    rates = run_suite(SuiteAdapter(predict), parts=["dev"]).rates("dev")
    return {t: rates[t]["rate"] for t in SENTIMENT_TESTS}


def report(name: str, rows: list[tuple[float, ...]], suite: dict[str, float], t0: float) -> None:
    r = np.array(rows).mean(axis=0)
    s = " ".join(f"{k.replace('_sentiment', '')} {v:.0%}" for k, v in suite.items())
    print(f"{name:<52} score: 5c {r[0]:.3f} 3c {r[1]:.3f} | none: 5c {r[2]:.3f} 3c {r[3]:.3f} | dev suite: {s}"
          f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


def run_product(d: Data, name="product: LR [text | score], 25% scores hidden") -> None:
    """Today's model: one LR over text features + FFT score one-hot (a quarter of scores hidden)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)

    def design(X, scores):
        return sparse.hstack([X, score_onehot(scores)], format="csr")

    rows = []
    for seed in (0, 1):
        p_s, p_n = np.zeros((len(d.y), 5)), np.zeros((len(d.y), 5))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(d.X, d.y):
            hidden = np.where(rng.random(len(tr)) < 0.25, "", d.scores[tr])
            m = fit_lr(design(d.X[tr], hidden), d.y[tr])
            p_s[te] = full_proba(m, design(d.X[te], d.scores[te]))
            p_n[te] = full_proba(m, design(d.X[te], [""] * len(te)))
        rows.append((*macro(d.y, CLASSES[p_s.argmax(1)]), *macro(d.y, CLASSES[p_n.argmax(1)])))
    hidden = np.where(rng.random(len(d.y)) < 0.25, "", d.scores)
    m = fit_lr(design(d.X, hidden), d.y)
    index = {t: i for i, t in enumerate(d.suite_texts)}

    def predict(texts, scores):
        X = d.X_suite[[index[t] for t in texts]]
        return full_proba(m, design(X, scores if scores is not None else [""] * len(texts)))

    report(name, rows, suite_rates(predict), t0)


def topic_balance_weights(Y: np.ndarray, y: np.ndarray, power: float = 1.0) -> np.ndarray:
    """Row weights that give each topic's praise and complaints the same total weight, so topic
    words stop predicting the direction (neutral rows and rows with no topic keep weight 1)."""
    side = np.where(y <= 2, 0, np.where(y >= 4, 1, -1))
    w = np.ones(len(y))
    for i in np.flatnonzero(side >= 0):
        labels = np.flatnonzero(Y[i])
        if not len(labels):
            continue
        ratios = []
        for j in labels:
            n_side = ((Y[:, j] > 0) & (side == side[i])).sum()
            n_all = ((Y[:, j] > 0) & (side >= 0)).sum()
            ratios.append(n_all / (2.0 * n_side))
        w[i] = float(np.clip(np.mean(ratios), 0.2, 5.0)) ** power
    return w


def run_text_first(d: Data, name: str, extra=None, C=4.0, weight=1.0, gate=0.6, aug=None, aug_weight=1.0, grid=False,
                   row_weights=None, class_weight="balanced") -> None:
    """Text-only LR (optionally + an extra block), then the FFT score as a likelihood ratio, gated.

    ``extra(texts_fit, texts) -> block``: fitted on the training rows of each fold.
    ``aug``: (texts, labels) of extra training rows (never suite items), weighted ``aug_weight``.
    """
    t0 = time.perf_counter()

    def design(fit_texts, texts, X):
        if extra is None:
            return X, None
        block = extra(fit_texts)
        return sparse.hstack([X, block.transform(texts)], format="csr"), block

    aug_texts, aug_y = aug if aug is not None else ([], np.zeros(0, dtype=int))
    X_aug = d.features.transform(aug_texts) if aug_texts else None
    rows = []
    for seed in (0, 1):
        p = np.zeros((len(d.y), 5))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(d.X, d.y):
            fit_texts = [d.texts[i] for i in tr] + list(aug_texts)
            X_tr = d.X[tr] if X_aug is None else sparse.vstack([d.X[tr], X_aug], format="csr")
            y_tr = np.concatenate([d.y[tr], aug_y])
            w = np.concatenate([np.ones(len(tr)) if row_weights is None else row_weights[tr], np.full(len(aug_y), aug_weight)])
            A, block = design(fit_texts, fit_texts, X_tr)
            m = fit_lr(A, y_tr, C, sample_weight=w, class_weight=class_weight)
            B = d.X[te] if block is None else sparse.hstack([d.X[te], block.transform([d.texts[i] for i in te])], format="csr")
            p[te] = full_proba(m, B)
        # the score's likelihood ratio from the training rows (over the whole part: a 6 x 5 table)
        lik = score_likelihood(d.y, d.scores)
        with_score = combine(p, d.scores, lik, weight, gate)
        rows.append((*macro(d.y, CLASSES[with_score.argmax(1)]), *macro(d.y, CLASSES[p.argmax(1)])))
        if grid:  # other score weights and gates on the same out-of-fold text probabilities
            cells = []
            for w in (0.5, 1.0, 1.5, 2.0):
                for g in (None, 0.6, 0.7, 0.8, 0.9):
                    cells.append(f"w{w} g{g}: {macro(d.y, CLASSES[combine(p, d.scores, lik, w, g).argmax(1)])[0]:.3f}")
            print(f"    seed {seed} grid: " + ", ".join(cells), flush=True)
    fit_texts = list(d.texts) + list(aug_texts)
    X_all = d.X if X_aug is None else sparse.vstack([d.X, X_aug], format="csr")
    A, block = design(fit_texts, fit_texts, X_all)
    m = fit_lr(A, np.concatenate([d.y, aug_y]), C, class_weight=class_weight,
               sample_weight=np.concatenate([np.ones(len(d.y)) if row_weights is None else row_weights, np.full(len(aug_y), aug_weight)]))
    lik = score_likelihood(d.y, d.scores)
    index = {t: i for i, t in enumerate(d.suite_texts)}

    def predict(texts, scores):
        X = d.X_suite[[index[t] for t in texts]]
        if block is not None:
            X = sparse.hstack([X, block.transform(texts)], format="csr")
        p = full_proba(m, X)
        return p if scores is None else combine(p, scores, lik, weight, gate)

    report(name, rows, suite_rates(predict), t0)


def with_direction(p5: np.ndarray, d_pos: np.ndarray, sharpen: float = 1.0) -> np.ndarray:
    """Keep the 5-class model's neutral mass and its split within each side; let the direction
    model share the rest between the positive and the negative side."""
    out = p5.copy()
    side = 1.0 - p5[:, 2]
    pos, neg = p5[:, :2].sum(axis=1), p5[:, 3:].sum(axis=1)
    dp = d_pos ** sharpen / (d_pos ** sharpen + (1 - d_pos) ** sharpen)
    out[:, :2] = p5[:, :2] / np.maximum(pos, 1e-9)[:, None] * (side * dp)[:, None]
    out[:, 3:] = p5[:, 3:] / np.maximum(neg, 1e-9)[:, None] * (side * (1 - dp))[:, None]
    return out


def run_two_models(d: Data, name: str, C=4.0, aug_weight_5=0.0, aug_weight_d=1.0, gate=0.8, weight=1.0, lexicon_weight=1.0) -> None:
    """A 5-class text LR for neutral vs sided and intensity, a binary direction LR (real polarised
    rows + synthetic sentences) for the side; then the FFT score's likelihood ratio, gated."""
    from carelens.feedback.polarity import PolarityFeatures

    t0 = time.perf_counter()
    aug_texts, aug_y = augmented()
    X_aug = d.features.transform(aug_texts)
    sided_aug = aug_y != 3

    def fit_pair(idx):
        texts = [d.texts[i] for i in idx] + list(aug_texts)
        block = PolarityFeatures(lexicon_weight=lexicon_weight).fit(texts)
        A = sparse.hstack([sparse.vstack([d.X[idx], X_aug]), block.transform(texts)], format="csr")
        n = len(idx)
        y_all = np.concatenate([d.y[idx], aug_y])
        w5 = np.concatenate([np.ones(n), np.full(len(aug_y), aug_weight_5)])
        keep5 = w5 > 0
        m5 = fit_lr(A[keep5], y_all[keep5], C, sample_weight=w5[keep5])
        sided = np.concatenate([d.y[idx] != 3, sided_aug])
        wd = np.concatenate([np.ones(n), np.full(len(aug_y), aug_weight_d)])
        md = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, tol=1e-3).fit(
            A[sided], (y_all[sided] <= 2).astype(int), sample_weight=wd[sided])
        return block, m5, md

    def predict_text(block, m5, md, X, texts):
        A = sparse.hstack([X, block.transform(texts)], format="csr")
        return with_direction(full_proba(m5, A), md.predict_proba(A)[:, 1])

    rows = []
    for seed in (0, 1):
        p = np.zeros((len(d.y), 5))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(d.X, d.y):
            block, m5, md = fit_pair(tr)
            p[te] = predict_text(block, m5, md, d.X[te], [d.texts[i] for i in te])
        lik = score_likelihood(d.y, d.scores)
        rows.append((*macro(d.y, CLASSES[combine(p, d.scores, lik, weight, gate).argmax(1)]), *macro(d.y, CLASSES[p.argmax(1)])))
        cells = [f"w{w} g{g}: {macro(d.y, CLASSES[combine(p, d.scores, lik, w, g).argmax(1)])[0]:.3f}"
                 for w in (1.0, 1.5) for g in (None, 0.6, 0.7, 0.8)]
        print(f"    seed {seed} grid: " + ", ".join(cells), flush=True)
    block, m5, md = fit_pair(np.arange(len(d.y)))
    lik = score_likelihood(d.y, d.scores)
    index = {t: i for i, t in enumerate(d.suite_texts)}

    def predict(texts, scores):
        p = predict_text(block, m5, md, d.X_suite[[index[t] for t in texts]], texts)
        return p if scores is None else combine(p, scores, lik, weight, gate)

    report(name, rows, suite_rates(predict), t0)


def polarity(**kw):
    from carelens.feedback.polarity import PolarityFeatures

    return lambda texts: PolarityFeatures(**kw).fit(texts)


def augmented():
    """The synthetic sentences, minus any comment of the behavioural suite (both parts)."""
    from carelens.feedback.augment import synthetic_sentiment_examples
    from carelens.feedback.behaviour import part_texts

    return synthetic_sentiment_examples(exclude=part_texts("dev") + part_texts("heldout"))


def without_char_block(d: Data) -> Data:
    """The same rows with the character n-gram block dropped (word n-grams + embedding only)."""
    import copy

    n_word, n_char = len(d.features.word_.vocabulary_), len(d.features.char_.vocabulary_)
    keep = np.r_[0:n_word, n_word + n_char:d.X.shape[1]]
    slim = copy.copy(d)
    slim.X, slim.X_suite = d.X[:, keep], d.X_suite[:, keep]
    slim.features = copy.copy(d.features)
    slim.features.transform = lambda texts: d.features.transform(texts)[:, keep]
    return slim


def experiments(d: Data, which: list[str]) -> None:
    E = {
        "aug03_g8": lambda: run_text_first(d, "product (issue 11): NOT_ + lexicon x1 + synthetic x0.3, gate 0.8", polarity(lexicon_weight=1.0),
                                           aug=augmented(), aug_weight=0.3, gate=0.8),
        "aug03_nochar": lambda: run_text_first(without_char_block(d), "product without the char block", polarity(lexicon_weight=1.0),
                                               aug=augmented(), aug_weight=0.3, gate=0.8),
        "aug03_C1": lambda: run_text_first(d, "product, C=1", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3, gate=0.8, C=1.0),
        "aug03_C16": lambda: run_text_first(d, "product, C=16", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3, gate=0.8, C=16.0),
        "aug03_C2": lambda: run_text_first(d, "product, C=2", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3, gate=0.8, C=2.0),
        "aug05_g8": lambda: run_text_first(d, "product with synthetic x0.5", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.5, gate=0.8),
        "product": lambda: run_product(d),
        "text": lambda: run_text_first(d, "text LR, score x1 likelihood, gate 0.6"),
        "text_nogate": lambda: run_text_first(d, "text LR, score x1 likelihood, no gate", gate=None),
        "neg": lambda: run_text_first(d, "text + NOT_ words", polarity(lexicon_weight=0.0)),
        "lex1": lambda: run_text_first(d, "text + NOT_ words + lexicon x1", polarity(lexicon_weight=1.0)),
        "lex3": lambda: run_text_first(d, "text + NOT_ words + lexicon x3", polarity(lexicon_weight=3.0)),
        "lex3_only": lambda: run_text_first(d, "text + lexicon x3 (no NOT_ words)", polarity(lexicon_weight=3.0, negated_words=False)),
        "aug03": lambda: run_text_first(d, "text + NOT_ + lexicon x1 + synthetic x0.3", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3),
        "aug1": lambda: run_text_first(d, "text + NOT_ + lexicon x1 + synthetic x1", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=1.0),
        "aug01_grid": lambda: run_text_first(d, "text + NOT_ + lexicon x1 + synthetic x0.1", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.1, grid=True),
        "aug03_grid": lambda: run_text_first(d, "text + NOT_ + lexicon x1 + synthetic x0.3", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3, grid=True),
        "two": lambda: run_two_models(d, "5-class (real) + direction (real + synthetic x1)"),
        "two_a03": lambda: run_two_models(d, "5-class (real + syn x0.3) + direction (real + syn x1)", aug_weight_5=0.3),
        "two_d3": lambda: run_two_models(d, "5-class (real) + direction (real + synthetic x3)", aug_weight_d=3.0),
        "aug03_tb": lambda: run_text_first(d, "aug x0.3 + topic-balanced rows", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3, gate=0.8, grid=True,
                                           row_weights=topic_balance_weights(d.Y, d.y)),
        "aug03_tb05": lambda: run_text_first(d, "aug x0.3 + topic-balanced rows (power 0.5)", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3, gate=0.8, grid=True,
                                             row_weights=topic_balance_weights(d.Y, d.y, 0.5)),
        "aug03_sqrtcw": lambda: run_text_first(d, "aug x0.3 + sqrt class weights", polarity(lexicon_weight=1.0), aug=augmented(), aug_weight=0.3, gate=0.8, grid=True,
                                               class_weight="sqrt"),
        "aug1_nolex": lambda: run_text_first(d, "text + synthetic x1 (no polarity block)", aug=augmented(), aug_weight=1.0),
    }
    for key in which or list(E):
        E[key]()


if __name__ == "__main__":
    experiments(Data(), sys.argv[1:])
