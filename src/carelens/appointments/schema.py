"""The appointments table as a trust warehouse holds it, checked and put into one internal shape.

Why a schema layer: every trust names its columns differently, and one bad row (an unknown
attendance code, a booking after the appointment, a repeated ID) must be reported with its row
number before any model sees it, rather than silently dropped. Everything downstream works on the
canonical column names below, whatever the warehouse calls them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from carelens.appointments.status import (  # noqa: F401 - the codes are part of this module's interface
    ATTENDED_CODES,
    CANCELLED_BY_PATIENT,
    CANCELLED_BY_PROVIDER,
    DNA_CODES,
    KNOWN_CODES,
    parse_status,
    parse_status_map,
)
from carelens.dates import APPOINTMENT_BOUNDS, parse_dates
from carelens.errors import ConfigError, TableError
from carelens.tables import ensure_unique, require_columns

# The trust's own columns, kept beside the canonical ones under a prefix so that no user column
# name can collide with a canonical one, and so that contact details are marked as such wherever
# the frame goes (they are for callers only: never a model input, never on a card or an export
# for others; access control gates them by this prefix).
FEATURE_PREFIX = "feature:"
CONTACT_PREFIX = "contact:"

# Values no person can have: refused naming the row (an age of -5 or 1e400 is a data error, and a
# model fitted on it would learn from it). Bounds are inclusive; IMD deciles are whole numbers.
RANGES = {
    "age": (0.0, 120.0, "ages are 0 to 120 years"),
    "imd_decile": (1.0, 10.0, "IMD deciles are whole numbers 1 (most deprived) to 10"),
    "distance_km": (0.0, 20_000.0, "distances are 0 to 20,000 km"),
}
# What spreadsheets and other tools write for "no value" in a number column.
MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none"})
# Never a model input, whatever is asked: ethnic group is used only to check fairness.
_ETHNICITY = re.compile(r"ethnic|\brace\b", re.IGNORECASE)


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
    """Text labels, stripped, blanks as "Unknown", as a categorical (work on the few distinct labels).

    Whole numbers read as floats (a numeric column with blanks) are labelled without ".0", so a code
    column reads the same whether or not this export happens to have a blank in it."""
    if pd.api.types.is_float_dtype(values.dtype):
        finite = values.dropna()
        if len(finite) and np.isfinite(finite).all() and (finite == finite.round()).all():
            values = values.astype("Int64")
    if values.dtype == object or pd.api.types.is_numeric_dtype(values.dtype):
        values = values.astype("string")  # mixed types (numbers and text) cannot be sorted as categories
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


def _numbers(raw: pd.Series, field: str, file: str | None, *, strict_text: bool = True) -> pd.Series | None:
    """A column as float64 (blank -> NaN). Text that is not a number is refused naming its row
    (``strict_text``) or, for a trust feature, returns None (the column is categorical).
    Infinity (``inf``, ``1e400``) is refused either way: no measurement is infinite."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64")
    num = pd.to_numeric(raw, errors="coerce")
    if not pd.api.types.is_numeric_dtype(raw.dtype):
        text = raw.astype("string").str.strip()
        blank = text.isna() | text.str.lower().isin(MISSING_TEXT)
        bad = (num.isna() & ~blank).to_numpy()
        if bad.any():
            if not strict_text:
                return None
            i = int(np.flatnonzero(bad)[0])
            raise TableError(f"not a number: {raw.iloc[i]!r}", file=file, row=i + 2, field=field)
    num = num.astype("float64")
    infinite = np.isinf(num.to_numpy())
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise TableError(f"{int(infinite.sum()):,} infinite value(s) (first: {raw.iloc[i]!r}); a measurement is a finite "
                         "number, or blank when unknown", file=file, row=i + 2, field=field)
    return num


def _check_range(values: pd.Series, role: str, field: str, file: str | None) -> None:
    low, high, rule = RANGES[role]
    v = values.to_numpy()
    bad = ~np.isnan(v) & ((v < low) | (v > high))
    if role == "imd_decile":
        bad |= ~np.isnan(v) & (v != np.round(v))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TableError(f"{int(bad.sum()):,} impossible value(s) (first: {v[i]:g}); {rule}, or blank when unknown",
                         file=file, row=i + 2, field=field)


def _trust_columns(
    frame: pd.DataFrame, roles: dict[str, str], features: Sequence[str] | Mapping[str, str] | None,
    contacts: Sequence[str] | None, missing_features: str, file: str | None,
) -> tuple[dict[str, str | None], list[str], list[str]]:
    """Check the ``--feature`` and ``--contact-column`` names against the table and each other.

    Returns {feature: kind or None (decide from the values)}, the contact columns present, and the
    warnings. A feature that is a role's column, ethnicity, or a contact column is refused: a role is
    already used (or, for the ID, date and status columns, would leak or mean nothing), ethnic group
    is never a model input, and contact details are for callers only."""
    kinds = dict(features) if isinstance(features, Mapping) else {name: None for name in (features or [])}
    contacts = list(dict.fromkeys(contacts or []))
    warnings: list[str] = []
    used = {name: role for role, name in roles.items() if name in frame.columns}
    for name in kinds:
        if _ETHNICITY.search(name) or used.get(name) == "ethnic_group":
            raise ConfigError(f"{name!r} cannot be a model input: ethnic group is never used to score anyone "
                              "(carelens uses it only to check fairness)", field="--feature")
        if name in used:
            raise ConfigError(f"{name!r} is already the {used[name].replace('_', ' ')} column; --feature is for the "
                              "table's other columns", field="--feature")
        if name in contacts:
            raise ConfigError(f"{name!r} is a contact column: contact details are never model inputs", field="--feature")
        if kinds[name] not in (None, "numeric", "categorical"):
            raise ConfigError(f"feature {name!r}: kind must be numeric or categorical, not {kinds[name]!r}", field="--feature")
    for kind, names in (("feature", kinds), ("contact", contacts)):
        missing = [n for n in names if n not in frame.columns]
        if not missing:
            continue
        if kind == "feature" and missing_features == "warn":
            warnings.append("feature column(s) the model was trained with are missing and treated as unknown: "
                            + ", ".join(missing))
            continue
        if kind == "contact" and missing_features == "warn":
            warnings.append("contact column(s) missing, the call list will not show them: " + ", ".join(missing))
            contacts = [n for n in contacts if n not in missing]
            continue
        shown = ", ".join(map(str, list(frame.columns)[:30]))
        raise TableError(f"no column {missing[0]!r} for --{kind if kind == 'feature' else 'contact-column'}; "
                         f"the table's columns are: {shown}", file=file, field=missing[0])
    return kinds, contacts, warnings


