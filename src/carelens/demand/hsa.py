"""Health-status adjustment, as NHP 6.x does it (``nhp/model/health_status_adjustment.py``).

People expected to live longer are assumed to spend part of the gain in good health, so a person
of age ``a`` in the horizon year uses care like a younger person of the baseline year:

    adjusted_age(a) = a - h * (ex[end, sex, a] - ex[start, sex, a])   for a in 55..90

``ex`` is life expectancy and ``h`` (per run, per sex) the share of the gain spent in good health:
``h = (q / 100 * ex65[end] - DFLE) / (ex65[end] - ex65[start])`` with ``q`` drawn from a metalog
distribution. As in NHP, the adjustment is rebased to the start year by subtracting the mean shift
from 2021 (NHP's base year) to the start year. The factor for (hsagrp, sex, age) is the activity
rate at the adjusted age (linear interpolation over ages 0..100) over the rate at the true age.

The two reference tables come from NHP's package (MIT, see ``reference/README.md``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

from carelens.errors import ParamsError

BASE_YEAR = 2021
DFLE = {1: 10.45, 2: 10.66}
REFERENCE_AGE = 65
AGES = np.arange(55, 91)
# NHP draws q by picking uniformly one of these probability levels (metalog_jax DEFAULT_Y_FULL)
GRID = np.arange(10, 10_000, dtype=np.float64) / 10_000


@lru_cache(maxsize=1)
def _reference() -> dict:
    text = resources.files("carelens.demand").joinpath("reference/nhp_hsa.json").read_text(encoding="utf-8")
    return json.loads(text)


def metalog_ppf(y: np.ndarray, a: list[float], lower: float, upper: float) -> np.ndarray:
    """Quantile function of a bounded metalog (Keelin 2016), term order as metalog_jax's."""
    a = np.asarray(a, float)
    d = y - 0.5
    lg = np.log(y / (1 - y))
    m = a[0] + a[1] * lg
    if len(a) > 2:
        m = m + a[2] * d * lg
    if len(a) > 3:
        m = m + a[3] * d
    odd = even = 2
    for term in range(5, len(a) + 1):
        if term % 2 == 1:
            m = m + a[term - 1] * d ** odd
            odd += 1
        else:
            m = m + a[term - 1] * d ** even * lg
            even += 1
    e = np.exp(m)
    return (lower + upper * e) / (1 + e)


class HealthStatus:
    """Per-run adjusted ages (by sex, for ages 55..90) for one start/end year pair."""

    def __init__(self, start_year: int, end_year: int, source: str = "<params>") -> None:
        ref = _reference()
        le, meta = ref["life_expectancy"], ref["metalog"]
        for year in {BASE_YEAR, start_year, end_year}:
            if str(year) not in le["1"]:
                raise ParamsError(
                    f"health status adjustment needs life expectancy for {year}; NHP's table covers"
                    f" {min(le['1'], key=int)}-{max(le['1'], key=int)}", file=source, field="health_status_adjustment")
        for year in {start_year, end_year}:
            if str(year) not in meta:
                raise ParamsError(
                    f"health status adjustment has no NHP distribution for year {year} (NHP covers"
                    f" {min(meta, key=int)}-{max(meta, key=int)}); set health_status_adjustment to false",
                    file=source, field="health_status_adjustment")
        self.start, self.end = start_year, end_year
        self._ex = {s: {int(y): np.asarray(v, float) for y, v in le[str(s)].items()} for s in (1, 2)}
        self._meta = meta
        # rebase: the mean shift from NHP's base year to the start year, over NHP's grid of draws
        self.rebase = {s: self._h(GRID, s, BASE_YEAR, start_year).mean()
                       * (self._ex[s][start_year] - self._ex[s][BASE_YEAR]) for s in (1, 2)}
        self._gain = {s: self._ex[s][end_year] - self._ex[s][start_year] for s in (1, 2)}

    def _h(self, y: np.ndarray, sex: int, start: int, end: int) -> np.ndarray:
        spec = self._meta[str(end)]["m" if sex == 1 else "f"]
        mp = spec["metalog_params"]
        q = metalog_ppf(y, spec["a"], float(mp["lower_bound"]), float(mp["upper_bound"]))
        age = REFERENCE_AGE - 55
        target, base = self._ex[sex][end][age], self._ex[sex][start][age]
        if target == base:  # no change in life expectancy (e.g. end year = start year): nothing to share
            return np.zeros_like(q)
        return (q / 100 * target - DFLE[sex]) / (target - base)

    def draw_h(self, rng: np.random.Generator) -> np.ndarray:
        """h for sex 1 and 2 in one run (NHP: one grid point picked uniformly per sex)."""
        picks = GRID[rng.integers(0, len(GRID), size=2)]
        return np.array([self._h(picks[i:i + 1], s, self.start, self.end)[0] for i, s in enumerate((1, 2))])

    def adjusted_ages(self, h: np.ndarray) -> np.ndarray:
        """[sex - 1, age - 55] adjusted ages for a run's h (see the module docstring)."""
        return np.vstack([AGES - h[i] * self._gain[s] + self.rebase[s] for i, s in enumerate((1, 2))])

    def mean_shift(self) -> np.ndarray:
        """Expected years 'younger' by [sex - 1, age - 55] (for documentation and tests)."""
        hbar = np.array([self._h(GRID, s, self.start, self.end).mean() for s in (1, 2)])
        return AGES - self.adjusted_ages(hbar)



def hsa_factors(adjusted: np.ndarray, table: np.ndarray, row: np.ndarray, sex: np.ndarray,
                age: np.ndarray) -> np.ndarray:
    """Factor per cell: activity(hsagrp, sex, adjusted age) / activity(hsagrp, sex, age).

    ``table[row, 0..100]`` holds activity rates by age for each (hsagrp, sex); ``row`` is -1 where a
    cell's (hsagrp, sex) is not in the table. Cells aged outside 55..90 (or not in the table) get 1,
    as NHP's left join does; a negative interpolated rate becomes 0, a zero baseline rate gives 1.
    """
    out = np.ones(len(row))
    ok = (row >= 0) & (age >= 55) & (age <= 90) & ((sex == 1) | (sex == 2))
    if not ok.any():
        return out
    r, a, s = row[ok], age[ok], sex[ok]
    adj = np.clip(adjusted[s - 1, a - 55], 0.0, 100.0)
    lo = np.minimum(np.floor(adj).astype(np.int64), 99)
    w = adj - lo
    num = np.maximum(table[r, lo] * (1 - w) + table[r, lo + 1] * w, 0.0)
    den = table[r, a]
    out[ok] = np.divide(num, den, out=np.ones_like(num), where=den != 0)
    return out
