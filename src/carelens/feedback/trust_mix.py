"""A trust's own demographic mix (its catchment's census shares, or its patient population), read
and checked before it goes into the store.

Why: "who are we hearing from" means little beside the other respondents alone: if a fifth of the
catchment is Asian or Asian British and 8 % of respondents are, that gap is the finding. The mix
is not patient data; it is a small table a trust supplies: one row per (field, value) with the
share of that field's population holding the value.

The file has columns ``field`` (a demographic column as uploads name it: "Ethnicity", "Age
group"), ``value`` ("White British", "18-34") and ``share`` (any capitals; other columns are
ignored). A field's shares are percentages when any of them carries a "%" or they add up to about
100, fractions when they add up to about 1; either way they must add up to 1 (100 %) within
:data:`TOLERANCE` (census tables are rounded), and each must lie between 0 and 1 (0 and 100 %).
Every problem is one line naming the file, the row (as the file numbers it) and the column. The
store side (replacing a field's mix atomically, matching values to the stored spellings) is
:mod:`carelens.feedback.store.trust_mix`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carelens.errors import TableError
from carelens.feedback.store.aliases import spelling_key  # fields and values compare as the store's spellings do
from carelens.tables import first_data_row

COLUMNS = ("field", "value", "share")
TOLERANCE = 0.02  # a field's shares must add up to 1 within this (2 percentage points)
MAX_ROWS = 10_000
MAX_FIELD, MAX_VALUE = 200, 500  # the store's column sizes (fb_trust_mix)


@dataclass(frozen=True)
class TrustMix:
    """A checked mix: ``rows`` (field, value, share as a fraction 0..1, row: the file's row
    number) and each field's scale as written (``scales``: "percent" or "fraction")."""

    rows: pd.DataFrame
    scales: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys(self.rows["field"]))


def _tidy(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
        else " ".join(str(value).split())


def _number(text: str, file: str, row: int) -> tuple[float, bool]:
    """(the share's number, whether it carried a "%"), or a one-line error."""
    raw = text.strip()
    percent = raw.endswith("%")
    body = raw[:-1].strip() if percent else raw
    try:
        number = float(body)
    except ValueError:
        raise TableError(f"{raw!r} is not a number (write 0.125, 12.5 or 12.5%)", file=file, row=row,
                         field="share") from None
    if not math.isfinite(number):
        raise TableError(f"{raw!r} is not a share (a number between 0 and 1, or 0 and 100%)", file=file, row=row,
                         field="share")
    if number < 0:
        raise TableError(f"{raw} is below 0: a share is between 0 and 1 (or 0 and 100%)", file=file, row=row,
                         field="share")
    return number, percent


def parse_mix(frame: pd.DataFrame, file: str) -> TrustMix:
    """Check a mix table read from ``file`` (every cell as text) and return it as fractions.

    Raises :class:`~carelens.errors.TableError` naming the file, row and column of the first problem.
    """
    names = {spelling_key(c): c for c in frame.columns}
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        have = ", ".join(repr(str(c)) for c in frame.columns) or "(none)"
        raise TableError(f"no {', '.join(repr(c) for c in missing)} column: a trust mix has columns field, value "
                         f"and share; the file has {have}", file=file, field=missing[0])
    first = first_data_row(frame)
    if len(frame) > MAX_ROWS:
        raise TableError(f"{len(frame):,} rows is more than a mix needs (at most {MAX_ROWS:,})", file=file)
    rows = []
    field_names: dict[str, str] = {}  # a field's key -> its first spelling
    seen: dict[tuple[str, str], int] = {}
    for i, (f, v, s) in enumerate(zip(*(frame[names[c]].tolist() for c in COLUMNS))):
        row = first + i
        f, v, s = _tidy(f), _tidy(v), _tidy(s)
        if not (f or v or s):
            continue  # a blank line
        for column, text, limit in (("field", f, MAX_FIELD), ("value", v, MAX_VALUE)):
            if not text:
                raise TableError(f"no {column} given", file=file, row=row, field=column)
            if "\x00" in text:
                raise TableError(f"the {column} holds a NUL character", file=file, row=row, field=column)
            if len(text) > limit:
                raise TableError(f"the {column} is {len(text):,} characters long (at most {limit})", file=file,
                                 row=row, field=column)
        if not s:
            raise TableError("no share given", file=file, row=row, field="share")
        number, percent = _number(s, file, row)
        key = spelling_key(f)
        name = field_names.setdefault(key, f)
        twice = seen.get((key, spelling_key(v)))
        if twice is not None:
            raise TableError(f"{v!r} is given twice for {name} (rows {twice} and {row})", file=file, row=row,
                             field="value")
        seen[key, spelling_key(v)] = row
        rows.append({"field": name, "value": v, "number": number, "percent": percent, "row": row})
    if not rows:
        raise TableError("no rows: a trust mix needs at least one field, value and share", file=file)
    table = pd.DataFrame(rows)
    scales: dict[str, str] = {}
    shares = []
    for name, part in table.groupby("field", sort=False):
        total = float(part["number"].sum())
        where = _rows(part["row"].tolist())
        if part["percent"].any() or abs(total - 100) <= 100 * TOLERANCE:
            scale, top = "percent", 100.0
        elif abs(total - 1) <= TOLERANCE:
            scale, top = "fraction", 1.0
        else:
            raise TableError(f"the shares of {name} ({where}) add up to {total:g}: they must add up to 1 (fractions) "
                             f"or 100 (percent), within {100 * TOLERANCE:g}%", file=file, field="share")
        over = part[part["number"] > top]
        if len(over):
            bad = over.iloc[0]
            raise TableError(f"{bad['number']:g}{'%' if scale == 'percent' else ''} is over "
                             f"{'100%' if scale == 'percent' else '1'}: a share of {name} is at most the whole",
                             file=file, row=int(bad["row"]), field="share")
        if abs(total - top) > top * TOLERANCE:
            raise TableError(f"the shares of {name} ({where}) add up to {total:g}%, not 100% (within "
                             f"{100 * TOLERANCE:g}%)", file=file, field="share")
        scales[name] = scale
        shares.append(part.assign(share=part["number"] / top))
    out = pd.concat(shares).sort_values("row", kind="stable")
    return TrustMix(rows=out[["field", "value", "share", "row"]].reset_index(drop=True), scales=scales)


def _rows(numbers: list[int]) -> str:
    """"row 4", "rows 2-9" or "rows 2, 5 and 7": where a field's rows are."""
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"rows {numbers[0]}-{numbers[-1]}"
    shown = ", ".join(map(str, numbers[:5]))
    return f"rows {shown}{'…' if len(numbers) > 5 else ''}"


def read_mix(path: str | Path, *, name: str | None = None) -> TrustMix:
    """Read and check a mix file (CSV, XLSX or parquet); ``name``: how messages name the file (the
    name a client sent, never a server's temporary path)."""
    from carelens.tables import read_table

    shown = name or str(path)
    try:
        frame = read_table(path, dtype_str=True)
    except TableError as exc:
        if name is None:
            raise
        raise TableError(exc.message.replace(str(path), name), file=name, row=exc.row, field=exc.field) from None
    return parse_mix(frame, shown)
