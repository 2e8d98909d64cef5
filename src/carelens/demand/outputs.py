"""Writing a scenario's results: files in OUT, and optionally the store (one transaction)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from carelens.demand.runner import Results
from carelens.demand.summary import avoided, capacity, capacity_totals, per_run, summarise, waterfall
from carelens.errors import StoreError

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


def write_to_store(result: Results, url: str, tables: dict[str, pd.DataFrame] | None = None) -> str:
    """Append every table to ``demand_<name>`` tables with a ``run_id`` column, in one transaction.

    A failure rolls back everything, so a half-written scenario never appears in the store.
    """
    from carelens.db import database_url, open_engine

    tables = tables or result_tables(result)
    run_id = uuid.uuid4().hex
    created = datetime.now(timezone.utc).isoformat()
    engine = None
    try:
        engine = open_engine(database_url(url))
        with engine.begin() as conn:
            info = pd.DataFrame([{"run_id": run_id, "created": created,
                                  "scenario": str(result.params.raw.get("scenario", "")),
                                  "seed": result.params.seed, "runs": int((result.model_runs > 0).sum())}])
            info.to_sql("demand_scenario_runs", conn, if_exists="append", index=False)
            for name, frame in tables.items():
                frame.assign(run_id=run_id).to_sql(f"demand_{name}", conn, if_exists="append", index=False,
                                                   chunksize=10_000)
    except StoreError:
        raise
    except Exception as exc:  # driver, permissions, schema clash: one line for the user
        raise StoreError(f"could not write demand results: {str(exc).splitlines()[0]}", field="db") from exc
    finally:
        if engine is not None:
            engine.dispose()  # release the file: DuckDB admits one writer process
    return run_id
