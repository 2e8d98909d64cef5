"""The small-number rule: one threshold, and the two ways it applies. Pure functions over counts and frames.

Why: a handful of patients picked out by where, when and who they are can be identified, so any
figure or list covering fewer than ``suppress_below`` people (setting ``suppress_below``, default
:data:`DEFAULT_SUPPRESS_BELOW`) is hidden. Every capability, page, API route and report asks this
module, so the rule and its threshold are written once.

- **Counts** (:func:`count_suppressed`, :func:`suppress_small_cells`): a breakdown cell, a total,
  or the comments behind one chart element (a cell seen from the other side) covering fewer than
  the threshold is suppressed, an empty one included: its figures become missing and
  ``suppressed`` is True.
- **Comment lists picked out by a demographic filter** (:func:`comment_list_withheld`): fewer than
  the threshold (but at least one) are withheld, since their writers' age band, ethnicity ...
  would be disclosed beside their words. Lists selected by place, topic or search alone are shown
  however short: their text is redacted and says nothing new about the writer.

The count rule is the stricter of the two (it withholds every short list the list rule does, and
more); the chart drill-through follows it.

How a breakdown leaves the store (one rule for every summary, total, export and route):
:func:`drop_suppressed_rows` removes every row whose own count is under the threshold (no
count, date or label of it is returned); inside a returned row :func:`suppress_counts` hides
every count under the threshold (a sub-cell: the negative comments of a topic), and, where the
hidden count is one part of a shown whole (positive + neutral + negative), a second part, so the
hidden one cannot be worked out by subtraction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_SUPPRESS_BELOW = 10


def threshold(suppress_below: int | None = None) -> int:
    """``suppress_below`` when given (0 switches suppression off for a figure that needs no
    protection, e.g. a mean over everything shown), else the settings' ``suppress_below``."""
    if suppress_below is not None:
        return int(suppress_below)
    from carelens.config import load_settings

    return load_settings().suppress_below


def count_suppressed(count: int, suppress_below: int | None = None) -> bool:
    """Whether a figure covering ``count`` people (or comments) must be hidden."""
    return int(count) < threshold(suppress_below)


def suppress_small_cells(frame: pd.DataFrame, count_column: str, value_columns: Sequence[str],
                         suppress_below: int | None = None) -> pd.DataFrame:
    """``frame`` with a ``suppressed`` column, and ``value_columns`` set to missing on rows whose
    ``count_column`` is under the threshold (in place; returned for chaining)."""
    small = frame[count_column] < threshold(suppress_below)
    frame["suppressed"] = small.to_numpy()
    for column in value_columns:
        frame[column] = frame[column].astype("Float64" if frame[column].dtype.kind == "f" else "Int64")
        frame.loc[small, column] = pd.NA
    return frame


def comment_list_withheld(total: int, suppress_below: int | None = None, *, picked_by_demographics: bool) -> bool:
    """Whether a list of ``total`` comments must be withheld (see the module's rule for lists)."""
    return bool(picked_by_demographics and 0 < total < threshold(suppress_below))


def drop_suppressed_rows(frame: pd.DataFrame, count_column: str, suppress_below: int | None = None) -> pd.DataFrame:
    """``frame`` without the rows whose ``count_column`` is under the threshold, with a ``suppressed``
    column (False on every row left: kept so a row's shape says what the rule did)."""
    keep = ~(frame[count_column].astype(float) < threshold(suppress_below)).to_numpy()
    out = frame.loc[keep].reset_index(drop=True)
    out["suppressed"] = False
    return out


def suppress_counts(frame: pd.DataFrame, columns: Sequence[str], suppress_below: int | None = None, *,
                    partition: bool = False) -> pd.DataFrame:
    """Every count in ``columns`` under the threshold becomes missing (a new frame; ``columns`` become
    ``Int64``). With ``partition`` (the columns are the parts of a whole that is shown or can be
    asked for, like positive + neutral + negative), a row where exactly one part is hidden also
    loses its smallest shown part: otherwise the hidden one is the whole minus the rest."""
    out = frame.copy()
    if out.empty or not columns:
        for column in columns:
            out[column] = out[column].astype("Int64")
        return out
    values = out[list(columns)].astype(float).to_numpy()
    hidden = values < threshold(suppress_below)
    if partition and len(columns) > 1:
        lonely = hidden.sum(axis=1) == 1
        if lonely.any():
            shown = np.where(hidden, np.inf, values)
            rows = np.flatnonzero(lonely)
            hidden[rows, shown[rows].argmin(axis=1)] = True
    for j, column in enumerate(columns):
        col = out[column].astype("Int64")
        col[hidden[:, j]] = pd.NA
        out[column] = col
    return out
