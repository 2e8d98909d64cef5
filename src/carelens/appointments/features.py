"""Features for each appointment, computed only from what was known at its scoring moment.

Leakage-free by construction: an appointment's *scoring moment* is ``gap_days`` before it (the day
the reminder team would phone). Patient history only counts appointments whose outcome was known by
then (appointment time strictly before the scoring moment); nothing else in the table's status
column is read. Booking facts (when other appointments were booked) are not outcomes and are used
only as they stood at the scoring moment.

Why sorted keys and ``searchsorted`` rather than a per-patient loop or a self-join: every "how many
of this patient's appointments fall before time x" question becomes one binary search on a single
int64 array of ``patient_code * SPAN + minutes``, so a million rows take a second or two and memory
stays linear.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from carelens.appointments.schema import FEATURE_PREFIX
from carelens.errors import ConfigError

MINUTES_PER_DAY = 24 * 60
DEFAULT_GAP_DAYS = 3.0
PRIOR_DNA_RATE = 0.08  # England's outpatient DNA rate: the shrinkage target for short histories
PRIOR_STRENGTH = 4.0  # pseudo-appointments behind that prior

HISTORY_FEATURES = [
    "prior_appointments",
    "prior_dnas",
    "prior_patient_cancellations",
    "prior_provider_cancellations",
    "prior_appointments_365d",
    "prior_dnas_365d",
    "dna_rate_shrunk",
    "days_since_last_dna",
    "days_since_last_appointment",
]
BOOKING_FEATURES = ["same_day_bookings", "open_bookings", "lead_time_days"]
CALENDAR_FEATURES = ["hour", "weekday", "month"]
PATIENT_FEATURES = ["age", "imd_decile", "distance_km"]
CATEGORICAL_FEATURES = ["specialty", "site", "consultation_medium", "first_attendance", "sex"]
NUMERIC_FEATURES = HISTORY_FEATURES + BOOKING_FEATURES + CALENDAR_FEATURES + PATIENT_FEATURES
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES


MAX_GAP_DAYS = 366.0


def check_gap_days(gap_days: float) -> float:
    """The history gap as a number of days, refused when it would leak or mean nothing.

    A negative gap lets outcomes recorded *after* the scoring moment into the features (the model
    then "predicts" what it was told: AUROC 1.000 on its card and nothing in real use), so it is
    never accepted; nor is NaN, infinity or more than a year."""
    try:
        value = float(gap_days)
    except (TypeError, ValueError):
        raise ConfigError(f"the history gap must be a number of days, not {gap_days!r}", field="gap_days") from None
    if not math.isfinite(value) or value < 0 or value > MAX_GAP_DAYS:
        raise ConfigError(
            f"the history gap must be 0 to {MAX_GAP_DAYS:g} days, not {gap_days!r} (a negative gap would let outcomes "
            "known only after the scoring moment into the model)", field="gap_days")
    return value


def trust_feature_names(frame: pd.DataFrame) -> list[str]:
    """The trust's own feature columns of a normalised frame (``feature:<name>``), in order."""
    return [c for c in frame.columns if str(c).startswith(FEATURE_PREFIX)]


