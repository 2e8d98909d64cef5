"""Exports shaped the way real ones differ: optional columns absent in any combination, other
outcome spellings, dates without times, a few weeks of history, the trust's own columns as
features, and impossible values refused in one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from carelens.appointments.card import band_explanation, render_markdown
from carelens.appointments.evaluation import CostModel
from carelens.appointments.features import build_features
from carelens.appointments.persistence import load_model
from carelens.appointments.schema import Columns, normalise
from carelens.appointments.scoring import score_upcoming
from carelens.appointments.synth import (
    FOREIGN_COLUMNS,
    FOREIGN_FEATURES,
    generate_appointments,
    reshape_like_foreign_export,
)
from carelens.appointments.training import choose_window, parse_window, train_and_validate
from carelens.errors import CarelensError, ConfigError, TableError

OPTIONAL = ["specialty", "site", "consultation_medium", "first_attendance", "age", "sex", "ethnic_group", "imd_decile",
            "distance_km"]
FAST = {"max_iter": 30, "refit": False}


@pytest.fixture(scope="module")
def raw():
    return generate_appointments(1_500, seed=4, start="2023-01-01", end="2023-12-31", future_days=14)


@pytest.fixture(scope="module")
def foreign():
    """Six weeks of a larger synthetic trust, in another health system's shape, with a week to come."""
    big = generate_appointments(12_000, seed=8, start="2023-01-01", end="2024-06-30")
    return reshape_like_foreign_export(big, start="2024-03-04", weeks=6, seed=1, future_days=14)


def _foreign_frame(foreign, **kwargs):
    return normalise(foreign, Columns.from_mapping(FOREIGN_COLUMNS), status_map="Yes=DNA,No=attended", **kwargs)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(absent=st.sets(st.sampled_from(OPTIONAL)))
@example(absent=set(OPTIONAL))
@example(absent={"imd_decile", "distance_km"})
@example(absent={"imd_decile", "distance_km", "ethnic_group"})
def test_training_and_scoring_work_with_any_optional_columns_absent(raw, tmp_path_factory, absent):
    table = normalise(raw.drop(columns=sorted(absent)))
    model, card = train_and_validate(table, **FAST)
    folder = tmp_path_factory.mktemp("model")
    model.save(folder, card)
    scores = score_upcoming(table, load_model(folder), explain="all")
    assert scores["appointment_id"].tolist() == table.loc[table["is_future"], "appointment_id"].tolist()
    assert scores["dna_probability"].between(0, 1).all()
    dropped = {d["feature"]: d["why"] for d in card["dropped_features"]}
    for column in absent - {"ethnic_group"}:  # ethnic group is never an input, so never "dropped"
        assert dropped[column] == "the table has no such column"
    assert "Inputs not used" in render_markdown(card) or not (absent - {"ethnic_group"})


def test_a_foreign_export_with_yes_no_outcomes_dates_only_and_its_own_columns_trains_and_scores(foreign, tmp_path):
    table = _foreign_frame(foreign, features=FOREIGN_FEATURES, contacts=None)
    assert table.attrs["dates_only"]
    assert table.attrs["features"] == {"Neighbourhood": "categorical", "Scholarship": "numeric", "Hipertension": "numeric",
                                       "Diabetes": "numeric", "Alcoholism": "numeric", "SMS_received": "numeric"}
    model, card = train_and_validate(table)
    assert card["validation_window"] == "8 days (the last fifth of 40 days of history)"
    assert card["trust_features"] == table.attrs["features"]
    assert {"feature": "hour", "why": "the appointments have dates without times"} in card["dropped_features"]
    assert np.isfinite(card["validation"]["auroc"])  # how good: benchmarks/appointments.py (six weeks, 730 rows here)
    assert "(the last 8 days: the last fifth of 40 days of history)" in card["validation_note"]
    assert set(model.features_) >= {f"feature:{name}" for name in FOREIGN_FEATURES}
    model.save(tmp_path / "m", card)
    loaded = load_model(tmp_path / "m")
    # Scoring a later export that lacks one of the trust's columns: unknown, said, scored anyway.
    later = _foreign_frame(foreign.drop(columns=["SMS_received"]), features=loaded.trust_features,
                           missing_features="warn")
    assert any("SMS_received" in w for w in later.attrs["warnings"])
    scores = score_upcoming(later, loaded, explain="all")
    assert len(scores) == later["is_future"].sum() and scores["dna_probability"].between(0, 1).all()
    markdown = render_markdown(card)
    assert "`SMS_received` (numeric)" in markdown and "`Neighbourhood` (categorical)" in markdown


