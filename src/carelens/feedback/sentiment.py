"""Sentiment classifier: 1 very positive ... 5 very negative (3 = mixed or neutral), text first.

Why this design (measured in BENCHMARKS.md, "What was tried (sentiment)"):
- the text decides the direction. A multinomial logistic regression reads the shared text
  features plus a polarity block (negation scope and a polarity lexicon, ``polarity.py``), and is
  trained on the labelled comments plus synthetic plain, negated and contrasting sentences
  (``augment.py``, weight ``augment_weight``), so "not kind at all" is a complaint whatever the
  topic. The text model never sees the FFT score.
- the FFT score only breaks ties. When the export has it, the text's probabilities are multiplied
  by the score's likelihood ratio P(sentiment | score) / P(sentiment) (naive Bayes, from the
  labelled rows, weight ``score_weight``), and when the text alone is clear (P(positive) or
  P(negative) >= ``gate``) only that side's classes remain: a "very good" score cannot make "The
  food was cold" positive, nor "very poor" make "The nurses were lovely" negative. An answer to
  "What could be better?" from a happy patient stays about what could be better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression

from carelens.feedback.features import FFT_SCORES, TextFeatures, as_frame, fft_score_onehot, normalise_fft_score
from carelens.feedback.polarity import PolarityFeatures
from carelens.feedback.text import clean_texts

SENTIMENT_CLASSES = (1, 2, 3, 4, 5)
SENTIMENT_NAMES = {1: "very positive", 2: "positive", 3: "mixed / neutral", 4: "negative", 5: "very negative"}
POSITIVE_SIDE, NEGATIVE_SIDE = slice(0, 2), slice(3, 5)


def to_three_classes(values) -> np.ndarray:
    """1-2 positive, 3 neutral/mixed, 4-5 negative (as 1, 2, 3)."""
    v = np.asarray(values)
    return np.select([v <= 2, v == 3], [1, 2], 3)


def score_log_ratios(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """(1 + len(FFT_SCORES), 5): row 0 zeros (no score), then log P(class | score) - log P(class).

    Laplace-smoothed counts from the labelled rows, so a score seen a few times moves little.
    """
    prior = np.bincount(y, minlength=6)[1:] + 1.0
    table = np.zeros((1 + len(FFT_SCORES), len(SENTIMENT_CLASSES)))
    for k, s in enumerate(FFT_SCORES, start=1):
        counts = np.bincount(y[scores == s], minlength=6)[1:] + 1.0
        table[k] = np.log(counts / counts.sum()) - np.log(prior / prior.sum())
    return table


def gated(p_text: np.ndarray, log_ratio: np.ndarray, weight: float, gate: float) -> np.ndarray:
    """Text probabilities times the score's likelihood ratio; a clear text keeps its side."""
    logp = np.log(np.clip(p_text, 1e-9, 1.0)) + weight * log_ratio
    clear_positive = p_text[:, POSITIVE_SIDE].sum(axis=1) >= gate
    clear_negative = p_text[:, NEGATIVE_SIDE].sum(axis=1) >= gate
    logp[clear_positive, 2:] = -np.inf
    logp[clear_negative, :3] = -np.inf
    p = np.exp(logp - logp.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


class SentimentClassifier(BaseEstimator, ClassifierMixin):
    """Predict sentiment 1..5 from the text, with the FFT score as a gated tie-breaker.

    ``features`` may be an already *fitted* TextFeatures (with ``reuse_features=True``): the
    feedback model shares one feature step between topics and sentiment so each comment is
    vectorised once. ``polarity``: add the negation/lexicon block. ``augment``: add the synthetic
    sentences (never a behavioural-suite comment) at ``augment_weight``. ``neutral_scale``: P(3)
    times this before the score is applied (1, the default, is the LR's own; 0.8 moved a few
    plain comments off 3 but cost 0.01 5-class F1 in round 3 of issue 11, so it is not used).
    """

    def __init__(
        self,
        features: TextFeatures | None = None,
        C: float = 4.0,
        use_fft_score: bool = True,
        reuse_features: bool = False,
        polarity: bool = True,
        augment: bool = True,
        augment_weight: float = 0.3,
        score_weight: float = 1.0,
        gate: float = 0.8,
        random_state: int = 0,
        neutral_scale: float = 1.0,
    ) -> None:
        self.features = features
        self.C = C
        self.use_fft_score = use_fft_score
        self.reuse_features = reuse_features
        self.polarity = polarity
        self.augment = augment
        self.augment_weight = augment_weight
        self.score_weight = score_weight
        self.gate = gate
        self.random_state = random_state
        self.neutral_scale = neutral_scale

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y) -> SentimentClassifier:
        frame = as_frame(X).reset_index(drop=True)
        y = np.asarray(y).astype(int)
        bad = ~np.isin(y, SENTIMENT_CLASSES)
        if bad.any():
            raise ValueError(f"sentiment must be 1..5; found {sorted(set(y[bad].tolist()))[:5]}")
        texts = clean_texts(frame["text"])
        if self.reuse_features and self.features is not None:
            self.features_ = self.features
        else:
            self.features_ = (clone(self.features) if self.features is not None else TextFeatures()).fit(frame)
        weights = np.ones(len(y))
        fit_texts, fit_y = list(texts), y
        self.n_synthetic_ = 0
        if self.augment:
            from carelens.feedback.augment import synthetic_sentiment_examples
            from carelens.feedback.behaviour import PARTS, part_texts

            suite = [t for part in PARTS for t in part_texts(part)]  # never train on a test comment
            extra, extra_y = synthetic_sentiment_examples(seed=self.random_state, exclude=suite)
            fit_texts, fit_y = fit_texts + extra, np.concatenate([y, extra_y])
            weights = np.concatenate([weights, np.full(len(extra), self.augment_weight)])
            self.n_synthetic_ = len(extra)
        self.polarity_ = PolarityFeatures().fit(fit_texts) if self.polarity else None
        design = self._text_design(self.features_.transform(fit_texts), fit_texts)
        self.model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000, tol=1e-3)
        self.model_.fit(design, fit_y, sample_weight=weights)
        self.classes_ = self.model_.classes_
        self.score_log_ratio_ = None
        if self.use_fft_score and "fft_score" in frame:
            self.score_log_ratio_ = score_log_ratios(y, normalise_fft_score(frame["fft_score"]))
        return self

    def _text_design(self, Xf, texts: list[str]):
        if self.polarity_ is None:
            return Xf
        return sparse.hstack([Xf, self.polarity_.transform(texts)], format="csr", dtype=np.float32)

    # ------------------------------------------------------------------ prediction
    def _legacy(self) -> bool:
        """A model saved by carelens before the text-first design: one LR over [text | FFT score]."""
        return "polarity_" not in self.__dict__

    def _legacy_design(self, Xf, fft_scores):
        if not self.use_fft_score:
            return Xf
        scores = pd.DataFrame({"fft_score": list(fft_scores) if fft_scores is not None else [None] * Xf.shape[0]})
        return sparse.hstack([Xf, fft_score_onehot(scores)], format="csr", dtype=np.float32)

    def _full(self, proba: np.ndarray) -> np.ndarray:
        full = np.zeros((proba.shape[0], len(SENTIMENT_CLASSES)))
        for k, c in enumerate(self.classes_):
            full[:, SENTIMENT_CLASSES.index(int(c))] = proba[:, k]
        return full

    def text_proba_features(self, Xf, texts) -> np.ndarray:
        """(n, 5) probabilities from the words alone (features already computed by ``features_``)."""
        if self._legacy():
            return self._full(self.model_.predict_proba(self._legacy_design(Xf, None)))
        if self.polarity_ is None:
            return self._rescaled(self._full(self.model_.predict_proba(Xf)))
        return self._rescaled(self._full(self._proba_from_blocks(Xf, self.polarity_.transform(clean_texts(texts)))))

    def _rescaled(self, p: np.ndarray) -> np.ndarray:
        """P(3) times ``neutral_scale``, renormalised (a prior shift; 1 leaves the LR's own)."""
        scale = getattr(self, "neutral_scale", 1.0)
        if scale == 1.0:
            return p
        p = p.copy()
        p[:, 2] *= scale
        return p / p.sum(axis=1, keepdims=True)

    def _proba_from_blocks(self, Xf, polarity) -> np.ndarray:
        """``model_.predict_proba`` of [Xf | polarity] without building that matrix.

        Stacking the polarity block onto the wide text features copied the whole sparse matrix
        (a tenth of a batch's time); the two blocks' products with their halves of the
        coefficients add up to the same scores.
        """
        coef, width = self.model_.coef_, Xf.shape[1]
        scores = np.asarray(Xf @ coef[:, :width].T) + np.asarray(polarity @ coef[:, width:].T) + self.model_.intercept_
        if scores.shape[1] == 1:  # two classes: one logit, as scikit-learn's binary model
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - p, p])
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)

    def with_scores(self, p_text: np.ndarray, fft_scores) -> np.ndarray:
        """Text probabilities combined with FFT scores (None or blanks: the text's own)."""
        if getattr(self, "score_log_ratio_", None) is None or fft_scores is None:
            return p_text
        codes = normalise_fft_score(list(fft_scores))
        rows = np.array([FFT_SCORES.index(c) + 1 if c else 0 for c in codes], dtype=int)
        if not rows.any():
            return p_text
        return gated(p_text, self.score_log_ratio_[rows], self.score_weight, self.gate)

    def predict_proba_features(self, Xf, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities from text features already computed by ``features_`` (plus the score)."""
        if self._legacy():
            scores = frame["fft_score"].tolist() if "fft_score" in frame else None
            return self._full(self.model_.predict_proba(self._legacy_design(Xf, scores)))
        p_text = self.text_proba_features(Xf, frame["text"].tolist())
        return self.with_scores(p_text, frame["fft_score"].tolist() if "fft_score" in frame else None)

    def predict_proba(self, X) -> np.ndarray:
        """(n, 5) probabilities for sentiment 1..5 (columns in that order)."""
        frame = as_frame(X)
        return self.predict_proba_features(self.features_.transform(frame), frame)

    def predict(self, X) -> np.ndarray:
        return np.asarray(SENTIMENT_CLASSES)[self.predict_proba(X).argmax(axis=1)]


def frame_for(texts, fft_scores=None) -> pd.DataFrame:
    frame = pd.DataFrame({"text": list(texts)})
    if fft_scores is not None:
        frame["fft_score"] = list(fft_scores)
    return frame
