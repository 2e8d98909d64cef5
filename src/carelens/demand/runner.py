"""Running many Monte Carlo runs in a process pool and collecting them into :class:`Results`.

Memory stays bounded: each worker returns a small dense array per run (output keys x measures),
never row-level data, and the engine is built once per worker process (fork shares the tables).
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.data import TrustData
from carelens.demand.engine import MEASURES, OUT_DIMS, STEPS, WATERFALL_MEASURES, Engine
from carelens.demand.params import Params

_ENGINE: Engine | None = None


@dataclass
class Results:
    """All runs of one scenario. ``values[run, key, measure]``; run 0 is the baseline."""

    params: Params
    keys: pd.DataFrame
    model_runs: np.ndarray
    values: np.ndarray
    waterfall: np.ndarray  # [run, waterfall measure, step]
    beds_areas: pd.DataFrame
    beddays_by_area: np.ndarray  # [run, area]
    theatre_areas: pd.DataFrame
    procedures_by_area: np.ndarray  # [run, area]
    avoided: pd.DataFrame  # model_run, activity, strategy, measure, value
    variants: list[str]
    warnings: list[str]

    def run_frame(self, model_run: int) -> pd.DataFrame:
        """The long per-run frame for one model_run (same shape as :func:`run_one`)."""
        pos = int(np.nonzero(self.model_runs == model_run)[0][0])
        return _long_frame(self.keys, self.values[pos], model_run)


def _long_frame(keys: pd.DataFrame, values: np.ndarray, model_run: int) -> pd.DataFrame:
    key_idx, m_idx = np.nonzero(values)
    frame = keys.iloc[key_idx].reset_index(drop=True)
    frame.insert(0, "model_run", model_run)
    frame["measure"] = np.asarray(MEASURES)[m_idx]
    frame["value"] = values[key_idx, m_idx]
    return frame


def _init_worker(params: Params, data: TrustData) -> None:
    global _ENGINE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _ENGINE = Engine(params, data)


def _run_in_worker(model_run: int) -> dict[str, Any]:
    assert _ENGINE is not None
    return _ENGINE.run(model_run)


def run_one(params: Params, data: TrustData | Engine, model_run: int) -> pd.DataFrame:
    """One run's aggregated frame (model_run, pod, sitetret, age_group, sex, tretspef_grouped, measure,
    value); deterministic given (params seed, model_run). Pass an :class:`Engine` to reuse preparation."""
    engine = data if isinstance(data, Engine) else Engine(params, data)
    out = engine.run(model_run)
    return _long_frame(engine.keys, out["values"], model_run)


def run_model(params: Params, data: TrustData, runs: int | None = 256, workers: int = 2, seed: int | None = None,
              progress: bool = True, engine: Engine | None = None) -> Results:
    """Run 0 (baseline) and runs 1..``runs``; ``seed`` overrides the params seed."""
    from carelens.progress import progress_task

    if seed is not None:
        raw = dict(params.raw, seed=int(seed))
        params = Params(raw=raw, capacity=params.capacity, source=params.source)
    runs = params.model_runs if runs is None else int(runs)
    engine = engine if engine is not None and engine.params is params else Engine(params, data)
    for message in engine.warnings:
        warnings.warn(message, stacklevel=2)
    ids = list(range(runs + 1))
    outs: list[dict[str, Any]] = []
    workers = max(1, min(int(workers), os.cpu_count() or 1, len(ids)))
    with progress_task("demand model runs", total=len(ids), disable=not progress) as advance:
        if workers == 1 or runs < 8:
            for i in ids:
                outs.append(engine.run(i))
                advance(1)
        else:
            import multiprocessing as mp

            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            global _ENGINE
            _ENGINE = engine  # inherited by forked workers: no re-preparation, no pickling of tables
            kwargs: dict[str, Any] = {"mp_context": ctx} if ctx else {"initializer": _init_worker,
                                                                        "initargs": (params, data)}
            with ProcessPoolExecutor(max_workers=workers, **kwargs) as pool:
                for out in pool.map(_run_in_worker, ids, chunksize=max(1, len(ids) // (workers * 8))):
                    outs.append(out)
                    advance(1)
            _ENGINE = None
    return _collect(params, engine, outs)


def _collect(params: Params, engine: Engine, outs: list[dict[str, Any]]) -> Results:
    values = np.stack([o["values"] for o in outs]).astype(np.float64)
    waterfall = np.stack([np.vstack([o["waterfall"][m] for m in WATERFALL_MEASURES]) for o in outs])
    avoided = [(o["model_run"], *k, v) for o in outs for k, v in o["avoided"].items()]
    return Results(
        params=params,
        keys=engine.keys,
        model_runs=np.array([o["model_run"] for o in outs]),
        values=values,
        waterfall=waterfall,
        beds_areas=engine.bed_areas,
        beddays_by_area=np.stack([o["beddays_by_area"] for o in outs]),
        theatre_areas=engine.theatre_areas,
        procedures_by_area=np.stack([o["procedures_by_area"] for o in outs]),
        avoided=pd.DataFrame(avoided, columns=["model_run", "activity", "strategy", "measure", "value"]),
        variants=[o["variant"] for o in outs],
        warnings=list(engine.warnings),
    )


__all__ = ["Results", "run_model", "run_one", "OUT_DIMS", "STEPS"]
