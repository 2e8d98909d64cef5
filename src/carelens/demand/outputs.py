"""Writing a scenario's results as files in OUT (the store's ``demand_*`` tables: :mod:`carelens.demand.store`)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from carelens.demand.runner import Results
from carelens.demand.summary import avoided, capacity, capacity_totals, per_run, summarise, waterfall

BREAKDOWNS = {"site": ["sitetret"], "age_sex": ["age_group", "sex"], "specialty": ["tretspef_grouped"]}


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


def write_outputs(result: Results, out: str | Path, tables: dict[str, pd.DataFrame] | None = None) -> Path:
    """OUT/summary.csv (always), the other summaries as CSV, and per-run results as parquet."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = tables or result_tables(result)
    for name, frame in tables.items():
        if name == "runs":
            frame.to_parquet(out / "runs.parquet", index=False)
        else:
            frame.to_csv(out / f"{name}.csv", index=False)
    meta = {"scenario": result.params.raw.get("scenario"), "seed": result.params.seed,
            "start_year": result.params.start_year, "end_year": result.params.end_year,
            "runs": int((result.model_runs > 0).sum()), "variants": result.variants,
            "capacity_assumptions": result.params.capacity, "warnings": result.warnings}
    (out / "run_info.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return out
