"""The demand page's helpers: fan-chart years, loading a scenario with clear errors, and which results
are still shown after a failure."""

from __future__ import annotations

import pytest

from carelens.errors import CarelensError
from carelens.demand.scenarios import fan_years, load_scenario
from carelens.web.dashboard.pages.demand import current_result, problem_alert


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


def test_results_are_shown_only_for_the_scenario_they_were_run_on_and_not_after_a_failure():
    result = {"scenario_id": 3, "runs": 8}
    assert current_result("success", result, 3, None) is result
    # a later load (failed or not) is a new scenario: the old figures are not its figures
    assert current_result("success", result, 4, None) is None
    # a failed load or refused run on the same scenario clears them too
    assert current_result("success", result, 3, "Could not run the projection: bad end_year") is None
    for status in ("initial", "running", "error", "cancelled"):
        assert current_result(status, result, 3, None) is None
    assert current_result("success", None, 3, None) is None


def test_the_failure_message_says_that_older_results_are_gone():
    text = str(problem_alert("Could not load the scenario: no-such-trust"))
    assert "demand-error" in text and 'role="alert"' in text
    assert "no-such-trust" in text and "No results are shown" in text
