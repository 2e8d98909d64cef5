"""How good, how calibrated, how useful and how fair a set of DNA risk scores is.

Discrimination alone (AUROC) does not tell a trust whether phoning the top of the list is worth
it, so alongside AUROC, average precision and Brier score we report calibration (curve and
expected calibration error), the share of all DNAs caught in the top-risk decile, the net benefit
of reminding by risk against reminding everyone or no-one under an explicit cost model, and a
fairness table by deprivation, age, sex and ethnic group.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from carelens.errors import ConfigError


@dataclass(frozen=True)
class CostModel:
    """Money per appointment decision (defaults: a 2024 NHS outpatient slot, a short phone call).

    ``reminder_effect`` is the share of would-be DNAs a reminder prevents (trials: 20-40 %).
    """

    call_cost: float = 4.0
    slot_value: float = 120.0
    reminder_effect: float = 0.3

    def __post_init__(self) -> None:
        """Costs a person can type but no clinic can have (a negative call cost, a reminder that
        prevents 700 % of DNAs) are refused in one line naming the setting."""
        checks = (
            ("call_cost", "the cost of one reminder call (£)", 0.0, 1e6),
            ("slot_value", "the value of a used outpatient slot (£)", 0.0, 1e7),
            ("reminder_effect", "the share of would-be DNAs a reminder prevents", 0.0, 1.0),
        )
        for name, what, low, high in checks:
            value = getattr(self, name)
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = float("nan")
            if not np.isfinite(number) or not low <= number <= high:
                raise ConfigError(f"{name.replace('_', ' ')} is {what}: a number from {low:g} to {high:,g}, not {value!r}",
                                  field=name)
        if self.slot_value == 0 or self.reminder_effect == 0:
            raise ConfigError("slot value and reminder effect must be above 0 (the net benefit of a reminder divides by "
                              "them)", field="slot_value" if self.slot_value == 0 else "reminder_effect")

    @property
    def threshold(self) -> float:
        """Call when p * effect * value > cost: the risk above which a call pays for itself."""
        return self.call_cost / (self.reminder_effect * self.slot_value)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |observed - predicted| over equal-count bins of the predicted risk.

    Equal-count bins because DNA risks crowd below 0.2: equal-width bins would put nearly every
    appointment in one or two bins and hide miscalibration.
    """
    table = calibration_curve(y, p, bins)
    if table.empty:
        return float("nan")
    return float(np.sum(table["n"] * (table["observed"] - table["predicted"]).abs()) / table["n"].sum())


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) == 0:
        return pd.DataFrame(columns=["bin", "n", "predicted", "observed"])
    order = np.argsort(p, kind="stable")
    chunks = np.array_split(order, min(bins, len(y)))
    rows = [
        {"bin": i + 1, "n": len(c), "predicted": float(p[c].mean()), "observed": float(y[c].mean())}
        for i, c in enumerate(chunks)
        if len(c)
    ]
    return pd.DataFrame(rows)


def top_decile_share(y: np.ndarray, p: np.ndarray) -> float:
    """Share of all DNAs that fall among the 10 % highest-risk appointments."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    if y.sum() == 0:
        return float("nan")
    k = max(1, int(np.ceil(0.1 * len(p))))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].sum() / y.sum())


def net_benefit(y: np.ndarray, p: np.ndarray, cost: CostModel) -> dict[str, float]:
    """Pounds per 1,000 appointments for each reminder policy (remind-no-one is 0 by definition)."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    gain = y * cost.reminder_effect * cost.slot_value - cost.call_cost
    per_k = 1000.0 / max(len(y), 1)
    k = max(1, int(np.ceil(0.1 * len(p))))
    top = np.argsort(-p, kind="stable")[:k]
    by_threshold = p >= cost.threshold
    return {
        "remind_no_one": 0.0,
        "remind_everyone": float(gain.sum() * per_k),
        "remind_by_model_threshold": float(gain[by_threshold].sum() * per_k),
        "remind_top_decile": float(gain[top].sum() * per_k),
        "threshold": float(cost.threshold),
        "share_called_by_threshold": float(by_threshold.mean()) if len(p) else 0.0,
    }


