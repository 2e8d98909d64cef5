"""The reasons behind a score, in words a booking clerk can use ("2 missed appointments in the
last year; booked 84 days ahead").

Why groups rather than single features: nine history counts that move together are one reason to a
person ("missed appointments before"), and a reason must name something staff can act on. Each
group here is reset as one by :mod:`carelens.appointments.contributions`; the groups that raise
the risk most are put into words by :func:`describe`, for every row at once (a million rows are
explained in seconds, so no per-row Python).

A new reason: add its group (name -> feature names) to ``EXPLAIN_GROUPS`` and its words to
:func:`describe`; a group without words is shown by its name. The trust's own ``--feature``
columns are one group each (:func:`explain_groups`), in words made from the column's name and
value ("sms received: no"), since carelens cannot know what they mean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carelens.appointments.contributions import contributions
from carelens.appointments.schema import FEATURE_PREFIX

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


def explain_groups(model: DNAModel) -> dict[str, list[str]]:
    """The reason groups of one model: the standard groups (less features it dropped) and one
    group per trust feature it uses."""
    used = set(model._features()[0])
    groups = {g: [n for n in names if n in used] for g, names in EXPLAIN_GROUPS.items()}
    groups = {g: names for g, names in groups.items() if names}
    for name in model._features()[0]:
        if name.startswith(FEATURE_PREFIX):
            groups[name] = [name]
    return groups


def explain(model: DNAModel, X: pd.DataFrame, *, top: int = 3, min_logodds: float = 0.05) -> list[str]:
    """The main reasons behind each score, e.g. "2 missed appointments in the last year".

    Up to ``top`` groups per row, most risk-raising first, each raising the log-odds by at least
    ``min_logodds``; joined with "; ", or "" when nothing stands out.
    """
    contrib = contributions(model, X, explain_groups(model))
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


def _whole(values: pd.Series) -> pd.Series:
    return values.fillna(0).round().astype(int).astype(str)


def describe_age(age: pd.Series) -> np.ndarray:
    """Age as a booking clerk would say it, with what it means for the call: "a child (8): the
    reminder goes to a parent or carer", "aged 24", "an older patient (84): may need transport"."""
    a = age.to_numpy(dtype=float)
    years = _whole(age)
    out = np.select(
        [np.isnan(a), a < 16, a < 18, a < 30, a < 80],
        ["", "a child (" + years + "): the reminder goes to a parent or carer", "a teenager (" + years + ")",
         "a young adult (" + years + ")", "aged " + years],
        "an older patient (" + years + "): may need help with transport",
    )
    return out.astype(object)


def describe_deprivation(decile: pd.Series) -> np.ndarray:
    """IMD decile in words: "lives in one of the most deprived areas (the poorest 10 %)"."""
    d = decile.to_numpy(dtype=float)
    out = np.select(
        [np.isnan(d), d <= 1, d <= 2, d <= 4, d <= 6],
        ["", "lives in one of the most deprived areas (the poorest 10 %)",
         "lives in one of the most deprived areas (the poorest 20 %)", "lives in a more deprived area than most",
         "lives in an area of average deprivation"],
        "lives in a less deprived area",
    )
    return out.astype(object)


def describe_distance(km: pd.Series) -> np.ndarray:
    """Distance in miles first (how people in the UK measure a journey), then km."""
    k = km.to_numpy(dtype=float)
    miles = pd.Series(np.round(k / 1.609344)).fillna(0).astype(int).astype(str)
    text = "lives " + miles + " miles (" + _whole(km) + " km) away"
    return np.where(np.isnan(k), "", np.where(k < 1.6, "lives under a mile away", text)).astype(object)


def describe_lead_time(days: pd.Series) -> np.ndarray:
    """"booked 5 days ahead", "booked 3 weeks ahead", "booked 4 months ahead"."""
    d = days.fillna(0).to_numpy(dtype=float)
    day_text = "booked " + _plural(pd.Series(np.round(d)), "day") + " ahead"
    week_text = "booked " + _plural(pd.Series(np.round(d / 7)), "week") + " ahead"
    month_text = "booked " + _plural(pd.Series(np.round(d / 30.44)), "month") + " ahead"
    return np.select([d < 1, d < 14, d < 61], ["booked on the day", day_text, week_text], month_text).astype(object)


def describe_trust_feature(name: str, values: pd.Series) -> np.ndarray:
    """A trust's own column in words made from its name: "sms received: no", "neighbourhood: Centro".
    0/1 columns read as no/yes; blanks say nothing."""
    label = name.removeprefix(FEATURE_PREFIX).replace("_", " ").strip()
    if isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        text = values.astype("string").fillna("Unknown")
        return np.where(text == "Unknown", "", label + ": " + text).astype(object)
    v = values.to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    if len(finite) and np.isin(finite, [0.0, 1.0]).all():
        words = np.where(v == 1, "yes", "no")
    else:
        words = pd.Series(v).map(lambda x: f"{x:g}").to_numpy()
    return np.where(np.isnan(v), "", label + ": " + words).astype(object)


def describe(group: str, X: pd.DataFrame) -> np.ndarray:
    """Plain words for one reason group, for every row at once (vectorised: a million rows)."""
    n = len(X)
    col = lambda name: X[name].reset_index(drop=True)
    if group.startswith(FEATURE_PREFIX):
        return describe_trust_feature(group, col(group))
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
        return describe_lead_time(col("lead_time_days"))
    if group == "timing":
        day = np.array(WEEKDAYS)[col("weekday").fillna(0).to_numpy(dtype=int) % 7]
        hour = col("hour").to_numpy(dtype=float) if "hour" in X.columns else np.full(n, np.nan)
        hh = np.floor(np.nan_to_num(hour)).astype(int)
        mm = np.round((np.nan_to_num(hour) - hh) * 60).astype(int)
        clock = pd.Series(hh).astype(str).str.zfill(2) + ":" + pd.Series(mm).astype(str).str.zfill(2)
        return np.where(np.isnan(hour), pd.Series(day) + " appointment", pd.Series(day) + " " + clock + " slot").astype(object)
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
        first = col("first_attendance").astype(str).str.lower().str.startswith(("first", "new"))
        return np.where(first, "first appointment", "follow-up appointment").astype(object)
    if group == "age":
        return describe_age(col("age"))
    if group == "deprivation":
        return describe_deprivation(col("imd_decile"))
    if group == "distance":
        return describe_distance(col("distance_km"))
    return np.full(n, group, dtype=object)
