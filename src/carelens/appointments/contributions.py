"""How much each group of inputs moves one appointment's risk: the numbers behind the reasons.

Why perturbation: a booking clerk needs "why is this patient high risk", for this appointment. Each
group of features (the patient's history, the lead time, ...) is reset to a typical value (the
training median, or the commonest category), and the change in the booster's log-odds is that
group's contribution. It is exact for the model in use (no surrogate), and works for any estimator.

Why a per-tree fast path: re-predicting a million rows once per group is slow. A gradient-boosted
model is a sum of trees, and resetting a group can only change the trees that split on one of its
features, so for HistGradientBoosting each tree's output is kept per row and only those trees are
re-run, only on rows whose group differs from the typical value. That reads scikit-learn's private
tree predictors, so it is guarded twice: the trees must add up to the booster's own output, and on
the first chunk of every call a few rows must match full re-predictions; if either fails (another
scikit-learn version, the logistic baseline), every group is a full re-prediction: slower, the
same numbers.

Which groups exist and what they are called in words is :mod:`carelens.appointments.reasons`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from carelens.appointments.model import DNAModel

CHUNK_ROWS = 65_536  # rows per pass: bounds the per-tree output matrix (rows x trees) in memory


class _PerTreeMismatch(Exception):
    """scikit-learn's tree internals are not what the fast explanation path expects."""


def contributions(model: DNAModel, X: pd.DataFrame, groups: Mapping[str, list[str]]) -> pd.DataFrame:
    """Log-odds change when each feature group is reset to its typical (training median) value.

    ``groups`` maps a group name to its feature names (``reasons.EXPLAIN_GROUPS``); one column per
    group, one row per row of ``X`` (same index). Positive = this group pushes the risk up for this
    appointment. Rows whose group already has the typical value contribute exactly 0 and are
    skipped.
    """
    Z = model._encode(X)
    ref_row = model._encode(pd.DataFrame({k: [v] for k, v in model.reference_.items()}))[0]
    position = {name: j for j, name in enumerate(model._features()[0])}
    columns = {g: [position[n] for n in names if n in position] for g, names in groups.items()}
    columns = {g: idx for g, idx in columns.items() if idx}  # a group whose features were all dropped
    out = {g: np.zeros(len(Z)) for g in groups}
    per_tree = per_tree_predictor(model)
    for start in range(0, len(Z), CHUNK_ROWS):
        chunk = Z[start : start + CHUNK_ROWS]
        if per_tree is not None:
            try:
                per_tree(chunk, columns, ref_row, out, start)
                continue
            except _PerTreeMismatch:
                per_tree = None
        base = model._raw(chunk)
        for g, idx in columns.items():
            rows = _differs(chunk, idx, ref_row)
            if len(rows):
                moved = chunk[rows]
                moved[:, idx] = ref_row[idx]
                out[g][start + rows] = base[rows] - model._raw(moved)
    return pd.DataFrame(out, index=X.index)


def _differs(Z: np.ndarray, idx: list[int], ref_row: np.ndarray) -> np.ndarray:
    """Rows whose columns ``idx`` are not all at the typical value (NaN equals NaN here)."""
    ref = ref_row[idx]
    same = (Z[:, idx] == ref) | (np.isnan(Z[:, idx]) & np.isnan(ref))
    return np.flatnonzero(~same.all(axis=1))


def per_tree_predictor(model: DNAModel) -> Callable[..., None] | None:
    """Per-tree evaluation for HistGradientBoosting (scikit-learn's tree predictors), or None
    (the logistic baseline; or a scikit-learn whose internals differ: then every group is a
    full re-prediction, slower but identical)."""
    booster = model.booster_
    try:
        trees = [iteration[0] for iteration in booster._predictors]
        bitsets, f_idx_map = booster._bin_mapper.make_known_categories_bitsets()
        baseline = float(np.ravel(booster._baseline_prediction)[0])
        # Trees index the booster's *prepared* columns (categorical ones moved first): map back.
        n_features = len(model._features()[0])
        original = np.arange(n_features)
        prepared = getattr(booster, "_preprocessor", None)
        if prepared is not None:
            original = np.full(n_features, -1)
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

    n_threads = _openmp_effective_n_threads(model.n_threads)

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
    probe = np.ascontiguousarray(model._encode(pd.DataFrame({k: [v] for k, v in model.reference_.items()})))
    try:
        check = tree_outputs(prepare(probe), list(range(len(trees)))).sum(axis=1) + baseline
    except Exception:  # noqa: BLE001 - any internal mismatch means: use the public path
        return None
    if not np.allclose(check, model._raw(probe), rtol=1e-9, atol=1e-9):
        return None

    def run(chunk: np.ndarray, groups: dict[str, list[int]], ref_row: np.ndarray, out: dict, start: int) -> None:
        if start == 0:  # guard once per call: a few rows must match full re-predictions exactly
            probe = chunk[:32]
            expected = {g: np.zeros(len(probe)) for g in groups}
            raw = model._raw(probe)
            for g, idx in groups.items():
                moved = probe.copy()
                moved[:, idx] = ref_row[idx]
                expected[g] = raw - model._raw(moved)
            got = {g: np.zeros(len(probe)) for g in groups}
            run_trees(probe, groups, ref_row, got, 0)
            if not all(np.allclose(got[g], expected[g], atol=1e-9) for g in groups):
                raise _PerTreeMismatch
        run_trees(chunk, groups, ref_row, out, start)

    def run_trees(chunk: np.ndarray, groups: dict[str, list[int]], ref_row: np.ndarray, out: dict, start: int) -> None:
        with model._threads():
            P, P_ref = prepare(chunk), prepare(ref_row[None, :])[0]
            base_trees = tree_outputs(P, list(range(len(trees))))
            for g, idx in groups.items():
                which = [i for i, u in enumerate(used) if u & set(idx)]
                rows = _differs(chunk, idx, ref_row)
                if not which or not len(rows):
                    continue
                cols = position[idx]
                moved = P[rows]
                moved[:, cols] = P_ref[cols]
                out[g][start + rows] = (base_trees[np.ix_(rows, which)] - tree_outputs(moved, which)).sum(axis=1)

    return run
