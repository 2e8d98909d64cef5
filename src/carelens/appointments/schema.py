"""The appointments table as a trust warehouse holds it, checked and put into one internal shape.

Why a schema layer: every trust names its columns differently, and one bad row (an unknown
attendance code, a booking after the appointment, a repeated ID) must be reported with its row
number before any model sees it, rather than silently dropped. Everything downstream works on the
canonical column names below, whatever the warehouse calls them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from carelens.dates import APPOINTMENT_BOUNDS, parse_dates
from carelens.errors import TableError
from carelens.tables import ensure_unique, require_columns

# NHS Data Dictionary "attended or did not attend" codes.
ATTENDED_CODES = frozenset({5, 6})
DNA_CODES = frozenset({3, 7})
CANCELLED_BY_PATIENT = 2
CANCELLED_BY_PROVIDER = 4
KNOWN_CODES = frozenset({2, 3, 4, 5, 6, 7})


@dataclass(frozen=True)
class Columns:
    """Where each field lives in the user's table (defaults: the NHS-style export names).

    Optional fields (site, medium, ...) may be missing from a table; the model then does without.
    """

    appointment_id: str = "appointment_id"
    patient_id: str = "patient_id"
    appointment_datetime: str = "appointment_datetime"
    booked_datetime: str = "booked_datetime"
    attendance_status: str = "attendance_status"
    specialty: str = "specialty"
    site: str = "site"
    consultation_medium: str = "consultation_medium"
    first_attendance: str = "first_attendance"
    age: str = "age"
    sex: str = "sex"
    ethnic_group: str = "ethnic_group"
    imd_decile: str = "imd_decile"
    distance_km: str = "distance_km"

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str] | None) -> Columns:
        """Build from ``{canonical: user_name}``; unknown canonical names are a clear error."""
        mapping = dict(mapping or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise TableError(
                f"unknown column role {unknown[0]!r}; roles are: " + ", ".join(sorted(known)),
                field=unknown[0],
            )
        return cls(**mapping)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


REQUIRED = ("appointment_id", "patient_id", "appointment_datetime", "booked_datetime", "attendance_status")
CATEGORICAL = ("specialty", "site", "consultation_medium", "first_attendance", "sex", "ethnic_group")
NUMERIC = ("age", "imd_decile", "distance_km")


def _parse_datetimes(values: pd.Series, role: str, user_col: str, file: str | None) -> tuple[pd.Series, list[str]]:
    """Dates and times by the shared rules of :mod:`carelens.dates` (ISO, else UK day first unless the
    column proves month first), and the notes to show. Refused, naming the first row, when a value
    is unreadable or implausible: dates drive the model (lead time, history windows), so a
    guessed or blanked date would teach it something false."""
    parsed = parse_dates(values, column=user_col, bounds=APPOINTMENT_BOUNDS, file=file)
    unreadable = parsed.unreadable.copy()
    if role == "appointment_datetime":  # an appointment without a date cannot be scored or learned from
        unreadable |= parsed.values.isna().to_numpy() & ~parsed.implausible
    parts = []
    for mask, what in ((unreadable, "value(s) are not dates/times"),
                       (parsed.implausible, f"date(s) are outside {APPOINTMENT_BOUNDS.describe()}")):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            parts.append(f"{int(mask.sum()):,} {what} (first: row {i + 2}, {values.iloc[i]!r})")
    if parts:
        first = int(np.flatnonzero(unreadable | parsed.implausible)[0])
        raise TableError("; ".join(parts), file=file, row=first + 2, field=user_col)
    return parsed.values.astype("datetime64[ns]"), parsed.notes


def _category(values: pd.Series) -> pd.Categorical:
    """Text labels, stripped, blanks as "Unknown", as a categorical (work on the few distinct labels)."""
    if values.dtype == object:  # mixed types (numbers and text) cannot be sorted as categories
        values = values.astype("string")
    cat = pd.Categorical(values)
    labels = pd.Index(cat.categories.astype(str)).str.strip()
    labels = labels.where(labels != "", "Unknown")
    inverse, uniq = pd.factorize(labels)
    codes = np.asarray(cat.codes)
    new = np.where(codes < 0, -1, inverse[np.maximum(codes, 0)]) if len(inverse) else np.full(len(codes), -1)
    categories = list(uniq)
    if (new < 0).any():
        if "Unknown" not in categories:
            categories.append("Unknown")
        new = np.where(new < 0, categories.index("Unknown"), new)
    return pd.Categorical.from_codes(new, categories=categories)


def _parse_status(values: pd.Series, user_col: str, file: str | None) -> pd.Series:
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    numeric = pd.to_numeric(text.where(~blank), errors="coerce")
    is_int = numeric.notna() & (numeric == numeric.round())
    known = is_int & numeric.isin(list(KNOWN_CODES))
    bad = ~blank & ~known
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        counts = text[bad].value_counts().head(5)
        listed = ", ".join(f"{k!r} ({v})" for k, v in counts.items())
        raise TableError(
            f"unknown attendance status code(s): {listed}; expected NHS codes 2-7 "
            "(5/6 attended, 3/7 did not attend, 2/4 cancelled) or blank for a future appointment",
            file=file,
            row=i + 2,
            field=user_col,
        )
    return numeric.astype("Int8")


def normalise(
    frame: pd.DataFrame,
    columns: Columns | None = None,
    *,
    file: str | None = None,
    allow_booking_after: bool = True,
) -> pd.DataFrame:
    """Validate a raw appointments table and return it with canonical column names.

    The result keeps one row per input row, in order, with ``row`` (1-based data-row number as the
    user sees it in a spreadsheet, header = row 1) and derived ``dna`` (1 = DNA, 0 = attended,
    NaN = cancelled or future) and ``is_future`` (blank status). Problems that do not stop the work
    (a booking recorded after its appointment) are kept and listed in ``result.attrs["warnings"]``;
    with ``allow_booking_after=False`` they are an error instead.
    """
    columns = columns or Columns()
    roles = columns.to_dict()
    require_columns(
        frame, [roles[r] for r in REQUIRED], file=file, purpose="appointments (see --column to rename)"
    )
    if len(frame) == 0:
        raise TableError("the table has no rows", file=file)
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    out["row"] = np.arange(2, len(frame) + 2)
    for role in ("appointment_id", "patient_id"):
        values = frame[roles[role]].reset_index(drop=True)
        blank = values.isna() | (values.astype("string").str.strip() == "")
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise TableError(f"{int(blank.sum()):,} blank {role.replace('_', ' ')}(s)", file=file, row=i + 2, field=roles[role])
        out[role] = values.astype("string").str.strip()
    dups = ensure_unique(out, "appointment_id", file=file)
    if dups:
        first = dups[0]
        raise TableError(
            f"{len(dups):,} duplicated appointment ID(s) (first: {out['appointment_id'].iloc[first - 2]!r}); "
            "each appointment must appear once",
            file=file,
            row=first,
            field=roles["appointment_id"],
        )
    # How the file was read (an encoding fallback, damaged text) is said first, with the date notes.
    warnings: list[str] = list(frame.attrs.get("read_warnings", []))
    for role in ("appointment_datetime", "booked_datetime"):
        out[role], notes = _parse_datetimes(frame[roles[role]].reset_index(drop=True), role, roles[role], file)
        warnings += [note.removeprefix(f"{file}, ") if file else note for note in notes]
    out["booked_datetime"] = out["booked_datetime"].fillna(out["appointment_datetime"])
    late = out["booked_datetime"] > out["appointment_datetime"]
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        message = (
            f"{int(late.sum()):,} appointment(s) are booked after they take place "
            f"(first: {out['appointment_id'].iloc[i]!r}, row {i + 2})"
        )
        if not allow_booking_after:
            raise TableError(
                message + "; fix the dates, or pass --allow-booking-after to treat them as booked on the day",
                file=file,
                row=i + 2,
                field=roles["booked_datetime"],
            )
        # Kept (nothing lost), with the booking moved to the appointment time: lead time 0.
        warnings.append(message + "; their booking time was set to the appointment time")
        out.loc[late, "booked_datetime"] = out.loc[late, "appointment_datetime"]
    status = _parse_status(frame[roles["attendance_status"]].reset_index(drop=True), roles["attendance_status"], file)
    out["attendance_status"] = status
    out["is_future"] = status.isna().to_numpy()
    dna = np.full(len(out), np.nan)
    s = status.to_numpy(dtype="float64", na_value=np.nan)
    dna[np.isin(s, list(DNA_CODES))] = 1.0
    dna[np.isin(s, list(ATTENDED_CODES))] = 0.0
    out["dna"] = dna
    for role in CATEGORICAL:
        if roles[role] in frame.columns:
            out[role] = _category(frame[roles[role]].reset_index(drop=True))
        else:
            out[role] = pd.Categorical(["Unknown"] * len(out))
    for role in NUMERIC:
        if roles[role] in frame.columns:
            raw = frame[roles[role]].reset_index(drop=True)
            num = pd.to_numeric(raw, errors="coerce")
            bad = num.isna() & raw.notna()
            if bad.any():
                bad &= raw.astype("string").str.strip() != ""
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise TableError(f"not a number: {raw.iloc[i]!r}", file=file, row=i + 2, field=roles[role])
            out[role] = num.astype("float64")
        else:
            out[role] = np.nan
    out.attrs["absent"] = [role for role in CATEGORICAL + NUMERIC if roles[role] not in frame.columns]
    if not (~out["is_future"]).any():
        warnings.append("no appointment has an outcome yet: there is no history to learn from")
    out.attrs["warnings"] = warnings
    return out
