"""The DNA risk model: gradient boosting, calibrated on a later time window, with reasons.

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
- Explanations perturb one group of features at a time back to a typical value and report the
  groups that raise the risk most, in words a booking clerk can use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from carelens.appointments.features import (
    CATEGORICAL_FEATURES,
    FEATURES,
    NUMERIC_FEATURES,
    as_category,
)
from carelens.errors import ModelError
from carelens.model_cards import write_card
from carelens.model_files import check_fingerprint, fingerprint, load_skops

EXPLAIN_GROUPS: dict[str, list[str]] = {
    "history": [
        "prior_appointments", "prior_dnas", "prior_patient_cancellations", "prior_provider_cancellations",
        "prior_appointments_365d", "prior_dnas_365d", "dna_rate_shrunk", "days_since_last_dna",
        "days_since_last_appointment",
    ],
    "lead_time": ["lead_time_days"],
    "timing": ["hour", "weekday", "month"],
    "bookings": ["same_day_bookings", "open_bookings"],
    "specialty": ["specialty"],
    "site": ["site"],
    "medium": ["consultation_medium"],
    "first": ["first_attendance"],
    "age": ["age"],
    "deprivation": ["imd_decile"],
    "distance": ["distance_km"],
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class _PerTreeMismatch(Exception):
    """scikit-learn's tree internals are not what the fast explanation path expects."""


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


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

    # -- explanations --------------------------------------------------------------------------
    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Log-odds change when each feature group is reset to its typical (training median) value.

        Positive = this group pushes the risk up for this appointment. Exact, and cheap enough for
        a million rows: rows whose group already has the typical value contribute exactly 0 and
        are skipped; and for the booster, each tree's output is kept per row, so resetting a group
        re-evaluates only the trees that split on it (the others cannot change).
        """
        Z = self._encode(X)
        ref_row = self._encode(pd.DataFrame({k: [v] for k, v in self.reference_.items()}))[0]
        groups = {g: [FEATURES.index(n) for n in names] for g, names in EXPLAIN_GROUPS.items()}
        out = {g: np.zeros(len(Z)) for g in groups}
        per_tree = self._per_tree_predictor()
        for start in range(0, len(Z), 65_536):
            chunk = Z[start : start + 65_536]
            if per_tree is not None:
                try:
                    per_tree(chunk, groups, ref_row, out, start)
                    continue
                except _PerTreeMismatch:
                    per_tree = None
            base = self._raw(chunk)
            for g, idx in groups.items():
                rows = self._differs(chunk, idx, ref_row)
                if len(rows):
                    moved = chunk[rows]
                    moved[:, idx] = ref_row[idx]
                    out[g][start + rows] = base[rows] - self._raw(moved)
        return pd.DataFrame(out, index=X.index)

    @staticmethod
    def _differs(Z: np.ndarray, idx: list[int], ref_row: np.ndarray) -> np.ndarray:
        ref = ref_row[idx]
        same = (Z[:, idx] == ref) | (np.isnan(Z[:, idx]) & np.isnan(ref))
        return np.flatnonzero(~same.all(axis=1))

    def _per_tree_predictor(self) -> Any:
        """Per-tree evaluation for HistGradientBoosting (scikit-learn's tree predictors), or None
        (the logistic baseline; or a scikit-learn whose internals differ: then every group is a
        full re-prediction, slower but identical)."""
        booster = self.booster_
        try:
            trees = [iteration[0] for iteration in booster._predictors]
            bitsets, f_idx_map = booster._bin_mapper.make_known_categories_bitsets()
            baseline = float(np.ravel(booster._baseline_prediction)[0])
            # Trees index the booster's *prepared* columns (categorical ones moved first): map back.
            original = np.arange(len(FEATURES))
            prepared = getattr(booster, "_preprocessor", None)
            if prepared is not None:
                original = np.full(len(FEATURES), -1)
                for name, _, cols in prepared.transformers_:
                    where = prepared.output_indices_[name]
                    cols = np.flatnonzero(cols) if np.asarray(cols).dtype == bool else np.asarray(cols, dtype=int)
                    if where.stop > where.start:
                        original[where] = cols
                if (original < 0).any():
                    return None
            used = [
                {int(original[j]) for j in t.nodes["feature_idx"][~t.nodes["is_leaf"].astype(bool)].tolist()} for t in trees
            ]
        except (AttributeError, TypeError, KeyError, ValueError, IndexError):
            return None
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        n_threads = _openmp_effective_n_threads(self.n_threads)

        position = np.argsort(original)  # column of each feature in the prepared matrix

        def prepare(Zc: np.ndarray) -> np.ndarray:
            # The booster's own input preparation (it re-encodes categorical columns).
            return np.ascontiguousarray(booster._preprocess_X(Zc, reset=False), dtype=np.float64)

        def tree_outputs(P: np.ndarray, which: list[int]) -> np.ndarray:
            result = np.empty((len(P), len(which)), order="F")
            for k, i in enumerate(which):
                result[:, k] = trees[i].predict(P, bitsets, f_idx_map, n_threads)
            return result

        # Guard: the trees must add up to the booster's own output, or we do not use them.
        probe = np.ascontiguousarray(self._encode(pd.DataFrame({k: [v] for k, v in self.reference_.items()})))
        try:
            check = tree_outputs(prepare(probe), list(range(len(trees)))).sum(axis=1) + baseline
        except Exception:  # noqa: BLE001 - any internal mismatch means: use the public path
            return None
        if not np.allclose(check, self._raw(probe), rtol=1e-9, atol=1e-9):
            return None

        def run(chunk: np.ndarray, groups: dict[str, list[int]], ref_row: np.ndarray, out: dict, start: int) -> None:
            if start == 0:  # guard once per call: a few rows must match full re-predictions exactly
                probe = chunk[:32]
                expected = {g: np.zeros(len(probe)) for g in groups}
                raw = self._raw(probe)
                for g, idx in groups.items():
                    moved = probe.copy()
                    moved[:, idx] = ref_row[idx]
                    expected[g] = raw - self._raw(moved)
                got = {g: np.zeros(len(probe)) for g in groups}
                run_trees(probe, groups, ref_row, got, 0)
                if not all(np.allclose(got[g], expected[g], atol=1e-9) for g in groups):
                    raise _PerTreeMismatch
            run_trees(chunk, groups, ref_row, out, start)

        def run_trees(chunk: np.ndarray, groups: dict[str, list[int]], ref_row: np.ndarray, out: dict, start: int) -> None:
            with self._threads():
                P, P_ref = prepare(chunk), prepare(ref_row[None, :])[0]
                base_trees = tree_outputs(P, list(range(len(trees))))
                for g, idx in groups.items():
                    which = [i for i, u in enumerate(used) if u & set(idx)]
                    rows = self._differs(chunk, idx, ref_row)
                    if not which or not len(rows):
                        continue
                    cols = position[idx]
                    moved = P[rows]
                    moved[:, cols] = P_ref[cols]
                    out[g][start + rows] = (base_trees[np.ix_(rows, which)] - tree_outputs(moved, which)).sum(axis=1)

        return run

    def explain(self, X: pd.DataFrame, *, top: int = 3, min_logodds: float = 0.05) -> list[str]:
        """The main reasons behind each score, e.g. "2 missed appointments in the last year"."""
        contrib = self.contributions(X)
        values = contrib.to_numpy()
        order = np.argsort(-values, axis=1)[:, :top]
        texts = np.column_stack([describe(group, X) for group in contrib.columns])
        rows = np.arange(len(X))
        parts = []
        for k in range(order.shape[1]):
            j = order[:, k]
            keep = values[rows, j] >= min_logodds
            parts.append(np.where(keep, texts[rows, j], ""))
        joined = pd.Series(parts[0], dtype="string") if parts else pd.Series([""] * len(X), dtype="string")
        for part in parts[1:]:
            part = pd.Series(part, dtype="string")
            joined = joined.where(part == "", joined.where(joined == "", joined + "; ") + part)
        return joined.fillna("").tolist()

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path, card: dict[str, Any]) -> str:
        """Write ``model.skops`` and ``card.json`` (+ ``MODEL_CARD.md``); return the model version."""
        import skops.io as sio

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        blob = sio.dumps(self)
        version = hashlib.sha256(blob).hexdigest()[:12]
        (directory / "model.skops").write_bytes(blob)
        card = {**card, "model_version": version, "kind": "carelens-appointments-dna",
                "fingerprint": fingerprint([directory / "model.skops"])}
        write_card(directory / "card.json", card)
        from carelens.appointments.card import render_markdown

        (directory / "MODEL_CARD.md").write_text(render_markdown(card))
        return version


def _plural(count: pd.Series, word: str) -> pd.Series:
    return count.astype(int).astype(str) + " " + word + np.where(count == 1, "", "s")


def describe(group: str, X: pd.DataFrame) -> np.ndarray:
    """Plain words for one reason group, for every row at once (vectorised: a million rows)."""
    n = len(X)
    col = lambda name: X[name].reset_index(drop=True)
    if group == "history":
        recent, ever = col("prior_dnas_365d").fillna(0), col("prior_dnas").fillna(0)
        cancels, prior = col("prior_patient_cancellations").fillna(0), col("prior_appointments").fillna(0)
        out = np.select(
            [recent > 0, ever > 0, cancels > 0, prior == 0],
            [
                _plural(recent, "missed appointment") + " in the last year",
                _plural(ever, "missed appointment") + " before",
                "cancelled " + _plural(cancels, "appointment") + " before",
                "no previous appointments on record",
            ],
            "appointment history",
        )
        return out.astype(object)
    if group == "lead_time":
        return ("booked " + col("lead_time_days").round().astype(int).astype(str) + " days ahead").to_numpy(object)
    if group == "timing":
        hour = col("hour").to_numpy(dtype=float)
        hh = np.floor(hour).astype(int)
        mm = np.round((hour - hh) * 60).astype(int)
        day = np.array(WEEKDAYS)[col("weekday").to_numpy(dtype=int) % 7]
        return (pd.Series(day) + " " + pd.Series(hh).astype(str).str.zfill(2) + ":" + pd.Series(mm).astype(str).str.zfill(2) + " slot").to_numpy(object)
    if group == "bookings":
        k = (col("open_bookings").fillna(0) + col("same_day_bookings").fillna(0)).astype(int)
        return np.where(k > 0, _plural(k, "other appointment") + " booked", "no other appointments booked").astype(object)
    if group == "specialty":
        return (col("specialty").astype(str) + " clinic").to_numpy(object)
    if group == "site":
        return ("at " + col("site").astype(str)).to_numpy(object)
    if group == "medium":
        return (col("consultation_medium").astype(str).str.lower() + " appointment").to_numpy(object)
    if group == "first":
        first = col("first_attendance").astype(str).str.lower().str.startswith("first")
        return np.where(first, "first appointment", "follow-up appointment").astype(object)
    if group == "age":
        age = col("age")
        return np.where(age.notna(), "aged " + age.fillna(0).astype(int).astype(str), "").astype(object)
    if group == "deprivation":
        imd = col("imd_decile")
        return np.where(imd.notna(), "lives in IMD decile " + imd.fillna(0).astype(int).astype(str), "").astype(object)
    if group == "distance":
        km = col("distance_km")
        return np.where(km.notna(), "lives " + km.fillna(0).round().astype(int).astype(str) + " km away", "").astype(object)
    return np.full(n, group, dtype=object)


@dataclass
class LoadedModel:
    model: DNAModel
    card: dict[str, Any]
    directory: Path

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unknown"))

    @property
    def gap_days(self) -> float:
        return float(self.card.get("gap_days", 3.0))


# Exactly what a DNA model is made of (besides containers, scalars and arrays), for both estimators
# and both calibrations. The only function allowed is the input check scikit-learn's gradient
# boosting puts in its own preprocessing; a model naming any other callable is refused.
MODEL_TYPES = frozenset({
    "carelens.appointments.model.DNAModel",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.pipeline.Pipeline",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.isotonic.IsotonicRegression",
    "functools.partial",
    "sklearn.utils.validation.check_array",
})


def load_model(directory: str | Path) -> LoadedModel:
    """Load a model folder: the card, then ``model.skops`` through the exact type allow-list."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelError("a model is a folder (with card.json and model.skops); not found", file=str(directory))
    card_path, model_path = directory / "card.json", directory / "model.skops"
    if not card_path.exists() or not model_path.exists():
        raise ModelError("not a carelens appointments model (card.json or model.skops missing)", file=str(directory))
    try:
        card = json.loads(card_path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"card.json is not valid JSON: {exc}".splitlines()[0], file=str(card_path)) from exc
    if not isinstance(card, dict) or card.get("kind") != "carelens-appointments-dna":
        raise ModelError("card.json is not an appointments DNA model card", file=str(card_path))
    model = load_skops(model_path, MODEL_TYPES, DNAModel)
    card["fingerprint"] = check_fingerprint(card, [model_path], card_path)
    return LoadedModel(model=model, card=card, directory=directory)
