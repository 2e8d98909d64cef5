"""The demand page's helpers: fan-chart years and loading a scenario with clear errors."""

from __future__ import annotations

import pytest

from carelens.errors import CarelensError
from carelens.web.dashboard.demand import fan_years, load_scenario


def test_fan_years_start_at_the_baseline_and_end_at_the_horizon():
    assert fan_years(2023, 2035, 4) == [2023, 2026, 2029, 2032, 2035]
    assert fan_years(2023, 2035, 1) == [2023, 2035]
    assert fan_years(2023, 2025, 12) == [2023, 2024, 2025]


def test_a_missing_folder_or_bad_upload_names_what_is_wrong(tmp_path):
    with pytest.raises(CarelensError, match="no-such"):
        load_scenario("folder", str(tmp_path / "no-such"), None)
    with pytest.raises(CarelensError, match="data folder"):
        load_scenario("folder", "  ", None)
    bad = tmp_path / "x.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CarelensError) as err:
        load_scenario("synthetic", "", {"datapath": str(bad), "name": "my-scenario.json"})
    assert "my-scenario.json" in str(err.value) and "not valid JSON" in str(err.value)


def test_a_folder_with_its_own_params_is_used_as_is(tmp_path):
    from carelens.demand.synth import synthesise

    synthesise(tmp_path / "trust", spells=500, seed=2)
    params, data, what = load_scenario("folder", str(tmp_path / "trust"), None)
    assert "params.json" in what and len(data["ip"]) == 500 and params.start_year == 2023
