"""Score every appointment still to come, using only the history in rows with outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from carelens.appointments.features import build_features
from carelens.appointments.persistence import LoadedModel
from carelens.errors import TableError

SCORE_COLUMNS = ["appointment_id", "dna_probability", "risk_band", "reasons"]


def score_upcoming(
    appointments: pd.DataFrame,
    loaded: LoadedModel,
    *,
    explain: str = "banded",
    top_reasons: int = 3,
    file: str | None = None,
) -> pd.DataFrame:
    """One row per blank-status appointment, in input order: probability, band and reasons.

    ``explain``: ``"banded"`` (reasons for medium and high risk, the rows staff will call; fast on a
    million rows), ``"all"``, or ``"none"``. A patient with no history is scored on the
    appointment's own facts (lead time, clinic, time, age, ...), and says so in the reasons.
    """
    future = appointments["is_future"].to_numpy()
    if not future.any():
        raise TableError(
            "no appointments to score: every row has an attendance status (future appointments have it blank)",
            file=file,
        )
    features = build_features(appointments, gap_days=loaded.gap_days)
    rows = np.flatnonzero(future)
    X = features.iloc[rows]
    model = loaded.model
    p = model.predict_proba(X)[:, 1]
    band = model.risk_band(p)
    reasons = np.full(len(rows), "", dtype=object)
    if explain != "none":
        which = np.ones(len(rows), bool) if explain == "all" else band != "low"
        if which.any():
            reasons[which] = model.explain(X.iloc[np.flatnonzero(which)], top=top_reasons)
    return pd.DataFrame(
        {
            "appointment_id": appointments["appointment_id"].to_numpy()[rows],
            "dna_probability": np.round(p, 4),
            "risk_band": band,
            "reasons": reasons,
        }
    )


def with_version(scores: pd.DataFrame, version: str) -> pd.DataFrame:
    """Add the key and audit columns a scores table in the database carries."""
    out = scores.copy()
    out["model_version"] = version
    out["scored_at"] = datetime.now(UTC).replace(tzinfo=None)
    return out
