"""The reasons behind a score, in words a booking clerk can use ("2 missed appointments in the
last year; booked 84 days ahead").

Why groups rather than single features: nine history counts that move together are one reason to a
person ("missed appointments before"), and a reason must name something staff can act on. Each
group here is reset as one by :mod:`carelens.appointments.contributions`; the groups that raise
the risk most are put into words by :func:`describe`, for every row at once (a million rows are
explained in seconds, so no per-row Python).

A new reason: add its group (name -> feature names) to ``EXPLAIN_GROUPS`` and its words to
:func:`describe`; a group without words is shown by its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carelens.appointments.contributions import contributions

if TYPE_CHECKING:
    from carelens.appointments.model import DNAModel

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


def explain(model: DNAModel, X: pd.DataFrame, *, top: int = 3, min_logodds: float = 0.05) -> list[str]:
    """The main reasons behind each score, e.g. "2 missed appointments in the last year".

    Up to ``top`` groups per row, most risk-raising first, each raising the log-odds by at least
    ``min_logodds``; joined with "; ", or "" when nothing stands out.
    """
    contrib = contributions(model, X, EXPLAIN_GROUPS)
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
