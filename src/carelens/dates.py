"""One date reader for every table users hand us (feedback exports, appointment extracts).

Why one shared reader: a date is the field most often written differently from system to system
(ISO from warehouses, 25/03/2024 from UK Excel, 03/25/2024 from a US-configured Excel), and a
wrong guess is silent: 03/04/2024 is a valid date either way. The rules, the same everywhere:

- ISO (2024-03-25, 2024-03-25 09:30, 2024/03/25) is read as ISO.
- Other all-number dates (25/03/2024, 25.03.24, 25-3-2024 9:30) are read day first, as in the UK,
  unless the column itself proves otherwise: when some value has a number over 12 in the second
  place (03/25/2024) and none has one in the first place, the column can only be month first, and
  it is read that way with a one-line note. Reading rather than refusing, because a whole column
  comes from one system with one setting, and the values that prove the order also fix the
  ambiguous ones (03/04/2024 in that column is 4 March); refusing would make a trust hand-edit
  every export from a US-configured PC. A column with proof of BOTH orders is refused (it has
  been mixed, and its ambiguous values cannot be read safely), naming the file, column and rows.
- Dates with a month name (25 March 2024, Mar 25 2024) are unambiguous and read as written.
- A time of day is kept; a time-zone offset (Z, +01:00) is dropped and the clock time as written
  kept, as for dates a database hands over already typed: 09:30 means 09:30 to the patient.
- A value that is none of these, or is not a calendar date (31/02/2024), is *unreadable*; a date
  outside the plausible :class:`DateBounds` of the use (0001-01-01, 9999-12-31, 1850 for a
  comment) is *implausible*. Both are returned as masks with the value left blank, so that each
  caller can report them by row and decide: feedback stores the cell blank, appointments refuse.
- A column whose values are all ambiguous (every number 12 or less) is read day first: nothing in
  it can tell, and the UK default is documented here and in the user guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from carelens.errors import TableError

DAY_FIRST = "day-first"
MONTH_FIRST = "month-first"


@dataclass(frozen=True)
class DateBounds:
    """The dates a use can plausibly hold: from ``earliest`` to ``days_ahead`` days after today."""

    earliest: date
    days_ahead: int

    def latest(self, today: date | None = None) -> date:
        return (today or date.today()) + timedelta(days=self.days_ahead)

    def describe(self, today: date | None = None) -> str:
        return f"{self.earliest.isoformat()} to {self.latest(today).isoformat()}"


# A comment cannot be written before the NHS took comments online (FFT began in 2013; 2000 leaves
# room for older surveys) nor long after today (a month's margin for clocks and time zones).
FEEDBACK_BOUNDS = DateBounds(earliest=date(2000, 1, 1), days_ahead=31)
# Appointments are booked ahead (a year or two at most) and histories rarely go back decades;
# these bounds only catch the impossible (0001-01-01, 9999-12-31, 1900 placeholders).
APPOINTMENT_BOUNDS = DateBounds(earliest=date(1950, 1, 1), days_ahead=5 * 366)

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:(?:[T ]+|,\s*)(.+))?$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:(?:[T ]+|,\s*)(.+))?$")
# A time of day; a time-zone offset is accepted and dropped (the clock time as written is kept).
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp]\.?[Mm]\.?)?"
                   r"(?:\s*(?:Z|[+-]\d{2}(?::?\d{2})?|GMT|UTC|BST))?$")
_MONTH_WORD = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.IGNORECASE)


@dataclass
class ParsedDates:
    """What :func:`parse_dates` read: values (NaT where blank, unreadable or implausible) and masks."""

    values: pd.Series
    unreadable: np.ndarray
    implausible: np.ndarray
    order: str = DAY_FIRST
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> np.ndarray:
        return self.unreadable | self.implausible


@lru_cache(maxsize=8192)  # a column repeats the same few hundred times of day
def _time_of(text: str | None) -> timedelta | None:
    """The time of day in ``text`` (09:30, 9.30pm, 09:30:00.000, 09:30Z), or None if unreadable."""
    if not text:
        return timedelta(0)
    m = _TIME.match(text.strip())
    if m is None:
        return None
    hour, minute = int(m[1]), int(m[2])
    second = int(m[3] or 0)
    micro = int((m[4] or "0")[:6].ljust(6, "0"))
    if m[5]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m[5][0] in "Pp" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return timedelta(hours=hour, minutes=minute, seconds=second, microseconds=micro)


def _full_year(year: str) -> int:
    """Four digits as written; two digits as Python's %y does (00-68 -> 2000s, 69-99 -> 1900s)."""
    y = int(year)
    if len(year) == 2:
        return y + (2000 if y <= 68 else 1900)
    return y


