"""The engine on the shared NHP-layout trust and params, unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from carelens.demand import load_data, load_params, run_model, summarise
from tests.conftest import shared_file

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def shared():
    params = load_params(shared_file("demand", "params-sample.json"))
    data = load_data(shared_file("demand", "nhp_synthetic"))
    return params, data


def test_shared_sample_runs_unchanged_and_grows_activity(shared):
    params, data = shared
    result = run_model(params, data, runs=4, workers=1, progress=False)
    s = summarise(result)
    ip = s[(s.pod == "ip_non-elective_admission") & (s.measure == "admissions")].iloc[0]
    assert ip.baseline == (data["ip"]["pod"] == "ip_non-elective_admission").sum()
    assert ip.principal > ip.baseline
    assert np.isfinite(s[["principal", "p10", "p50", "p90"]].to_numpy()).all()


@pytest.mark.slow
def test_shared_sample_256_runs_in_parallel(shared):
    params, data = shared
    result = run_model(params, data, runs=256, workers=2, progress=False)
    assert result.values.shape[0] == 257
