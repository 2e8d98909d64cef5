"""Expected calibration error for store-side monitoring (the store must not import a capability)."""

from __future__ import annotations

import numpy as np


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |observed - predicted| over equal-count bins of predicted risk."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    chunks = [c for c in np.array_split(order, min(bins, len(y))) if len(c)]
    return float(sum(len(c) * abs(y[c].mean() - p[c].mean()) for c in chunks) / len(y))