def _safe_auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def metrics(y: Any, p: Any, cost: CostModel | None = None) -> dict[str, Any]:
    y, p = np.asarray(y, float), np.asarray(p, float)
    cost = cost or CostModel()
    return {
        "n": len(y),
        "dna_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_predicted": float(p.mean()) if len(y) else float("nan"),
        "auroc": _safe_auc(y, p),
        "average_precision": float(average_precision_score(y, p)) if 0 < y.sum() else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p),
        "top_decile_share_of_dnas": top_decile_share(y, p),
        "net_benefit_per_1000": net_benefit(y, p, cost),
        "cost_model": asdict(cost),
        "calibration_curve": calibration_curve(y, p).to_dict(orient="records"),
    }


def bootstrap_intervals(y: Any, p: Any, groups: Any, *, draws: int = 200, seed: int = 0) -> dict[str, list[float]]:
    """95 % intervals for AUROC and ECE, resampling patients (one patient's appointments are not
    independent of each other), so two figures can be compared "within noise"."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) == 0 or not 0 < y.sum() < len(y):
        return {"auroc_ci95": [float("nan")] * 2, "ece_ci95": [float("nan")] * 2}
    rng = np.random.default_rng(seed)
    _, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(codes.max() + 1))
    sizes = np.diff(np.append(starts, len(codes)))
    aucs, eces = [], []
    for _ in range(draws):
        pick = rng.integers(0, len(starts), len(starts))
        lengths = sizes[pick]
        within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = order[np.repeat(starts[pick], lengths) + within]
        aucs.append(_safe_auc(y[rows], p[rows]))
        eces.append(expected_calibration_error(y[rows], p[rows]))
    return {
        "auroc_ci95": [float(np.nanquantile(aucs, 0.025)), float(np.nanquantile(aucs, 0.975))],
        "ece_ci95": [float(np.nanquantile(eces, 0.025)), float(np.nanquantile(eces, 0.975))],
    }


def age_band(age: pd.Series) -> pd.Series:
    return pd.cut(age, [-1, 17, 29, 49, 69, 200], labels=["0-17", "18-29", "30-49", "50-69", "70+"]).astype("string").fillna("Unknown")


def imd_quintile(decile: pd.Series) -> pd.Series:
    q = np.ceil(pd.to_numeric(decile, errors="coerce") / 2)
    return q.map(lambda v: f"Q{int(v)}" if np.isfinite(v) else "Unknown").astype("string")


def fairness_table(frame: pd.DataFrame, y: Any, p: Any, *, min_n: int = 30) -> pd.DataFrame:
    """Per group: AUROC, calibration, and share selected (top decile) against share of DNAs.

    ``frame`` holds ``imd_decile``, ``age``, ``sex``, ``ethnic_group`` for the same rows.
    A group whose share of the call list is well below its share of DNAs is under-served.
    Groups smaller than ``min_n`` are reported without AUROC/ECE (too noisy to read).
    """
    y, p = np.asarray(y, float), np.asarray(p, float)
    k = max(1, int(np.ceil(0.1 * len(p))))
    selected = np.zeros(len(p), dtype=bool)
    selected[np.argsort(-p, kind="stable")[:k]] = True
    attributes = {
        "IMD quintile": imd_quintile(frame["imd_decile"]),
        "age band": age_band(frame["age"]),
        "sex": frame["sex"].astype("string").fillna("Unknown"),
        "ethnic group": frame["ethnic_group"].astype("string").fillna("Unknown"),
    }
    rows = []
    total_dna = max(y.sum(), 1)
    for attribute, values in attributes.items():
        values = values.to_numpy()
        for group in sorted(pd.unique(values)):
            m = values == group
            n = int(m.sum())
            big = n >= min_n
            rows.append(
                {
                    "attribute": attribute,
                    "group": str(group),
                    "n": n,
                    "dna_rate": float(y[m].mean()),
                    "mean_predicted": float(p[m].mean()),
                    "auroc": _safe_auc(y[m], p[m]) if big else float("nan"),
                    "ece": expected_calibration_error(y[m], p[m]) if big else float("nan"),
                    "share_of_dnas": float(y[m].sum() / total_dna),
                    "share_selected": float(selected[m].sum() / k),
                }
            )
    return pd.DataFrame(rows)
