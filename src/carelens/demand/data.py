"""Loading a trust's baseline data: NHP's parquet layout as is, or a simple flat layout.

NHP layout: ``{root}/{table}/fyear={year}/dataset={name}/*.parquet``.
Simple layout: ``{root}/{table}.parquet`` or ``{root}/{table}.csv`` with the same column names (see
docs/demand.md). Only ``ip``, ``op``, ``aae`` and ``demographic_factors`` are required; the other
tables default to empty (the step they feed then changes nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
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
            frame = pd.concat([_read_parquet(f) for f in sorted(sdir.glob("*.parquet"))], ignore_index=True)
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
        header_rows = 0 if sdir is not None or where.endswith(".parquet") else 1  # a CSV's first row is its header
        tables[table] = _normalise(table, frame, where, header_rows=header_rows)
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


def data_from_tables(frames: dict[str, pd.DataFrame], source: str, fyear: int | None = None,
                     dataset: str | None = None) -> TrustData:
    """A trust's data from tables already in memory (a scenario's data kept in the store), checked
    as :func:`load_data` checks files; ``source`` names it in messages (never a server path)."""
    tables: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        frame = frames.get(table)
        if frame is None:
            if table in REQUIRED_TABLES:
                raise TableError(f"required table '{table}' not found", file=source)
            tables[table] = _empty(table)
            continue
        where = f"{source}/{table}"
        require_columns(frame, REQUIRED_COLUMNS[table], file=where, purpose=f"the demand model's '{table}' table")
        tables[table] = _normalise(table, frame, where, header_rows=0)
    return TrustData(tables=tables, root=source, fyear=fyear, dataset=dataset)


def data_fingerprint(data: TrustData) -> str:
    """SHA-256 of every table as carelens reads it (64 hex characters): the same values give the
    same fingerprint whichever folder layout they came in (or read back from the store), and any
    changed value, row or column changes it.

    Why of the tables read rather than of the files: the files' bytes change with a re-export, a
    parquet writer's version or a compression setting while the data a projection ran on does not.
    """
    digest = hashlib.sha256()
    for name in TABLES:
        frame = data.tables.get(name)
        rows = 0 if frame is None else len(frame)
        digest.update(f"{name}:{rows};".encode())
        if not rows:
            continue
        for column in sorted(frame.columns, key=str):
            digest.update(f"{column};".encode())
            digest.update(_column_bytes(frame[column]))
    return digest.hexdigest()


def _column_bytes(values: pd.Series) -> bytes:
    """What a column holds, as bytes to hash. A categorical column gives its categories and codes
    (its categories are sorted by :func:`_normalise`, so equal values give equal bytes) rather
    than a hash per row: a million distinct row ids hash in a tenth of the time."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        import pyarrow as pa

        text = pa.array(np.asarray(values.cat.categories, dtype=object).astype(str), type=pa.large_string())
        offsets, data = text.buffers()[1:]
        return bytes(offsets) + bytes(data) + values.cat.codes.to_numpy().astype(np.int64).tobytes()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        values = values.astype(object)
    return pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes()


def describe_data(data: TrustData) -> str:
    """The data in a planner's words: its NHP dataset name, size and baseline year (no paths)."""
    n = {k: len(data[k]) for k in ("ip", "op", "aae")}
    year = f"; baseline {data.fyear}/{(data.fyear + 1) % 100:02d}" if data.fyear else ""
    name = f"{data.dataset}: " if data.dataset else ""
    return f"{name}{n['ip']:,} inpatient spells, {n['op']:,} outpatient rows, {n['aae']:,} A&E rows{year}"


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file: arrow, OS or thrift errors
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise TableError(f"could not read the parquet file ({reason})", file=str(path)) from None


#: Counts and sizes that cannot be negative (a negative attendance would be drawn as a Poisson rate).
COUNTS = {"age", "rn", "speldur", "attendances", "tele_attendances", "arrivals", "count"}
WHOLE_NUMBERS = COUNTS | {"sex", "imd_quintile"}
#: Shares between 0 and 1 (a strategy's sample rate, a spell's share of bed days in an area).
SHARES = {"sample_rate", "group_pcnt"}
DECIMALS = SHARES | {"activity", "level_up", "level_down", "zero_sum"}
FLAGS = {"is_wla", "is_main_icb", "is_adult", "is_first", "is_gp_ref", "is_cons_cons_ref", "has_procedures",
         "is_frequent_attender", "is_left_before_treatment", "is_low_cost_referred_or_discharged",
         "is_discharged_no_treatment"}


def _refuse(frame: pd.DataFrame, bad: pd.Series, where: str, col: str, what: str, header_rows: int) -> None:
    """One line naming the first offending row (as a spreadsheet numbers it) and its value."""
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        value = frame[col].iloc[pos]
        raise TableError(f"{what}, not {value!r}" + (f" ({int(bad.sum()):,} rows)" if bad.sum() > 1 else ""),
                         file=where, row=pos + 1 + header_rows, field=col)


def _numbers(frame: pd.DataFrame, col: str, where: str, header_rows: int) -> pd.Series:
    """The column as floats; a value that is not a number (text, blank) is refused, never made NaN."""
    original = frame[col]
    values = pd.to_numeric(original, errors="coerce").astype(float)
    _refuse(frame, values.isna() & original.notna(), where, col, "must be a number", header_rows)
    _refuse(frame, original.isna(), where, col, "must be a number", header_rows)
    _refuse(frame, pd.Series(~np.isfinite(values.to_numpy()), index=frame.index), where, col,
            "must be a finite number", header_rows)
    return values


def _normalise(table: str, frame: pd.DataFrame, where: str, header_rows: int = 1) -> pd.DataFrame:
    """Coerce key columns to the types the engine relies on; a value that cannot be used is refused
    with one line naming the file, the row and the column (never coerced to NaN and run)."""
    frame = frame.copy()
    for col in frame.columns:
        if col in WHOLE_NUMBERS:
            values = _numbers(frame, col, where, header_rows)
            _refuse(frame, values != values.round(), where, col, "must be a whole number", header_rows)
            if col in COUNTS:
                _refuse(frame, values < 0, where, col, "cannot be negative", header_rows)
            frame[col] = values.astype("int64")
        elif col in FLAGS:
            if not pd.api.types.is_bool_dtype(frame[col]):
                frame[col] = frame[col].astype(str).str.strip().str.lower().isin(["true", "1", "t", "yes"])
        elif col in DECIMALS:
            values = _numbers(frame, col, where, header_rows)
            if col in SHARES:
                _refuse(frame, (values < 0) | (values > 1), where, col, "must be between 0 and 1", header_rows)
            frame[col] = values
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
