"""Read and write the tables users hand us: CSV (any common encoding), XLSX and parquet.

Trust exports come from many systems: Excel's cp1252 CSVs, UTF-8 with a BOM, blank trailing rows.
Reading must never guess silently in a way that drops rows, so every failure becomes a
:class:`~carelens.errors.TableError` naming the file (and the row or column where we know it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from carelens.errors import TableError

READABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
WRITABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")
# Tried in order; latin-1 accepts any byte so it is the last resort that never fails.
CSV_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
EXCEL_MAX_ROWS = 1_048_575


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        return raw.decode("utf-16")
    for encoding in CSV_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("could not decode the file as UTF-8, cp1252 or latin-1", file=str(path))


def _sniff_delimiter(text: str, default: str) -> str:
    sample = text[:20_000]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    dtype_str: bool = False,
) -> pd.DataFrame:
    """Read a CSV/XLSX/parquet file into a DataFrame, keeping every row and column.

    ``dtype_str=True`` reads every column as text (IDs such as "007" keep their zeros); blank
    cells stay missing either way. Fully blank rows are kept: dropping them would change row
    numbering that users see in error messages and outputs.
    """
    path = Path(path)
    if not path.exists():
        raise TableError("file not found", file=str(path))
    if path.is_dir():
        raise TableError("expected a file but found a folder", file=str(path))
    suffix = _suffix(path)
    if suffix not in READABLE_SUFFIXES:
        raise TableError(
            f"unsupported file type '{suffix or '(none)'}'; use one of "
            + ", ".join(READABLE_SUFFIXES),
            file=str(path),
        )
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            if dtype_str:
                frame = frame.astype("string")
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(
                path,
                sheet_name=0 if sheet is None else sheet,
                dtype=str if dtype_str else None,
                engine="openpyxl",
            )
        else:
            raw = path.read_bytes()
            if not raw.strip():
                raise TableError("the file is empty (no header row)", file=str(path))
            text = _decode(raw, path)
            delimiter = _sniff_delimiter(text, "\t" if suffix == ".tsv" else ",")
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str if dtype_str else None,
                # As text, only an empty cell is missing: a comment reading "NA" or "None" is data.
                keep_default_na=not dtype_str,
                na_values=[""],
                skip_blank_lines=False,
                engine="python" if len(text) < 2_000 else "c",
            )
    except TableError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise TableError("the file is empty (no header row)", file=str(path)) from exc
    except pd.errors.ParserError as exc:
        raise TableError(f"could not parse the file: {exc}".splitlines()[0], file=str(path)) from exc
    except ValueError as exc:  # e.g. missing sheet
        raise TableError(str(exc).splitlines()[0], file=str(path)) from exc
    except Exception as exc:  # corrupt xlsx/parquet: zip, arrow or openpyxl errors
        raise TableError(
            f"could not read the file ({type(exc).__name__}: {exc})".splitlines()[0],
            file=str(path),
        ) from exc
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    # CSV exports often end with rows that are entirely empty; they carry no data but we keep
    # interior blank rows so row numbers match the file. Only trailing all-blank rows are dropped.
    if len(frame) and suffix not in (".parquet", ".pq"):
        non_blank = frame.notna().any(axis=1).to_numpy()
        if not non_blank.all():
            last = non_blank.nonzero()[0]
            frame = frame.iloc[: (last[-1] + 1) if len(last) else 0]
    return frame


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], *, file: str | None = None, purpose: str = ""
) -> None:
    """Fail with one line listing the columns that do exist when any required one is missing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        available = ", ".join(repr(c) for c in frame.columns) or "(none)"
        what = f" for {purpose}" if purpose else ""
        raise TableError(
            f"missing column{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(c) for c in missing)
            + f"{what}; the file has: {available}",
            file=file,
            field=missing[0],
        )


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame by extension (CSV as UTF-8 with BOM so Excel opens it correctly)."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in WRITABLE_SUFFIXES:
        raise TableError(
            f"cannot write '{suffix or '(none)'}'; use one of " + ", ".join(WRITABLE_SUFFIXES),
            file=str(path),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".csv":
            frame.to_csv(path, index=False, encoding="utf-8-sig")
        elif suffix == ".xlsx":
            if len(frame) > EXCEL_MAX_ROWS:
                raise TableError(
                    f"{len(frame):,} rows do not fit in one Excel sheet; write CSV or parquet",
                    file=str(path),
                )
            frame.to_excel(path, index=False, engine="openpyxl")
        else:
            out = frame.copy()
            # parquet needs one type per column; object columns of mixed types become text.
            for col in out.columns:
                if out[col].dtype == object:
                    out[col] = out[col].map(lambda v: v if v is None or isinstance(v, str) else str(v)).astype("string")
            out.to_parquet(path, index=False)
    except TableError:
        raise
    except OSError as exc:
        raise TableError(f"could not write the file: {exc.strerror or exc}", file=str(path)) from exc
    return path


def ensure_unique(frame: pd.DataFrame, column: str, *, file: str | None = None) -> Sequence[int]:
    """Return 1-based data-row numbers of duplicated keys (first occurrence excluded)."""
    dup = (frame[column].duplicated(keep="first") & frame[column].notna()).to_numpy()
    return [int(i) + 2 for i in dup.nonzero()[0]]  # +2: the header line, and rows count from 1
