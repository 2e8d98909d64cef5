"""What each attendance value means: NHS codes, common spellings, and the trust's own status map.

Why a module of its own: exports disagree on how an outcome is written. An NHS warehouse holds the
Data Dictionary codes (5 attended, 3 did not attend, ...); a booking system writes "DNA" or
"Attended"; another health system's table has a column "No-show" holding "Yes" or "No". Every one
of them is read here into the NHS codes, so the rest of carelens knows one vocabulary.

- NHS codes 2-7 are always understood.
- Common spellings (``DEFAULT_SPELLINGS``: "DNA", "Did not attend", "Attended", "Cancelled by
  patient", ...) are recognised in any case, with any spacing and punctuation.
- Anything else needs a map from the user: ``--status-map "Yes=DNA,No=attended"``. "Yes" and "No"
  are deliberately not guessed: in a "No-show" column "Yes" means *missed*, in an "Attended"
  column it means the opposite.
- Blank is an appointment still to come.

A value nobody mapped stops the work naming the value and its first row: guessing an outcome would
teach the model something false.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from carelens.errors import ConfigError, TableError

# NHS Data Dictionary "attended or did not attend" codes.
ATTENDED_CODES = frozenset({5, 6})
DNA_CODES = frozenset({3, 7})
CANCELLED_BY_PATIENT = 2
CANCELLED_BY_PROVIDER = 4
KNOWN_CODES = frozenset({2, 3, 4, 5, 6, 7})
FUTURE = -1  # a meaning, not a code: the appointment is still to come (stored as blank)

# What a user may write on the right of a status map, and the code it stands for.
MEANINGS: dict[str, int] = {
    "attended": 5,
    "dna": 3,
    "did not attend": 3,
    "missed": 3,
    "no show": 3,
    "cancelled": CANCELLED_BY_PATIENT,
    "cancelled by patient": CANCELLED_BY_PATIENT,
    "cancelled by provider": CANCELLED_BY_PROVIDER,
    "cancelled by hospital": CANCELLED_BY_PROVIDER,
    "future": FUTURE,
    "booked": FUTURE,
}

# Spellings seen in real exports, understood without a map (keys in ``_key`` form).
DEFAULT_SPELLINGS: dict[str, int] = {
    "attended": 5,
    "attended on time": 5,
    "seen": 5,
    "arrived on time": 5,
    "arrived late but seen": 6,
    "attended late": 6,
    "arrived late not seen": 7,
    "arrived late and not seen": 7,
    "dna": 3,
    "did not attend": 3,
    "did not attend dna": 3,
    "not attended": 3,
    "no show": 3,
    "noshow": 3,
    "missed": 3,
    "cancelled": CANCELLED_BY_PATIENT,
    "canceled": CANCELLED_BY_PATIENT,
    "cancelled by patient": CANCELLED_BY_PATIENT,
    "patient cancelled": CANCELLED_BY_PATIENT,
    "cancelled by provider": CANCELLED_BY_PROVIDER,
    "cancelled by hospital": CANCELLED_BY_PROVIDER,
    "hospital cancelled": CANCELLED_BY_PROVIDER,
    "provider cancelled": CANCELLED_BY_PROVIDER,
    "booked": FUTURE,
    "future": FUTURE,
    "pending": FUTURE,
}


def _key(value: str) -> str:
    """Case, spacing and punctuation do not matter: "Did-not attend (DNA)" -> "did not attend dna"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(value).lower()).split())


def parse_status_map(pairs: str | Iterable[str] | Mapping[str, str] | None) -> dict[str, int]:
    """``"Yes=DNA,No=attended"`` (or several such options, or a dict) as {value key: NHS code}.

    The right-hand side is a meaning (attended, DNA, cancelled, cancelled by provider, future) or
    an NHS code 2-7. A pair that cannot be read is refused naming it.
    """
    if pairs is None:
        return {}
    if isinstance(pairs, Mapping):
        items = list(pairs.items())
    else:
        texts = [pairs] if isinstance(pairs, str) else list(pairs)
        items = []
        for text in texts:
            for part in str(text).split(","):
                if not part.strip():
                    continue
                value, sep, meaning = part.partition("=")
                if not sep or not value.strip() or not meaning.strip():
                    raise ConfigError(f"status map entries look like VALUE=MEANING (e.g. Yes=DNA), not {part.strip()!r}",
                                      field="status_map")
                items.append((value.strip(), meaning.strip()))
    out: dict[str, int] = {}
    for value, meaning in items:
        code = _meaning_code(meaning)
        out[_key(value)] = code
    return out


def _meaning_code(meaning: str | int) -> int:
    if isinstance(meaning, (int, np.integer)) and (int(meaning) in KNOWN_CODES or meaning == FUTURE):
        return int(meaning)
    text = str(meaning).strip()
    if text.isdigit() and int(text) in KNOWN_CODES:
        return int(text)
    code = MEANINGS.get(_key(text))
    if code is None:
        raise ConfigError(
            f"unknown status meaning {meaning!r}; use attended, DNA, cancelled, cancelled by provider, future "
            "or an NHS code 2-7", field="status_map")
    return code


def parse_status(values: pd.Series, user_col: str, file: str | None, status_map: Mapping[str, int] | None = None) -> pd.Series:
    """Attendance values as NHS codes (``Int8``; blank = still to come), row for row.

    Work is per distinct value (a million rows hold a handful), so this is fast.
    """
    mapping = dict(status_map or {})
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    codes, uniques = pd.factorize(text.where(~blank), use_na_sentinel=True)
    decoded = np.full(len(uniques), np.nan)
    unknown = []
    for i, raw in enumerate(uniques):
        number = pd.to_numeric(raw, errors="coerce")
        whole = pd.notna(number) and np.isfinite(number) and float(number).is_integer()
        key = str(int(number)) if whole else _key(raw)  # "1.0" (a float column) is the 1 of "1=DNA"
        if key in mapping:
            code = mapping[key]
        elif whole and int(number) in KNOWN_CODES:
            code = int(number)
        elif key in DEFAULT_SPELLINGS:
            code = DEFAULT_SPELLINGS[key]
        else:
            unknown.append(i)
            continue
        decoded[i] = np.nan if code == FUTURE else code
    if unknown:
        bad = np.isin(codes, unknown)
        first = int(np.flatnonzero(bad)[0])
        counts = text[bad].value_counts().head(5)
        listed = ", ".join(f"{k!r} ({v:,})" for k, v in counts.items())
        where = " not in the status map" if mapping else ""
        raise TableError(
            f"unknown attendance status value(s){where}: {listed}; expected NHS codes 2-7 (5/6 attended, 3/7 did "
            "not attend, 2/4 cancelled), words such as Attended, DNA, Did not attend, Cancelled, or blank for an "
            "appointment still to come; map other values with --status-map, e.g. \"Yes=DNA,No=attended\"",
            file=file, row=first + 2, field=user_col,
        )
    out = np.full(len(codes), np.nan)
    out[codes >= 0] = decoded[codes[codes >= 0]]
    return pd.Series(out, index=values.index).astype("Int8")
