"""A scenario a planner keeps: its name, its params, the data it ran on, who ran it and when, with
which carelens, and every result table, year by year from the baseline to the horizon.

Why a scenario is a thing and not a folder of CSV files: planners compare "what if occupancy were
90%" with "what if it stayed at 85%" months later, in front of a board that asks what each one
assumed and which data it used. A :class:`Scenario` carries that with its results; the store
keeps it (:mod:`carelens.demand.store`), the workbook and report print it
(:mod:`carelens.demand.workbook`, :mod:`carelens.demand.report`), and two or more are compared by
:mod:`carelens.demand.compare`.

Each projection year is its own projection to that year with the scenario's assumptions in full
(as :func:`carelens.demand.runner.project_years`); the horizon year's results are exactly those of
``run_model`` on the same params, so the CSV files do not depend on how many years are asked for.
"""

from __future__ import annotations

import warnings as pywarnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.data import TrustData, data_fingerprint, describe_data
from carelens.demand.params import MAX_RUNS, Params
from carelens.errors import ParamsError

#: The name `carelens demo` keeps its projection under; the dashboard's Demand page opens it first.
DEMO_SCENARIO = "Demo projection"
#: What one progress step is: one Monte Carlo run of one projection year (run 0, the baseline, is not counted).
ProgressCallback = Callable[[int, int], None]


def fan_years(start: int, end: int, points: int) -> list[int]:
    """The start year plus ``points`` projection years spread up to ``end`` (always including it)."""
    points = max(1, int(points))
    step = (end - start) / points
    years = {start, end} | {int(round(start + step * i)) for i in range(1, points)}
    return sorted(y for y in years if start <= y <= end)


