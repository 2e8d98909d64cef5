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

import numpy as np
import pandas as pd

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


def _minutes(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[m]").astype(np.int64)


class _Keyed:
    """Rows of one kind (e.g. past DNAs) as sorted ``patient*SPAN + minute`` keys with prefix sums."""

    def __init__(self, codes: np.ndarray, minutes: np.ndarray, span: int, weights: np.ndarray | None = None):
        keys = codes.astype(np.int64) * span + minutes
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.minutes = minutes[order]
        self.span = span
        w = np.ones(len(keys)) if weights is None else weights[order]
        self.cum = np.concatenate([[0.0], np.cumsum(w)])

    def position(self, codes: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """Index of the first row of this patient at or after ``minutes``."""
        return np.searchsorted(self.keys, codes.astype(np.int64) * self.span + minutes, side="left")

    def count_between(self, codes: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Weighted count of this patient's rows with start <= minute < end."""
        return self.cum[self.position(codes, end)] - self.cum[self.position(codes, start)]

    def last_before(self, codes: np.ndarray, end: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Minute of this patient's latest row before ``end`` (NaN when none since ``start``)."""
        hi = self.position(codes, end)
        lo = self.position(codes, start)
        out = np.full(len(codes), np.nan)
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
    n = len(appointments)
    codes = pd.factorize(appointments["patient_id"])[0].astype(np.int64)
    t = _minutes(appointments["appointment_datetime"])
    booked = _minutes(appointments["booked_datetime"])
    gap = int(round(gap_days * MINUTES_PER_DAY))
    year = 365 * MINUTES_PER_DAY
    base = int(min(t.min(), booked.min())) - gap - year - 1 if n else 0
    t0, b0 = t - base, booked - base
    cutoff = t0 - gap
    span = int(max(t0.max(), b0.max()) + 2) if n else 2
    patient_start = np.zeros(n, dtype=np.int64)  # minute 0: before any row of the patient
    patient_end = np.full(n, span - 1, dtype=np.int64)

    status = appointments["attendance_status"].to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(status)
    dna = appointments["dna"].to_numpy(dtype="float64")
    h_codes, h_t = codes[known], t0[known]
    is_dna = dna[known] == 1.0
    attended_or_dna = ~np.isnan(dna[known])
    history = _Keyed(h_codes, h_t, span)
    dnas = _Keyed(h_codes[is_dna], h_t[is_dna], span)
    eligible = _Keyed(h_codes, h_t, span, attended_or_dna.astype(float))
    pat_cancel = _Keyed(h_codes, h_t, span, (status[known] == 2).astype(float))
    prov_cancel = _Keyed(h_codes, h_t, span, (status[known] == 4).astype(float))

    feats: dict[str, np.ndarray] = {}
    if leaky:
        # Whole-table history, this appointment included: what a naive
        # ``groupby("patient_id")["dna"].transform(...)`` column does.
        feats["prior_appointments"] = history.count_between(codes, patient_start, patient_end)
        feats["prior_dnas"] = dnas.count_between(codes, patient_start, patient_end)
        feats["prior_patient_cancellations"] = pat_cancel.count_between(codes, patient_start, patient_end)
        feats["prior_provider_cancellations"] = prov_cancel.count_between(codes, patient_start, patient_end)
        feats["prior_appointments_365d"] = history.count_between(codes, np.maximum(t0 - year, 0), t0 + year)
        feats["prior_dnas_365d"] = dnas.count_between(codes, np.maximum(t0 - year, 0), t0 + year)
        n_eligible = eligible.count_between(codes, patient_start, patient_end)
    else:
        feats["prior_appointments"] = history.count_between(codes, patient_start, cutoff)
        feats["prior_dnas"] = dnas.count_between(codes, patient_start, cutoff)
        feats["prior_patient_cancellations"] = pat_cancel.count_between(codes, patient_start, cutoff)
        feats["prior_provider_cancellations"] = prov_cancel.count_between(codes, patient_start, cutoff)
        feats["prior_appointments_365d"] = history.count_between(codes, cutoff - year, cutoff)
        feats["prior_dnas_365d"] = dnas.count_between(codes, cutoff - year, cutoff)
        n_eligible = eligible.count_between(codes, patient_start, cutoff)
    feats["dna_rate_shrunk"] = (feats["prior_dnas"] + PRIOR_STRENGTH * PRIOR_DNA_RATE) / (n_eligible + PRIOR_STRENGTH)
    feats["days_since_last_dna"] = (cutoff - dnas.last_before(codes, cutoff, patient_start)) / MINUTES_PER_DAY + gap_days
    feats["days_since_last_appointment"] = (cutoff - history.last_before(codes, cutoff, patient_start)) / MINUTES_PER_DAY + gap_days

    # Booking facts: not outcomes, taken as they stood at the scoring moment.
    booked_day = booked // MINUTES_PER_DAY
    same_day = pd.Series(np.ones(n)).groupby([codes, booked_day]).transform("size").to_numpy()
    feats["same_day_bookings"] = same_day - 1.0
    all_booked = _Keyed(codes, b0, span)
    all_appts = _Keyed(codes, t0, span)
    # Booked by the cutoff and not yet happened: (#booked <= cutoff) - (#took place <= cutoff).
    open_now = all_booked.count_between(codes, patient_start, cutoff + 1) - all_appts.count_between(
        codes, patient_start, cutoff + 1
    )
    feats["open_bookings"] = np.maximum(open_now - (b0 <= cutoff), 0.0)
    feats["lead_time_days"] = (t - booked) / MINUTES_PER_DAY

    when = appointments["appointment_datetime"].dt
    feats["hour"] = (when.hour + when.minute / 60.0).to_numpy(dtype="float64")
    feats["weekday"] = when.weekday.to_numpy(dtype="float64")
    feats["month"] = when.month.to_numpy(dtype="float64")
    for name in PATIENT_FEATURES:
        feats[name] = appointments[name].to_numpy(dtype="float64")

    out = pd.DataFrame({name: np.asarray(feats[name], dtype="float32") for name in NUMERIC_FEATURES})
    for name in CATEGORICAL_FEATURES:
        out[name] = appointments[name].astype("string").fillna("Unknown").to_numpy()
    out.index = appointments.index
    return out