def test_trust_features_carry_their_signal_into_the_model(foreign):
    """SMS_received prevents 30 % of DNAs by construction: a model given it must rank texted
    appointments lower, everything else equal."""
    table = _foreign_frame(foreign, features=["SMS_received"])
    model, _ = train_and_validate(table, **FAST)
    X = build_features(table[~table["is_future"]])
    texted = X.assign(**{"feature:SMS_received": np.float32(1)})
    not_texted = X.assign(**{"feature:SMS_received": np.float32(0)})
    assert model.predict_proba(texted)[:, 1].mean() < model.predict_proba(not_texted)[:, 1].mean()


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (["Postcode"], "no column 'Postcode' for --feature"),
        (["Ethnicity"], "ethnic group is never used"),
        (["Gender"], "already the sex column"),
    ],
)
def test_bad_feature_columns_are_refused_in_one_line(foreign, features, message):
    frame = foreign.assign(Ethnicity="White")
    with pytest.raises(CarelensError, match=message) as err:
        _foreign_frame(frame, features=features)
    assert "\n" not in str(err.value)


def test_the_ethnic_group_role_is_never_an_input_even_when_asked_by_another_name(raw):
    with pytest.raises(ConfigError, match="never used to score"):
        normalise(raw.rename(columns={"ethnic_group": "Group"}), Columns.from_mapping({"ethnic_group": "Group"}),
                  features=["Group"])
    assert "ethnic_group" not in build_features(normalise(raw)).columns


def test_a_feature_that_is_the_outcome_under_another_name_is_refused(foreign):
    leaked = foreign.assign(Outcome_code=(foreign["No-show"] == "Yes").astype(int))
    with pytest.raises(TableError, match="almost perfectly") as err:
        train_and_validate(_foreign_frame(leaked, features=["Outcome_code"]), **FAST)
    assert err.value.field == "Outcome_code"


def test_a_categorical_feature_with_hundreds_of_labels_trains(foreign):
    many = foreign.assign(Clinic_code=[f"C{i % 400}" for i in range(len(foreign))])
    model, _ = train_and_validate(_foreign_frame(many, features=["Clinic_code"]), **FAST)
    assert len(model.categories_["feature:Clinic_code"]) <= 250


# -- outcomes ------------------------------------------------------------------------------------

