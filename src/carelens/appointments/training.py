"""Train-validate-refit: the procedure behind ``carelens appointments train``.

Validation is on a later time window (default the last six months with outcomes), and patients
seen in that window are removed from training ("patients grouped"), so the figures describe
appointments of people the model has never seen, in months it has never seen. The saved model is
then refitted on every appointment with an outcome, using the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from carelens.appointments.evaluation import CostModel, bootstrap_intervals, fairness_table, metrics
from carelens.appointments.features import DEFAULT_GAP_DAYS, build_features
from carelens.appointments.model import DNAModel
from carelens.errors import TableError


@dataclass
class Split:
    train: np.ndarray  # boolean masks over the appointments frame
    valid: np.ndarray
    unseen: np.ndarray  # validation rows whose patient has no training row
    cut: pd.Timestamp


def validation_window(valid_months: int = 6, valid_window: pd.DateOffset | None = None) -> pd.DateOffset:
    """The validation window: ``valid_window`` (any calendar offset: 14 days, 6 weeks, 6 months)
    or else ``valid_months`` months."""
    return valid_window if valid_window is not None else pd.DateOffset(months=valid_months)


def describe_window(window: pd.DateOffset) -> str:
    """``6 months``, ``14 days``: the window as the card and messages say it."""
    return ", ".join(f"{v:g} {k}" for k, v in window.kwds.items()) or "0 days"


def temporal_split(appointments: pd.DataFrame, *, valid_months: int = 6, valid_window: pd.DateOffset | None = None,
                   group_patients: bool = True) -> Split:
    labelled = appointments["dna"].notna().to_numpy()
    if not labelled.any():
        raise TableError("no appointments with an attended/DNA outcome to learn from")
    when = appointments["appointment_datetime"]
    last = when[labelled].max()
    cut = (last - validation_window(valid_months, valid_window)).normalize() + pd.Timedelta(days=1)
    valid = labelled & (when >= cut).to_numpy()
    train = labelled & (when < cut).to_numpy()
    patients = appointments["patient_id"].reset_index(drop=True)
    if group_patients:
        train &= ~patients.isin(pd.unique(patients[valid])).to_numpy()
    unseen = valid & ~patients.isin(pd.unique(patients[train])).to_numpy()
    return Split(train=train, valid=valid, unseen=unseen, cut=cut)


def _fit(features: pd.DataFrame, appointments: pd.DataFrame, mask: np.ndarray, params: dict[str, Any]) -> DNAModel:
    rows = np.flatnonzero(mask)
    if len(rows) < 200:
        raise TableError(f"only {len(rows)} appointments with outcomes to train on; need at least 200")
    return DNAModel(**params).fit(
        features.iloc[rows],
        appointments["dna"].to_numpy()[rows],
        time=appointments["appointment_datetime"].to_numpy()[rows],
        groups=appointments["patient_id"].to_numpy()[rows],
    )


def train_and_validate(
    appointments: pd.DataFrame,
    *,
    gap_days: float = DEFAULT_GAP_DAYS,
    valid_months: int = 6,
    valid_window: pd.DateOffset | None = None,
    refit: bool = True,
    cost: CostModel | None = None,
    columns: dict[str, str] | None = None,
    **params: Any,
) -> tuple[DNAModel, dict[str, Any]]:
    """Return the model to save and its card (validation figures, fairness, settings).

    The validation window is ``valid_window`` (a calendar offset) or else the last ``valid_months``
    months.
    """
    features = build_features(appointments, gap_days=gap_days)
    split = temporal_split(appointments, valid_months=valid_months, valid_window=valid_window)
    window = describe_window(validation_window(valid_months, valid_window))
    if not split.valid.any() or not split.train.any():
        raise TableError(
            f"cannot hold out the last {window} for validation: the table needs outcomes before "
            "and after that point (try a shorter --valid)"
        )
    model = _fit(features, appointments, split.train, params)
    vrows = np.flatnonzero(split.valid)
    y_valid = appointments["dna"].to_numpy()[vrows]
    p_valid = model.predict_proba(features.iloc[vrows])[:, 1]
    validation = metrics(y_valid, p_valid, cost)
    validation.update(bootstrap_intervals(y_valid, p_valid, appointments["patient_id"].to_numpy()[vrows]))
    fairness = fairness_table(appointments.iloc[vrows], y_valid, p_valid)
    final = _fit(features, appointments, appointments["dna"].notna().to_numpy(), params) if refit else model
    when = appointments["appointment_datetime"][appointments["dna"].notna()]
    card = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "estimator": final.estimator,
        "calibration": final.calibration,
        "params": final.get_params(),
        "gap_days": gap_days,
        "validation_window": window,
        "columns": columns or {},
        "n_training": int(final.n_train_ + final.n_calibration_),
        "training_period": f"{when.min():%Y-%m-%d} to {when.max():%Y-%m-%d}",
        "band_thresholds": final.band_thresholds_,
        "validation_note": (
            f"Trained on appointments before {split.cut:%Y-%m-%d} of patients not seen after it, validated on "
            f"{int(split.valid.sum()):,} appointments from {split.cut:%Y-%m-%d} on. "
            + ("The saved model was then refitted on all appointments with the same settings." if refit else "")
        ),
        "validation": validation,
        "fairness": fairness.to_dict(orient="records"),
    }
    return final, card