def who_runs() -> str:
    """The person running a command: the operating system's user name (the dashboard passes its own)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


@dataclass
class Scenario:
    """One kept projection. ``tables`` are the result tables by name (those of
    :func:`carelens.demand.outputs.result_tables` plus ``run_totals``: year, activity, measure,
    model_run, value, for activity and capacity totals in every year)."""

    name: str
    params: Params
    data_fingerprint: str
    data_label: str
    runs: int
    years: list[int]
    tables: dict[str, pd.DataFrame]
    created_by: str = "unknown"
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    carelens_version: str = field(default_factory=lambda: _version())
    warnings: list[str] = field(default_factory=list)
    run_id: str = ""
    variants: list[str] = field(default_factory=list)  # each run's population projection (not stored)
    _trajectories: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def seed(self) -> int:
        return self.params.seed

    @property
    def start_year(self) -> int:
        return self.params.start_year

    @property
    def end_year(self) -> int:
        return self.params.end_year

    def trajectories(self) -> pd.DataFrame:
        """Year by year: activity, measure, year, baseline, principal, p10, p50, p90 (computed once)."""
        from carelens.demand.summary import trajectories

        if self._trajectories is None:
            self._trajectories = trajectories(self.tables["run_totals"])
        return self._trajectories

    def run_values(self, activity: str, measure: str, year: int | None = None) -> np.ndarray:
        """Every run's total of ``activity``/``measure`` in ``year`` (default: the horizon), for
        distribution views (S-curve, beeswarm); run 0, the baseline, left out."""
        totals = self.tables["run_totals"]
        year = self.end_year if year is None else int(year)
        sel = totals[(totals.activity == activity) & (totals.measure == measure) & (totals.year == year)
                     & (totals.model_run > 0)]
        return np.sort(sel["value"].to_numpy(dtype=float))

    def metadata(self) -> dict[str, Any]:
        """What the scenario is, in words and figures (the workbook's cover sheet, the report's header)."""
        return {"Scenario": self.name, "Baseline year": self.start_year, "Horizon year": self.end_year,
                "Projection years": ", ".join(str(y) for y in self.years if y > self.start_year),
                "Monte Carlo runs": self.runs, "Seed": self.seed, "Data": self.data_label,
                "Data fingerprint (SHA-256)": self.data_fingerprint, "carelens version": self.carelens_version,
                "Run by": self.created_by, "Run at (UTC)": self.created}


def _version() -> str:
    from carelens import __version__

    return __version__


def run_scenario(params: Params, data: TrustData, *, name: str, runs: int | None = None, workers: int = 1,
                 seed: int | None = None, points: int = 1, created_by: str | None = None,
                 data_label: str | None = None, progress: bool = False,
                 on_progress: ProgressCallback | None = None) -> Scenario:
    """Project ``params`` on ``data`` to the horizon and to ``points - 1`` years between (see
    :func:`fan_years`), keeping every result table, and return the :class:`Scenario`.

    ``on_progress(done, total)`` counts Monte Carlo runs (``runs`` per projection year); with
    ``progress`` a bar on stderr shows the same count (only on a terminal). Warnings about the
    params (a strategy with no rows in the data) are raised once, as ``warnings.warn``, and kept.
    """
    from carelens.demand.engine import Engine
    from carelens.demand.outputs import result_tables
    from carelens.demand.runner import activity_totals, run_model
    from carelens.demand.summary import capacity_run_totals
    from carelens.progress import progress_task

    name = check_name(name)
    if seed is not None:
        if not 0 <= int(seed) < 2**63:
            raise ParamsError("must be a whole number from 0", file=params.source, field="seed")
        params = Params(raw=dict(params.raw, seed=int(seed)), capacity=params.capacity, source=params.source)
    runs = params.model_runs if runs is None else int(runs)
    if not 0 <= runs <= MAX_RUNS:
        raise ParamsError(f"must be between 0 and {MAX_RUNS:,}", file=params.source, field="runs")
    years = fan_years(params.start_year, params.end_year, points)
    projected = [y for y in years if y > params.start_year] or [params.end_year]
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        engine = Engine(params, data)
    found = list(dict.fromkeys([*engine.warnings, *(str(w.message) for w in caught)]))
    for message in found:
        pywarnings.warn(message, stacklevel=2)
    total = runs * len(projected)
    done_before = 0
    totals: list[pd.DataFrame] = []
    result = None
    with progress_task("demand model runs", total=total, disable=not progress) as bar:
        def tick(done: int, _total: int) -> None:  # run_model counts run 0 (the baseline) too: it comes first
            if done > 1:
                bar(1)
            if on_progress is not None:
                on_progress(done_before + max(done - 1, 0), total)

        for year in projected:
            projection = engine.for_year(year)
            with pywarnings.catch_warnings():
                pywarnings.simplefilter("ignore")  # raised once above
                result = run_model(projection.params, data, runs=runs, workers=workers, progress=False,
                                   engine=projection, on_progress=tick)
            totals += [activity_totals(result).assign(year=year), capacity_run_totals(result).assign(year=year)]
            done_before += runs
    assert result is not None
    baseline = pd.concat(totals[-2:], ignore_index=True)
    baseline = baseline[baseline.model_run == 0].assign(year=params.start_year)
    run_totals = pd.concat([baseline, *totals], ignore_index=True)[["year", "activity", "measure", "model_run",
                                                                     "value"]]
    tables = result_tables(result)
    tables["run_totals"] = run_totals
    kept_years = [params.start_year, *projected] if params.end_year > params.start_year else [params.start_year]
    return Scenario(name=name, params=params, data_fingerprint=data_fingerprint(data),
                    data_label=data_label or describe_data(data), runs=runs, years=kept_years,
                    tables=tables, created_by=created_by or who_runs(), warnings=found, variants=result.variants)


#: The longest scenario name: a heading on a page and a sheet title in a workbook, not a paragraph.
MAX_NAME = 120


def check_name(name: str) -> str:
    """A scenario's name, trimmed; empty, over-long or multi-line names are refused (one line)."""
    text = " ".join(str(name or "").split())
    if not text:
        raise ParamsError("give the scenario a name", field="name")
    if len(text) > MAX_NAME:
        raise ParamsError(f"a scenario name has at most {MAX_NAME} characters ({len(text)} given)", field="name")
    return text
