"""The call list's rules, on frames: from now, one row per patient, quotas, exports."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from carelens.appointments import calllist
from carelens.errors import ConfigError


def _scored(rows: list[tuple]) -> pd.DataFrame:
    """(appointment, patient, when, probability, band, age band)"""
    frame = pd.DataFrame(rows, columns=["appointment_id", "patient_id", "appointment_datetime", "dna_probability",
                                        "risk_band", "age_band"])
    frame["appointment_datetime"] = pd.to_datetime(frame["appointment_datetime"])
    return frame.assign(specialty="ENT", site="Main", consultation_medium="Face to face", reasons="", imd_quintile="Q1")


NO_CALLS = pd.DataFrame(columns=["call_id", "patient_id", "outcome", "called_at"])
DAY = datetime(2024, 6, 3, 16, 39)  # a Monday afternoon


def test_today_the_list_starts_now_and_another_day_at_midnight():
    assert calllist.window_start(date(2024, 6, 3), DAY) == DAY
    assert calllist.window_start(date(2024, 6, 4), DAY) == datetime(2024, 6, 4)
    assert calllist.window_start(date(2024, 6, 1), DAY) == DAY  # a past day: only what is still to come


def test_appointments_that_already_happened_today_are_not_on_the_list_but_date_only_ones_are():
    upcoming = _scored([
        ("morning", "P1", "2024-06-03 09:00", 0.5, "high", "18-29"),
        ("evening", "P2", "2024-06-03 17:30", 0.4, "high", "18-29"),
        ("no-time", "P3", "2024-06-03 00:00", 0.3, "high", "18-29"),
        ("tomorrow", "P4", "2024-06-04 09:00", 0.2, "high", "18-29"),
    ])
    listing = calllist.select(upcoming, NO_CALLS, start=DAY, end=datetime(2024, 6, 4, 23, 59), bands=("high",))
    assert listing["appointment_id"].tolist() == ["evening", "no-time", "tomorrow"]


def test_one_row_per_patient_at_their_riskiest_appointment_with_the_others_listed():
    upcoming = _scored([
        ("a", "P1", "2024-06-04 09:00", 0.2, "high", "18-29"),
        ("b", "P1", "2024-06-05 10:00", 0.5, "high", "18-29"),
        ("c", "P1", "2024-06-20 10:00", 0.1, "low", "18-29"),
    ])
    listing = calllist.select(upcoming, NO_CALLS, start=DAY, end=datetime(2024, 6, 5, 23, 59), bands=("high",))
    assert listing["appointment_id"].tolist() == ["b"]
    assert listing["other_appointments"].iloc[0] == "Tue 04 Jun 09:00 ENT; Thu 20 Jun 10:00 ENT"


def test_a_quota_gives_a_left_out_group_its_share_of_the_calls():
    young = [(f"y{i}", f"Y{i}", "2024-06-04 09:00", 0.30 - i / 1000, "high" if i < 10 else "medium", "18-29")
             for i in range(40)]
    old = [(f"o{i}", f"O{i}", "2024-06-04 10:00", 0.12 - i / 1000, "low", "70+") for i in range(40)]
    upcoming = _scored(young + old)
    window = {"start": DAY, "end": datetime(2024, 6, 4, 23, 59), "bands": ("high",)}
    plain = calllist.select(upcoming, NO_CALLS, **window)
    assert set(plain["age_band"]) == {"18-29"} and len(plain) == 10
    fair = calllist.select(upcoming, NO_CALLS, quota_by="age band", **window)
    expected_old = sum(r[3] for r in old) / (sum(r[3] for r in old) + sum(r[3] for r in young))
    n_old = int((fair["age_band"] == "70+").sum())
    assert n_old == int(10 * expected_old + 0.5) and n_old > 0
    added = fair[fair["quota"] != ""]
    assert set(added["age_band"]) == {"70+"} and added["appointment_id"].tolist() == [f"o{i}" for i in range(n_old)]
    assert "age band quota: 70+" in added["quota"].iloc[0]


@pytest.mark.parametrize(("given", "column"), [("age band", "age_band"), ("age-band", "age_band"), ("IMD quintile", "imd_quintile"),
                                               ("imd", "imd_quintile"), (None, None), ("none", None)])
def test_quota_groups_are_named_plainly(given, column):
    assert calllist.normalise_quota(given) == column


def test_an_unknown_quota_group_is_refused():
    with pytest.raises(ConfigError, match="unknown quota group 'ethnicity'"):
        calllist.normalise_quota("ethnicity")


def test_the_export_names_columns_in_words_puts_contacts_last_and_never_runs_a_formula():
    upcoming = _scored([("a", "P1", "2024-06-04 09:00", 0.42, "high", "18-29"),
                        ("b", "P2", "2024-06-04 10:00", 0.30, "high", "30-49")])
    listing = calllist.select(upcoming, NO_CALLS, start=DAY, end=datetime(2024, 6, 4, 23, 59), bands=("high",))
    contacts = pd.DataFrame({"patient_id": ["P2", "P1"], "phone": ["+44 7700 900123", "=HYPERLINK(\"x\")"]})
    out = calllist.export_frame(listing, contacts)
    assert list(out.columns)[-1] == "Contact: phone" and out.columns[0] == "Appointment"
    assert out["Risk"].tolist() == ["42%", "30%"]
    assert out["Contact: phone"].tolist() == ["'=HYPERLINK(\"x\")", "'+44 7700 900123"]
    assert calllist.export_frame(listing)["Patient"].tolist() == ["P1", "P2"]  # no contacts asked: none shown
    assert "Contact: phone" not in calllist.export_frame(listing).columns
