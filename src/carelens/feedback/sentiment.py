"""Sentiment classifier: 1 very positive ... 5 very negative (3 = mixed or neutral).

A multinomial logistic regression over the same text features, with balanced class weights (very
negative comments are rare but matter most). The FFT score, when the export has it, is a strong
extra signal; a quarter of training rows have it hidden so the model also works without it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression

from carelens.feedback.features import TextFeatures, as_frame, fft_score_onehot

SENTIMENT_CLASSES = (1, 2, 3, 4, 5)
SENTIMENT_NAMES = {1: "very positive", 2: "positive", 3: "mixed / neutral", 4: "negative", 5: "very negative"}


def to_three_classes(values) -> np.ndarray:
    """1-2 positive, 3 neutral/mixed, 4-5 negative (as 1, 2, 3)."""
    v = np.asarray(values)
    return np.select([v <= 2, v == 3], [1, 2], 3)


class SentimentClassifier(BaseEstimator, ClassifierMixin):
    """Predict sentiment 1..5.

    ``features`` may be an already *fitted* TextFeatures (with ``reuse_features=True``): the
    feedback model shares one feature step between topics and sentiment so each comment is
    vectorised once.
    """

    def __init__(
        self,
        features: TextFeatures | None = None,
        C: float = 4.0,
        use_fft_score: bool = True,
        hide_score_fraction: float = 0.25,
        reuse_features: bool = False,
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.C = C
        self.use_fft_score = use_fft_score
        self.hide_score_fraction = hide_score_fraction
        self.reuse_features = reuse_features
        self.random_state = random_state

    def _with_score(self, Xf, frame: pd.DataFrame):
        if not self.use_fft_score:
            return Xf
        return sparse.hstack([Xf, fft_score_onehot(frame)], format="csr", dtype=np.float32)

    def fit(self, X, y) -> SentimentClassifier:
        frame = as_frame(X).reset_index(drop=True)
        y = np.asarray(y).astype(int)
        bad = ~np.isin(y, SENTIMENT_CLASSES)
        if bad.any():
            raise ValueError(f"sentiment must be 1..5; found {sorted(set(y[bad].tolist()))[:5]}")
        if self.reuse_features and self.features is not None:
            self.features_ = self.features
            Xf = self.features_.transform(frame)
        else:
            self.features_ = clone(self.features) if self.features is not None else TextFeatures()
            Xf = self.features_.fit_transform(frame)
        if self.use_fft_score and "fft_score" in frame and self.hide_score_fraction > 0:
            rng = np.random.default_rng(self.random_state)
            frame = frame.copy()
            hide = rng.random(len(frame)) < self.hide_score_fraction
            frame["fft_score"] = frame["fft_score"].astype(object).where(~hide, None)
        Xf = self._with_score(Xf, frame)
        self.model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000, tol=1e-3).fit(Xf, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba_features(self, Xf, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities from text features already computed by ``features_`` (plus the score)."""
        proba = self.model_.predict_proba(self._with_score(Xf, frame))
        full = np.zeros((proba.shape[0], len(SENTIMENT_CLASSES)))
        for k, c in enumerate(self.classes_):
            full[:, SENTIMENT_CLASSES.index(int(c))] = proba[:, k]
        return full

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
