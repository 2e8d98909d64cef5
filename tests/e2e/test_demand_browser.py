"""The demand and capacity page in Debian's chromium: scenario, assumptions, run with progress, results."""

from __future__ import annotations

# bypass_csp: Playwright's wait_for_function evaluates a string in the page, which the dashboard's
# Content Security Policy forbids (no 'unsafe-eval'); the policy itself is tested, with every page
# of every role, in test_access_browser.py.

import json

import pytest

from tests.e2e.dashboard_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, require_browser, running_server, sign_in

pytestmark = pytest.mark.browser


def _years_on_fan(page) -> list[int]:
    xs = page.evaluate("() => document.getElementById('demand-chart_fan').data[2].x")
    return [int(x) for x in xs]


def _error_saying(page, text: str) -> str:
    """Wait for the one error message on the page to contain ``text``; return all of it."""
    page.wait_for_function("t => { const e = document.querySelectorAll('.demand-error');"
                           " return e.length === 1 && e[0].innerText.includes(t); }", arg=text)
    return page.locator(".demand-error").inner_text()


def _assert_results_cleared(page) -> None:
    """No chart, table or 'Done' line of an earlier run is left to be read as the new scenario's."""
    page.wait_for_function("() => document.querySelectorAll('.demand-cleared').length === 5")
    for gone in ("#demand-chart_fan", "#demand-chart_waterfall", "#demand-beds_table", "#demand-rooms_table",
                 "#demand-summary_table", ".demand-done"):
        assert page.locator(gone).count() == 0, gone


def test_planner_runs_a_scenario_changes_assumptions_and_reads_capacity(tmp_path):
    require_browser()
    from playwright.sync_api import sync_playwright

    from carelens.demand.synth import sample_params

    bad = sample_params()
    bad["expat"]["op"]["Other"] = [0.99, 0.97]  # lo > hi
    bad_file = tmp_path / "bad-params.json"
    bad_file.write_text(json.dumps(bad), encoding="utf-8")

    with sync_playwright() as p, running_server(tmp_path / "store.duckdb", tmp_path) as url:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 1200})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(90_000)
        sign_in(page, url, "planner")
        page.get_by_role("tab", name="Demand and capacity", exact=True).click()
        # the synthetic scenario loads by itself, and its assumptions fill the controls
        page.locator(".demand-scenario").wait_for()
        assert "20,000 inpatient spells" in page.locator(".demand-scenario").inner_text()
        assert page.locator("#demand-end_year").input_value() == "2035"
        assert page.locator("#demand-variant option").count() == 6  # the mix + five projections

        # run with enough runs to see the progress bar, then the results
        page.locator("#demand-runs").fill("150")
        page.locator("#demand-points").fill("3")
        page.get_by_role("button", name="Run projection").click()
        page.locator(".demand-progress .progress-bar").wait_for()
        page.locator(".demand-done").wait_for(timeout=180_000)
        page.locator("#demand-chart_fan").wait_for()
        assert _years_on_fan(page) == [2023, 2027, 2031, 2035]
        page.locator("#demand-chart_waterfall").wait_for()
        beds = page.locator("#demand-beds_table tbody tr")
        assert beds.count() >= 4  # adult elective / non-elective, paediatric, maternity, day case ...
        ward_types = page.locator("#demand-beds_table tbody td:first-child").all_inner_texts()
        assert "daycase" in ward_types and "adult nonelective" in ward_types
        rooms = page.locator("#demand-rooms_table").inner_text()
        assert "Theatres" in rooms and "Clinic rooms" in rooms
        header = page.locator("#demand-beds_table thead").inner_text()
        for col in ("Baseline", "Principal", "P10", "P50", "P90"):
            assert col in header
        summary = page.locator("#demand-summary_table").inner_text()
        assert "ip_elective_admission" in summary and "aae_type-01" in summary and "tele_attendances" in summary
        beds_before = page.locator("#demand-beds_table tbody tr", has_text="adult nonelective").locator("td").nth(2).inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "demand-01-projection.png"), full_page=True)

        # change the main assumptions: a nearer horizon and one population projection
        page.locator("#demand-end_year").fill("2029")
        page.locator("#demand-variant").select_option("var_proj_zero_net_migration")
        page.locator("#demand-runs").fill("40")
        page.get_by_role("button", name="Run projection").click()
        page.wait_for_function("() => { const g = document.getElementById('demand-chart_fan');"
                               " return g && g.data && g.data[2].x.map(Number).includes(2029)"
                               " && !g.data[2].x.map(Number).includes(2035); }", timeout=180_000)
        assert max(_years_on_fan(page)) == 2029
        beds_after = page.locator("#demand-beds_table tbody tr", has_text="adult nonelective").locator("td").nth(2).inner_text()
        assert beds_after != beds_before

        # a run refused for bad inputs: the error shows and the last results are taken away
        page.locator("#demand-end_year").fill("2020")
        page.get_by_role("button", name="Run projection").click()
        assert "end_year is before start_year" in _error_saying(page, "Could not run the projection")
        _assert_results_cleared(page)
        assert "20,000 inpatient spells" in page.locator(".demand-scenario").inner_text()  # still loaded

        # bad input: an interval with lo > hi, named with its file and field
        page.locator("#demand-end_year").fill("2029")
        page.get_by_role("button", name="Run projection").click()
        page.locator(".demand-done").wait_for(timeout=180_000)
        page.locator("#demand-chart_fan").wait_for()
        page.locator("#demand-params_file").set_input_files(str(bad_file))
        text = _error_saying(page, "bad-params.json")
        assert "Could not load the scenario" in text and "expat.op.Other" in text and "lo 0.99 > hi 0.97" in text
        _assert_results_cleared(page)
        assert page.locator(".demand-scenario").count() == 0
        page.locator(".demand-no-scenario").wait_for()
        # and a data folder that does not exist
        page.locator("#demand-source").select_option("folder")
        page.locator("#demand-folder").fill(str(tmp_path / "no-such-trust"))
        page.get_by_role("button", name="Load scenario").click()
        _error_saying(page, "no-such-trust")
        _assert_results_cleared(page)
        page.screenshot(path=str(SCREENSHOTS / "demand-02-bad-input.png"), full_page=True)
        browser.close()
        assert not errors
