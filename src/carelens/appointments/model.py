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
- The inputs are whatever columns the feature table holds (the standard ones and the trust's own
  ``feature:`` columns), less those that cannot teach anything on this trust's table (no values,
  one value everywhere), chosen on the booster's own training rows: real exports lack optional
  columns in every combination, and an all-missing column crashed scikit-learn's binning.

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
from carelens.appointments.features import CATEGORICAL_FEATURES, FEATURES, as_category
from carelens.errors import ConfigError, ModelError

MAX_CATEGORIES = 250  # labels kept per categorical column (HistGradientBoosting takes at most 255)


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
    def _features(self) -> tuple[list[str], np.ndarray]:
        """The features the booster uses, and which of them are categorical. (Models saved before
        features could be dropped or added used exactly ``FEATURES``.)"""
        names = list(getattr(self, "features_", FEATURES))
        categorical = getattr(self, "categorical_", None)
        if categorical is None:
            categorical = np.array([n in CATEGORICAL_FEATURES for n in names])
        return names, np.asarray(categorical, dtype=bool)

    def _encode(self, X: pd.DataFrame) -> np.ndarray:
        names, categorical = self._features()
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ModelError(f"feature table lacks {missing}")
        out = np.empty((len(X), len(names)), dtype=np.float64)
        for j, name in enumerate(names):
            if not categorical[j]:
                values = X[name]
                if not pd.api.types.is_numeric_dtype(values.dtype):
                    values = pd.to_numeric(values, errors="coerce")
                out[:, j] = values.to_numpy(dtype="float64", na_value=np.nan)
                continue
            # Map the few distinct labels, then the integer codes: fast on a million rows.
            col = as_category(X[name])
            lookup = pd.Index(self.categories_[name]).get_indexer(col.cat.categories.astype(str))
            codes = np.asarray(col.cat.codes)
            enc = lookup[codes].astype(np.float64) if len(lookup) else np.full(len(codes), -1.0)
            out[:, j] = np.where(enc < 0, np.nan, enc)  # unseen (or rare) label: "missing"
        return out

    def _choose_features(self, X: pd.DataFrame) -> None:
        """Keep the columns of ``X`` that can teach the booster something, from its training rows.

        A column with no values at all (an optional column the export lacks, an hour when the
        export has dates only) or with one value in every row is dropped and named in
        ``dropped_features_`` (the card says so): an all-missing column cannot be binned (it crashed
        scikit-learn's binning), and a constant one carries nothing. Categorical columns keep their
        ``MAX_CATEGORIES`` commonest labels (HistGradientBoosting takes at most 255); rarer labels
        are read as missing.
        """
        names, kinds, dropped, categories = [], [], [], {}
        for name in X.columns:
            values = X[name]
            categorical = not pd.api.types.is_numeric_dtype(values.dtype) or isinstance(values.dtype, pd.CategoricalDtype)
            if categorical:
                counts = as_category(values).astype(str).value_counts()
                if len(counts) < 2:
                    only = counts.index[0] if len(counts) else "Unknown"
                    why = "no values in the table" if only == "Unknown" else f"the same value ({only}) in every row"
                    dropped.append({"feature": str(name), "why": why})
                    continue
                categories[name] = sorted(str(v) for v in counts.index[:MAX_CATEGORIES])
            else:
                v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                finite = v[np.isfinite(v)]
                if len(finite) == 0:
                    dropped.append({"feature": str(name), "why": "no values in the table"})
                    continue
                if finite.min() == finite.max() and len(finite) == len(v):
                    dropped.append({"feature": str(name), "why": f"the same value ({finite[0]:g}) in every row"})
                    continue
            names.append(str(name))
            kinds.append(categorical)
        if not names:
            raise ModelError("no usable features: every column is empty or constant")
        self.features_ = names
        self.categorical_ = np.array(kinds, dtype=bool)
        self.dropped_features_ = dropped
        self.categories_ = categories

    def _make_booster(self) -> Any:
        _, mask = self._features()
        if self.estimator == "hgb":
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

            numeric, categorical = np.flatnonzero(~mask).tolist(), np.flatnonzero(mask).tolist()
            parts = []
            if numeric:
                parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric))
            if categorical:
                parts.append(("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1),
                                                   OneHotEncoder(handle_unknown="ignore")), categorical))
            prep = ColumnTransformer(parts)
            return make_pipeline(prep, LogisticRegression(max_iter=2000, C=1.0))
        raise ModelError(f"unknown estimator {self.estimator!r}; use 'hgb' or 'logistic'")

    # -- checks and fitting ----------------------------------------------------------------------
    def _check_params(self) -> None:
        """Settings a user can type (``--seed -1``) refused in one line, before any work."""
        seed = self.random_state
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32):
            raise ConfigError(f"the random seed must be a whole number from 0 to {2**32 - 1}, not {seed!r}", field="seed")
        if not 0 < float(self.calibration_share) < 1:
            raise ConfigError(f"calibration_share must be between 0 and 1, not {self.calibration_share!r}",
                              field="calibration_share")
        if self.estimator not in ("hgb", "logistic"):
            raise ModelError(f"unknown estimator {self.estimator!r}; use 'hgb' or 'logistic'")
        if self.calibration not in ("platt", "isotonic", "none"):
            raise ModelError(f"unknown calibration {self.calibration!r}; use isotonic, platt or none")

    def fit(self, X: pd.DataFrame, y: Any, *, time: Any = None, groups: Any = None) -> DNAModel:
        self._check_params()
        y = np.asarray(y, dtype=float)
        if np.isnan(y).any():
            raise ModelError("labels must be 0/1 (drop cancelled and future appointments first)")
        if len(np.unique(y)) < 2:
            raise ModelError("training data needs both attended and missed appointments")
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
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
        self._choose_features(X.iloc[np.flatnonzero(train)])
        Z = self._encode(X)
        with self._threads():
            self.booster_ = self._make_booster().fit(Z[train], y[train])
        raw_cal = self._raw(Z[cal]) if n_cal else self._raw(Z[train])
        y_cal = y[cal] if n_cal else y[train]
        if self.calibration == "isotonic":
            self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_cal, y_cal)
        elif self.calibration == "platt":
            self.calibrator_ = LogisticRegression(C=1e6).fit(raw_cal.reshape(-1, 1), y_cal)
        else:
            self.calibrator_ = None
        p_cal = self._calibrate(raw_cal)
        # Risk bands from the calibration window: top 10 % "high", next 20 % "medium".
        self.band_thresholds_ = np.quantile(p_cal, [0.7, 0.9]).tolist()
        self.band_summary_ = self._band_summary(p_cal, y_cal)
        self.reference_ = self._reference(X.iloc[np.flatnonzero(train)])
        self.n_train_ = int(train.sum())
        self.n_calibration_ = int(n_cal)
        self.train_dna_rate_ = float(y[train].mean())
        return self

    def _band_summary(self, p: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float]]:
        """Per band, in the calibration window: its share of appointments, the risks it spans and
        how many of its appointments were in fact missed. Why "high" starts where it does."""
        band = self.risk_band(p)
        out = {"all": {"share": 1.0, "dna_rate": float(y.mean()), "mean_predicted": float(p.mean()), "n": int(len(y))}}
        for name in ("high", "medium", "low"):
            m = band == name
            if m.any():
                out[name] = {"share": float(m.mean()), "dna_rate": float(y[m].mean()), "mean_predicted": float(p[m].mean()),
                             "n": int(m.sum())}
        return out

    def _reference(self, X: pd.DataFrame) -> dict[str, Any]:
        ref: dict[str, Any] = {}
        names, categorical = self._features()
        for name, is_cat in zip(names, categorical):
            if is_cat:
                ref[name] = str(as_category(X[name]).astype(str).mode().iloc[0])
            else:
                values = pd.to_numeric(X[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                ref[name] = float(np.nanmedian(values)) if np.isfinite(values).any() else float("nan")
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
        group of ``reasons.explain_groups(model)``); see :mod:`carelens.appointments.contributions`."""
        return contribution_engine.contributions(self, X, reasons.explain_groups(self))

    def explain(self, X: pd.DataFrame, *, top: int = 3, min_logodds: float = 0.05) -> list[str]:
        """The main reasons behind each score, e.g. "2 missed appointments in the last year"
        (:func:`carelens.appointments.reasons.explain`)."""
        return reasons.explain(self, X, top=top, min_logodds=min_logodds)

    def save(self, directory: str | Path, card: dict[str, Any]) -> str:
        """Write ``model.skops`` and ``card.json`` (+ ``MODEL_CARD.md``); return the model version
        (:func:`carelens.appointments.persistence.save_model`)."""
        from carelens.appointments.persistence import save_model  # it imports this module

        return save_model(self, directory, card)
