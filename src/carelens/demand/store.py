"""Demand and capacity's part of the store: kept scenarios, their results, and the data they ran on.

- ``demand_scenario_runs`` (one row per projection stored, since release 0.1.0) and the result
  tables (``demand_summary`` ... ``demand_runs``: the same frames as the CSV files in OUT, see
  :func:`carelens.demand.outputs.result_tables`), keyed by ``run_id``; migration ``0003``.
- ``demand_scenarios``: what makes a projection a scenario a planner keeps: its unique name,
  params and capacity (JSON), the data's fingerprint and description, the carelens version, who
  ran it, and its projection years; ``demand_run_totals``: every run's activity and capacity
  totals in every projection year (trajectories and distributions); migration ``0005``.
- ``demand_datasets`` and ``demand_dataset_tables``: the trust data a scenario ran on, each table
  as parquet, once per fingerprint, so the dashboard can run a new scenario on a stored
  scenario's data without any server path reaching the browser; migration ``0005``.

Every scenario is written in one transaction: a failure leaves no half-written scenario. Results
are stored with every digit; rounding is for what people read (:mod:`carelens.demand.labels`).
Runs stored by release 0.1.0 (before scenarios were kept) are listed with a name made from
their scenario and run id; their results stay readable in the tables, but they
cannot be opened as a :class:`~carelens.demand.scenario.Scenario` (their params were not kept).
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from carelens.db.schema import metadata, new_id
from carelens.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover - the engine is heavy; writing results never needs it imported here
    from carelens.demand.data import TrustData
    from carelens.demand.runner import Results
    from carelens.demand.scenario import Scenario

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

scenarios = sa.Table(
    "demand_scenarios",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_by", sa.Text),
    sa.Column("carelens_version", sa.Text),
    sa.Column("params", sa.Text, nullable=False),  # the scenario's NHP params, JSON
    sa.Column("capacity", sa.Text, nullable=False),  # the capacity assumptions in force, JSON
    sa.Column("data_fingerprint", sa.String(64)),
    sa.Column("data_label", sa.Text),
    sa.Column("start_year", sa.BigInteger),
    sa.Column("end_year", sa.BigInteger),
    sa.Column("years", sa.Text),  # JSON list: the baseline year and the projection years
    sa.Column("warnings", sa.Text),  # JSON list
    sa.Index("ux_demand_scenarios_name", "name", unique=True),
)

datasets = sa.Table(
    "demand_datasets",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("label", sa.Text),
    sa.Column("fyear", sa.BigInteger),
    sa.Column("dataset", sa.Text),
    sa.Column("created", sa.Text),
    sa.Column("created_by", sa.Text),
)

dataset_tables = sa.Table(
    "demand_dataset_tables",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("table_name", sa.String(64), primary_key=True),
    sa.Column("content", sa.LargeBinary, nullable=False),  # the table as parquet
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
RESULT_TABLES["run_totals"] = _result_table(
    "run_totals", sa.Column("year", sa.BigInteger), sa.Column("activity", sa.Text), sa.Column("measure", sa.Text),
    sa.Column("model_run", sa.BigInteger), sa.Column("value", sa.Double))


def _as_text(frame: pd.DataFrame, table: sa.Table) -> pd.DataFrame:
    """Dimension values as text (a trust's ``sex`` may be coded 1/2), missing values kept missing."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(table.c[column].type, sa.Text):
            values = out[column].astype(object)
            out[column] = values.where(values.isna(), values.astype(str))
    return out


def _engine(store: str | Path | None) -> sa.Engine:
    from carelens.db import get_engine

    return get_engine(store)


def _release(engine: sa.Engine) -> None:
    from carelens.db import release

    release(engine)  # let the DuckDB file go: it admits one writing process


def _write_failed(exc: Exception) -> StoreError:
    reason = exc.message if isinstance(exc, StoreError) else str(exc)
    return StoreError(f"could not write demand results: {reason.splitlines()[0]}", field="db")


def save_scenario(scenario: Scenario, store: str | Path | None, data: TrustData | None = None, *,
                  replace: bool = False) -> str:
    """Keep ``scenario`` (and, when given, the ``data`` it ran on, once per fingerprint) in the
    store, in one transaction; return its new ``run_id``.

    A scenario of the same name is refused (``StoreError`` naming it) unless ``replace``, which
    removes the old one in the same transaction. ``store``: a URL or DuckDB path (None: the
    settings' store).
    """
    from carelens.db.bulk import insert_frame

    unknown = sorted(set(scenario.tables) - set(RESULT_TABLES))
    if unknown:
        raise StoreError(f"no store table for demand results {unknown[0]!r}", field="db")
    run_id = new_id()
    engine = _engine(store)
    try:
        with engine.begin() as conn:
            old = conn.execute(sa.select(scenarios.c.run_id, scenarios.c.created_by)
                               .where(scenarios.c.name == scenario.name)).first()
            if old is not None:
                if not replace:
                    raise StoreError(f"a scenario named {scenario.name!r} is already stored (run by "
                                     f"{old.created_by}); choose another name, or replace it", field="name")
                _delete(conn, old.run_id)
            if data is not None:
                _keep_data(conn, scenario, data)
            insert_frame(conn, scenario_runs, pd.DataFrame([{
                "run_id": run_id, "created": scenario.created, "scenario": str(scenario.params.raw.get("scenario", "")),
                "seed": scenario.seed, "runs": scenario.runs}]))
            insert_frame(conn, scenarios, pd.DataFrame([{
                "run_id": run_id, "name": scenario.name, "created_by": scenario.created_by,
                "carelens_version": scenario.carelens_version, "params": json.dumps(scenario.params.raw),
                "capacity": json.dumps(scenario.params.capacity), "data_fingerprint": scenario.data_fingerprint,
                "data_label": scenario.data_label, "start_year": scenario.start_year, "end_year": scenario.end_year,
                "years": json.dumps(scenario.years), "warnings": json.dumps(scenario.warnings)}]))
            for name, frame in scenario.tables.items():
                table = RESULT_TABLES[name]
                insert_frame(conn, table, _as_text(frame, table).assign(run_id=run_id))
    except StoreError as exc:
        if exc.field == "name":
            raise
        raise _write_failed(exc) from exc
    except sa.exc.SQLAlchemyError as exc:  # driver, permissions, a column the table lacks
        raise _write_failed(exc) from exc
    finally:
        _release(engine)
    scenario.run_id = run_id
    return run_id


def check_name_free(store: str | Path | None, name: str) -> None:
    """Refuse a name a stored scenario already has (before minutes of work, not after)."""
    with _engine(store).connect() as conn:
        old = conn.execute(sa.select(scenarios.c.created_by).where(scenarios.c.name == name)).first()
    if old is not None:
        raise StoreError(f"a scenario named {name!r} is already stored (run by {old.created_by}); choose another "
                         "name, or replace it", field="name")


def _delete(conn: sa.Connection, run_id: str) -> None:
    from carelens.db.bulk import execute_write

    for table in [*RESULT_TABLES.values(), scenarios, scenario_runs]:
        execute_write(conn, table.delete().where(table.c.run_id == run_id))


def delete_scenario(store: str | Path | None, name: str) -> None:
    """Remove a kept scenario and its results (its data stays: other scenarios may use it)."""
    engine = _engine(store)
    try:
        with engine.begin() as conn:
            _delete(conn, _run_id_of(conn, name))
    finally:
        _release(engine)


def _keep_data(conn: sa.Connection, scenario: Scenario, data: TrustData) -> None:
    from carelens.db.bulk import insert_frame

    exists = conn.execute(sa.select(datasets.c.fingerprint)
                          .where(datasets.c.fingerprint == scenario.data_fingerprint)).first()
    if exists is not None:
        return
    insert_frame(conn, datasets, pd.DataFrame([{
        "fingerprint": scenario.data_fingerprint, "label": scenario.data_label, "fyear": data.fyear,
        "dataset": data.dataset, "created": scenario.created, "created_by": scenario.created_by}]))
    parts = []
    for name, frame in data.tables.items():
        if len(frame):
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            parts.append({"fingerprint": scenario.data_fingerprint, "table_name": name, "content": buffer.getvalue()})
    insert_frame(conn, dataset_tables, pd.DataFrame(parts))


def write_to_store(result: Results, store: str | Path | None, tables: dict[str, pd.DataFrame] | None = None,
                   name: str | None = None) -> str:
    """Keep one projection (as release 0.1.0's ``--db`` did) as a scenario named ``name`` (default:
    its params' scenario and the time), without its data; return its ``run_id``."""
    from carelens.demand.outputs import result_tables
    from carelens.demand.scenario import Scenario, who_runs

    tables = tables or result_tables(result)
    runs = int((result.model_runs > 0).sum())
    scenario = Scenario(name="", params=result.params, data_fingerprint="", data_label="", runs=runs,
                        years=[result.params.start_year, result.params.end_year], tables=tables,
                        created_by=who_runs(), warnings=list(result.warnings))
    scenario.name = name or default_name(store, scenario)
    return save_scenario(scenario, store)


def default_name(store: str | Path | None, scenario: Scenario) -> str:
    """A name no stored scenario has: the params' scenario and the time it was run."""
    base = f"{scenario.params.raw.get('scenario') or 'scenario'} {scenario.created[:16].replace('T', ' ')}"
    taken = set(list_scenarios(store)["name"])
    name, n = base, 2
    while name in taken:
        name, n = f"{base} ({n})", n + 1
    return name


# --------------------------------------------------------------------------- reading
SCENARIO_LIST_COLUMNS = ["name", "created", "created_by", "runs", "start_year", "end_year", "data_label",
                         "data_fingerprint", "carelens_version", "run_id", "has_data", "can_open"]


def list_scenarios(store: str | Path | None) -> pd.DataFrame:
    """Every stored projection, newest first: name, created, created_by, runs, start and end year,
    data_label, data_fingerprint, carelens_version, run_id, has_data (its data is in the store,
    so a new scenario can run on it), can_open (its params were kept)."""
    from carelens.db.bulk import read_frame

    engine = _engine(store)
    stmt = (sa.select(scenario_runs.c.run_id, scenario_runs.c.created, scenario_runs.c.scenario,
                      scenario_runs.c.runs, scenarios.c.name, scenarios.c.created_by, scenarios.c.start_year,
                      scenarios.c.end_year, scenarios.c.data_label, scenarios.c.data_fingerprint,
                      scenarios.c.carelens_version, datasets.c.fingerprint.label("stored_data"))
            .select_from(scenario_runs.outerjoin(scenarios, scenarios.c.run_id == scenario_runs.c.run_id)
                         .outerjoin(datasets, datasets.c.fingerprint == scenarios.c.data_fingerprint)))
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
    if frame.empty:
        return pd.DataFrame(columns=SCENARIO_LIST_COLUMNS)
    legacy = frame["name"].isna()
    frame["can_open"] = ~legacy
    frame.loc[legacy, "name"] = (frame.loc[legacy, "scenario"].fillna("").replace("", "scenario") + " (run "
                                 + frame.loc[legacy, "run_id"].str[:8] + ")")
    frame["has_data"] = frame["stored_data"].notna()
    frame = frame.sort_values(["created", "name"], ascending=[False, True]).reset_index(drop=True)
    return frame[SCENARIO_LIST_COLUMNS]


def _run_id_of(conn: sa.Connection, name: str) -> str:
    found = conn.execute(sa.select(scenarios.c.run_id).where(scenarios.c.name == name)).first()
    if found is not None:
        return found.run_id
    legacy = conn.execute(sa.select(scenario_runs.c.run_id)).scalars().all()
    for run_id in legacy:  # a run stored without a name, named by its run id (list_scenarios)
        if name.endswith(f"(run {run_id[:8]})"):
            return run_id
    known = conn.execute(sa.select(scenarios.c.name).order_by(scenarios.c.name)).scalars().all()
    hint = f"; stored: {', '.join(repr(k) for k in known[:8])}{' ...' if len(known) > 8 else ''}" if known else \
        "; none is stored yet (carelens demand run ... --name NAME)"
    raise StoreError(f"no scenario named {name!r}{hint}", field="name")


def load_scenario(store: str | Path | None, name: str) -> Scenario:
    """The stored scenario called ``name``, with every result table (``StoreError`` naming it)."""
    from carelens.db.bulk import read_frame
    from carelens.demand.params import params_from_dict
    from carelens.demand.scenario import Scenario

    engine = _engine(store)
    with engine.connect() as conn:
        run_id = _run_id_of(conn, name)
        meta = conn.execute(sa.select(scenarios, scenario_runs.c.created, scenario_runs.c.runs)
                            .join(scenario_runs, scenario_runs.c.run_id == scenarios.c.run_id)
                            .where(scenarios.c.run_id == run_id)).first()
        if meta is None:
            raise StoreError(f"scenario {name!r} was stored without its params (before carelens kept scenarios); "
                             "its results are in the demand_* tables, but it cannot be opened: run it again with "
                             "--name", field="name")
        tables = {}
        for table_name, table in RESULT_TABLES.items():
            frame = read_frame(conn, sa.select(table).where(table.c.run_id == run_id))
            tables[table_name] = frame.drop(columns="run_id")
    params = params_from_dict(json.loads(meta.params), source=f"scenario {meta.name!r}",
                              capacity=json.loads(meta.capacity))
    return Scenario(name=meta.name, params=params, data_fingerprint=meta.data_fingerprint or "",
                    data_label=meta.data_label or "", runs=int(meta.runs), years=json.loads(meta.years or "[]"),
                    tables=_typed(tables), created_by=meta.created_by or "", created=meta.created or "",
                    carelens_version=meta.carelens_version or "", warnings=json.loads(meta.warnings or "[]"),
                    run_id=run_id)


def _typed(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Read-back frames with the types the summaries make (integers as int64, text as str)."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in ("model_run", "year"):
            if column in frame.columns:
                frame[column] = frame[column].astype("int64")
        out[name] = frame.reset_index(drop=True)
    return out


def stored_datasets(store: str | Path | None) -> pd.DataFrame:
    """The trust data kept in the store: fingerprint, label, fyear, dataset, created, created_by,
    and the newest scenario run on it (``scenario``), newest first."""
    from carelens.db.bulk import read_frame

    engine = _engine(store)
    with engine.connect() as conn:
        data = read_frame(conn, sa.select(datasets))
        used = read_frame(conn, sa.select(scenarios.c.data_fingerprint, scenarios.c.name, scenario_runs.c.created)
                          .join(scenario_runs, scenario_runs.c.run_id == scenarios.c.run_id))
    if data.empty:
        return pd.DataFrame(columns=["fingerprint", "label", "fyear", "dataset", "created", "created_by", "scenario"])
    newest = used.sort_values("created").groupby("data_fingerprint")["name"].last()
    data["scenario"] = data["fingerprint"].map(newest)
    return data.sort_values("created", ascending=False).reset_index(drop=True)


_data_cache: dict[tuple[str, str], TrustData] = {}
_data_lock = threading.Lock()


def load_stored_data(store: str | Path | None, fingerprint: str) -> TrustData:
    """The trust data kept under ``fingerprint`` (the last two read are kept in memory: a planner
    runs several scenarios on the same data one after another)."""
    from carelens.db import database_url
    from carelens.demand.data import data_from_tables

    key = (database_url(store), fingerprint)
    with _data_lock:
        if key in _data_cache:
            return _data_cache[key]
    engine = _engine(store)
    with engine.connect() as conn:
        meta = conn.execute(sa.select(datasets).where(datasets.c.fingerprint == fingerprint)).first()
        if meta is None:
            raise StoreError("no trust data with this fingerprint is stored", field="data")
        rows = conn.execute(sa.select(dataset_tables.c.table_name, dataset_tables.c.content)
                            .where(dataset_tables.c.fingerprint == fingerprint)).all()
    frames = {row.table_name: pd.read_parquet(io.BytesIO(row.content)) for row in rows}
    data = data_from_tables(frames, f"stored data {meta.label!r}", fyear=meta.fyear, dataset=meta.dataset)
    with _data_lock:
        while len(_data_cache) >= 2:
            _data_cache.pop(next(iter(_data_cache)))
        _data_cache[key] = data
    return data
