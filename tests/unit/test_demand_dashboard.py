"""The demand page's helpers: fan-chart years, uploaded data with clear errors (never a server path),
which results are still shown after a failure, what the page draws, and runs in their own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from carelens.errors import CarelensError
from carelens.demand.scenario import fan_years
from carelens.web.dashboard.demand_views import file_name
from carelens.web.dashboard.pages.demand import problem_alert


def test_fan_years_start_at_the_baseline_and_end_at_the_horizon():
    assert fan_years(2023, 2035, 4) == [2023, 2026, 2029, 2032, 2035]
    assert fan_years(2023, 2035, 1) == [2023, 2035]
    assert fan_years(2023, 2025, 12) == [2023, 2024, 2025]


def _files(*paths):
    return [{"name": p.name, "datapath": str(p), "size": p.stat().st_size} for p in paths]


def test_a_bad_upload_names_the_uploaded_file_not_a_server_path(tmp_path):
    """Issue 16: the data comes from the store or an upload, and messages name the upload only."""
    from carelens.demand.upload import read_upload

    with pytest.raises(CarelensError, match="choose the trust's data"):
        read_upload([], 1_000_000)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello", encoding="utf-8")
    with pytest.raises(CarelensError, match="name each file after its table"):
        read_upload(_files(notes), 1_000_000)
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CarelensError) as err:
        read_upload(_files(bad), 1_000_000)
    assert "x.zip" in str(err.value) and "not a ZIP" in str(err.value)
    with pytest.raises(CarelensError, match="the most this server takes is"):
        read_upload(_files(notes), 3)
    ip = tmp_path / "ip.csv"
    ip.write_text("rn,age\n1,50\n", encoding="utf-8")
    with pytest.raises(CarelensError) as err:
        read_upload(_files(ip), 1_000_000)
    assert "carelens-upload" not in str(err.value) and str(tmp_path) not in str(err.value)


def test_a_zip_holding_a_folder_with_its_own_params_is_used_as_is(tmp_path):
    import shutil
    import zipfile

    from carelens.demand.synth import synthesise
    from carelens.demand.upload import read_upload

    synthesise(tmp_path / "trust", spells=500, seed=2)
    archive = Path(shutil.make_archive(str(tmp_path / "upload"), "zip", tmp_path, "trust"))
    found = read_upload(_files(archive), 50_000_000)
    assert found.params is not None and found.params.start_year == 2023 and len(found.data["ip"]) == 500
    assert found.data.root == "upload.zip" and found.label == "upload.zip"
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../outside.csv", "a,b\n1,2\n")
    with pytest.raises(CarelensError, match="outside its folder"):
        read_upload(_files(evil), 50_000_000)


def test_the_failure_message_says_that_older_results_are_gone():
    text = str(problem_alert("Could not load the scenario: no-such-trust"))
    assert "demand-error" in text and 'role="alert"' in text
    assert "no-such-trust" in text and "No results are shown" in text


def test_download_names_are_plain():
    assert file_name("Occupancy 85% / winter", ".xlsx") == "Occupancy-85-winter.xlsx"
    assert file_name("!!!", ".pdf") == "scenario.pdf"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from carelens.demand import load_data, load_params
    from carelens.demand.scenario import run_scenario
    from carelens.demand.synth import synthesise

    root = synthesise(tmp_path_factory.mktemp("page") / "t", spells=800, seed=6)
    params, data = load_params(root / "params.json"), load_data(root)
    return params, data, run_scenario(params, data, name="S", runs=4, points=2)


def test_the_waterfall_starts_near_the_baseline_in_plain_words(small):
    from carelens.web.dashboard.demand_views import waterfall_figure

    scenario = small[2]
    fig = waterfall_figure(scenario.tables["waterfall"], "ip", "beddays", "Bed days", 2035)
    trace = fig["data"][0]
    assert trace["y"][0] == "Baseline year" and trace["y"][-1] == "Projection 2035"
    assert "Activity returning from other providers (local patients)" in trace["y"]
    low, high = fig["layout"]["xaxis"]["range"]
    assert low > 0.5 * trace["x"][0] and high > trace["x"][-1]


def test_tables_and_choices_are_in_words(small):
    from carelens.web.dashboard import demand_views as views

    scenario = small[2]
    choices = views.measure_choices(scenario.tables["run_totals"])
    assert list(choices)[:4] == ["ip|admissions", "ip|beddays", "op|attendances", "aae|arrivals"]
    assert choices["beds|total"] == "Beds: All"
    assert choices["beds|adult_nonelective"] == "Beds: Adult non-elective wards"
    rooms = views.rooms_table(scenario.tables["capacity_totals"])
    assert "Theatres (Day surgery theatres)" in set(rooms["Resource"])
    html = str(views.table(views.beds_table(scenario.tables["capacity_totals"]), "t"))
    assert '<th scope="col">Principal</th>' in html and 'class="num"' in html and "adult_nonelective" not in html


def test_a_background_run_reports_progress_returns_the_scenario_or_its_error(small):
    from carelens.demand.background import BackgroundRun
    from carelens.errors import ParamsError

    params, data, _ = small
    run = BackgroundRun(params, data, name="In a process", runs=3, points=2)
    scenario = run.wait()
    assert scenario.name == "In a process" and scenario.years == [2023, 2029, 2035]
    assert run.progress() == (6, 6)
    with pytest.raises(ParamsError, match="give the scenario a name"):
        BackgroundRun(params, data, name=" ", runs=3).wait()


def test_a_background_run_can_be_stopped(small):
    import threading
    import time

    from carelens.demand.background import BackgroundRun, Cancelled

    params, data, _ = small
    run = BackgroundRun(params, data, name="Long", runs=4000, points=10)
    outcome = []

    def wait():
        try:
            run.wait()
        except Cancelled as exc:
            outcome.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    deadline = time.monotonic() + 120
    while run.progress()[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    run.cancel()
    thread.join(timeout=30)
    assert not thread.is_alive() and outcome and run.progress()[0] < run.progress()[1]
