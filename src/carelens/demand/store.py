"""Demand and capacity's part of the store: each projection written to ``demand_*`` tables.

One row in ``demand_scenario_runs`` per projection stored, and its result tables (the same frames
as the CSV files in OUT, see :func:`carelens.demand.outputs.result_tables`) with that ``run_id``,
written in one transaction: a failure leaves no half-written scenario. Tables declared on the
store's one ``MetaData``; created (or adopted from the ``to_sql`` tables of release 0.1.0) by
migration ``0003_demand_results``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from carelens.db.schema import metadata, new_id
from carelens.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover - the engine is heavy; writing results never needs it imported here
    from carelens.demand.runner import Results

_STATS = ("baseline", "principal", "p10", "p50", "p90")
_QUANTILES = ("principal", "p10", "p50", "p90")
RESULT_COLUMNS = {  # result table name -> (text dimensions, double figures), as in OUT's files
    "summary": (("pod", "measure"), _STATS),
    "summary_by_site": (("pod", "measure", "sitetret"), _STATS),
    "summary_by_age_sex": (("pod", "measure", "age_group", "sex"), _STATS),
    "summary_by_specialty": (("pod", "measure", "tretspef_grouped"), _STATS),
    "waterfall": (("activity", "measure", "step"), _QUANTILES),
    "avoided_activity": (("activity", "strategy", "measure"), _QUANTILES),
    "capacity": (("resource", "sitetret", "ward_type", "functional_area"), _STATS),
    "capacity_totals": (("resource", "ward_type"), _STATS),
}

scenario_runs = sa.Table(
    "demand_scenario_runs",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("created", sa.Text),  # ISO 8601 UTC, as release 0.1.0 wrote it
    sa.Column("scenario", sa.Text),
    sa.Column("seed", sa.BigInteger),
    sa.Column("runs", sa.BigInteger),
)


def _result_table(name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(
        f"demand_{name}", metadata, *columns,
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Index(f"ix_demand_{name}_run", "run_id"),
    )


RESULT_TABLES: dict[str, sa.Table] = {
    name: _result_table(name, *[sa.Column(d, sa.Text) for d in dims], *[sa.Column(f, sa.Double) for f in figures])
    for name, (dims, figures) in RESULT_COLUMNS.items()
}
RESULT_TABLES["runs"] = _result_table(
    "runs", sa.Column("model_run", sa.BigInteger), sa.Column("pod", sa.Text), sa.Column("measure", sa.Text),
    sa.Column("value", sa.Double))


def _as_text(frame: pd.DataFrame, table: sa.Table) -> pd.DataFrame:
    """Dimension values as text (a trust's ``sex`` may be coded 1/2), missing values kept missing."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(table.c[column].type, sa.Text):
            values = out[column].astype(object)
            out[column] = values.where(values.isna(), values.astype(str))
    return out


def write_to_store(result: Results, store: str | Path | None, tables: dict[str, pd.DataFrame] | None = None) -> str:
    """Append the projection to the ``demand_*`` tables with a new ``run_id``, in one transaction.

    ``store`` is the store's URL or DuckDB path (None: the settings' store). A failure rolls back
    everything, so a half-written scenario never appears in the store.
    """
    from carelens.db import get_engine, release
    from carelens.db.bulk import insert_frame
    from carelens.demand.outputs import result_tables

    tables = tables or result_tables(result)
    unknown = sorted(set(tables) - set(RESULT_TABLES))
    if unknown:
        raise StoreError(f"no store table for demand results {unknown[0]!r}", field="db")
    run_id = new_id()
    info = pd.DataFrame([{"run_id": run_id, "created": datetime.now(UTC).isoformat(),
                          "scenario": str(result.params.raw.get("scenario", "")),
                          "seed": result.params.seed, "runs": int((result.model_runs > 0).sum())}])
    engine = get_engine(store)
    try:
        with engine.begin() as conn:
            insert_frame(conn, scenario_runs, info)
            for name, frame in tables.items():
                table = RESULT_TABLES[name]
                insert_frame(conn, table, _as_text(frame, table).assign(run_id=run_id))
    except (StoreError, sa.exc.SQLAlchemyError) as exc:  # driver, permissions, a column the table lacks
        reason = exc.message if isinstance(exc, StoreError) else str(exc)
        raise StoreError(f"could not write demand results: {reason.splitlines()[0]}", field="db") from exc
    finally:
        release(engine)  # let the DuckDB file go: it admits one writing process
    return run_id
