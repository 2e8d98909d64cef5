"""Train-validate-refit: the procedure behind ``carelens appointments train``.

Validation is on a later time window, and patients seen in that window are removed from training
("patients grouped"), so the figures describe appointments of people the model has never seen, in
days it has never seen. The saved model is then refitted on every appointment with an outcome,
using the same settings.

Why the window is chosen from the history when not given: trusts' exports run from six weeks to
many years. A fixed six months cannot be held out of a six-week export, and on ten years it
wastes nothing but says little about this year. The default is the last fifth of the history with
outcomes, at most six months; only a history too short to hold out anything is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from carelens.appointments.evaluation import CostModel, bootstrap_intervals, fairness_table, metrics
from carelens.appointments.features import DEFAULT_GAP_DAYS, build_features, check_gap_days, trust_feature_names
from carelens.appointments.model import DNAModel
from carelens.appointments.schema import FEATURE_PREFIX
from carelens.errors import ConfigError, TableError

MIN_TRAINING_ROWS = 200
LEAK_AUROC = 0.98  # one column alone separating attended from missed this well was written after the fact
_LENGTH = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}


@dataclass
class Split:
    train: np.ndarray  # boolean masks over the appointments frame
    valid: np.ndarray
    unseen: np.ndarray  # validation rows whose patient has no training row
    cut: pd.Timestamp


@dataclass(frozen=True)
class Window:
    """A validation window: a calendar offset and how to say it ("14d", "6m")."""

    offset: pd.DateOffset
    text: str
    chosen: str = ""  # why, when carelens chose it

    def describe(self) -> str:
        return self.text + (f" ({self.chosen})" if self.chosen else "")


def parse_window(valid: str | pd.DateOffset | None, *, valid_months: int | None = None) -> Window | None:
    """``"14d"``, ``"6w"``, ``"6m"``, ``"1y"`` (or a ``DateOffset``, or ``valid_months``) as a
    :class:`Window`; None when nothing was given (the window is then chosen from the history)."""
    if valid is None and valid_months is not None:
        valid = f"{int(valid_months)}m"
    if valid is None:
        return None
    if isinstance(valid, pd.DateOffset):
        return Window(valid, _describe(valid))
    match = _LENGTH.match(str(valid))
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"the validation window is a whole number and a unit: 14d, 6w, 6m or 1y (days, weeks, months, "
                          f"years), not {valid!r}", field="valid")
    offset = pd.DateOffset(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    return Window(offset, _describe(offset))


def _describe(offset: pd.DateOffset) -> str:
    """``6 months``, ``14 days``: a window as the card and messages say it."""
    return ", ".join(f"{v:g} {k}" for k, v in offset.kwds.items()) or "0 days"


def choose_window(appointments: pd.DataFrame, valid: Window | None) -> Window:
    """The window to validate on: the one given, or the last fifth of the history with outcomes
    (at most six months). Refused, in one line, when it leaves nothing to train on."""
    labelled = appointments["dna"].notna().to_numpy()
    if not labelled.any():
        raise TableError("no appointments with an attended/DNA outcome to learn from")
    when = appointments["appointment_datetime"][labelled]
    first, last = when.min(), when.max()
    span = (last.normalize() - first.normalize()).days + 1
    history = f"{span:,} day(s) of appointments with outcomes ({first:%Y-%m-%d} to {last:%Y-%m-%d})"
    if valid is None:
        days = span // 5
        if days < 183:
            if days < 1:
                raise TableError(f"too little history to validate on: {history}; a model needs outcomes from several "
                                 "days, some to learn from and later ones to check it on", field="valid")
            return Window(pd.DateOffset(days=days), f"{days} days", f"the last fifth of {span:,} days of history")
        return Window(pd.DateOffset(months=6), "6 months", "at most six months: the last fifth of the history is longer")
    cut = (last - valid.offset).normalize() + pd.Timedelta(days=1)
    if cut <= first.normalize():
        suggestion = f"{max(span // 5, 1)}d"
        raise TableError(f"the validation window ({valid.text}) is as long as the history or longer: {history}; nothing "
                         f"would be left to train on. Use a shorter --valid such as {suggestion}, or leave it out "
                         "to let carelens choose", field="valid")
    return valid


def temporal_split(
    appointments: pd.DataFrame,
    *,
    valid_months: int | None = None,
    valid: str | pd.DateOffset | Window | None = None,
    group_patients: bool = True,
) -> Split:
    """Training rows before the cut, validation rows from it on (the last ``valid`` of the
    history with outcomes, by default chosen by :func:`choose_window`)."""
    window = valid if isinstance(valid, Window) else choose_window(appointments, parse_window(valid, valid_months=valid_months))
    labelled = appointments["dna"].notna().to_numpy()
    when = appointments["appointment_datetime"]
    last = when[labelled].max()
    cut = (last - window.offset).normalize() + pd.Timedelta(days=1)
    valid_rows = labelled & (when >= cut).to_numpy()
    train = labelled & (when < cut).to_numpy()
    patients = appointments["patient_id"].reset_index(drop=True)
    if group_patients:
        train &= ~patients.isin(pd.unique(patients[valid_rows])).to_numpy()
    unseen = valid_rows & ~patients.isin(pd.unique(patients[train])).to_numpy()
    return Split(train=train, valid=valid_rows, unseen=unseen, cut=cut)


def _fit(features: pd.DataFrame, appointments: pd.DataFrame, mask: np.ndarray, params: dict[str, Any], what: str) -> DNAModel:
    rows = np.flatnonzero(mask)
    if len(rows) < MIN_TRAINING_ROWS:
        raise TableError(f"only {len(rows):,} appointments with outcomes to train on {what}; need at least "
                         f"{MIN_TRAINING_ROWS} (a longer history, or a shorter --valid)", field="valid")
    y = appointments["dna"].to_numpy()[rows]
    if len(np.unique(y)) < 2:
        raise TableError(f"the appointments to train on {what} are all {'missed' if y[0] else 'attended'}; the model "
                         "needs both (a longer history, or a shorter --valid)", field="valid")
    return DNAModel(**params).fit(
        features.iloc[rows],
        y,
        time=appointments["appointment_datetime"].to_numpy()[rows],
        groups=appointments["patient_id"].to_numpy()[rows],
    )


def check_no_outcome_columns(features: pd.DataFrame, y: np.ndarray, rows: np.ndarray) -> None:
    """Refuse a trust feature that on its own all but tells whether the appointment was missed.

    Such a column was written after the appointment (an outcome or discharge code under another
    name); a model trained on it reports a near-perfect AUROC and is useless for appointments still
    to come. Categorical columns are judged by their labels' smoothed DNA rates, so a column with a
    different label per row (an ID) does not trip the check by chance.
    """
    from sklearn.metrics import roc_auc_score

    y = y[rows]
    if not 0 < y.sum() < len(y):
        return
    for name in trust_feature_names(features):
        values = features[name].iloc[rows]
        if isinstance(values.dtype, pd.CategoricalDtype):
            frame = pd.DataFrame({"label": values.astype(str).to_numpy(), "y": y})
            stats = frame.groupby("label")["y"].agg(["sum", "count"])
            rate = (stats["sum"] + 20 * y.mean()) / (stats["count"] + 20)
            score = frame["label"].map(rate).to_numpy(dtype=float)
        else:
            score = values.to_numpy(dtype=float)
        known = np.isfinite(score)
        if known.sum() < 50 or not 0 < y[known].sum() < known.sum():
            continue
        auc = roc_auc_score(y[known], score[known])
        if max(auc, 1 - auc) > LEAK_AUROC:
            raise TableError(
                f"this column alone tells attended from missed appointments almost perfectly (AUROC {max(auc, 1 - auc):.3f}): "
                "it must have been recorded after the appointment (an outcome under another name), and a score may only "
                "use what is known before; leave it out of --feature", field=name.removeprefix(FEATURE_PREFIX))


def _say_absent(dropped: list[dict[str, str]], absent: list[str], *, dates_only: bool = False) -> list[dict[str, str]]:
    """A dropped feature whose column the export lacks is said so, not "no values"; so is the
    hour of an export with dates only."""
    out = []
    for d in dropped:
        if d["feature"] in absent:
            d = {**d, "why": "the table has no such column"}
        elif d["feature"] == "hour" and dates_only:
            d = {**d, "why": "the appointments have dates without times"}
        out.append(d)
    return out


def train_and_validate(
    appointments: pd.DataFrame,
    *,
    gap_days: float = DEFAULT_GAP_DAYS,
    valid_months: int | None = None,
    valid: str | pd.DateOffset | None = None,
    refit: bool = True,
    cost: CostModel | None = None,
    columns: dict[str, str] | None = None,
    **params: Any,
) -> tuple[DNAModel, dict[str, Any]]:
    """Return the model to save and its card (validation figures, fairness, settings).

    ``valid``: the validation window ("14d", "6w", "6m", a ``DateOffset``; ``valid_months`` is the
    older spelling); by default the last fifth of the history with outcomes, at most six months.
    The trust's own features are the ``feature:`` columns of ``appointments`` (``normalise(...,
    features=[...])``).
    """
    gap_days = check_gap_days(gap_days)
    DNAModel(**params)._check_params()  # a bad seed is refused before the features are built
    window = choose_window(appointments, parse_window(valid, valid_months=valid_months))
    features = build_features(appointments, gap_days=gap_days)
    split = temporal_split(appointments, valid=window)
    if not split.valid.any() or not split.train.any():
        raise TableError(
            f"cannot hold out the last {window.text} for validation: the table needs outcomes before "
            "and after that point (try a shorter --valid)", field="valid"
        )
    labels = appointments["dna"].to_numpy()
    check_no_outcome_columns(features, labels, np.flatnonzero(split.train))
    model = _fit(features, appointments, split.train, params, f"before {split.cut:%Y-%m-%d}")
    vrows = np.flatnonzero(split.valid)
    y_valid = labels[vrows]
    p_valid = model.predict_proba(features.iloc[vrows])[:, 1]
    validation = metrics(y_valid, p_valid, cost)
    validation.update(bootstrap_intervals(y_valid, p_valid, appointments["patient_id"].to_numpy()[vrows]))
    fairness = fairness_table(appointments.iloc[vrows], y_valid, p_valid)
    labelled = appointments["dna"].notna().to_numpy()
    final = _fit(features, appointments, labelled, params, "in the whole table") if refit else model
    seen = labelled if refit else split.train  # the rows the saved model learnt from
    when = appointments["appointment_datetime"][labelled]
    trained_until = appointments["appointment_datetime"][seen].max()
    trust = appointments.attrs.get("features") or {
        c.removeprefix(FEATURE_PREFIX): "numeric" for c in trust_feature_names(appointments)}
    card = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "estimator": final.estimator,
        "calibration": final.calibration,
        "params": final.get_params(),
        "gap_days": gap_days,
        "validation_window": window.describe(),
        "columns": columns or {},
        "n_training": int(final.n_train_ + final.n_calibration_),
        "training_period": f"{when.min():%Y-%m-%d} to {when.max():%Y-%m-%d}",
        # Evaluating on appointments up to here is evaluating on what the saved model learnt from.
        "trained_until": f"{trained_until:%Y-%m-%d %H:%M:%S}",
        "band_thresholds": final.band_thresholds_,
        "bands": final.band_summary_,
        "trust_features": trust,
        "dropped_features": _say_absent(final.dropped_features_, appointments.attrs.get("absent", []),
                                        dates_only=bool(appointments.attrs.get("dates_only"))),
        "validation_note": (
            f"Trained on appointments before {split.cut:%Y-%m-%d} of patients not seen after it, validated on "
            f"{int(split.valid.sum()):,} appointments from {split.cut:%Y-%m-%d} on (the last {window.text}"
            + (f": {window.chosen}). " if window.chosen else "). ")
            + ("The saved model was then refitted on all appointments with the same settings." if refit else "")
        ),
        "validation": validation,
        "fairness": fairness.to_dict(orient="records"),
    }
    return final, card
