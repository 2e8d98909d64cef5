"""Loading a trust's baseline data: NHP's parquet layout as is, or a simple flat layout.

NHP layout: ``{root}/{table}/fyear={year}/dataset={name}/*.parquet``.
Simple layout: ``{root}/{table}.parquet`` or ``{root}/{table}.csv`` with the same column names (see
docs/demand.md). Only ``ip``, ``op``, ``aae`` and ``demographic_factors`` are required; the other
tables default to empty (the step they feed then changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from carelens.errors import TableError
from carelens.tables import read_table, require_columns

if TYPE_CHECKING:
    from carelens.demand.params import Params

REQUIRED_COLUMNS: dict[str, list[str]] = {
    "ip": ["rn", "age", "sex", "speldur", "sitetret", "pod", "group", "tretspef_grouped", "hsagrp",
           "demog_type", "is_wla", "is_main_icb", "age_group"],
    "op": ["age", "sex", "sitetret", "pod", "group", "type", "tretspef_grouped", "hsagrp", "demog_type",
           "attendances", "tele_attendances", "is_main_icb", "is_wla", "age_group"],
    "aae": ["age", "sex", "sitetret", "pod", "group", "hsagrp", "demog_type", "arrivals", "is_main_icb",
            "age_group", "is_adult"],
    "demographic_factors": ["variant", "age", "sex"],
    "birth_factors": ["variant", "age", "sex"],
    "hsa_activity_tables": ["hsagrp", "sex", "age", "activity"],
    "inequalities": ["icb", "sushrg_trimmed", "imd_quintile", "level_up", "level_down", "zero_sum"],
    "ip_activity_avoidance_strategies": ["rn", "strategy", "sample_rate"],
    "ip_efficiencies_strategies": ["rn", "strategy", "sample_rate"],
    "ip_functional_areas_beds": ["rn", "functional_area", "group_pcnt"],
    "ip_functional_areas_procedures": ["rn", "functional_area", "count"],
}
REQUIRED_TABLES = ("ip", "op", "aae", "demographic_factors")
TABLES = tuple(REQUIRED_COLUMNS)


@dataclass
class TrustData:
    """One trust's baseline year: every table as a DataFrame, plus where it came from."""

    tables: dict[str, pd.DataFrame]
    root: str
    fyear: int | None = None
    dataset: str | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def _nhp_dir(root: Path, table: str, dataset: str | None, fyear: int | None) -> Path | None:
    base = root / table
    if not base.is_dir():
        return None
    years = sorted(base.glob("fyear=*")) if fyear is None else [base / f"fyear={fyear}"]
    for ydir in years:
        sets = sorted(ydir.glob("dataset=*")) if dataset is None else [ydir / f"dataset={dataset}"]
        for sdir in sets:
            if sdir.is_dir() and any(sdir.glob("*.parquet")):
                return sdir
    return None


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REQUIRED_COLUMNS[table]})


def load_data(root: str | Path, dataset: str | None = None, fyear: int | None = None) -> TrustData:
    """Read a trust's tables from ``root`` (NHP layout or simple layout); ``TableError`` if unusable."""
    root = Path(root)
    if not root.is_dir():
        raise TableError("data folder not found", file=str(root))
    tables: dict[str, pd.DataFrame] = {}
    found_year: int | None = fyear
    found_set: str | None = dataset
    for table in TABLES:
        sdir = _nhp_dir(root, table, dataset, fyear)
        if sdir is not None:
            frame = pd.concat([pd.read_parquet(f) for f in sorted(sdir.glob("*.parquet"))], ignore_index=True)
            found_year = found_year or int(sdir.parent.name.split("=", 1)[1])
            found_set = found_set or sdir.name.split("=", 1)[1]
            where = str(sdir)
        else:
            flat = [root / f"{table}.parquet", root / f"{table}.csv"]
            path = next((p for p in flat if p.is_file()), None)
            if path is None:
                if table in REQUIRED_TABLES:
                    raise TableError(
                        f"required table '{table}' not found (expected {table}/fyear=*/dataset=*/*.parquet,"
                        f" {table}.parquet or {table}.csv)",
                        file=str(root),
                    )
                tables[table] = _empty(table)
                continue
            frame = read_table(path)
            where = str(path)
        require_columns(frame, REQUIRED_COLUMNS[table], file=where, purpose=f"the demand model's '{table}' table")
        tables[table] = _normalise(table, frame, where)
    try:  # hand back the memory parquet decoding used (pyarrow keeps it pooled otherwise)
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001 - only an optimisation
        pass
    return TrustData(tables=tables, root=str(root), fyear=found_year, dataset=found_set)


def load_data_for(root: str | Path, params: Params, dataset: str | None = None) -> TrustData:
    """A trust's data for a scenario: the params' dataset and baseline year where the folder (NHP
    layout) holds them, else what it holds (the simple layout has neither; an NHP folder of
    another year is still read, and the engine says what does not match)."""
    root = Path(root)
    name = params.raw.get("dataset")
    if dataset is None and name and any(root.glob(f"*/fyear=*/dataset={name}")):
        dataset = str(name)
    fyear = params.start_year if any(root.glob(f"*/fyear={params.start_year}")) else None
    return load_data(root, dataset=dataset, fyear=fyear)


def _normalise(table: str, frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Coerce key columns to the types the engine relies on, naming the column on failure."""
    frame = frame.copy()
    ints = {"age", "sex", "rn", "speldur", "attendances", "tele_attendances", "arrivals", "imd_quintile", "count"}
    for col in frame.columns:
        if col in ints:
            try:
                frame[col] = pd.to_numeric(frame[col], errors="raise").astype("int64")
            except (ValueError, TypeError):
                raise TableError("must be whole numbers", file=where, field=col) from None
        elif col in {"is_wla", "is_main_icb", "is_adult", "is_first", "is_gp_ref", "is_cons_cons_ref",
                     "has_procedures", "is_frequent_attender", "is_left_before_treatment",
                     "is_low_cost_referred_or_discharged", "is_discharged_no_treatment"}:
            if not pd.api.types.is_bool_dtype(frame[col]):
                frame[col] = frame[col].astype(str).str.strip().str.lower().isin(["true", "1", "t", "yes"])
        elif col in {"sample_rate", "group_pcnt", "activity", "level_up", "level_down", "zero_sum"}:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        elif not pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
            # categories: factorising and grouping on them is fast; values become plain str
            col_values = frame[col]
            if not pd.api.types.is_string_dtype(col_values) or col_values.isna().any():
                col_values = col_values.astype(str)
            frame[col] = col_values.astype("category")
    if table in {"demographic_factors", "birth_factors"}:
        frame.columns = [str(c) for c in frame.columns]
        frame["variant"] = frame["variant"].astype(str).astype(object)
    return frame
