"""The call list, call outcomes and monitoring in the store (DuckDB; migrations applied on first use)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from carelens.appointments import store
from carelens.appointments.persistence import load_model
from carelens.appointments.schema import normalise
from carelens.appointments.scoring import score_upcoming
from carelens.appointments.synth import generate_appointments
from carelens.appointments.training import train_and_validate
from carelens.db import get_engine
from carelens.errors import StoreError


BEFORE_THE_LIST = datetime(2023, 12, 1, 0, 0)  # the clock when the call list is read: nothing of the day has happened yet


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("dna_store")
    raw = generate_appointments(3_000, seed=21, start="2022-06-01", end="2023-11-30", future_days=30)
    appts = normalise(raw)
    model, card = train_and_validate(appts, max_iter=60, refit=False, valid_months=4)
    model.save(root / "model", card)
    loaded = load_model(root / "model")
    engine = get_engine(root / "store.duckdb")
    scores = score_upcoming(appts, loaded)
    store.publish_scores(engine, appts, scores, loaded.card)
    return engine, raw, loaded, scores


def test_call_list_has_one_row_per_patient_sorted_by_risk_with_their_other_appointments(published):
    engine, raw, _, _ = published
    listing = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=10, bands=("high", "medium"))
    assert len(listing) > 0
    assert listing["patient_id"].is_unique
    assert listing["dna_probability"].is_monotonic_decreasing
    future = raw[raw["attendance_status"].isna()]
    multi = future.groupby("patient_id").size()
    with_others = listing[listing["patient_id"].isin(multi[multi > 1].index)]
    assert (with_others["other_appointments"].str.len() > 0).all()


def test_a_reached_patient_leaves_the_list_and_a_no_answer_stays_with_an_attempt(published):
    engine, _, _, _ = published
    listing = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=10, bands=("high", "medium"))
    first, second = listing.iloc[0], listing.iloc[1]
    store.record_call(engine, first["appointment_id"], "reached_attending", note="will come", recorded_by="test")
    store.record_call(engine, second["appointment_id"], "no_answer")
    again = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=10, bands=("high", "medium"))
    assert first["patient_id"] not in set(again["patient_id"])
    assert again.set_index("patient_id").loc[second["patient_id"], "attempts"] == 1
    with pytest.raises(StoreError, match="unknown call outcome"):
        store.record_call(engine, first["appointment_id"], "shouted")


def test_republishing_replaces_rows_and_later_outcomes_feed_monthly_monitoring(published):
    engine, raw, loaded, scores = published
    assert store.publish_scores(engine, normalise(raw), scores, loaded.card) == len(scores)
    # The appointments happen: a later export has their outcomes.
    rng = pd.Series(range(len(raw))) % 9
    happened = raw.copy()
    happened.loc[happened["attendance_status"].isna(), "attendance_status"] = (rng[happened["attendance_status"].isna()] == 0).map({True: 3, False: 5})
    store.publish_scores(engine, normalise(happened.assign(attendance_status=happened["attendance_status"])), scores.iloc[:0], loaded.card)
    report = store.monitoring(engine)
    assert len(report) >= 1
    assert report["appointments"].sum() > 0
    assert set(report.columns) >= {"month", "auroc", "ece", "dna_rate", "mean_predicted"}
    assert store.latest_model(engine)["model_version"] == loaded.version


def test_working_days_count_the_chosen_day_and_skip_weekends():
    assert store.working_days_ahead(date(2024, 6, 3), 3) == date(2024, 6, 5)  # Mon + 3 days: Mon-Wed
    assert store.working_days_ahead(date(2024, 6, 7), 2) == date(2024, 6, 10)  # Fri, Mon
    assert store.working_days_ahead(date(2024, 6, 8), 1) == date(2024, 6, 10)  # Saturday: Monday


def test_call_list_only_covers_the_chosen_working_days(published):
    engine, _, _, _ = published
    one = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=1, bands=("high", "medium", "low"))  # a Friday
    assert len(one) > 0
    assert (one["appointment_datetime"].dt.date == date(2023, 12, 1)).all()
    three = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=3, bands=("high", "medium", "low"))
    assert three["appointment_datetime"].dt.date.max() <= date(2023, 12, 5)
    assert len(three) > len(one)


def test_a_call_recorded_by_mistake_is_undone_and_both_stay_on_record(published):
    engine, _, _, _ = published
    listing = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=10, bands=("high", "medium"))
    patient, appointment = listing.iloc[-1][["patient_id", "appointment_id"]]
    call = store.record_call(engine, appointment, "reached_attending", recorded_by="clerk")
    after = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=10, bands=("high", "medium"))
    assert patient not in set(after["patient_id"])
    store.undo_call(engine, call, undone_by="clerk")
    back = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=10, bands=("high", "medium"))
    assert patient in set(back["patient_id"])
    calls = store.calls_for(engine).set_index("call_id")
    assert calls.loc[call, "undone"] and calls.loc[call, "outcome"] == "reached_attending"
    with pytest.raises(StoreError, match="already undone"):
        store.undo_call(engine, call)
    with pytest.raises(StoreError, match="no recorded call"):
        store.undo_call(engine, "nope")


def test_contact_details_are_kept_apart_from_scores_and_quota_groups_come_with_the_list(tmp_path):
    import sqlalchemy as sa

    raw = generate_appointments(800, seed=3, start="2022-06-01", end="2023-11-30", future_days=20)
    raw["Phone"] = ["07700 9" + str(i).zfill(5) for i in range(len(raw))]
    appts = normalise(raw, contacts=["Phone"])
    model, card = train_and_validate(appts, max_iter=30, refit=False)
    model.save(tmp_path / "model", card)
    loaded = load_model(tmp_path / "model")
    engine = get_engine(tmp_path / "store.duckdb")
    store.publish_scores(engine, appts, score_upcoming(appts, loaded), loaded.card)
    with engine.connect() as conn:
        score_columns = set(pd.read_sql(sa.select(store.dna_scores).limit(1), conn).columns)
    assert not any("phone" in c.lower() for c in score_columns)
    assert "Phone" not in str(loaded.card) and "07700" not in (tmp_path / "model" / "MODEL_CARD.md").read_text()
    listing = store.call_list(engine, today=date(2023, 12, 1), now=BEFORE_THE_LIST, days=10, bands=("high",),
                              quota_by="age band")
    assert {"age_band", "imd_quintile", "quota"} <= set(listing.columns) and "Phone" not in listing.columns
    details = store.contact_details(engine, listing["patient_id"].tolist())
    last_phone = raw.assign(patient_id=raw["patient_id"].astype(str)).groupby("patient_id")["Phone"].last()
    assert details.set_index("patient_id")["Phone"].to_dict() == last_phone.loc[details["patient_id"]].to_dict()
