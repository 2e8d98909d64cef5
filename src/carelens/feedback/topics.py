"""Multi-label topic classifier: one linear model per label over shared text features.

Why this design: with ~6,000 labelled comments and labels as rare as a handful of examples, linear
models on TF-IDF + embeddings are as accurate as much larger models (see BENCHMARKS.md) and train
in seconds. Each label's raw score is calibrated (Platt scaling on out-of-fold scores) so the
probabilities mean what they say, and each label gets its own threshold, chosen by
cross-validation on the training data only to maximise that label's F1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold
from sklearn.preprocessing import MultiLabelBinarizer

from carelens.feedback.features import TextFeatures

THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def _fit_label(X, y, C: float):
    model = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000, tol=1e-3)
    model.fit(X, y)
    return model.coef_.ravel().astype(np.float32), float(model.intercept_[0])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class TopicClassifier(BaseEstimator, ClassifierMixin):
    """Predict which labels (sub-categories) a comment is about.

    ``fit(X, Y)``: X is a list of texts (or a frame with a 'text' column); Y is an (n, L) 0/1 matrix
    with ``labels`` naming its columns, or a list of label lists. Labels with fewer than
    ``min_positives`` examples are kept in the output but never predicted.
    """

    def __init__(
        self,
        features: TextFeatures | None = None,
        labels: Sequence[str] | None = None,
        C: float = 10.0,
        cv: int = 5,
        min_positives: int = 3,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.labels = labels
        self.C = C
        self.cv = cv
        self.min_positives = min_positives
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _targets(self, Y) -> tuple[np.ndarray, list[str]]:
        if isinstance(Y, np.ndarray) or hasattr(Y, "to_numpy"):
            matrix = np.asarray(Y).astype(np.int8)
            if matrix.ndim != 2:
                raise ValueError("Y must be a 2-D 0/1 matrix or a list of label lists")
            names = list(self.labels) if self.labels is not None else [str(i) for i in range(matrix.shape[1])]
            if len(names) != matrix.shape[1]:
                raise ValueError(f"{len(names)} label names for {matrix.shape[1]} columns of Y")
            return matrix, names
        binarizer = MultiLabelBinarizer(classes=list(self.labels) if self.labels is not None else None)
        matrix = binarizer.fit_transform(Y).astype(np.int8)
        return matrix, [str(c) for c in binarizer.classes_]

    def _scores(self, X, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        return np.asarray(X @ coef.T) + intercept

    def _fit_all(self, X, Y: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coef = np.zeros((Y.shape[1], X.shape[1]), dtype=np.float32)
        intercept = np.full(Y.shape[1], -20.0)
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_label)(X, Y[:, j], self.C) for j in np.flatnonzero(active)
        )
        for j, (c, b) in zip(np.flatnonzero(active), fitted):
            coef[j], intercept[j] = c, b
        return coef, intercept

    def fit(self, X, Y) -> TopicClassifier:
        Y, names = self._targets(Y)
        self.labels_ = names
        self.features_ = clone(self.features) if self.features is not None else TextFeatures()
        Xf = self.features_.fit_transform(X)
        positives = Y.sum(axis=0)
        # a label needs a few positives (and some negatives) to be learnt at all
        active = (positives >= max(self.min_positives, 2)) & (positives < len(Y))
        # only labels with enough positives for every fold get calibrated, tuned thresholds;
        # rarer ones keep the balanced model's own boundary (probability 0.5)
        tuned = active & (positives >= 2 * self.cv)
        oof = np.full(Y.shape, -20.0)
        if tuned.any():
            for train, test in KFold(self.cv, shuffle=True, random_state=self.random_state).split(Xf):
                fold_tuned = tuned & (Y[train].sum(axis=0) >= 2) & (Y[train].sum(axis=0) < len(train))
                coef, intercept = self._fit_all(Xf[train], Y[train], fold_tuned)
                oof[test] = self._scores(Xf[test], coef, intercept)
        self.platt_ = np.tile(np.array([1.0, 0.0]), (Y.shape[1], 1))
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        for j in np.flatnonzero(tuned):
            platt = LogisticRegression(C=100.0).fit(oof[:, [j]], Y[:, j])
            self.platt_[j] = (platt.coef_[0, 0], platt.intercept_[0])
            proba = _sigmoid(oof[:, j] * self.platt_[j, 0] + self.platt_[j, 1])
            f1s = [f1_score(Y[:, j], proba >= t, zero_division=0) for t in THRESHOLD_GRID]
            self.thresholds_[j] = float(THRESHOLD_GRID[int(np.argmax(f1s))])
        self.tuned_ = tuned
        self._cv_targets_ = Y  # out-of-fold targets and probabilities feed the model card
        self.cv_proba_ = _sigmoid(oof * self.platt_[:, 0] + self.platt_[:, 1])
        self.coef_, self.intercept_ = self._fit_all(Xf, Y, active)
        self.active_ = active
        self.n_positives_ = positives
        return self

    def predict_proba_features(self, Xf) -> np.ndarray:
        scores = self._scores(Xf, self.coef_, self.intercept_)
        proba = _sigmoid(scores * self.platt_[:, 0] + self.platt_[:, 1])
        proba[:, ~self.active_] = 0.0
        return proba

    def predict_proba(self, X) -> np.ndarray:
        """(n, L) probability that each label applies."""
        return self.predict_proba_features(self.features_.transform(X))

    def predict(self, X) -> np.ndarray:
        """(n, L) 0/1 matrix, using each label's cross-validated threshold."""
        return (self.predict_proba(X) >= self.thresholds_).astype(np.int8)

    @property
    def classes_(self) -> np.ndarray:
        return np.array(self.labels_, dtype=object)