def _table(**overrides) -> pd.DataFrame:
    base = {
        "appointment_id": ["A1", "A2", "A3", "A4"],
        "patient_id": ["P1", "P1", "P2", "P3"],
        "appointment_datetime": ["2024-01-10 09:00", "2024-02-10 10:00", "2024-03-01 11:00", "2024-03-02 11:00"],
        "booked_datetime": ["2023-12-01 12:00", "2024-01-20 12:00", "2024-02-01 12:00", "2024-02-01 12:00"],
        "attendance_status": ["5", "3", None, "2"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_common_outcome_spellings_are_understood_without_a_map():
    out = normalise(_table(attendance_status=["Attended", "Did Not Attend (DNA)", "", "Cancelled by patient"]))
    assert out["attendance_status"].tolist()[:2] == [5, 3] and pd.isna(out["attendance_status"].iloc[2])
    assert out["dna"].tolist()[:2] == [0.0, 1.0] and out["attendance_status"].iloc[3] == 2
    assert normalise(_table(attendance_status=["DNA", "attended", None, "no-show"]))["dna"].tolist()[3] == 1.0


def test_yes_and_no_need_a_map_and_a_value_outside_the_map_is_named_with_its_row():
    with pytest.raises(TableError, match="--status-map") as err:
        normalise(_table(attendance_status=["No", "Yes", None, "No"]))
    assert err.value.row == 2
    out = normalise(_table(attendance_status=["No", "Yes", None, "No"]), status_map="Yes=DNA,No=attended")
    assert out["dna"].tolist()[:2] == [0.0, 1.0]
    with pytest.raises(TableError, match="not in the status map: 'Maybe'") as err:
        normalise(_table(attendance_status=["No", "Yes", None, "Maybe"]), status_map=["Yes=DNA", "No=attended"])
    assert (err.value.row, err.value.field) == (5, "attendance_status")
    with pytest.raises(ConfigError, match="unknown status meaning 'gone'"):
        normalise(_table(), status_map="Yes=gone")
    with pytest.raises(ConfigError, match="VALUE=MEANING"):
        normalise(_table(), status_map="Yes")


def test_a_zero_one_outcome_column_is_mapped_whether_read_as_integers_or_floats():
    out = normalise(_table(attendance_status=[0.0, 1.0, np.nan, 0.0]), status_map="1=DNA,0=attended")
    assert out["dna"].tolist()[:2] == [0.0, 1.0] and out["is_future"].tolist() == [False, False, True, False]


def test_dates_without_times_are_read_and_a_same_day_booking_is_not_late():
    out = normalise(_table(appointment_datetime=["2024-01-10", "2024-02-10", "2024-03-01", "2024-03-02"],
                           booked_datetime=["2024-01-10 14:00", "2024-01-20", "2024-02-01", "2024-03-03 09:00"]))
    assert out.attrs["dates_only"]
    assert out["booked_datetime"].iloc[0] == out["appointment_datetime"].iloc[0]  # lead time 0, not -14 h
    assert len([w for w in out.attrs["warnings"] if "booked after" in w]) == 1  # only A4, booked the next day
    assert build_features(out)["hour"].isna().all()


# -- the validation window -----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kwds"), [("14d", {"days": 14}), ("6w", {"weeks": 6}), ("6m", {"months": 6}),
                                            (" 1Y ", {"years": 1})])
def test_validation_windows_take_days_weeks_months_and_years(text, kwds):
    assert parse_window(text).offset == pd.DateOffset(**kwds)


@pytest.mark.parametrize("text", ["six months", "6", "-3d", "0d", "1.5m", "6q"])
def test_a_window_that_is_not_a_length_is_refused_naming_the_option(text):
    with pytest.raises(ConfigError, match="14d, 6w, 6m or 1y") as err:
        parse_window(text)
    assert err.value.field == "valid"


def test_the_window_is_chosen_from_the_history_and_a_window_longer_than_it_is_refused(raw, foreign):
    years = normalise(generate_appointments(300, seed=1, start="2021-01-01", end="2023-12-31"))
    assert choose_window(years, None).text == "6 months"
    assert choose_window(normalise(raw), None).text == "72 days"
    weeks = _foreign_frame(foreign)
    with pytest.raises(TableError, match="the validation window \\(6 months\\) is as long as the history or longer") as err:
        train_and_validate(weeks, valid="6m")
    assert err.value.field == "valid" and "such as 8d" in str(err.value)
    few = normalise(_table(appointment_datetime=["2024-01-10 09:00", "2024-01-10 10:00", "2024-01-10 11:00",
                                                 "2024-01-10 12:00"],
                           booked_datetime=["2024-01-01 09:00"] * 4))
    with pytest.raises(TableError, match="too little history"):
        train_and_validate(few)


# -- impossible values ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("age", -5, "ages are 0 to 120"),
        ("age", "inf", "infinite"),
        ("age", "1e400", "infinite"),
        ("age", 130, "ages are 0 to 120"),
        ("imd_decile", 99, "IMD deciles are whole numbers 1"),
        ("imd_decile", 3.5, "IMD deciles are whole numbers 1"),
        ("distance_km", "-1e400", "infinite"),
        ("distance_km", -2, "distances are 0 to 20,000 km"),
        ("age", "old", "not a number"),
    ],
)
def test_impossible_values_are_refused_naming_row_and_field(column, value, message):
    values = [40, 41, 42, 43] if column == "age" else [3, 4, 5, 6] if column == "imd_decile" else [1.0, 2.0, 3.0, 4.0]
    values = list(values)
    values[2] = value
    with pytest.raises(TableError, match=message) as err:
        normalise(_table(**{column: values}), file="appts.csv")
    assert (err.value.row, err.value.field, err.value.file) == (4, column, "appts.csv")
    assert "\n" not in str(err.value)


