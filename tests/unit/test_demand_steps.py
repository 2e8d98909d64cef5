"""Each step of NHP's method on tiny hand-made trusts whose expected results are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carelens.demand import Engine, capacity, capacity_totals, load_data, params_from_dict, run_model, summarise
from carelens.demand.hsa import AGES, HealthStatus, hsa_factors, metalog_ppf
from carelens.demand.params import adjust
from carelens.demand.runner import project_years
from carelens.demand.summary import _capacity_runs, fan_chart
from tests.unit.demand_helpers import END, START, tiny_params, write_tiny_trust

RUNS = 300
YEARS = END - START


def _value(result, pod, measure, stat="principal"):
    s = summarise(result)
    row = s[(s.pod == pod) & (s.measure == measure)]
    return float(row[stat].iloc[0]) if len(row) else 0.0


def _within(value, expected, sd, k=4.0):
    assert abs(value - expected) <= k * sd, (value, expected, sd)


def _edit(root, table, **cols):
    frame = pd.read_csv(root / f"{table}.csv")
    for name, value in cols.items():
        frame[name] = value(frame) if callable(value) else value
    frame.to_csv(root / f"{table}.csv", index=False)


def _run(root, runs=RUNS, **params):
    return run_model(params_from_dict(tiny_params(**params)), load_data(root), runs=runs, workers=1, progress=False)


def test_births_grow_with_the_birth_factors_by_mothers_age(tmp_path):
    root = write_tiny_trust(tmp_path)
    _edit(root, "ip", demog_type="births", pod="ip_maternity_admission", group="maternity", sex=2, age=30)
    births = pd.DataFrame({"variant": ["principal"], "age": [30], "sex": [2]})
    for year in range(START, END + 1):
        births[str(year)] = 10.0 * (2.0 if year == END else 1.0)
    births.to_csv(root / "birth_factors.csv", index=False)
    result = _run(root)
    _within(_value(result, "ip_maternity_admission", "admissions"), 400, np.sqrt(400 / RUNS))


def test_waiting_list_adjustment_applies_only_to_waiting_list_rows(tmp_path):
    root = write_tiny_trust(tmp_path)
    _edit(root, "ip", is_wla=lambda f: f["rn"] < 100)
    result = _run(root, waiting_list_adjustment={"ip": {"100": 1.2}})
    _within(_value(result, "ip_elective_admission", "admissions"), 100 * 1.2 + 100, np.sqrt(220 / RUNS))


def test_repatriation_local_and_non_local_follow_the_main_icb_flag(tmp_path):
    root = write_tiny_trust(tmp_path)
    _edit(root, "ip", is_main_icb=lambda f: f["rn"] < 50)
    result = _run(root, repat_local={"ip": {"elective": {"100": [1.5, 1.5]}}},
                  repat_nonlocal={"ip": {"elective": {"100": [1.1, 1.1]}}})
    expected = 50 * 1.5 + 150 * 1.1
    _within(_value(result, "ip_elective_admission", "admissions"), expected, np.sqrt(expected / RUNS))


def test_drawn_values_are_clipped_to_nhps_valid_ranges(tmp_path):
    # NHP clips expat to [0, 1] and repat to [1, 5]: an expat "interval" above 1 changes nothing
    root = write_tiny_trust(tmp_path)
    result = _run(root, expat={"ip": {"elective": {"100": [1.3, 1.3]}}},
                  repat_local={"ip": {"elective": {"100": [0.5, 0.5]}}})
    _within(_value(result, "ip_elective_admission", "admissions"), 200, np.sqrt(200 / RUNS))


def test_inequalities_apply_to_listed_hrgs_of_elective_spells_only(tmp_path):
    root = write_tiny_trust(tmp_path)
    _edit(root, "ip", icb="A", imd_quintile=1, sushrg_trimmed=lambda f: np.where(f["rn"] < 100, "HRG1", "HRG9"))
    pd.DataFrame({"icb": ["A", "A"], "sushrg_trimmed": ["HRG1", "HRG9"], "imd_quintile": [1, 1],
                  "level_up": [1.5, 1.5], "level_down": [1.0, 1.0], "zero_sum": [1.2, 1.2]}).to_csv(
        root / "inequalities.csv", index=False)
    result = _run(root, inequalities={"level_up": ["HRG1"], "level_down": [], "zero_sum": []})
    _within(_value(result, "ip_elective_admission", "admissions"), 100 * 1.5 + 100, np.sqrt(250 / RUNS))


def test_sdec_conversion_moves_spells_to_aae_type_05_walk_ins(tmp_path):
    root = write_tiny_trust(tmp_path, speldur=2)
    _edit(root, "ip", pod="ip_non-elective_admission", group="non-elective")
    pd.DataFrame({"rn": range(200), "strategy": "same_day_emergency_care_low", "sample_rate": 1.0}).to_csv(
        root / "ip_efficiencies_strategies.csv", index=False)
    result = _run(root, efficiencies={"ip": {"same_day_emergency_care_low": {"type": "sdec", "interval": [0.75, 0.75]}}})
    _within(_value(result, "ip_non-elective_admission", "admissions"), 150, np.sqrt(150 / RUNS))
    _within(_value(result, "ip_non-elective_admission", "beddays"), 150 * 3, np.sqrt(9 * 150 / RUNS))
    _within(_value(result, "aae_type-05", "walk-in"), 50, np.sqrt(50 / RUNS))


def test_day_procedure_conversions_go_to_day_case_and_outpatient_procedure(tmp_path):
    root = write_tiny_trust(tmp_path, speldur=3)
    pd.DataFrame({"rn": range(200), "strategy": np.where(np.arange(200) < 100, "day_procedures_usually_dc",
                                                           "day_procedures_usually_op"),
                  "sample_rate": 1.0}).to_csv(root / "ip_efficiencies_strategies.csv", index=False)
    result = _run(root, efficiencies={"ip": {
        "day_procedures_usually_dc": {"type": "day_procedures_daycase", "interval": [0.6, 0.6]},
        "day_procedures_usually_op": {"type": "day_procedures_outpatients", "interval": [0.8, 0.8]}}})
    _within(_value(result, "ip_elective_daycase", "admissions"), 40, np.sqrt(40 / RUNS))
    _within(_value(result, "ip_elective_daycase", "beddays"), 40, np.sqrt(40 / RUNS))  # 0 nights + 1
    _within(_value(result, "op_procedure", "attendances"), 20, np.sqrt(20 / RUNS))
    _within(_value(result, "ip_elective_admission", "admissions"), 140, np.sqrt(140 / RUNS))
    _within(_value(result, "ip_elective_admission", "beddays"), 140 * 4, np.sqrt(16 * 140 / RUNS))


def test_general_los_reduction_goes_to_elective_overnight_spells_without_a_strategy(tmp_path):
    # NHP gives spells with classpat "1", admimeth "1..", speldur > 0 and no strategy this one
    root = write_tiny_trust(tmp_path, speldur=4)
    _edit(root, "ip", classpat=lambda f: np.where(f["rn"] < 100, "1", "2"), admimeth="11")
    result = _run(root, efficiencies={"ip": {"general_los_reduction_elective": {"type": "all", "interval": [0.5, 0.5]}}})
    expected = 100 * (4 * 0.5 + 1) + 100 * 5
    _within(_value(result, "ip_elective_admission", "beddays"), expected, np.sqrt(4 * expected / RUNS))


def test_health_status_factor_is_the_activity_ratio_at_the_adjusted_age():
    ages = np.vstack([AGES - 2.0, AGES - 1.0])  # men 2 years younger, women 1
    table = np.tile(np.arange(101, dtype=float), (2, 1))  # activity rate = age
    age = np.array([40, 55, 70, 90, 70])
    sex = np.array([1, 1, 1, 1, 2])
    row = np.array([0, 0, 0, 0, 1])
    got = hsa_factors(ages, table, row, sex, age)
    np.testing.assert_allclose(got, [1.0, 53 / 55, 68 / 70, 88 / 90, 69 / 70])


def test_metalog_quantile_and_nhps_mean_shift_for_2023_to_2035():
    assert metalog_ppf(np.array([0.5]), [0.0, 1.0], 0.0, 100.0)[0] == pytest.approx(50.0)
    shift = HealthStatus(2023, 2035).mean_shift()
    # NHP 6.1.0's own draws (docs/demand-nhp-agreement.md): men 0.98 / 0.94 / 0.76 / 0.30 and women
    # 1.72 / 1.40 / 1.36 / 0.63 years younger at 55 / 65 / 75 / 90 (means over 10,000 draws)
    np.testing.assert_allclose(shift[:, [0, 10, 20, 35]], [[0.98, 0.94, 0.76, 0.30], [1.72, 1.40, 1.36, 0.63]],
                               atol=0.05)


def test_rows_merged_for_speed_give_the_same_projection(tmp_path):
    one = write_tiny_trust(tmp_path / "one")
    many = write_tiny_trust(tmp_path / "many")
    op = pd.read_csv(many / "op.csv")
    pd.concat([op.assign(attendances=100)] * 10, ignore_index=True).to_csv(many / "op.csv", index=False)
    params = tiny_params(activity_avoidance={"op": {"gp_referred_first_attendance_reduction_adult_surgical":
                                                    {"interval": [0.6, 0.6]}}})
    engine = Engine(params_from_dict(params), load_data(many))
    assert engine.op.n == 1 and engine.op.attendances[0] == 1000
    a = run_model(params_from_dict(params), load_data(one), runs=20, workers=1, progress=False)
    b = run_model(params_from_dict(params), load_data(many), runs=20, workers=1, progress=False)
    np.testing.assert_array_equal(a.values, b.values)


def test_a_year_of_the_fan_chart_is_the_projection_with_that_end_year(tmp_path):
    data = load_data(write_tiny_trust(tmp_path, ratio=1.3))
    raw = tiny_params(**{"non-demographic_adjustment": {"values": {"ip": {"elective": [1.0, 1.03]}}}})
    direct = Engine(params_from_dict(dict(raw, end_year=START + 3)), data)
    via = Engine(params_from_dict(raw), data).for_year(START + 3)
    for run in (1, 2, 5):
        np.testing.assert_array_equal(direct.run(run)["values"], via.run(run)["values"])


def test_capacity_totals_are_quantiles_of_per_run_totals(tmp_path):
    data = load_data(write_tiny_trust(tmp_path, ratio=1.2))
    result = run_model(params_from_dict(tiny_params()), data, runs=50, workers=1, progress=False)
    items, mat = _capacity_runs(result)
    beds = mat[:, (items.resource == "beds").to_numpy()].sum(axis=1)[result.model_runs > 0]
    row = capacity_totals(result).query("resource == 'beds'").iloc[0]
    assert row.p90 == pytest.approx(np.quantile(beds, 0.9))
    assert row.principal == pytest.approx(beds.mean())
    assert len(capacity(result)) >= 3


def test_fan_chart_is_quantiles_of_each_years_run_totals_and_opens_at_the_baseline(tmp_path):
    data = load_data(write_tiny_trust(tmp_path, ratio=1.3))
    raw = tiny_params(**{"non-demographic_adjustment": {"values": {"ip": {"elective": [1.0, 1.03]}}}})
    _, fan = project_years(params_from_dict(raw), data, [START, START + 3, END], runs=40)
    chart = fan_chart(fan, "ip", "admissions")
    assert list(chart.index) == [START, START + 3, END]
    assert (chart.loc[START] == 200).all()  # the start year is the data: 200 spells, no spread
    for year in (START + 3, END):
        totals = fan[(fan.activity == "ip") & (fan.measure == "admissions") & (fan.year == year)
                     & (fan.model_run > 0)]["value"]
        assert len(totals) == 40
        assert chart.loc[year, "p10"] == pytest.approx(np.quantile(totals, 0.1))
        assert chart.loc[year, "p50"] == pytest.approx(np.quantile(totals, 0.5))
        assert chart.loc[year, "p90"] == pytest.approx(np.quantile(totals, 0.9))
        assert chart.loc[year, "principal"] == pytest.approx(totals.mean())
    assert chart.loc[END, "p50"] > chart.loc[START + 3, "p50"] > 200  # population x 1.3 by the horizon


def test_adjusted_scenario_changes_only_what_was_asked(tmp_path):
    params = params_from_dict(tiny_params(activity_avoidance={"ip": {"x": {"interval": [0.8, 0.9]}}},
                                          **{"non-demographic_adjustment": {"values": {"ip": {"elective": [1.0, 1.02]}}}}))
    changed = adjust(params, end_year=2040, ndg_percent=(1.0, 3.0), strategy_scale=0.5, occupancy=0.8)
    assert changed.end_year == 2040
    assert changed.raw["non-demographic_adjustment"]["values"]["ip"]["elective"] == [1.01, 1.03]
    assert changed.raw["activity_avoidance"]["ip"]["x"]["interval"] == [0.9, 0.95]
    assert changed.capacity["target_occupancy"]["adult_elective"] == 0.8
    assert changed.capacity["target_occupancy"]["daycase"] == params.capacity["target_occupancy"]["daycase"]
    assert params.end_year == END  # the original is untouched


def test_strategy_without_rows_names_the_params_file_and_field(tmp_path):
    data = load_data(write_tiny_trust(tmp_path))
    params = params_from_dict(tiny_params(activity_avoidance={"ip": {"no_such_strategy": {"interval": [0.5, 0.9]}}}),
                              source="scenario.json")
    engine = Engine(params, data)
    message = " ".join(engine.warnings)
    assert "scenario.json" in message and "activity_avoidance.ip.no_such_strategy" in message


def test_fast_bed_path_equals_the_general_one(tmp_path):
    root = write_tiny_trust(tmp_path, speldur=3)
    pd.DataFrame({"rn": range(200), "strategy": "day_procedures_usually_dc", "sample_rate": 1.0}).to_csv(
        root / "ip_efficiencies_strategies.csv", index=False)
    params = params_from_dict(tiny_params(efficiencies={"ip": {"day_procedures_usually_dc": {
        "type": "day_procedures_daycase", "interval": [0.5, 0.5]}}}))
    engine = Engine(params, load_data(root))
    assert engine.capacity_areas.beds_identity
    fast = engine.run(4)["beddays_by_area"]
    engine.capacity_areas.beds_identity = False
    np.testing.assert_allclose(engine.run(4)["beddays_by_area"], fast)
    areas = engine.bed_areas["functional_area"].tolist()
    assert fast[areas.index("adult_daycase_surgical")] > 0  # converted spells' bed days, in the day-case area
