"""Rows to cells: the array helpers every activity type's preparation uses.

The engine is fast because nothing is computed per row that can be computed per distinct value or
per combination of values ("cell"): a trust has 100k-1M rows but only hundreds or thousands of
cells. These helpers turn columns into integer codes once, so string work and dictionary look-ups
happen once per distinct value and reach the rows with one gather.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def factorize(frame: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Row -> code of its combination of ``cols``, and one row per combination (fast: int keys)."""
    n = len(frame)
    if not cols:
        return np.zeros(n, np.int64), pd.DataFrame(index=range(1 if n else 0))
    key = np.zeros(n, np.int64)
    for col in cols:
        series = frame[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            codes = series.cat.codes.to_numpy(np.int64) + 1  # -1 (missing) -> 0
            size = len(series.cat.categories) + 1
        else:
            codes, uniques = pd.factorize(series, use_na_sentinel=False)
            size = max(len(uniques), 1)
        key = key * size + codes
    codes, _ = pd.factorize(key)
    first = np.full(codes.max() + 1 if n else 0, n, np.int64)
    np.minimum.at(first, codes, np.arange(n))
    cells = frame[cols].iloc[first].reset_index(drop=True)
    return codes.astype(np.int64), cells


def codes_of(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes per row and the distinct values as str (string work is then done once per value)."""
    col = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy(np.int64)
        uniq = np.asarray([str(c) for c in col.cat.categories], dtype=object)
    else:
        codes, u = pd.factorize(col, use_na_sentinel=False)
        codes = codes.astype(np.int64)
        uniq = np.asarray([str(c) for c in u], dtype=object)
    if (codes < 0).any():  # a missing value in a categorical
        uniq = np.append(uniq, "nan")
        codes = np.where(codes < 0, len(uniq) - 1, codes)
    return codes, uniq


def text_of(values: Any) -> np.ndarray:
    """Each row's value as str (converted once per distinct value)."""
    codes, uniq = codes_of(values)
    return uniq[codes] if len(uniq) else np.zeros(len(codes), dtype=object)


def index_of(values: Any, names: list[str], prefix: str = "", mask: np.ndarray | None = None,
             replace: tuple[str, str] | None = None) -> np.ndarray:
    """Per row: position in ``names`` of ``prefix + value`` (or of the value with ``replace``
    applied once), -1 where absent or where ``mask`` is False; computed once per distinct value.

    This is how NHP's strategy names are built from a row's columns (e.g.
    ``followup_reduction_{type}``) without building a string per row."""
    codes, uniq = codes_of(values)
    labels = [prefix + (u.replace(replace[0], replace[1], 1) if replace else u) for u in uniq]
    pos = {n: i for i, n in enumerate(names)}
    per = np.fromiter((pos.get(x, -1) for x in labels), np.int64, len(labels))
    out = per[codes] if len(per) else np.full(len(codes), -1, np.int64)
    return np.where(mask, out, -1) if mask is not None else out


def flag(frame: pd.DataFrame, col: str, default: bool = False) -> np.ndarray:
    """A 0/1 column as bool, or ``default`` for every row where the (optional) column is absent."""
    if col not in frame:
        return np.full(len(frame), default)
    return frame[col].to_numpy(bool)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of products without BLAS: its thread pool spins badly on a busy shared machine."""
    return float(np.multiply(a, b, dtype=np.float64).sum())