def _build(year: int, month: int, day: int, rest: str | None) -> datetime | None:
    try:
        d = datetime(year, month, day)
    except ValueError:
        return None
    t = _time_of(rest)
    return None if t is None else d + t


def _where(file: str | None, column: str) -> str:
    return f"{file}, column '{column}'" if file else f"column '{column}'"


def parse_dates(
    values: pd.Series,
    *,
    column: str,
    bounds: DateBounds,
    file: str | None = None,
    today: date | None = None,
    first_row: int = 2,
) -> ParsedDates:
    """Read a column of dates (or date-times) by the rules in this module's docstring.

    ``first_row`` is the spreadsheet row number of the first value (2: the header is row 1), for
    the rows an error names.

    Raises :class:`~carelens.errors.TableError` only for a column that mixes day-first and
    month-first values; every other problem is returned by row in the masks, never dropped.
    """
    n = len(values)
    values = values.reset_index(drop=True)
    earliest = pd.Timestamp(bounds.earliest)
    latest = pd.Timestamp(bounds.latest(today)) + pd.Timedelta(days=1)  # the whole last day
    if pd.api.types.is_datetime64_any_dtype(values.dtype):  # parquet, Excel or a database: already dates
        parsed = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        parsed = parsed.astype("datetime64[ns]")
        implausible = (parsed.notna() & ((parsed < earliest) | (parsed >= latest))).to_numpy()
        parsed = parsed.where(~implausible)
        return ParsedDates(parsed, np.zeros(n, bool), implausible)

    text = values.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy()
    # Fast path: ISO text, as warehouses write it, parsed by pandas in one vectorised call.
    try:
        fast = pd.to_datetime(text.where(text.str.match(r"^\d{4}-\d{2}-\d{2}", na=False)), errors="coerce",
                              format="ISO8601")
        if getattr(fast.dt, "tz", None) is not None:
            fast = fast.dt.tz_localize(None)  # keep the clock time as written, as for typed dates
        fast = fast.astype("datetime64[ns]")
    except (ValueError, TypeError, OverflowError, AttributeError):  # mixed time zones and the like: one by one
        fast = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    todo = ~blank & fast.isna().to_numpy()
    found: dict[str, datetime | None] = {}
    # Each distinct remaining value once: columns repeat dates, so this is fast.
    numeric: dict[str, tuple[int, int, str, str | None]] = {}
    for raw in pd.unique(text[todo]):
        s = str(raw)
        m = _ISO.match(s)
        if m:
            found[s] = _build(int(m[1]), int(m[2]), int(m[3]), m[4])
            continue
        m = _NUMERIC.match(s)
        if m:
            numeric[s] = (int(m[1]), int(m[2]), m[3], m[4])
            continue
        found[s] = _worded(s)
    order = _order(numeric, text, column, file, first_row)
    for s, (a, b, year, rest) in numeric.items():
        day, month = (a, b) if order == DAY_FIRST else (b, a)
        found[s] = _build(_full_year(year), month, day, rest)

    # Back from the distinct values to the rows in one vectorised lookup.
    lo, hi = earliest.to_pydatetime(), latest.to_pydatetime()
    keys = list(found)
    status = np.array([0 if dt is None else (1 if lo <= dt < hi else 2) for dt in found.values()], dtype=np.int8)
    stamps = np.array([np.datetime64(dt, "ns") if code == 1 else np.datetime64("NaT", "ns")
                       for dt, code in zip(found.values(), status)], dtype="datetime64[ns]")
    todo_idx = np.flatnonzero(todo)
    where = pd.Index(keys, dtype=object).get_indexer(text.to_numpy(dtype=object)[todo_idx])
    result = np.array(fast.to_numpy(dtype="datetime64[ns]"), copy=True)
    result[todo_idx] = stamps[where]
    unreadable = np.zeros(n, bool)
    implausible = np.zeros(n, bool)
    unreadable[todo_idx] = status[where] == 0
    implausible[todo_idx] = status[where] == 2
    parsed = pd.Series(result, dtype="datetime64[ns]")
    out_of_range = (parsed.notna() & ((parsed < earliest) | (parsed >= latest))).to_numpy()
    implausible |= out_of_range
    parsed = parsed.where(~out_of_range)
    notes = []
    if order == MONTH_FIRST:
        example = next(s for s, (a, b, _, _) in numeric.items() if 12 < b <= 31 and 1 <= a <= 12)
        notes.append(f"{_where(file, column)}: dates are month first (US style, e.g. {example!r}), so the whole "
                     "column was read as month/day/year")
    return ParsedDates(parsed, unreadable, implausible, order, notes)


