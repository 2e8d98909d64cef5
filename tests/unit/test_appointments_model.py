from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carelens.appointments import contributions as contribution_engine
from carelens.appointments.features import build_features
from carelens.appointments.model import DNAModel
from carelens.appointments.persistence import load_model
from carelens.appointments.schema import normalise
from carelens.appointments.scoring import score_upcoming
from carelens.appointments.synth import generate_appointments
from carelens.appointments.training import train_and_validate
from carelens.errors import ModelError, TableError


@pytest.fixture(scope="module")
def appointments():
    return normalise(generate_appointments(4_000, seed=11, start="2022-01-01", end="2023-12-31", future_days=30))


@pytest.fixture(scope="module")
def trained(appointments, tmp_path_factory):
    model, card = train_and_validate(appointments, max_iter=60, refit=False)
    directory = tmp_path_factory.mktemp("dna_model")
    model.save(directory, card)
    return model, card, directory


def test_synthetic_data_has_a_realistic_dna_rate_and_future_rows(appointments):
    assert 0.05 < appointments["dna"].mean() < 0.16
    assert appointments["is_future"].sum() > 0


def test_validation_on_a_later_window_gives_realistic_discrimination_and_calibration(trained):
    _, card, _ = trained
    val = card["validation"]
    assert 0.58 < val["auroc"] < 0.85
    assert abs(val["mean_predicted"] - val["dna_rate"]) < 0.03
    assert {"remind_everyone", "remind_no_one", "remind_by_model_threshold"} <= set(val["net_benefit_per_1000"])


def test_saved_model_loads_and_predicts_the_same(trained, appointments):
    model, _, directory = trained
    loaded = load_model(directory)
    X = build_features(appointments.iloc[:500])
    np.testing.assert_allclose(loaded.model.predict_proba(X), model.predict_proba(X))
    assert (directory / "MODEL_CARD.md").read_text().count("never") or "Never" in (directory / "MODEL_CARD.md").read_text()


def test_loading_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not a carelens appointments model"):
        load_model(tmp_path)
    (tmp_path / "card.json").write_text('{"kind": "carelens-appointments-dna"}')
    (tmp_path / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="skops"):
        load_model(tmp_path)


def test_scores_cover_every_future_row_in_order_with_bands_and_reasons(trained, appointments):
    _, _, directory = trained
    scores = score_upcoming(appointments, load_model(directory), explain="all")
    future_ids = appointments.loc[appointments["is_future"], "appointment_id"].tolist()
    assert scores["appointment_id"].tolist() == future_ids
    assert scores["dna_probability"].between(0, 1).all()
    assert set(scores["risk_band"]) <= {"low", "medium", "high"}
    high = scores[scores["risk_band"] == "high"]
    assert (high["reasons"].str.len() > 0).mean() > 0.8


def test_a_table_without_future_rows_has_nothing_to_score(trained, appointments):
    _, _, directory = trained
    with pytest.raises(TableError, match="no appointments to score"):
        score_upcoming(appointments[~appointments["is_future"]].reset_index(drop=True), load_model(directory))


def test_reasons_name_missed_appointments_when_history_drives_the_risk(trained, appointments):
    model, _, _ = trained
    X = build_features(appointments)
    rows = np.flatnonzero((X["prior_dnas_365d"] >= 2).to_numpy())[:50]
    reasons = model.explain(X.iloc[rows])
    assert any("missed appointments in the last year" in r for r in reasons)


def test_saved_models_name_the_estimator_where_it_lives_and_the_loader_accepts_it(trained):
    from carelens.appointments.persistence import MODEL_TYPES
    from carelens.model_files import skops_types

    _, _, directory = trained
    where = f"{DNAModel.__module__}.{DNAModel.__qualname__}"
    assert where == "carelens.appointments.model.DNAModel"  # moving it would refuse every saved model
    assert where in MODEL_TYPES and where in skops_types(directory / "model.skops")


def test_labels_must_have_both_classes():
    with pytest.raises(ModelError):
        DNAModel().fit(build_features(normalise(generate_appointments(50, seed=1))).iloc[:10], np.zeros(10))


def test_fast_per_tree_explanations_equal_full_re_predictions(trained, appointments):
    from carelens.appointments.features import FEATURES
    from carelens.appointments.reasons import EXPLAIN_GROUPS

    model, _, _ = trained
    assert contribution_engine.per_tree_predictor(model) is not None  # the fast path is the one in use
    X = build_features(appointments).iloc[:3_000]
    fast = model.contributions(X)
    Z = model._encode(X)
    base = model._raw(Z)
    ref = model._encode(pd.DataFrame({k: [v] for k, v in model.reference_.items()}))[0]
    for group, names in EXPLAIN_GROUPS.items():
        idx = [FEATURES.index(n) for n in names]
        moved = Z.copy()
        moved[:, idx] = ref[idx]
        np.testing.assert_allclose(fast[group].to_numpy(), base - model._raw(moved), atol=1e-9, err_msg=group)
    assert (fast.abs().to_numpy() > 0).any()


def test_explanations_without_the_fast_path_are_the_same(trained, appointments, monkeypatch):
    model, _, _ = trained
    X = build_features(appointments).iloc[:500]
    fast = model.contributions(X)
    monkeypatch.setattr(contribution_engine, "per_tree_predictor", lambda model: None)
    pd.testing.assert_frame_equal(fast, model.contributions(X), atol=1e-9)


def test_risk_bands_split_the_calibration_window_into_top_tenth_and_next_fifth(trained, appointments):
    model, _, _ = trained
    p = model.predict_proba(build_features(appointments))[:, 1]
    assert len(np.unique(p)) > 0.5 * len(p)  # Platt scaling keeps the ranking: no ties to split bands
    low, high = model.band_thresholds_
    assert 0 < low < high < 1


def test_a_new_patient_with_no_history_is_scored_on_the_appointment_and_says_so(trained, appointments):
    _, _, directory = trained
    newcomer = appointments.iloc[[-1]].copy()
    newcomer["appointment_id"], newcomer["patient_id"] = "NEW1", "NEVER-SEEN"
    table = pd.concat([appointments, newcomer], ignore_index=True)
    scores = score_upcoming(table, load_model(directory), explain="all")
    row = scores.set_index("appointment_id").loc["NEW1"]
    assert 0 < row["dna_probability"] < 1
    features = build_features(table).iloc[-1]
    assert features["prior_appointments"] == 0 and np.isnan(features["days_since_last_appointment"])
    from carelens.appointments.reasons import describe

    assert describe("history", build_features(table).iloc[[-1]])[0] == "no previous appointments on record"
    assert "missed appointment" not in row["reasons"]  # no history to cite
