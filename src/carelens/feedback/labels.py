"""Reading labels from a trust's training file: wide (one 0/1 column per label) or joined.

Both layouts are common: coding tools export one column per code, while spreadsheets kept by hand
usually have a single "codes" column such as "Parking; Food & drink". Values are validated cell by
cell so a typo points at its row, not at a failed fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carelens.errors import TableError
from carelens.feedback.framework import Framework

_TRUE = {"1", "1.0", "true", "yes", "y", "x"}
_FALSE = {"", "0", "0.0", "false", "no", "n", "nan", "<na>", "none"}


def parse_flag_column(values: pd.Series, *, column: str, file: str | None) -> np.ndarray:
    out = np.zeros(len(values), dtype=np.int8)
    for i, v in enumerate(values.tolist()):
        s = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip().lower()
        if s in _TRUE:
            out[i] = 1
        elif s not in _FALSE:
            raise TableError(f"expected 0/1 (or blank) but found {str(v)[:30]!r}", file=file, row=i + 2, field=column)
    return out


def wide_labels(
    frame: pd.DataFrame, framework: Framework, *, file: str | None = None, use_v6_mapping: bool = True
) -> np.ndarray:
    """(n, L) matrix for the framework's learnable labels, from one 0/1 column per label.

    A label with no column of its own may be the OR of older columns (the framework's
    ``v6_mapping``), which is how the default model maps the public v6-coded data to v7.
    """
    labels = framework.learnable_labels
    matrix = np.zeros((len(frame), len(labels)), dtype=np.int8)
    missing = []
    for j, label in enumerate(labels):
        sources = [label] if label in frame.columns else []
        if use_v6_mapping and label in framework.v6_mapping:
            sources = [c for c in framework.v6_mapping[label] if c in frame.columns] or sources
        if not sources:
            missing.append(label)
            continue
        for col in sources:
            matrix[:, j] |= parse_flag_column(frame[col], column=col, file=file)
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise TableError(
            f"no column for label{'s' if len(missing) > 1 else ''} {shown}; give one 0/1 column per "
            "label of the framework, or one column of joined labels with --column labels=NAME",
            file=file,
            field=missing[0],
        )
    return matrix


def joined_labels(
    frame: pd.DataFrame, column: str, sep: str, framework: Framework | None, *, file: str | None = None
) -> tuple[np.ndarray, Framework]:
    """(n, L) matrix from one column of separator-joined label names; unknown names are errors."""
    parsed: list[list[str]] = []
    for v in frame[column].tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            parsed.append([])
        else:
            parsed.append([p.strip() for p in str(v).split(sep) if p.strip()])
    if framework is None:
        found = sorted({name for row in parsed for name in row})
        if not found:
            raise TableError("no labels found in the labels column", file=file, field=column)
        framework = Framework.from_labels(found, name="labels found in training data")
    known = {name.lower(): name for name in framework.label_names}
    labels = framework.learnable_labels
    index = {name: j for j, name in enumerate(labels)}
    matrix = np.zeros((len(frame), len(labels)), dtype=np.int8)
    for i, row in enumerate(parsed):
        for name in row:
            canonical = known.get(name.lower())
            if canonical is None:
                raise TableError(
                    f"label {name!r} is not in the framework '{framework.name}'", file=file, row=i + 2, field=column
                )
            if canonical in index:
                matrix[i, index[canonical]] = 1
    return matrix, framework