def test_blank_and_nan_measurements_are_unknown_not_errors():
    out = normalise(_table(age=[40, None, float("nan"), "NaN"]))
    assert out["age"].isna().tolist() == [False, True, True, True]


@pytest.mark.parametrize("gap", [-1, float("nan"), float("inf"), 400, "soon"])
def test_a_gap_that_would_leak_or_means_nothing_is_refused(raw, gap):
    with pytest.raises(ConfigError, match="history gap") as err:
        train_and_validate(normalise(raw), gap_days=gap, **FAST)
    assert err.value.field == "gap_days"


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5])
def test_a_seed_out_of_range_is_refused_before_any_work(raw, seed):
    with pytest.raises(ConfigError, match="random seed") as err:
        train_and_validate(normalise(raw), random_state=seed, **FAST)
    assert err.value.field == "seed"


@pytest.mark.parametrize(("kwargs", "field"), [({"call_cost": -4}, "call_cost"), ({"reminder_effect": 7}, "reminder_effect"),
                                               ({"slot_value": float("nan")}, "slot_value"),
                                               ({"reminder_effect": 0}, "reminder_effect")])
def test_impossible_costs_are_refused(kwargs, field):
    with pytest.raises(ConfigError) as err:
        CostModel(**kwargs)
    assert err.value.field == field


# -- honest evaluation, the card, words ------------------------------------------------------------

def test_evaluating_on_the_training_period_is_refused_unless_allowed_and_then_marked(raw, tmp_path):
    from carelens.appointments.report import evaluate_model

    table = normalise(raw)
    model, card = train_and_validate(table, **FAST)  # not refitted: trained on rows before the cut only
    model.save(tmp_path / "m", card)
    loaded = load_model(tmp_path / "m")
    with pytest.raises(TableError, match="from the model's own training period") as err:
        evaluate_model(table, loaded)
    assert "--allow-in-sample" in str(err.value) and err.value.field == "since"
    marked = evaluate_model(table, loaded, allow_in_sample=True)
    assert marked["in_sample"] > 0 and "In-sample" in marked["in_sample_note"]
    later = (loaded.trained_until + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    honest = evaluate_model(table, loaded, since=later)
    assert honest["in_sample"] == 0 and "in_sample_note" not in honest


def test_the_card_labels_money_as_money_and_explains_the_bands(raw):
    _, card = train_and_validate(normalise(raw), **FAST)
    markdown = render_markdown(card)
    money = [line for line in markdown.splitlines() if "£ per 1,000" in line]
    assert len(money) == 4 and not any("threshold" in line or "share" in line for line in money)
    assert "| break-even risk: a call pays for itself above |" in markdown
    lines = band_explanation(card)
    high = f"{100 * card['band_thresholds'][1]:.0f} %"
    assert lines[0].startswith(f"**High risk: {high} and above.** The riskiest 10 %")
    assert "times the average" in lines[0] and "## Risk bands" in markdown


def test_reasons_use_words_a_booking_clerk_would():
    from carelens.appointments.reasons import describe_age, describe_deprivation, describe_distance, describe_lead_time

    assert describe_age(pd.Series([8.0, 24.0, 45.0, 84.0, np.nan])).tolist() == [
        "a child (8): the reminder goes to a parent or carer", "a young adult (24)", "aged 45",
        "an older patient (84): may need help with transport", ""]
    assert describe_deprivation(pd.Series([1.0, 2.0, 9.0])).tolist() == [
        "lives in one of the most deprived areas (the poorest 10 %)",
        "lives in one of the most deprived areas (the poorest 20 %)", "lives in a less deprived area"]
    assert describe_distance(pd.Series([32.0, 0.5])).tolist() == ["lives 20 miles (32 km) away", "lives under a mile away"]
    assert describe_lead_time(pd.Series([0.2, 5.0, 21.0, 94.0])).tolist() == [
        "booked on the day", "booked 5 days ahead", "booked 3 weeks ahead", "booked 3 months ahead"]
