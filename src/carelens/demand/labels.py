"""Plain words and numbers: the demand model's codes as a planner names them, figures rounded to
what they mean.

Why a names table (``names.yaml``) rather than codes on screen: ``aae_type-01``,
``ip_non-elective_admission`` or ``repat_local`` mean nothing to a board. The codes stay in the
CSV files (NHP's names, for anyone joining them to NHP's outputs) and next to the words in the
workbook; pages, workbooks and reports show the words.

Why rounding here: counts of admissions or attendances are whole numbers, beds, theatres and
clinic rooms are read to one decimal at most. Seven significant figures of a Monte Carlo mean
("7870.8359375 beds") suggest a precision no projection has. The store and ``runs.parquet``
keep every digit; what a person reads is rounded.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

#: Columns holding a code, and the kind of code each holds (the kinds of ``names.yaml``).
CODE_COLUMNS = {"pod": "pod", "measure": "measure", "activity": "activity", "step": "step",
                "resource": "resource", "ward_type": "ward_type", "sex": "sex", "tretspef_grouped": "specialty",
                "strategy": "strategy", "functional_area": "functional_area"}
STATISTICS = ("baseline", "principal", "p10", "p50", "p90")
#: What a capacity figure counts (beds, theatres, rooms): one decimal; everything else is a count.
CAPACITY = ("beds", "theatres", "clinic_rooms")
FIGURES = (*STATISTICS, "value", "change")
_WORDS = {"eol": "end of life", "los": "length of stay", "op": "outpatient", "ip": "inpatient", "dc": "day case",
          "aae": "A&E", "sdec": "SDEC", "zerolos": "same day", "nonzerolos": "overnight", "daycase": "day case",
          "nonelective": "non-elective", "pcnt": "%"}


@cache
def _names() -> dict[str, dict[str, str]]:
    text = resources.files("carelens.demand").joinpath("names.yaml").read_text(encoding="utf-8")
    return {kind: {str(k): str(v) for k, v in table.items()} for kind, table in yaml.safe_load(text).items()}


def _spelt_out(code: str) -> str:
    words = [_WORDS.get(w.lower(), w) for w in str(code).replace("_", " ").split()]
    text = " ".join(words).strip()
    return text[:1].upper() + text[1:] if text else text


def functional_area_name(code: str) -> str:
    """``adult_elective_surgical_zerolos`` -> "Adult elective surgical, same day"."""
    parts = str(code).split("_")
    stay = {"zerolos": "same day", "nonzerolos": "overnight"}.get(parts[-1]) if len(parts) > 1 else None
    head = _spelt_out("_".join(parts[:-1] if stay else parts))
    return f"{head}, {stay}" if stay else head


def name(kind: str, code: object) -> str:
    """The plain name of ``code`` (a value of a column of kind ``kind``); a code the names table does
    not know is spelt out (underscores as spaces, abbreviations in words), never dropped."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return ""
    text = str(code)
    names = _names()
    if kind == "functional_area":
        return names["ward_type"].get(text) or functional_area_name(text)
    if text in names.get(kind, {}):
        return names[kind][text]
    if kind == "measure" and text in names["ward_type"]:  # a capacity trajectory's measure is its ward type
        return names["ward_type"][text]
    return _spelt_out(text)


def heading(column: str) -> str:
    """A column's heading in words (a statistic, a dimension, or the column itself)."""
    names = _names()
    return names["statistic"].get(column) or names["column"].get(column) or column


def named(frame: pd.DataFrame, *, headings: bool = True) -> pd.DataFrame:
    """A copy with every code column in words and, with ``headings``, column names in words too."""
    out = frame.copy()
    for column, kind in CODE_COLUMNS.items():
        if column in out.columns:
            codes = out[column].astype(object)
            words = {code: name(kind, code) for code in pd.unique(codes)}
            out[column] = codes.map(words)
    if headings:
        out.columns = [heading(str(c)) for c in out.columns]
    return out


def capacity_rows(frame: pd.DataFrame) -> np.ndarray:
    """Which rows count beds, theatres or clinic rooms (rounded to one decimal, not to whole numbers)."""
    for column in ("resource", "activity"):
        if column in frame.columns:
            return frame[column].astype(str).isin(CAPACITY).to_numpy()
    return np.zeros(len(frame), dtype=bool)


def rounded(frame: pd.DataFrame, figures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """A copy with figures rounded to what they mean: counts to whole numbers, beds, theatres and
    clinic rooms to one decimal. ``figures``: the columns to round (default: the statistics,
    ``value`` and ``change`` that the frame has)."""
    out = frame.copy()
    capacity = capacity_rows(out)
    for column in figures or [c for c in out.columns if c in FIGURES]:
        values = pd.to_numeric(out[column], errors="coerce").astype(float)
        tenths = values.round(1) + 0.0  # + 0.0: no "-0.0"
        whole = values.round().astype("Int64")
        if capacity.all():
            out[column] = tenths
        elif not capacity.any():
            out[column] = whole
        else:  # a table of both (trajectories): each row as what it counts
            out[column] = pd.Series(np.where(capacity, tenths.astype(object), whole.astype(object)),
                                    index=out.index, dtype=object)
    return out
