"""Running many Monte Carlo runs in a process pool and collecting them into :class:`Results`.

Memory stays bounded: each worker returns a small dense array per run (output keys x measures),
never row-level data, and the engine is built once per worker process (fork shares the tables).
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.data import TrustData
from carelens.demand.engine import Engine
from carelens.demand.keys import MEASURES, OUT_DIMS, STEPS, WATERFALL_MEASURES
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
              progress: bool = True, engine: Engine | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> Results:
    """Run 0 (baseline) and runs 1..``runs``; ``seed`` overrides the params seed.

    ``on_progress(done, total)`` is called after each run (e.g. by the dashboard's progress bar).
    """
    from carelens.progress import progress_task

    if seed is not None:
        raw = dict(params.raw, seed=int(seed))
        params = Params(raw=raw, capacity=params.capacity, source=params.source)
    runs = params.model_runs if runs is None else int(runs)
    if engine is None or engine.params.raw != params.raw or engine.data is not data:
        engine = Engine(params, data)
    for message in engine.warnings:
        warnings.warn(message, stacklevel=2)
    ids = list(range(runs + 1))
    outs: list[dict[str, Any]] = []
    workers = max(1, min(int(workers), os.cpu_count() or 1, len(ids)))
    # the bar counts the Monte Carlo runs asked for (64 runs: 64 steps), not run 0, the baseline
    with progress_task("demand model runs", total=runs, disable=not progress) as bar:
        def advance(out: dict[str, Any]) -> None:
            outs.append(out)
            if out["model_run"] > 0:
                bar(1)
            if on_progress is not None:
                on_progress(len(outs), len(ids))

        if workers == 1 or runs < 8:
            for i in ids:
                advance(engine.run(i))
        else:
            import multiprocessing as mp

            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            global _ENGINE
            _ENGINE = engine  # inherited by forked workers: no re-preparation, no pickling of tables
            kwargs: dict[str, Any] = {"mp_context": ctx} if ctx else {"initializer": _init_worker,
                                                                        "initargs": (params, data)}
            with ProcessPoolExecutor(max_workers=workers, **kwargs) as pool:
                for out in pool.map(_run_in_worker, ids, chunksize=max(1, len(ids) // (workers * 8))):
                    advance(out)
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


def project_years(params: Params, data: TrustData, years: Sequence[int], runs: int = 64, workers: int = 1,
                  engine: Engine | None = None, on_progress: Callable[[int, int], None] | None = None
                  ) -> tuple[Results, pd.DataFrame]:
    """Projections to several horizon years with the same assumptions and per-run seeds.

    Returns the full :class:`Results` for the last (largest) year and a long frame of per-run
    totals (year, activity, measure, model_run, value) for every year, for fan charts. Each year
    is its own projection to that year (as if ``end_year`` were set to it), so the activity
    avoidance and efficiencies of the scenario are in full effect in every year; the start year
    is the baseline itself.
    """
    years = sorted({int(y) for y in years})
    engine = engine if engine is not None else Engine(params, data)
    total = len(years) * (runs + 1)
    done = [0]

    def tick(n: int, _total: int) -> None:
        if on_progress is not None:
            on_progress(done[0] + n, total)

    frames, last = [], None
    for year in years:
        if year <= engine.start:  # the baseline year: the data as is
            base = run_model(engine.params, data, runs=0, workers=1, progress=False, engine=engine)
            frames.append(activity_totals(base).assign(year=year))
            done[0] += runs + 1
            tick(0, total)
            last = last or base
            continue
        eng = engine.for_year(year)
        result = run_model(eng.params, data, runs=runs, workers=workers, progress=False, engine=eng,
                           on_progress=tick)
        done[0] += runs + 1
        frames.append(activity_totals(result).assign(year=year))
        last = result
    assert last is not None
    return last, pd.concat(frames, ignore_index=True)


ACTIVITY_MEASURES = {("ip", "admissions"): ("ip_", "admissions"), ("ip", "beddays"): ("ip_", "beddays"),
                     ("op", "attendances"): ("op_", ("attendances", "tele_attendances")),
                     ("aae", "arrivals"): ("aae_", ("ambulance", "walk-in"))}


def activity_totals(result: Results) -> pd.DataFrame:
    """Per run totals: ip admissions and bed days, op attendances (incl. tele), A&E arrivals."""
    pods = result.keys["pod"].astype(str)
    rows = []
    for (activity, measure), (prefix, cols) in ACTIVITY_MEASURES.items():
        sel = pods.str.startswith(prefix).to_numpy()
        idx = [MEASURES.index(c) for c in ([cols] if isinstance(cols, str) else cols)]
        value = result.values[:, sel][:, :, idx].sum(axis=(1, 2))
        rows.append(pd.DataFrame({"activity": activity, "measure": measure, "model_run": result.model_runs,
                                  "value": value}))
    return pd.concat(rows, ignore_index=True)


__all__ = ["Results", "activity_totals", "project_years", "run_model", "run_one", "OUT_DIMS", "STEPS"]
