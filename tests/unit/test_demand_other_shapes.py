"""Trust data shaped otherwise than our generator makes it (issue 15, "real data beats our data"):
only the required tables and columns, other site and specialty codes, a population table that
ends before 2035. A projection still runs, names what it could not use, and gives beds."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carelens.demand import load_data, params_from_dict
from carelens.demand.data import REQUIRED_COLUMNS, REQUIRED_TABLES, TABLES, data_from_tables
from carelens.demand.scenario import run_scenario
from carelens.demand.synth import sample_params, synthesise
from carelens.errors import CarelensError


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return load_data(synthesise(tmp_path_factory.mktemp("shapes") / "trust", spells=800, seed=5))


def _bare(data, end: int = 2031):
    """Only what is required, as a trust without NHP's extracts might hold it."""
    tables = {}
    for name in REQUIRED_TABLES:
        frame = data.tables[name]
        keep = REQUIRED_COLUMNS[name] + [c for c in frame.columns if str(c).isdigit() and int(c) <= end]
        frame = frame[keep].copy()
        if "sitetret" in frame:
            frame["sitetret"] = "RXX0" + frame["sitetret"].astype(str)
        if "tretspef_grouped" in frame:
            frame["tretspef_grouped"] = "C_" + frame["tretspef_grouped"].astype(str)
        tables[name] = frame
    return tables


def _params(end: int = 2031):
    return params_from_dict(dict(sample_params(), end_year=end), source="params.json")


def test_only_the_required_tables_and_columns_still_give_beds(synthetic, tmp_path):
    for name, frame in _bare(synthetic).items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    data = load_data(tmp_path)
    assert "tretspef_grouped" not in pd.read_csv(tmp_path / "aae.csv", nrows=1).columns
    with pytest.warns(UserWarning):
        scenario = run_scenario(_params(), data, name="Bare", runs=4)
    said = " ".join(scenario.warnings)
    assert "no ip_functional_areas_beds table: beds by ward type" in said
    assert "no theatres are projected" in said
    # specialties coded otherwise than the params name them: the steps keyed on them are said to do nothing
    assert "repat_local.ip" in said and "name tretspef_grouped values the data does not have (it has C_" in said
    assert "no health-status adjustment is made" in said and "no inequalities table" in said
    waterfall = scenario.tables["waterfall"].set_index(["activity", "measure", "step"])["principal"]
    assert waterfall[("ip", "admissions", "repat_local")] == 0
    beds = scenario.tables["capacity_totals"].query("resource == 'beds'").set_index("ward_type")
    assert {"daycase", "adult_elective", "adult_nonelective", "maternity", "paediatric"} <= set(beds.index)
    nhp_shaped = run_scenario(_params(), synthetic, name="NHP areas", runs=4)
    assert not [w for w in nhp_shaped.warnings if "does not have" in w or "no ip_functional_areas" in w]
    with_areas = nhp_shaped.tables["capacity_totals"]
    nhp_beds = with_areas.query("resource == 'beds'")["baseline"].sum()
    assert beds["baseline"].sum() == pytest.approx(nhp_beds, rel=0.1)  # the same bed days, other areas
    sites = set(scenario.tables["summary_by_site"]["sitetret"])
    assert sites and all(s.startswith("RXX0") for s in sites)


def test_theatres_come_from_has_procedure_without_the_procedures_table(synthetic):
    tables = dict(_bare(synthetic))
    tables["ip"] = tables["ip"].assign(has_procedure=synthetic.tables["ip"]["has_procedure"].to_numpy())
    scenario = run_scenario(_params(), data_from_tables(tables, "bare"), name="Has procedure", runs=4)
    theatres = scenario.tables["capacity_totals"].query("resource == 'theatres'")
    assert set(theatres["ward_type"]) == {"theatre_day", "theatre_general"}
    assert (theatres["baseline"] > 0).all()
    assert "theatres from the spells' has_procedure column" in " ".join(scenario.warnings)


OPTIONAL_TABLES = [t for t in TABLES if t not in REQUIRED_TABLES]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_subset_of_optional_tables_and_columns_runs_or_says_why(synthetic, data):
    """Whatever optional tables and columns a trust leaves out, the projection runs (or refuses in
    one line: a CarelensError) and keeps its activity totals."""
    drop_tables = data.draw(st.sets(st.sampled_from(OPTIONAL_TABLES)))
    tables = {}
    for name, frame in synthetic.tables.items():
        if name in drop_tables:
            continue
        optional = sorted(c for c in frame.columns if c not in REQUIRED_COLUMNS[name] and not str(c).isdigit())
        dropped = data.draw(st.sets(st.sampled_from(optional))) if optional else set()
        tables[name] = frame.drop(columns=sorted(dropped))
    try:
        scenario = run_scenario(_params(2035), data_from_tables(tables, "subset"), name="Subset", runs=2)
    except CarelensError as exc:
        assert "\n" not in str(exc)
        return
    summary = scenario.tables["summary"]
    assert set(summary["pod"].str[:3]) == {"ip_", "op_", "aae"}
    assert (summary["baseline"] >= 0).all() and summary["principal"].notna().all()
    assert scenario.tables["capacity_totals"].query("resource == 'beds'")["principal"].sum() > 0
