"""Scenarios as things: year-by-year runs, plain words and rounded numbers, comparison, the
workbook a planner takes away and the HTML report."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from carelens.demand import load_data, load_params, run_model
from carelens.demand.compare import compare, in_words
from carelens.demand.labels import name, named, rounded
from carelens.demand.outputs import result_tables
from carelens.demand.params import adjust
from carelens.demand.scenario import check_name, fan_years, run_scenario
from carelens.errors import ParamsError


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    from carelens.demand.synth import synthesise

    root = synthesise(tmp_path_factory.mktemp("scenarios") / "trust", spells=2_000, seed=5)
    return load_params(root / "params.json"), load_data(root)


@pytest.fixture(scope="module")
def two(trust):
    params, data = trust
    base = run_scenario(params, data, name="Base", runs=6, points=3, created_by="planner")
    lower = run_scenario(adjust(params, occupancy=0.8), data, name="Occupancy 80%", runs=6, points=3,
                         created_by="planner")
    return base, lower


def test_the_horizon_results_are_those_of_a_plain_run_whatever_the_years(trust, two):
    params, data = trust
    plain = result_tables(run_model(params, data, runs=6, workers=1, progress=False))
    for table in ("summary", "capacity_totals", "waterfall", "runs"):
        pd.testing.assert_frame_equal(two[0].tables[table], plain[table])
    assert two[0].years == fan_years(2023, 2035, 3) == [2023, 2027, 2031, 2035]


def test_trajectories_run_from_the_baseline_to_the_horizon_for_activity_and_capacity(two):
    base = two[0]
    years = base.trajectories()
    beds = years[(years.activity == "beds") & (years.measure == "total")].set_index("year")
    assert list(beds.index) == [2023, 2027, 2031, 2035]
    assert beds.loc[2023, "principal"] == beds.loc[2023, "baseline"] == beds.loc[2023, "p10"]
    assert (beds.p10 <= beds.p90).all() and beds.loc[2035, "principal"] != beds.loc[2023, "principal"]
    assert {("ip", "admissions"), ("theatres", "total"), ("clinic_rooms", "total")} <= set(
        zip(years.activity, years.measure))
    # the horizon's beds total is the sum of the ward types' capacity, run by run
    totals = base.tables["capacity_totals"]
    assert beds.loc[2035, "baseline"] == pytest.approx(totals[totals.resource == "beds"]["baseline"].sum())
    runs = base.run_values("beds", "total")
    assert len(runs) == 6 and np.all(np.diff(runs) >= 0)
    assert runs.mean() == pytest.approx(beds.loc[2035, "principal"])


def test_progress_counts_the_runs_asked_for(trust):
    params, data = trust
    seen = []
    run_scenario(params, data, name="x", runs=4, points=2, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (8, 8) and all(total == 8 for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_names_are_checked(trust):
    assert check_name("  My   scenario ") == "My scenario"
    for bad in ("", "   ", "x" * 121):
        with pytest.raises(ParamsError):
            check_name(bad)


def test_codes_read_as_a_planner_names_them():
    assert name("pod", "aae_type-01") == "A&E type 1: major emergency department"
    assert name("pod", "ip_non-elective_admission") == "Non-elective (emergency) admissions"
    assert name("measure", "tele_attendances") == "Attendances by phone or video"
    assert name("step", "expat") == "Activity moving to other providers"
    assert name("step", "repat_local") == "Activity returning from other providers (local patients)"
    assert name("ward_type", "adult_nonelective") == "Adult non-elective wards"
    assert name("functional_area", "paediatric_elective_surgical_zerolos") == "Paediatric elective surgical, same day"
    assert name("strategy", "some_new_strategy_los") == "Some new strategy length of stay"  # unknown: spelt out
    assert name("pod", "op_telephone") == "Outpatient telephone"


def test_numbers_are_rounded_to_what_they_mean(two):
    base = two[0]
    summary = rounded(base.tables["summary"])
    assert summary["principal"].dtype == "Int64"
    beds = rounded(base.tables["capacity_totals"])
    assert all(round(v, 1) == v for v in beds["principal"])
    assert beds["principal"].dtype == float
    mixed = rounded(base.trajectories())
    for activity, value in zip(mixed.activity, mixed.principal):
        assert isinstance(value, float) if activity in ("beds", "theatres", "clinic_rooms") else isinstance(value, int)
    words = named(summary)
    assert "Point of delivery" in words.columns and not words["Point of delivery"].str.contains("_").any()


def test_comparison_lists_what_differs_first(two):
    cmp = compare(list(two))
    diffs = cmp.differences()
    assert set(diffs.parameter) == {"capacity.target_occupancy.adult_nonelective",
                                    "capacity.target_occupancy.adult_elective",
                                    "capacity.target_occupancy.maternity", "capacity.target_occupancy.other"}
    assert cmp.parameters["differs"].iloc[: len(diffs)].all() and not cmp.parameters["differs"].iloc[len(diffs):].any()
    assert "Data fingerprint" in set(cmp.parameters.parameter)
    beds = cmp.capacity[cmp.capacity.ward_type == "adult_nonelective"].iloc[0]
    assert beds["Occupancy 80% | principal"] > beds["Base | principal"]  # lower occupancy, more beds
    assert beds["baseline"] > 0  # one baseline: both ran on the same data
    acts = cmp.activity.set_index(["pod", "measure"])
    assert (acts["Base | principal"] == acts["Occupancy 80% | principal"]).all()  # occupancy changes no activity
    steps = cmp.waterfall[(cmp.waterfall.activity == "ip") & (cmp.waterfall.measure == "admissions")]
    assert steps.step.iloc[0] == "baseline"  # steps stay in NHP's order
    assert list(in_words(cmp.capacity, ["resource", "ward_type"]).columns[:3]) == ["Resource", "Type", "Baseline"]
    with pytest.raises(ParamsError):
        compare([two[0]])
    with pytest.raises(ParamsError):
        compare([two[0], two[0]])


def test_the_workbook_has_a_cover_sheet_and_a_tab_per_table(two):
    import openpyxl

    from carelens.demand.workbook import scenario_workbook

    base = two[0]
    base.name = "=HYPERLINK(\"http://example.org\")"  # typed into a name box
    try:
        book = openpyxl.load_workbook(io.BytesIO(scenario_workbook(base)))
    finally:
        base.name = "Base"
    assert book.sheetnames[:3] == ["About", "Parameters", "Activity"]
    assert {"Beds theatres rooms", "Waterfall", "Year by year", "Runs", "Activity avoided"} <= set(book.sheetnames)
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row[0]}
    assert about["Scenario"] == "=HYPERLINK(\"http://example.org\")"
    assert book["About"]["B3"].data_type == "s"  # text, not a formula
    assert about["Data fingerprint (SHA-256)"] == two[0].data_fingerprint
    assert about["Run by"] == "planner" and about["carelens version"] and about["Horizon year"] == 2035
    header = [c.value for c in book["Beds theatres rooms"][1]]
    assert header[:3] == ["Resource", "Type", "Baseline"] and "Type (code)" in header
    values = [row[2] for row in book["Beds theatres rooms"].iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, (int, float)) and round(v, 1) == v for v in values)
    counts = [row[3] for row in book["Activity"].iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int) for v in counts)
    assert [c.value for c in book["Runs"][3]][0] == "Run" and book["Runs"].max_row == 3 + 6


def test_the_comparison_workbook(two):
    import openpyxl

    from carelens.demand.workbook import comparison_workbook

    book = openpyxl.load_workbook(io.BytesIO(comparison_workbook(compare(list(two)))))
    assert book.sheetnames == ["About", "Differences", "Activity", "Beds theatres rooms", "Waterfall", "Year by year"]
    rows = list(book["Differences"].iter_rows(min_row=4, values_only=True))
    assert rows[0][0] == "capacity.target_occupancy.adult_elective" and rows[0][3] == "differs"
    assert rows[4][3] in (None, "")
    header = [c.value for c in book["Beds theatres rooms"][1]]
    assert "Base: Principal (mean of runs)" in header and "Occupancy 80%: P90 (high)" in header


def test_the_report_says_what_it_assumed_and_escapes_names(two):
    from carelens.demand.report import comparison_report, scenario_report

    base = two[0]
    base.name = "<script>alert(1)</script>"
    try:
        html = scenario_report(base)
    finally:
        base.name = "Base"
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    for words in ("Beds, theatres and clinic rooms", "Year by year", "Parameters", base.data_fingerprint, "<svg",
                  "Adult non-elective wards"):
        assert words in html
    html = comparison_report(compare(list(two)))
    assert "What differs" in html and "capacity.target_occupancy.maternity" in html
    assert "repat_local.ip.elective.100" not in html  # only what differs, in the report
