"""The engine on tiny hand-computed trusts: each step's expectation, determinism, capacity arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from carelens.demand import (Engine, capacity, load_data, params_from_dict, run_model, run_one, summarise,
                             waterfall)
from carelens.demand.factors import draw_interval
from carelens.errors import ParamsError, TableError
from tests.unit.demand_helpers import tiny_params, write_tiny_trust

RUNS = 200


def _principal(result, pod, measure):
    s = summarise(result)
    row = s[(s.pod == pod) & (s.measure == measure)].iloc[0]
    return row.baseline, row.principal


def _within(value, expected, sd, k=4.0):
    assert abs(value - expected) <= k * sd, (value, expected, sd)


def test_zero_growth_returns_the_baseline_in_expectation(tmp_path):
    data = load_data(write_tiny_trust(tmp_path, ratio=1.0))
    result = run_model(params_from_dict(tiny_params()), data, runs=RUNS, workers=1, progress=False)
    base, principal = _principal(result, "ip_elective_admission", "admissions")
    assert base == 200
    _within(principal, 200, np.sqrt(200 / RUNS))
    base, principal = _principal(result, "op_first", "attendances")
    _within(principal, base, np.sqrt(base / RUNS))


def test_known_population_ratio_scales_activity_by_that_ratio(tmp_path):
    data = load_data(write_tiny_trust(tmp_path, ratio=1.5))
    result = run_model(params_from_dict(tiny_params()), data, runs=RUNS, workers=1, progress=False)
    base, principal = _principal(result, "ip_elective_admission", "admissions")
    _within(principal, 300, np.sqrt(300 / RUNS))
    base, principal = _principal(result, "aae_type-01", "walk-in")
    _within(principal, 750, np.sqrt(750 / RUNS))
    # the waterfall's demographic step is exactly the expected change
    wf = waterfall(result)
    step = wf[(wf.activity == "ip") & (wf.measure == "admissions") & (wf.step == "demographic_adjustment")]
    assert step.principal.iloc[0] == pytest.approx(100.0)


def test_binomial_thinning_keeps_the_factor_in_expectation(tmp_path):
    data = load_data(write_tiny_trust(tmp_path))
    params = params_from_dict(tiny_params(activity_avoidance={
        "op": {"gp_referred_first_attendance_reduction_adult_surgical": {"interval": [0.6, 0.6]}},
        "aae": {"frequent_attenders_adult_walk-in": {"interval": [0.5, 0.5]}}}))
    result = run_model(params, data, runs=RUNS, workers=1, progress=False)
    _, principal = _principal(result, "op_first", "attendances")
    _within(principal, 600, np.sqrt(600 / RUNS))
    _, principal = _principal(result, "aae_type-01", "walk-in")
    _within(principal, 250, np.sqrt(250 / RUNS))


def test_non_demographic_growth_compounds_over_the_horizon(tmp_path):
    data = load_data(write_tiny_trust(tmp_path))
    params = params_from_dict(tiny_params(**{"non-demographic_adjustment": {
        "values": {"aae": {"walk-in": [1.02, 1.02]}}}}))
    result = run_model(params, data, runs=RUNS, workers=1, progress=False)
    _, principal = _principal(result, "aae_type-01", "walk-in")
    expected = 500 * 1.02 ** 7
    _within(principal, expected, np.sqrt(expected / RUNS))


def test_tele_conversion_moves_attendances_without_changing_the_total(tmp_path):
    data = load_data(write_tiny_trust(tmp_path))
    params = params_from_dict(tiny_params(efficiencies={
        "op": {"convert_to_tele_adult_surgical": {"interval": [0.75, 0.75]}}}))
    result = run_model(params, data, runs=RUNS, workers=1, progress=False)
    _, f2f = _principal(result, "op_first", "attendances")
    _, tele = _principal(result, "op_first", "tele_attendances")
    _within(f2f, 750, np.sqrt(750 / RUNS))
    _within(f2f + tele, 1000, np.sqrt(1000 / RUNS))


def test_length_of_stay_efficiency_is_binomial_on_nights(tmp_path):
    root = write_tiny_trust(tmp_path, speldur=4)
    import pandas as pd

    pd.DataFrame({"rn": range(200), "strategy": "general_los_reduction_elective", "sample_rate": 1.0}).to_csv(
        root / "ip_efficiencies_strategies.csv", index=False)
    params = params_from_dict(tiny_params(efficiencies={
        "ip": {"general_los_reduction_elective": {"type": "all", "interval": [0.5, 0.5]}}}))
    result = run_model(params, load_data(root), runs=RUNS, workers=1, progress=False)
    base, beddays = _principal(result, "ip_elective_admission", "beddays")
    assert base == 200 * 5
    expected = 200 * (4 * 0.5 + 1)
    _within(beddays, expected, np.sqrt(expected * 3 / RUNS))


def test_capacity_arithmetic_for_beds_uses_days_open_and_occupancy(tmp_path):
    data = load_data(write_tiny_trust(tmp_path, speldur=3))
    params = params_from_dict(tiny_params(capacity={"days_open": {"overnight": 400},
                                                    "target_occupancy": {"adult_elective": 0.5}}))
    result = run_model(params, data, runs=4, workers=1, progress=False)
    beds = capacity(result)
    row = beds[beds.resource == "beds"].iloc[0]
    assert row.baseline == pytest.approx(200 * 4 / (400 * 0.5))
    rooms = beds[beds.resource == "clinic_rooms"].iloc[0]
    assert rooms.baseline == pytest.approx(1000 * 0.5 / (2000 * 0.85))


def test_runs_depend_only_on_seed_and_model_run(tmp_path):
    data = load_data(write_tiny_trust(tmp_path, ratio=1.2))
    params = params_from_dict(tiny_params(**{"non-demographic_adjustment": {
        "values": {"aae": {"walk-in": [1.0, 1.03]}}}}))
    engine = Engine(params, data)
    a = run_one(params, engine, 7)
    b = run_one(params, data, 7)
    assert a.equals(b)
    serial = run_model(params, data, runs=12, workers=1, progress=False)
    parallel = run_model(params, data, runs=12, workers=2, progress=False)
    assert np.array_equal(serial.values, parallel.values)
    assert not run_one(params, engine, 8).equals(a)


def test_interval_draws_have_the_80_percent_interval():
    rng = np.random.default_rng(0)
    draws = np.array([draw_interval(rng, 1.0, 2.0, (0, 10)) for _ in range(20000)])
    assert np.mean((draws > 1.0) & (draws < 2.0)) == pytest.approx(0.8, abs=0.015)
    assert draws.mean() == pytest.approx(1.5, abs=0.01)


def test_variant_absent_from_population_table_is_a_params_error(tmp_path):
    data = load_data(write_tiny_trust(tmp_path))
    params = params_from_dict(tiny_params(demographic_factors={"variant_probabilities": {"nope": 1.0}}))
    with pytest.raises(ParamsError) as err:
        Engine(params, data)
    assert err.value.field == "demographic_factors.variant_probabilities.nope"


def test_strategy_without_rows_warns_and_continues(tmp_path):
    data = load_data(write_tiny_trust(tmp_path))
    params = params_from_dict(tiny_params(activity_avoidance={"ip": {"no_such_strategy": {"interval": [0.5, 0.9]}}}))
    with pytest.warns(UserWarning, match="no_such_strategy"):
        result = run_model(params, data, runs=2, workers=1, progress=False)
    assert len(summarise(result))


def test_missing_table_and_column_name_file_and_field(tmp_path):
    root = write_tiny_trust(tmp_path)
    (root / "op.csv").unlink()
    with pytest.raises(TableError, match="'op'"):
        load_data(root)
    root2 = write_tiny_trust(tmp_path / "b")
    import pandas as pd

    pd.read_csv(root2 / "ip.csv").drop(columns=["speldur"]).to_csv(root2 / "ip.csv", index=False)
    with pytest.raises(TableError) as err:
        load_data(root2)
    assert "ip.csv" in str(err.value) and "speldur" in str(err.value)