def _worded(s: str) -> datetime | None:
    """A date with a month name ("25 March 2024", "Mar 25, 2024 9:30"); None for anything else."""
    if not _MONTH_WORD.search(s) or not re.search(r"\d{4}", s):
        return None
    from dateutil import parser

    try:
        return parser.parse(s, dayfirst=True, fuzzy=False)
    except (ValueError, OverflowError):
        return None


def _order(numeric: dict[str, tuple[int, int, str, str | None]], text: pd.Series, column: str,
           file: str | None, first_row: int = 2) -> str:
    """Day first unless the values prove month first; a column proving both is refused."""
    day_proof = next((s for s, (a, b, _, _) in numeric.items() if 12 < a <= 31 and 1 <= b <= 12), None)
    month_proof = next((s for s, (a, b, _, _) in numeric.items() if 12 < b <= 31 and 1 <= a <= 12), None)
    if month_proof is None:
        return DAY_FIRST
    if day_proof is None:
        return MONTH_FIRST
    row_day = int(np.flatnonzero((text == day_proof).fillna(False).to_numpy(dtype=bool))[0]) + first_row
    row_month = int(np.flatnonzero((text == month_proof).fillna(False).to_numpy(dtype=bool))[0]) + first_row
    raise TableError(
        f"the column mixes day-first dates (row {row_day}: {day_proof!r}) and month-first dates "
        f"(row {row_month}: {month_proof!r}), so dates such as 03/04/2024 cannot be read safely; "
        "write the column in one order (ISO 2024-03-25 is safest)",
        file=file, row=min(row_day, row_month), field=column,
    )


def problem_lines(parsed: ParsedDates, raw: pd.Series, *, column: str, bounds: DateBounds,
                  source: str | None = None, then: str = "", limit: int | None = None,
                  today: date | None = None, first_row: int = 2) -> list[tuple[int, str]]:
    """(row, one line) for each unreadable or implausible value; rows as a spreadsheet numbers them
    (``first_row``: the number of the first value's row, 2 when the header is row 1)."""
    where = f"{source}, " if source else ""
    raw = raw.reset_index(drop=True)
    out = []
    for i in np.flatnonzero(parsed.problems):
        shown = str(raw.iloc[i])[:30]
        if parsed.unreadable[i]:
            what = f"unreadable date {shown!r}"
        else:
            what = f"implausible date {shown!r} (expected {bounds.describe(today)})"
        out.append((int(i) + first_row, f"{where}row {i + first_row}, field '{column}': {what}{then}"))
        if limit is not None and len(out) >= limit:
            break
    return out


__all__ = ["APPOINTMENT_BOUNDS", "FEEDBACK_BOUNDS", "DAY_FIRST", "MONTH_FIRST", "DateBounds", "ParsedDates",
           "parse_dates", "problem_lines"]
