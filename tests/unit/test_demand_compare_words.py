"""Scenarios as a board reads them: assumptions in words next to their params keys, the waterfall
of each compared scenario side by side on one axis, years as years, a name given twice said by
name, and each figure's change from the baseline (issue 15, items 2, 3 and 5)."""

from __future__ import annotations

import io

import pytest

from carelens.demand import load_data, load_params
from carelens.demand.compare import compare, parameters_in_words
from carelens.demand.labels import parameter_name
from carelens.demand.params import adjust
from carelens.demand.scenario import run_scenario
from carelens.errors import ParamsError


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    from carelens.demand.synth import synthesise

    root = synthesise(tmp_path_factory.mktemp("compare_words") / "trust", spells=1_000, seed=8)
    params, data = load_params(root / "params.json"), load_data(root)
    base = run_scenario(params, data, name="Base", runs=4, points=2)
    no_hsa = run_scenario(adjust(params, health_status_adjustment=False), data, name="No HSA", runs=4, points=2)
    sooner = run_scenario(adjust(params, end_year=2030), data, name="<b>2030</b>", runs=4, points=2)
    return base, no_hsa, sooner


@pytest.mark.parametrize(("key", "words"), [
    ("capacity.target_occupancy.adult_nonelective", "Capacity: target occupancy, Adult non-elective wards"),
    ("repat_local.op.100", "Activity returning from other providers (local patients): Outpatients, General surgery"),
    ("expat.ip.elective.Other", "Activity moving to other providers: Inpatients, elective, Other specialties"),
    ("demographic_factors.variant_probabilities.var_proj_zero_net_migration",
     "Population projection: chance of each, zero net migration"),
    ("activity_avoidance.ip.falls_related_admissions.interval",
     "Activity avoided: Inpatients, Falls-related admissions, 80% interval"),
    ("health_status_adjustment", "Older people living longer in better health"),
    ("end_year", "Horizon year"),
    ("Monte Carlo runs", "Monte Carlo runs"),
    ("efficiencies.op.convert_to_tele_new_kind.interval", "Efficiencies: Outpatients, convert to tele new kind, "
                                                         "80% interval"),  # unknown: spelt out, not dropped
])
def test_assumptions_read_in_words(key, words):
    assert parameter_name(key) == words


def test_what_differs_is_in_words_with_its_key(three):
    cmp = compare(list(three[:2]))
    shown = parameters_in_words(cmp.differences())
    assert list(shown.columns) == ["Assumption", "Parameter", "Base", "No HSA"]
    assert shown.iloc[0].tolist() == ["Older people living longer in better health", "health_status_adjustment",
                                      "yes", "no"]
    kept = parameters_in_words(cmp.parameters, first=False)
    assert list(kept.columns) == ["Parameter", "Base", "No HSA", "Differs", "Assumption"]
    assert (kept["Parameter"] != "").all()  # the workbook keeps every key to filter on


def test_the_waterfall_of_each_shares_one_axis(three):
    from carelens.web.dashboard.demand_views import waterfall_figure, waterfalls_figure

    fig = waterfalls_figure(list(three), "ip", "beddays", "Bed days")
    assert [t["name"] for t in fig["data"]] == ["Base", "No HSA", "&lt;b&gt;2030&lt;/b&gt;"]  # not markup
    assert [t["xaxis"] for t in fig["data"]] == ["x", "x2", "x3"]
    assert all(t["y"][0] == "Baseline year" and t["y"][-1] == "Projection" for t in fig["data"])
    ranges = {tuple(fig["layout"][a]["range"]) for a in ("xaxis", "xaxis2", "xaxis3")}
    assert len(ranges) == 1  # one scale: a longer bar is a bigger step in every panel
    low, high = ranges.pop()
    for scenario in three:
        own = waterfall_figure(scenario.tables["waterfall"], "ip", "beddays", "", scenario.end_year)
        assert low <= own["layout"]["xaxis"]["range"][0] and high >= own["layout"]["xaxis"]["range"][1]
    no_hsa = dict(zip(fig["data"][1]["y"], fig["data"][1]["x"]))
    assert no_hsa["Older people living longer in better health"] == 0
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles[2] == "<b>&lt;b&gt;2030&lt;/b&gt;</b> (2030)"


def test_years_stay_numbers_and_a_name_twice_is_named(three):
    import openpyxl

    from carelens.demand.workbook import comparison_workbook

    cmp = compare(list(three))
    assert cmp.trajectories["year"].dtype == "int64"
    book = openpyxl.load_workbook(io.BytesIO(comparison_workbook(cmp)))
    years = [row[2] for row in book["Year by year"].iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(y, int) for y in years) and 2030 in years and 2035 in years
    with pytest.raises(ParamsError, match="'Base' is named twice"):
        compare([three[0], three[1], three[0]])


def test_the_comparison_report_draws_the_waterfall_of_each(three):
    from carelens.demand.report import comparison_report

    html = comparison_report(compare(list(three)))
    assert html.count("inpatient bed days from the baseline to") == 3
    assert "<b>2030</b>" not in html and "&lt;b&gt;2030&lt;/b&gt;" in html
    assert "Older people living longer in better health" in html  # what differs, in words


def test_each_figure_says_its_change_from_the_baseline(three):
    import openpyxl

    from carelens.demand.report import scenario_report
    from carelens.demand.workbook import scenario_workbook
    from carelens.web.dashboard import demand_views as views

    base = three[0]
    beds = views.beds_table(base.tables["capacity_totals"]).set_index("Type")
    row = base.tables["capacity_totals"].query("resource == 'beds' and ward_type == 'adult_nonelective'").iloc[0]
    shown = beds.loc["Adult non-elective wards"]
    assert shown["Change from baseline"] == round(row.principal - row.baseline, 1)
    assert shown["Change, %"] == round(100 * (row.principal - row.baseline) / row.baseline, 1)
    activity = views.activity_table(base.tables["summary"])
    zero = activity[activity["Baseline"] == 0]
    assert zero["Change, %"].isna().all()  # no share of nothing
    assert str(activity["Change from baseline"].dtype) == "Int64"  # counts stay whole
    book = openpyxl.load_workbook(io.BytesIO(scenario_workbook(base)))
    header = [c.value for c in book["Beds theatres rooms"][1]]
    assert header.index("Change from baseline") < header.index("Type (code)")
    assert "Change, %" in scenario_report(base)
