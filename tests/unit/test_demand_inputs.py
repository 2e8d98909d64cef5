"""Impossible values in a scenario's params, capacity assumptions or data are refused with one line
naming the file, row and field, before any run (issue 17, items 8 and 9 for demand)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.demand import load_data, load_params, params_from_dict
from carelens.demand.data import data_fingerprint, data_from_tables
from carelens.demand.params import MAX_RUNS
from carelens.errors import ParamsError, TableError
from tests.unit.demand_helpers import tiny_params, write_tiny_trust


@pytest.mark.parametrize(("capacity", "field", "words"), [
    ({"target_occupancy": {"adult_elective": 0}}, "capacity.target_occupancy.adult_elective", "infinite"),
    ({"target_occupancy": {"maternity": 1.5}}, "capacity.target_occupancy.maternity", "at most 1"),
    ({"target_occupancy": {"adult_elective": "0.9"}}, "capacity.target_occupancy.adult_elective", "not of type"),
    ({"target_occupancy": {"adult_non_elective": 0.9}}, "capacity.target_occupancy", "adult_non_elective"),
    ({"theatre": {"utilisation": -0.2}}, "capacity.theatre.utilisation", "minimum"),
    ({"clinic": {"hours_per_year": 0}}, "capacity.clinic.hours_per_year", "minimum"),
    ({"days_open": {"overnight": 0}}, "capacity.days_open.overnight", "minimum"),
    ({"theatre": {"hours_per_procedur": {"x": 1}}}, "capacity.theatre", "hours_per_procedur"),
])
def test_impossible_capacity_assumptions_are_refused_naming_the_field(capacity, field, words):
    with pytest.raises(ParamsError) as err:
        params_from_dict(tiny_params(capacity=capacity), source="scenario.json")
    assert err.value.field == field and err.value.file == "scenario.json"
    assert words in str(err.value)


def test_a_separate_capacity_file_is_checked_and_named(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(tiny_params()), encoding="utf-8")
    (tmp_path / "c.json").write_text('{"target_occupancy": {"paediatric": NaN}}', encoding="utf-8")
    with pytest.raises(ParamsError) as err:
        load_params(tmp_path / "p.json", capacity=tmp_path / "c.json")
    assert err.value.file.endswith("c.json") and err.value.field == "capacity.target_occupancy.paediatric"
    (tmp_path / "c.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ParamsError, match="JSON object"):
        load_params(tmp_path / "p.json", capacity=tmp_path / "c.json")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e400"])
def test_nan_and_infinite_numbers_in_params_are_refused(tmp_path, literal):
    body = json.dumps(tiny_params(expat={"op": {"Other": [0.9, 12345.0]}})).replace("12345.0", literal)
    path = tmp_path / "p.json"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert err.value.field == "expat.op.Other.1" and "not a number" in str(err.value)


@settings(max_examples=25, deadline=None)
@given(runs=st.one_of(st.integers(MAX_RUNS + 1, 10**12), st.integers(max_value=-1)))
def test_model_runs_out_of_bounds_are_refused(runs):
    with pytest.raises(ParamsError) as err:
        params_from_dict(tiny_params(model_runs=runs))
    assert err.value.field == "model_runs"


def test_model_runs_up_to_the_bound_are_accepted():
    assert params_from_dict(tiny_params(model_runs=MAX_RUNS)).model_runs == MAX_RUNS


def _trust(tmp_path):
    return write_tiny_trust(tmp_path / "trust", spells=20)


def test_a_sample_rate_that_is_not_a_number_names_the_row(tmp_path):
    root = _trust(tmp_path)
    pd.DataFrame({"rn": [0, 1, 2], "strategy": "falls_related_admissions",
                  "sample_rate": ["0.5", "lots", "1"]}).to_csv(root / "ip_activity_avoidance_strategies.csv",
                                                                index=False)
    with pytest.raises(TableError) as err:
        load_data(root)
    assert err.value.field == "sample_rate" and err.value.row == 3  # the file's third line: header + 2
    assert "'lots'" in str(err.value) and "ip_activity_avoidance_strategies.csv" in str(err.value)


def test_a_sample_rate_above_one_is_refused(tmp_path):
    root = _trust(tmp_path)
    pd.DataFrame({"rn": [0], "strategy": "x", "sample_rate": [7.0]}).to_csv(
        root / "ip_efficiencies_strategies.csv", index=False)
    with pytest.raises(TableError, match="between 0 and 1"):
        load_data(root)


@pytest.mark.parametrize(("table", "column", "value", "words"), [
    ("op", "attendances", -3, "cannot be negative"),
    ("op", "tele_attendances", 2.5, "whole number"),
    ("op", "attendances", "many", "must be a number"),
    ("ip", "speldur", -1, "cannot be negative"),
])
def test_negative_or_broken_counts_are_refused(tmp_path, table, column, value, words):
    root = _trust(tmp_path)
    frame = pd.read_csv(root / f"{table}.csv")
    frame[column] = frame[column].astype(object)
    frame.loc[len(frame) - 1, column] = value
    frame.to_csv(root / f"{table}.csv", index=False)
    with pytest.raises(TableError) as err:
        load_data(root)
    assert err.value.field == column and err.value.row == len(frame) + 1 and words in str(err.value)


def test_negative_arrivals_in_parquet_name_the_row(tmp_path):
    root = _trust(tmp_path)
    aae = pd.read_parquet(root / "aae.parquet")
    aae.loc[0, "arrivals"] = -10
    aae.to_parquet(root / "aae.parquet", index=False)
    with pytest.raises(TableError) as err:
        load_data(root)
    assert err.value.field == "arrivals" and err.value.row == 1


def test_a_corrupt_parquet_file_is_one_line_naming_it(tmp_path):
    root = _trust(tmp_path)
    (root / "aae.parquet").write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(TableError) as err:
        load_data(root)
    assert "aae.parquet" in str(err.value) and "\n" not in str(err.value)
    from carelens.demand.synth import synthesise

    nhp = synthesise(tmp_path / "nhp", spells=300, seed=1)
    part = next((nhp / "op").rglob("*.parquet"))
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(TableError) as err:
        load_data(nhp)
    assert part.name in str(err.value) and "could not read the parquet file" in str(err.value)


def test_the_data_fingerprint_follows_the_values_not_the_layout(tmp_path):
    from carelens.demand.synth import synthesise

    nhp = load_data(synthesise(tmp_path / "nhp", spells=500, seed=4))
    print_ = data_fingerprint(nhp)
    assert len(print_) == 64
    flat = tmp_path / "flat"
    flat.mkdir()
    for name, frame in nhp.tables.items():
        if len(frame):
            frame.to_parquet(flat / f"{name}.parquet", index=False)
    assert data_fingerprint(load_data(flat)) == print_
    assert data_fingerprint(data_from_tables(nhp.tables, "stored data")) == print_
    changed = dict(nhp.tables, ip=nhp.tables["ip"].assign(speldur=nhp.tables["ip"]["speldur"] + 1))
    assert data_fingerprint(data_from_tables(changed, "stored data")) != print_
    fewer = dict(nhp.tables, op=nhp.tables["op"].iloc[:-1])
    assert data_fingerprint(data_from_tables(fewer, "stored data")) != print_
