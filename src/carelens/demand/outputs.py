"""Writing a scenario's results as files in OUT (the store's ``demand_*`` tables: :mod:`carelens.demand.store`).

The CSV files keep NHP's codes and column names (for anyone joining them to NHP's outputs), with
figures rounded to what they mean (:func:`carelens.demand.labels.rounded`: counts whole, beds,
theatres and clinic rooms to one decimal); ``runs.parquet`` and ``run_totals.parquet`` keep every
digit of every run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from carelens.demand.labels import rounded
from carelens.demand.runner import Results
from carelens.demand.summary import avoided, capacity, capacity_totals, per_run, summarise, waterfall
from carelens.errors import TableError

if TYPE_CHECKING:  # pragma: no cover
    from carelens.demand.scenario import Scenario

BREAKDOWNS = {"site": ["sitetret"], "age_sex": ["age_group", "sex"], "specialty": ["tretspef_grouped"]}
PER_RUN = ("runs", "run_totals")  # every run, every digit: parquet


def result_tables(result: Results) -> dict[str, pd.DataFrame]:
    """Every output table by name (the file stem in OUT and the suffix of the database table)."""
    tables = {"summary": summarise(result)}
    for name, dims in BREAKDOWNS.items():
        tables[f"summary_by_{name}"] = summarise(result, by=dims)
    tables["waterfall"] = waterfall(result)
    tables["avoided_activity"] = avoided(result)
    tables["capacity"] = capacity(result)
    tables["capacity_totals"] = capacity_totals(result)
    tables["runs"] = per_run(result)
    return tables


def output_folder(out: str | Path) -> Path:
    """``out`` made ready as a folder (parents created); one line when it cannot be one."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TableError("is a file, not a folder: give a folder for the results", file=str(out), field="output")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TableError(f"cannot make the output folder: {exc.strerror or exc}", file=str(out),
                         field="output") from None
    return out


def write_outputs(scenario: Scenario, out: str | Path) -> Path:
    """OUT/summary.csv (always), the other summaries and the year-by-year trajectories as CSV,
    per-run results as parquet, and ``run_info.json`` (seed, runs, variants, capacity, warnings)."""
    out = output_folder(out)
    tables = scenario.tables
    try:
        for name, frame in tables.items():
            if name in PER_RUN:
                frame.to_parquet(out / f"{name}.parquet", index=False)
            else:
                rounded(frame).to_csv(out / f"{name}.csv", index=False)
        if "run_totals" in tables:
            rounded(scenario.trajectories()).to_csv(out / "trajectories.csv", index=False)
        params = scenario.params
        meta = {"name": scenario.name, "scenario": params.raw.get("scenario"), "seed": params.seed,
                "start_year": params.start_year, "end_year": params.end_year, "years": scenario.years,
                "runs": scenario.runs, "variants": scenario.variants, "capacity_assumptions": params.capacity,
                "data_fingerprint": scenario.data_fingerprint, "carelens_version": scenario.carelens_version,
                "warnings": scenario.warnings}
        (out / "run_info.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    except OSError as exc:  # disk full, a file open in Excel on Windows, permissions
        where = getattr(exc, "filename", None) or out
        raise TableError(f"could not write the results: {exc.strerror or exc}", file=str(where),
                         field="output") from None
    return out