def _minutes(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[m]").astype(np.int64)


class _Keyed:
    """Rows of one kind (e.g. past DNAs) as sorted ``patient*SPAN + minute`` keys with prefix sums.

    Several weightings of the same rows (all outcomes, patient cancellations, ...) share one sorted
    key array, so one binary search per query point answers all of them.
    """

    def __init__(self, codes: np.ndarray, minutes: np.ndarray, span: int, weights: dict[str, np.ndarray] | None = None):
        keys = codes.astype(np.int64) * span + minutes
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.minutes = minutes[order]
        self.cum = {"n": np.arange(len(keys) + 1, dtype=np.float64)}
        for name, w in (weights or {}).items():
            self.cum[name] = np.concatenate([[0.0], np.cumsum(w[order], dtype=np.float64)])

    def position(self, query: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Index of the first row at or after each query key. ``order`` sorts the queries (or nearly):
        searching in key order keeps the binary searches in cache, several times faster on 1M rows."""
        out = np.empty(len(query), dtype=np.int64)
        out[order] = np.searchsorted(self.keys, query[order], side="left")
        return out

    def count(self, lo: np.ndarray, hi: np.ndarray, weight: str = "n") -> np.ndarray:
        """Weighted number of rows between positions ``lo`` (inclusive) and ``hi`` (exclusive)."""
        return self.cum[weight][hi] - self.cum[weight][lo]

    def last_minute(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Minute of the latest row before position ``hi`` (NaN when there is none after ``lo``)."""
        out = np.full(len(lo), np.nan)
        has = hi > lo
        out[has] = self.minutes[hi[has] - 1]
        return out


def build_features(
    appointments: pd.DataFrame,
    *,
    gap_days: float = DEFAULT_GAP_DAYS,
    leaky: bool = False,
) -> pd.DataFrame:
    """One feature row per appointment (same order), from a frame made by ``schema.normalise``.

    ``leaky=True`` computes the history counts over the *whole* table (every appointment of the
    patient, past or future, this one included), the common mistake that inflates published AUROCs; it exists only
    so the benchmark can show the difference and must never be used to train a real model.
    """
    gap_days = check_gap_days(gap_days)
    n = len(appointments)
    codes = pd.factorize(appointments["patient_id"])[0].astype(np.int64)
    t = _minutes(appointments["appointment_datetime"])
    booked = _minutes(appointments["booked_datetime"])
    gap = int(round(gap_days * MINUTES_PER_DAY))
    year = 365 * MINUTES_PER_DAY
    base = int(min(t.min(), booked.min())) - gap - 2 * year - 1 if n else 0
    t0, b0 = t - base, booked - base
    cutoff = t0 - gap
    span = int(max(t0.max(), b0.max()) + year + 2) if n else 2
    # Query keys; all are sorted (or nearly) by the same permutation: patient first, then time.
    q_cut = codes * span + cutoff
    order = np.argsort(q_cut, kind="stable")
    q_start = codes * span  # minute 0: before any row of the patient
    q_year = q_cut - year

    status = appointments["attendance_status"].to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(status)
    dna = appointments["dna"].to_numpy(dtype="float64")
    h_codes, h_t, h_status = codes[known], t0[known], status[known]
    is_dna = dna[known] == 1.0
    history = _Keyed(
        h_codes,
        h_t,
        span,
        {
            "eligible": (~np.isnan(dna[known])).astype(float),  # attended or DNA: the rate's denominator
            "patient_cancel": (h_status == 2).astype(float),
            "provider_cancel": (h_status == 4).astype(float),
        },
    )
    dnas = _Keyed(h_codes[is_dna], h_t[is_dna], span)

    feats: dict[str, np.ndarray] = {}
    h_start, d_start = history.position(q_start, order), dnas.position(q_start, order)
    h_cut, d_cut = history.position(q_cut, order), dnas.position(q_cut, order)
    if leaky:
        # Whole-table history, this appointment included: what a naive
        # ``groupby("patient_id")["dna"].transform(...)`` column does.
        q_end = q_start + (span - 1)
        h_hi, d_hi = history.position(q_end, order), dnas.position(q_end, order)
        h_lo365, d_lo365 = history.position(codes * span + t0 - year, order), dnas.position(codes * span + t0 - year, order)
        h_hi365, d_hi365 = history.position(codes * span + t0 + year, order), dnas.position(codes * span + t0 + year, order)
    else:
        h_hi, d_hi = h_cut, d_cut
        h_lo365, d_lo365 = history.position(q_year, order), dnas.position(q_year, order)
        h_hi365, d_hi365 = h_cut, d_cut
    feats["prior_appointments"] = history.count(h_start, h_hi)
    feats["prior_dnas"] = dnas.count(d_start, d_hi)
    feats["prior_patient_cancellations"] = history.count(h_start, h_hi, "patient_cancel")
    feats["prior_provider_cancellations"] = history.count(h_start, h_hi, "provider_cancel")
    feats["prior_appointments_365d"] = history.count(h_lo365, h_hi365)
    feats["prior_dnas_365d"] = dnas.count(d_lo365, d_hi365)
    n_eligible = history.count(h_start, h_hi, "eligible")
    feats["dna_rate_shrunk"] = (feats["prior_dnas"] + PRIOR_STRENGTH * PRIOR_DNA_RATE) / (n_eligible + PRIOR_STRENGTH)
    feats["days_since_last_dna"] = (cutoff - dnas.last_minute(d_start, d_cut)) / MINUTES_PER_DAY + gap_days
    feats["days_since_last_appointment"] = (cutoff - history.last_minute(h_start, h_cut)) / MINUTES_PER_DAY + gap_days

    # Booking facts: not outcomes, taken as they stood at the scoring moment.
    booked_day = booked // MINUTES_PER_DAY
    same_day = pd.Series(np.ones(n)).groupby([codes, booked_day]).transform("size").to_numpy()
    feats["same_day_bookings"] = same_day - 1.0
    all_booked = _Keyed(codes, b0, span)
    all_appts = _Keyed(codes, t0, span)
    q_next = q_cut + 1
    # Booked by the cutoff and not yet happened: (#booked <= cutoff) - (#took place <= cutoff).
    open_now = all_booked.count(all_booked.position(q_start, order), all_booked.position(q_next, order)) - all_appts.count(
        all_appts.position(q_start, order), all_appts.position(q_next, order)
    )
    feats["open_bookings"] = np.maximum(open_now - (b0 <= cutoff), 0.0)
    feats["lead_time_days"] = (t - booked) / MINUTES_PER_DAY

    when = appointments["appointment_datetime"].dt
    feats["hour"] = (when.hour + when.minute / 60.0).to_numpy(dtype="float64")
    if n and not (t % MINUTES_PER_DAY).any():  # dates without times: the slot's hour is unknown, not midnight
        feats["hour"] = np.full(n, np.nan)
    feats["weekday"] = when.dayofweek.to_numpy(dtype="float64")
    feats["month"] = when.month.to_numpy(dtype="float64")
    for name in PATIENT_FEATURES:
        feats[name] = appointments[name].to_numpy(dtype="float64")

    out = pd.DataFrame({name: np.asarray(feats[name], dtype="float32") for name in NUMERIC_FEATURES})
    for name in CATEGORICAL_FEATURES:
        out[name] = as_category(appointments[name]).array
    for name in trust_feature_names(appointments):  # the trust's own predictors, as normalise read them
        values = appointments[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[name] = as_category(values).array
        else:
            out[name] = values.to_numpy(dtype="float32")
    out.index = appointments.index
    return out


def as_category(values: pd.Series) -> pd.Series:
    """A categorical column with blanks as "Unknown" (cheap when it already is one, as from ``normalise``)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and not values.isna().any():
        return values
    return values.astype("string").fillna("Unknown").astype("category")
