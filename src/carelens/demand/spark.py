"""Monte Carlo runs and scenarios distributed on Apache Spark, identical to the local run.

Why this is exact: a run's random stream depends only on (scenario seed, model_run)
(:func:`carelens.demand.engine.seed_for`), so it does not matter which executor computes which run.
Each executor builds the :class:`~carelens.demand.engine.Engine` once per scenario from a broadcast
copy of the trust's tables and computes its share of (scenario, model_run) tasks; only the small
per-run arrays travel back, and the driver assembles them with the same code the local process
pool uses, so ``run_model_spark(params, data, runs)`` equals ``run_model(params, data, runs)``.

pyspark is an optional extra (``pip install carelens[spark]``) and needs Java 17+.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from carelens.demand.data import TrustData
from carelens.demand.engine import Engine
from carelens.demand.params import Params
from carelens.demand.runner import Results, _collect

# one Engine per (broadcast, scenario) per Python worker process: preparing the tables is the
# expensive part, and Spark reuses worker processes across tasks (spark.python.worker.reuse)
_WORKER_ENGINES: dict[tuple[str, int], Engine] = {}


def spark_unavailable() -> str | None:
    """Why Spark cannot run here (no pyspark, no Java), or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'carelens[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))):
        return "Java is not installed (Spark needs Java 17 or later)"
    return None


def local_session(master: str = "local[2]", app_name: str = "carelens-demand") -> Any:
    """A quiet local SparkSession whose Python workers use this interpreter (so carelens imports)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyspark's "pandas >= 3 not fully supported": we use RDDs only
        session = (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"))
            .config("spark.python.worker.reuse", "true")
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _with_seed(params: Params, seed: int | None) -> Params:
    if seed is None:
        return params
    return Params(raw=dict(params.raw, seed=int(seed)), capacity=params.capacity, source=params.source)


def _run_partition(tasks: Iterable[tuple[int, int]], job: str, b_params: Any, b_data: Any
                   ) -> Iterator[tuple[int, dict]]:
    """Executor side: run each (scenario, model_run) task with a cached per-scenario Engine."""
    for scenario, model_run in tasks:
        key = (job, scenario)
        engine = _WORKER_ENGINES.get(key)
        if engine is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the driver already reported the engine's warnings
                engine = Engine(b_params.value[scenario], b_data.value)
            _WORKER_ENGINES.clear()  # keep one prepared engine per worker: memory stays bounded
            _WORKER_ENGINES[key] = engine
        yield scenario, engine.run(model_run)


def run_model_spark(
    params: Params | Sequence[Params],
    data: TrustData,
    runs: int | None = 256,
    spark: Any = None,
    *,
    seed: int | None = None,
    partitions: int | None = None,
) -> Results | list[Results]:
    """Run 0 (baseline) and runs 1..``runs`` of one scenario, or of each of several, on Spark.

    ``params``: one :class:`Params` (returns one :class:`Results`) or a sequence of scenarios on the
    same trust (returns a list, in order); all their runs are spread over the cluster together.
    ``spark``: a SparkSession (default: a ``local[2]`` one, stopped afterwards). ``seed`` overrides
    each scenario's seed, as in :func:`carelens.demand.run_model`. ``partitions``: tasks are split
    into this many slices (default: twice the cluster's default parallelism, at most one per run).
    """
    single = isinstance(params, Params)
    scenarios = [_with_seed(p, seed) for p in ([params] if single else list(params))]
    if not scenarios:
        return []
    counts = [p.model_runs if runs is None else int(runs) for p in scenarios]
    # prepared on the driver too: it reports the engine's warnings once and holds the output keys
    # and capacity maps that assemble the results (the executors send back only per-run arrays)
    engines = []
    for p in scenarios:
        engine = Engine(p, data)
        for message in engine.warnings:
            warnings.warn(message, stacklevel=2)
        engines.append(engine)

    if spark is None:
        reason = spark_unavailable()
        if reason:
            raise RuntimeError(f"cannot run on Spark: {reason}")
    session = spark if spark is not None else local_session()
    try:
        sc = session.sparkContext
        tasks = [(s, r) for s, n in enumerate(counts) for r in range(n + 1)]
        slices = partitions or min(len(tasks), max(1, 2 * sc.defaultParallelism))
        b_params = sc.broadcast(scenarios)
        b_data = sc.broadcast(data)
        job = uuid.uuid4().hex  # names this call's engines in the reused worker processes
        try:
            outs = (
                sc.parallelize(tasks, slices)
                .mapPartitions(lambda part: _run_partition(part, job, b_params, b_data))
                .collect()
            )
        finally:
            b_params.unpersist()
            b_data.unpersist()
    finally:
        if spark is None:
            session.stop()

    per_scenario: list[list[dict]] = [[] for _ in scenarios]
    for scenario, out in outs:
        per_scenario[scenario].append(out)
    results = [
        _collect(p, engine, sorted(o, key=lambda out: out["model_run"]))
        for p, engine, o in zip(scenarios, engines, per_scenario)
    ]
    return results[0] if single else results


__all__ = ["local_session", "run_model_spark", "spark_unavailable"]
