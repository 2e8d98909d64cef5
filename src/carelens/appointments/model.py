"""The DNA risk estimator: gradient boosting, calibrated on a later time window.

Why this shape:
- Gradient boosting (scikit-learn ``HistGradientBoostingClassifier``) handles missing values
  (a first-time patient has no "days since last DNA") and interactions without feature scaling,
  and is what the UMC Utrecht production service runs.
- Calibration is fitted on the *latest* slice of the training period, on patients the booster
  never saw, because reminder decisions use the probability itself (net benefit, risk bands) and
  an uncalibrated booster drifts over time. The default is Platt scaling of the booster's
  log-odds (two parameters: intercept and slope): on the shared table it calibrates as well as
  isotonic regression (ECE 0.002-0.004 on the later window) but is strictly increasing, so it
  keeps every distinction the booster makes (isotonic steps tie thousands of appointments at one
  value, which costs AUROC and makes "top 10 %" bands impossible to draw exactly).

Only the estimator lives here. Reasons for a score are :mod:`carelens.appointments.reasons` (which
groups, in which words) over :mod:`carelens.appointments.contributions` (the perturbation engine);
the model folder is :mod:`carelens.appointments.persistence`. ``explain``, ``contributions`` and
``save`` stay on the estimator as one-line entry points. Those modules use ``_encode`` (a feature
table as the booster's matrix), ``_raw`` (booster log-odds) and ``_threads``.

``DNAModel`` must stay in this module: saved model files name it as
``carelens.appointments.model.DNAModel`` and the loader accepts exactly that name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from carelens.appointments import contributions as contribution_engine
from carelens.appointments import reasons
from carelens.appointments.features import (
    CATEGORICAL_FEATURES,
    FEATURES,
    NUMERIC_FEATURES,
    as_category,
)
from carelens.errors import ModelError


class DNAModel(ClassifierMixin, BaseEstimator):
    """Calibrated probability that an appointment is missed, from ``features.build_features`` rows.

    ``fit(X, y, time=..., groups=...)``: the last ``calibration_share`` of the period (by ``time``)
    calibrates; its patients (``groups``) are removed from the booster's training rows so the
    calibrator sees honest, unseen-patient scores. ``estimator="logistic"`` gives the plain
    logistic-regression baseline with the same interface.
    """

    def __init__(
        self,
        estimator: str = "hgb",
        calibration: str = "platt",
        calibration_share: float = 0.2,
        max_iter: int = 300,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 80,
        l2_regularization: float = 1.0,
        random_state: int = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.estimator = estimator
        self.calibration = calibration
        self.calibration_share = calibration_share
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.n_threads = n_threads

    # -- encoding -----------------------------------------------------------------------------
    def _encode(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in FEATURES if c not in X.columns]
        if missing:
            raise ModelError(f"feature table lacks {missing}")
        out = np.empty((len(X), len(FEATURES)), dtype=np.float64)
        for j, name in enumerate(NUMERIC_FEATURES):
            out[:, j] = X[name].to_numpy(dtype="float64")
        for k, name in enumerate(CATEGORICAL_FEATURES):
            # Map the few distinct labels, then the integer codes: fast on a million rows.
            col = as_category(X[name])
            lookup = pd.Index(self.categories_[name]).get_indexer(col.cat.categories.astype(str))
            codes = np.asarray(col.cat.codes)
            enc = lookup[codes].astype(np.float64) if len(lookup) else np.full(len(codes), -1.0)
            out[:, len(NUMERIC_FEATURES) + k] = np.where(enc < 0, np.nan, enc)  # unseen label: "missing"
        return out

    def _make_booster(self) -> Any:
        n_num = len(NUMERIC_FEATURES)
        if self.estimator == "hgb":
            mask = np.array([False] * n_num + [True] * len(CATEGORICAL_FEATURES))
            return HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                categorical_features=mask,
                # Stop adding trees when a held-out 10 % stops improving: small trusts' tables
                # would otherwise be overfitted by a fixed number of trees.
                early_stopping=True,
                validation_fraction=0.1,
                n_iter_no_change=15,
                random_state=self.random_state,
            )
        if self.estimator == "logistic":
            from sklearn.compose import ColumnTransformer
            from sklearn.impute import SimpleImputer
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import OneHotEncoder, StandardScaler

            cols = list(range(len(FEATURES)))
            prep = ColumnTransformer(
                [
                    ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), cols[:n_num]),
                    ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1), OneHotEncoder(handle_unknown="ignore")), cols[n_num:]),
                ]
            )
            return make_pipeline(prep, LogisticRegression(max_iter=2000, C=1.0))
        raise ModelError(f"unknown estimator {self.estimator!r}; use 'hgb' or 'logistic'")

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: Any, *, time: Any = None, groups: Any = None) -> DNAModel:
        y = np.asarray(y, dtype=float)
        if np.isnan(y).any():
            raise ModelError("labels must be 0/1 (drop cancelled and future appointments first)")
        if len(np.unique(y)) < 2:
            raise ModelError("training data needs both attended and missed appointments")
        self.categories_ = {c: sorted(str(v) for v in pd.unique(as_category(X[c]).astype(str))) for c in CATEGORICAL_FEATURES}
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(FEATURES, dtype=object)
        self.n_features_in_ = len(FEATURES)
        Z = self._encode(X)
        n = len(y)
        order = np.argsort(np.asarray(time, dtype="datetime64[ns]") if time is not None else np.arange(n), kind="stable")
        n_cal = int(round(n * self.calibration_share)) if self.calibration != "none" else 0
        cal = np.zeros(n, dtype=bool)
        cal[order[n - n_cal:]] = True
        train = ~cal
        if groups is not None and n_cal:
            g = pd.Series(np.asarray(groups, dtype=object))
            train &= ~g.isin(pd.unique(g[cal])).to_numpy()  # calibration patients never train the booster
        if n_cal and (train.sum() < 50 or len(np.unique(y[train])) < 2 or len(np.unique(y[cal])) < 2):
            raise ModelError("too few appointments to hold out a calibration window; use more data")
        with self._threads():
            self.booster_ = self._make_booster().fit(Z[train], y[train])
        raw_cal = self._raw(Z[cal]) if n_cal else self._raw(Z[train])
        y_cal = y[cal] if n_cal else y[train]
        if self.calibration == "isotonic":
            self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_cal, y_cal)
        elif self.calibration == "platt":
            self.calibrator_ = LogisticRegression(C=1e6).fit(raw_cal.reshape(-1, 1), y_cal)
        elif self.calibration == "none":
            self.calibrator_ = None
        else:
            raise ModelError(f"unknown calibration {self.calibration!r}; use isotonic, platt or none")
        p_cal = self._calibrate(raw_cal)
        # Risk bands from the calibration window: top 10 % "high", next 20 % "medium".
        self.band_thresholds_ = np.quantile(p_cal, [0.7, 0.9]).tolist()
        self.reference_ = self._reference(X.iloc[np.flatnonzero(train)])
        self.n_train_ = int(train.sum())
        self.n_calibration_ = int(n_cal)
        self.train_dna_rate_ = float(y[train].mean())
        return self

    def _reference(self, X: pd.DataFrame) -> dict[str, Any]:
        ref: dict[str, Any] = {}
        for name in NUMERIC_FEATURES:
            values = X[name].to_numpy(dtype="float64")
            ref[name] = float(np.nanmedian(values)) if np.isfinite(values).any() else float("nan")
        for name in CATEGORICAL_FEATURES:
            ref[name] = str(as_category(X[name]).astype(str).mode().iloc[0])
        return ref

    # -- prediction ----------------------------------------------------------------------------
    def _threads(self) -> Any:
        """Limit OpenMP threads: on a busy shared server one thread beats oversubscribed many."""
        from contextlib import nullcontext

        from threadpoolctl import threadpool_limits

        return nullcontext() if self.n_threads is None else threadpool_limits(self.n_threads)

    def _raw(self, Z: np.ndarray) -> np.ndarray:
        with self._threads():
            return self.booster_.decision_function(Z)

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self.calibrator_ is None:
            return 1 / (1 + np.exp(-raw))
        if isinstance(self.calibrator_, IsotonicRegression):
            return self.calibrator_.predict(raw)
        return self.calibrator_.predict_proba(raw.reshape(-1, 1))[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self._calibrate(self._raw(self._encode(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= self.band_thresholds_[1]).astype(int)

    def risk_band(self, p: np.ndarray) -> np.ndarray:
        low, high = self.band_thresholds_
        return np.where(p >= high, "high", np.where(p >= low, "medium", "low"))

    # -- explanations and persistence: thin entry points to the modules that do the work ------
    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Log-odds change when each reason group is reset to its typical value (one column per
        group of ``reasons.EXPLAIN_GROUPS``); see :mod:`carelens.appointments.contributions`."""
        return contribution_engine.contributions(self, X, reasons.EXPLAIN_GROUPS)

    def explain(self, X: pd.DataFrame, *, top: int = 3, min_logodds: float = 0.05) -> list[str]:
        """The main reasons behind each score, e.g. "2 missed appointments in the last year"
        (:func:`carelens.appointments.reasons.explain`)."""
        return reasons.explain(self, X, top=top, min_logodds=min_logodds)

    def save(self, directory: str | Path, card: dict[str, Any]) -> str:
        """Write ``model.skops`` and ``card.json`` (+ ``MODEL_CARD.md``); return the model version
        (:func:`carelens.appointments.persistence.save_model`)."""
        from carelens.appointments.persistence import save_model  # it imports this module

        return save_model(self, directory, card)