def _feature_column(raw: pd.Series | None, n: int, kind: str | None, name: str, file: str | None) -> pd.Series | pd.Categorical:
    """One trust feature: numbers when every value is a number (or the model learnt it so), else labels."""
    if raw is None:  # missing at scoring time: unknown for every row
        return pd.Series(np.full(n, np.nan)) if kind != "categorical" else pd.Categorical(["Unknown"] * n)
    if kind == "categorical":
        return _category(raw)
    numbers = _numbers(raw, name, file, strict_text=kind == "numeric")
    return _category(raw) if numbers is None else numbers


def normalise(
    frame: pd.DataFrame,
    columns: Columns | None = None,
    *,
    file: str | None = None,
    allow_booking_after: bool = True,
    features: Sequence[str] | Mapping[str, str] | None = None,
    contacts: Sequence[str] | None = None,
    status_map: Mapping[str, str] | str | Sequence[str] | None = None,
    missing_features: str = "error",
) -> pd.DataFrame:
    """Validate a raw appointments table and return it with canonical column names.

    The result keeps one row per input row, in order, with ``row`` (1-based data-row number as the
    user sees it in a spreadsheet, header = row 1) and derived ``dna`` (1 = DNA, 0 = attended,
    NaN = cancelled or future) and ``is_future`` (blank status). Problems that do not stop the work
    (a booking recorded after its appointment) are kept and listed in ``result.attrs["warnings"]``;
    with ``allow_booking_after=False`` they are an error instead.

    ``features``: the trust's own predictor columns (names, or {name: "numeric"|"categorical"} as a
    saved model learnt them), kept as ``feature:<name>``; ``contacts``: columns passed through for
    the call list, kept as ``contact:<name>`` and never used as inputs. ``status_map``: values of
    the status column that are not NHS codes or common spellings (:mod:`.status`).
    ``missing_features="warn"`` (scoring) treats a feature or contact column the table lacks as
    unknown with a warning; ``"error"`` (training) refuses it.

    ``attrs``: ``warnings``, ``absent`` (optional roles the table lacks), ``features`` ({name:
    kind}), ``contacts``, ``dates_only`` (every appointment at midnight: the export has no times).
    """
    columns = columns or Columns()
    roles = columns.to_dict()
    require_columns(
        frame, [roles[r] for r in REQUIRED], file=file, purpose="appointments (see --column to rename)"
    )
    if len(frame) == 0:
        raise TableError("the table has no rows", file=file)
    status_codes = parse_status_map(status_map)
    kinds, contact_names, trust_warnings = _trust_columns(frame, roles, features, contacts, missing_features, file)
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
    # An export with dates only: a booking made at 14:00 for "that day" (midnight) is not late.
    dates_only = bool((out["appointment_datetime"] == out["appointment_datetime"].dt.normalize()).all())
    if dates_only:
        late &= out["booked_datetime"].dt.normalize() > out["appointment_datetime"]
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
    if dates_only:  # same-day bookings: lead time 0, not negative hours
        out["booked_datetime"] = out["booked_datetime"].where(
            out["booked_datetime"] <= out["appointment_datetime"], out["appointment_datetime"])
    status = parse_status(frame[roles["attendance_status"]].reset_index(drop=True), roles["attendance_status"], file,
                          status_codes)
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
            out[role] = _numbers(frame[roles[role]].reset_index(drop=True), roles[role], file)
            _check_range(out[role], role, roles[role], file)
        else:
            out[role] = np.nan
    learnt: dict[str, str] = {}
    for name, kind in kinds.items():
        raw = frame[name].reset_index(drop=True) if name in frame.columns else None
        values = _feature_column(raw, len(out), kind, name, file)
        out[FEATURE_PREFIX + name] = values
        learnt[name] = kind or ("categorical" if isinstance(values, pd.Categorical) else "numeric")
    for name in contact_names:
        out[CONTACT_PREFIX + name] = frame[name].reset_index(drop=True).astype("string").str.strip().to_numpy()
    out.attrs["absent"] = [role for role in CATEGORICAL + NUMERIC if roles[role] not in frame.columns]
    out.attrs["features"] = learnt
    out.attrs["contacts"] = contact_names
    out.attrs["dates_only"] = dates_only
    warnings += trust_warnings
    if not (~out["is_future"]).any():
        warnings.append("no appointment has an outcome yet: there is no history to learn from")
    out.attrs["warnings"] = warnings
    return out
