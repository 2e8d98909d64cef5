"""Runs and scenarios distributed on Spark (local[2]) give exactly the local run's results."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.spark

RUNS = 3


@pytest.fixture(scope="module")
def spark():
    from carelens.demand.spark import local_session, spark_unavailable

    reason = spark_unavailable()
    if reason:
        pytest.skip(reason)
    session = local_session("local[2]", "carelens-demand-test")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    from carelens.demand import load_data, params_from_dict
    from carelens.demand.synth import sample_params, synthesise

    root = synthesise(tmp_path_factory.mktemp("trust"), spells=2_000, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = params_from_dict(sample_params())
    return params, load_data(root)


def _assert_same(a, b) -> None:
    np.testing.assert_array_equal(a.model_runs, b.model_runs)
    assert a.keys.equals(b.keys)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.waterfall, b.waterfall)
    np.testing.assert_array_equal(a.beddays_by_area, b.beddays_by_area)
    np.testing.assert_array_equal(a.procedures_by_area, b.procedures_by_area)
    assert a.variants == b.variants
    assert a.avoided.equals(b.avoided)


def test_spark_runs_equal_the_local_run_for_the_same_seed(spark, trust):
    from carelens.demand import run_model
    from carelens.demand.spark import run_model_spark

    params, data = trust
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = run_model(params, data, runs=RUNS, workers=1, seed=11, progress=False)
        distributed = run_model_spark(params, data, runs=RUNS, spark=spark, seed=11)
    assert list(distributed.model_runs) == list(range(RUNS + 1))
    assert distributed.values[1:].sum() > 0  # the runs did project activity
    _assert_same(distributed, local)


def test_spark_runs_several_scenarios_at_once_each_equal_to_its_local_run(spark, trust):
    from carelens.demand import run_model
    from carelens.demand.spark import run_model_spark

    params, data = trust
    no_growth = params.with_changes(seed=5, health_status_adjustment=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both = run_model_spark([params, no_growth], data, runs=RUNS, spark=spark)
        local = [run_model(p, data, runs=RUNS, workers=1, progress=False) for p in (params, no_growth)]
    assert len(both) == 2
    for distributed, expected in zip(both, local):
        _assert_same(distributed, expected)
    assert not np.array_equal(both[0].values[1:], both[1].values[1:])  # two different scenarios
