"""The dashboard's "Run and keep" job, away from the event loop: the data and params made ready in
the job (not in the page), the changes applied, a stop before the run starts keeps nothing, and
the scenario is kept with its data (issue 15, item 6)."""

from __future__ import annotations

import json

import pytest

from carelens.demand import load_data, load_params
from carelens.demand.background import Cancelled
from carelens.demand.new_scenario import UPLOAD, NewScenario, Stopper, run_and_keep
from carelens.demand.scenario import run_scenario
from carelens.errors import ParamsError, TableError


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """A store holding one scenario and its data."""
    from carelens.demand.store import save_scenario
    from carelens.demand.synth import synthesise

    work = tmp_path_factory.mktemp("new_scenario")
    root = synthesise(work / "trust", spells=600, seed=3)
    params, data = load_params(root / "params.json"), load_data(root)
    store = str(work / "store.duckdb")
    first = run_scenario(params, data, name="First", runs=2)
    save_scenario(first, store, data)
    return store, first, root


def test_a_stored_trust_with_the_open_scenarios_params_and_the_changes(kept):
    from carelens.demand.store import list_scenarios

    store, first, _ = kept
    request = NewScenario(source=first.data_fingerprint, store=store, base=first.params,
                          changes={"occupancy": 0.8, "end_year": 2030},
                          options={"name": "Second", "runs": 2, "points": 1, "created_by": "planner"})
    params, data = request.ready()
    assert params.end_year == 2030 and params.capacity["target_occupancy"]["adult_nonelective"] == 0.8
    assert first.params.end_year == 2035  # the open scenario's params are not changed
    seen = []
    scenario = run_and_keep(request, Stopper(), on_progress=lambda done, total: seen.append((done, total)))
    assert scenario.name == "Second" and scenario.created_by == "planner" and scenario.end_year == 2030
    assert scenario.data_fingerprint == first.data_fingerprint and seen[-1] == (2, 2)
    listed = list_scenarios(store).set_index("name")
    assert listed.loc["Second", "has_data"] and listed.loc["Second", "created_by"] == "planner"


def test_an_uploaded_params_file_is_checked_in_the_job_naming_the_file(kept, tmp_path):
    store, first, root = kept
    raw = json.loads((root / "params.json").read_text(encoding="utf-8"))
    raw["expat"]["op"]["Other"] = [0.99, 0.97]
    bad = tmp_path / "datapath-0"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    request = NewScenario(source=first.data_fingerprint, store=store, params_file=(str(bad), "my-params.json"))
    with pytest.raises(ParamsError) as err:
        request.ready()
    assert "my-params.json" in str(err.value) and "expat.op.Other" in str(err.value)
    assert str(tmp_path) not in str(err.value)  # the server's temporary path is nobody's business


def test_no_upload_yet_is_one_line(kept):
    store, _, _ = kept
    with pytest.raises(TableError, match="upload the trust's data first"):
        NewScenario(source=UPLOAD, store=store).ready()


def test_stopped_while_getting_ready_starts_no_run_and_keeps_nothing(kept):
    from carelens.demand.store import list_scenarios

    store, first, _ = kept
    stopper = Stopper()
    stopper.stop()
    request = NewScenario(source=first.data_fingerprint, store=store, base=first.params,
                          options={"name": "Never", "runs": 2})
    with pytest.raises(Cancelled):
        run_and_keep(request, stopper)
    assert stopper.run is None and "Never" not in set(list_scenarios(store)["name"])
