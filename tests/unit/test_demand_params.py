"""Scenario params: the shared sample validates; bad values give one error naming the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.demand import load_params, params_from_dict, schema
from carelens.errors import ParamsError
from tests.conftest import shared_file
from tests.unit.demand_helpers import tiny_params


def test_published_schema_is_a_json_schema_object():
    s = schema()
    assert s["type"] == "object" and "seed" in s["required"]


@pytest.mark.shared_data
def test_shared_sample_params_validate_unchanged():
    p = load_params(shared_file("demand", "params-sample.json"))
    assert p.seed == 84308 and p.start_year == 2023 and p.end_year == 2035


def test_missing_required_key_names_it():
    raw = tiny_params()
    del raw["seed"]
    with pytest.raises(ParamsError, match="seed"):
        params_from_dict(raw)


def test_capacity_key_overrides_defaults_and_keeps_others():
    p = params_from_dict(tiny_params(capacity={"target_occupancy": {"maternity": 0.5}}))
    assert p.capacity["target_occupancy"]["maternity"] == 0.5
    assert p.capacity["target_occupancy"]["adult_nonelective"] == 0.92


def test_bad_json_file_is_one_clear_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert str(path) in str(err.value)


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(0, 5, allow_nan=False), hi=st.floats(0, 5, allow_nan=False))
def test_interval_validation_rejects_exactly_lo_above_hi(lo, hi):
    raw = tiny_params(expat={"op": {"Other": [lo, hi]}})
    if lo > hi:
        with pytest.raises(ParamsError) as err:
            params_from_dict(raw, source="scenario.json")
        assert err.value.field == "expat.op.Other" and err.value.file == "scenario.json"
    else:
        assert params_from_dict(raw).raw["expat"]["op"]["Other"] == [lo, hi]


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(st.text(max_size=5), st.floats(-5, -0.01), st.lists(st.integers(), max_size=1)))
def test_non_numeric_or_negative_seed_is_rejected_with_field(value):
    with pytest.raises(ParamsError) as err:
        params_from_dict(tiny_params(seed=value))
    assert err.value.field == "seed"


def test_variant_probabilities_must_sum_to_one():
    raw = tiny_params(demographic_factors={"variant_probabilities": {"a": 0.5, "b": 0.2}})
    with pytest.raises(ParamsError) as err:
        params_from_dict(raw)
    assert err.value.field == "demographic_factors.variant_probabilities"


def test_separate_capacity_file_is_merged(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(tiny_params()), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({"capacity": {"days_open": {"overnight": 300}}}), encoding="utf-8")
    p = load_params(tmp_path / "p.json", capacity=tmp_path / "c.json")
    assert p.capacity["days_open"] == {"overnight": 300, "daycase": 250}
