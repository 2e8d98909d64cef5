from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.appointments.features import FEATURES, build_features
from carelens.appointments.schema import normalise
from carelens.appointments.synth import generate_appointments


def _small(seed: int = 0, n_patients: int = 60) -> pd.DataFrame:
    return generate_appointments(n_patients, seed=seed, start="2023-01-01", end="2023-12-31", future_days=20)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    cutoff_day=st.integers(30, 380),
    flip_seed=st.integers(0, 10_000),
    gap_days=st.sampled_from([0.0, 0.5, 3.0, 7.0]),
)
def test_changing_outcomes_after_the_cutoff_never_changes_a_feature_scored_before_it(seed, cutoff_day, flip_seed, gap_days):
    raw = _small(seed, n_patients=25)
    cutoff = pd.Timestamp("2023-01-01") + pd.Timedelta(days=cutoff_day)
    gap = pd.Timedelta(days=gap_days)
    changed = raw.copy()
    after = pd.to_datetime(changed["appointment_datetime"]) >= cutoff
    rng = np.random.default_rng(flip_seed)
    codes = pd.array(rng.choice([2, 3, 4, 5, 6, 7], size=len(changed)), dtype="Int64")
    blank = rng.random(len(changed)) < 0.2
    codes[blank] = pd.NA
    changed.loc[after, "attendance_status"] = codes[after.to_numpy()]
    before = build_features(normalise(raw), gap_days=gap_days)
    after_change = build_features(normalise(changed), gap_days=gap_days)
    scored_before_cutoff = (pd.to_datetime(raw["appointment_datetime"]) - gap <= cutoff).to_numpy()
    pd.testing.assert_frame_equal(before[scored_before_cutoff], after_change[scored_before_cutoff])


def test_history_counts_match_a_plain_loop_over_each_patients_past():
    appts = normalise(_small(7, n_patients=40))
    feats = build_features(appts, gap_days=3)
    gap = pd.Timedelta(days=3)
    for i in range(0, len(appts), 7):
        row = appts.iloc[i]
        past = appts[
            (appts["patient_id"] == row["patient_id"])
            & (appts["appointment_datetime"] < row["appointment_datetime"] - gap)
            & appts["attendance_status"].notna()
        ]
        assert feats["prior_appointments"].iloc[i] == len(past)
        assert feats["prior_dnas"].iloc[i] == (past["dna"] == 1).sum()
        assert feats["prior_patient_cancellations"].iloc[i] == (past["attendance_status"] == 2).sum()


def test_a_patient_with_no_history_gets_zero_counts_and_missing_recency():
    appts = normalise(
        pd.DataFrame(
            {
                "appointment_id": ["A1"],
                "patient_id": ["P1"],
                "appointment_datetime": ["2024-05-01 09:00"],
                "booked_datetime": ["2024-04-01 09:00"],
                "attendance_status": [None],
            }
        )
    )
    feats = build_features(appts)
    assert list(feats.columns) == FEATURES
    assert feats["prior_appointments"].iloc[0] == 0
    assert np.isnan(feats["days_since_last_dna"].iloc[0])
    assert feats["lead_time_days"].iloc[0] == 30


def test_leaky_features_see_the_future_and_as_of_features_do_not():
    appts = normalise(
        pd.DataFrame(
            {
                "appointment_id": ["A1", "A2"],
                "patient_id": ["P1", "P1"],
                "appointment_datetime": ["2024-01-01 09:00", "2024-06-01 09:00"],
                "booked_datetime": ["2023-12-01 09:00", "2024-05-01 09:00"],
                "attendance_status": ["5", "3"],
            }
        )
    )
    honest = build_features(appts)
    leaky = build_features(appts, leaky=True)
    assert honest["prior_dnas"].tolist() == [0, 0]
    assert leaky["prior_dnas"].tolist() == [1, 1]  # each row "knows" the DNA, its own included


def test_gap_hides_outcomes_inside_it():
    appts = normalise(
        pd.DataFrame(
            {
                "appointment_id": ["A1", "A2"],
                "patient_id": ["P1", "P1"],
                "appointment_datetime": ["2024-01-01 09:00", "2024-01-03 09:00"],
                "booked_datetime": ["2023-12-01 09:00", "2023-12-01 09:00"],
                "attendance_status": ["3", None],
            }
        )
    )
    assert build_features(appts, gap_days=3)["prior_dnas"].iloc[1] == 0
    assert build_features(appts, gap_days=1)["prior_dnas"].iloc[1] == 1


def _unknown_at(appts: pd.DataFrame, i: int, gap_days: float) -> np.ndarray:
    """Rows whose outcome was not known at row i's scoring moment (its time minus the gap)."""
    moment = appts["appointment_datetime"].iloc[i] - pd.Timedelta(days=gap_days)
    return (appts["appointment_datetime"] >= moment).to_numpy()


def _rewrite_outcomes(raw: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Give every selected row a different outcome: another code, blank for a code, a code for a blank."""
    values = np.array([2, 3, 4, 5, 6, 7, -1])  # -1: blank
    status = raw["attendance_status"].astype("Int64").fillna(-1).to_numpy(dtype=int)
    k = np.searchsorted(np.sort(values), status)  # index in sorted order [-1, 2, ..., 7]
    shifted = np.sort(values)[(k + rng.integers(1, 7, len(k))) % 7]
    new = np.where(rows, shifted, status)
    changed = raw.copy()
    changed["attendance_status"] = pd.array(np.where(new < 0, 0, new), dtype="Int64")
    changed.loc[new < 0, "attendance_status"] = pd.NA
    assert (new[rows] != status[rows]).all()
    return changed


@pytest.mark.parametrize("gap_days", [0.0, 3.0, 10.0])
def test_exhaustively_no_row_feature_moves_when_every_outcome_unknown_at_its_scoring_moment_changes(gap_days):
    raw = _small(3, n_patients=20)
    appts = normalise(raw)
    features = build_features(appts, gap_days=gap_days)
    rng = np.random.default_rng(0)
    for i in range(len(appts)):  # every row, with every outcome it could not know rewritten
        unknown = _unknown_at(appts, i, gap_days)
        assert unknown[i]  # its own outcome is among them
        again = build_features(normalise(_rewrite_outcomes(raw, unknown, rng)), gap_days=gap_days)
        pd.testing.assert_series_equal(features.iloc[i], again.iloc[i], check_names=False)


def test_the_same_check_catches_the_leaky_features():
    raw = _small(3, n_patients=30)
    appts = normalise(raw)
    leaky = build_features(appts, leaky=True)
    rng = np.random.default_rng(0)
    moved = 0
    for i in range(0, len(appts), 5):
        again = build_features(normalise(_rewrite_outcomes(raw, _unknown_at(appts, i, 3.0), rng)), leaky=True)
        moved += not leaky.iloc[i].equals(again.iloc[i])
    assert moved > 0.5 * len(range(0, len(appts), 5))  # the test has teeth: leakage is detected
