"""Activity counted per output key (outpatients and A&E): rows pooled, Poissons drawn per key.

Outpatient and A&E rows feed only per-output-key totals, so NHP's per-row Poisson resampling and
binomial avoidance can be drawn per output key instead: a Poisson-resampled row thinned by a
binomial is a Poisson with the product of the rates, and a sum of independent Poissons is a
Poisson, so the distribution of every output is the same. Two things make that fast:

- rows that every step treats alike (same output key, joint factor cell, avoidance strategies and
  any activity-specific key) are merged at preparation (:func:`merge_rows`), their counts added;
- a row's avoidance strategies are a *combination* of strategies; the kept share is drawn per
  combination and the avoided activity is drawn per combination and shared out to its strategies
  by their log factors, as NHP attributes it (:class:`StrategyCombos`).

Inpatient spells are not pooled: each spell picks one efficiency strategy per run
(see ``inpatients.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.cells import factorize
from carelens.demand.factors import CLIP, draw_many


@dataclass
class StrategyCombos:
    """Each row's combination of activity-avoidance strategies."""

    combo: np.ndarray  # row -> combination
    member: np.ndarray  # [combination, strategy] bool
    names: list[str]
    lo: np.ndarray  # per strategy: its params interval
    hi: np.ndarray

    @classmethod
    def of(cls, n_rows: int, strategies: dict[str, Any], index_per_rule: list[np.ndarray]
           ) -> tuple["StrategyCombos", list[str]]:
        """Combinations from each rule's row -> strategy position in ``strategies`` (-1: none), as
        NHP names them (e.g. ``followup_reduction_{type}``); also the strategies no row matched."""
        names = list(strategies)
        member = np.zeros((n_rows, len(names)), bool)
        used = np.zeros(len(names), bool)
        for idx in index_per_rule:
            ok = idx >= 0
            member[np.nonzero(ok)[0], idx[ok]] = True
            used[np.unique(idx[ok])] = True
        unmatched = sorted(np.asarray(names, dtype=object)[~used].tolist()) if names else []
        if not names:
            combo, uniq = np.zeros(n_rows, np.int64), np.zeros((1, 0), bool)
        elif len(names) <= 62:
            bits = member.astype(np.int64) @ (np.int64(1) << np.arange(len(names), dtype=np.int64))
            combo = pd.factorize(bits)[0]
            firsts = np.full(combo.max() + 1, n_rows, np.int64)
            np.minimum.at(firsts, combo, np.arange(n_rows))
            uniq = member[firsts]
        else:
            uniq, combo = np.unique(member, axis=0, return_inverse=True)
        lo = np.array([strategies[s]["interval"][0] for s in names], float)
        hi = np.array([strategies[s]["interval"][1] for s in names], float)
        return cls(combo.reshape(-1).astype(np.int64), uniq, names, lo, hi), unmatched

    def draw_keep(self, rng: np.random.Generator, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """One run's drawn factors: per row the share kept, per combination each strategy's share of
        what is avoided (its log factor over the combination's)."""
        if not self.names:
            return np.ones(n_rows), np.zeros((len(self.member), 0))
        logs = np.log(np.maximum(draw_many(rng, self.lo, self.hi, CLIP["activity_avoidance"]), 1e-300))
        per_combo = self.member * logs  # [combo, strategy]
        total = per_combo.sum(axis=1)
        share = np.divide(per_combo, total[:, None], out=np.zeros_like(per_combo), where=total[:, None] != 0)
        return np.exp(total)[self.combo], share

    def attribute(self, rng: np.random.Generator, kind: str, label: str, lost_mean_row: np.ndarray,
                  share: np.ndarray, avoided: dict[tuple[str, str, str], float]) -> float:
        """Avoided activity: Poisson per strategy combination, shared out by log factor into
        ``avoided[(kind, strategy, label)]``; returns the total avoided."""
        if not self.names:
            return 0.0
        mu = np.bincount(self.combo, weights=lost_mean_row, minlength=len(share))
        lost = rng.poisson(mu)
        per = (lost[:, None] * share).sum(axis=0)
        for i, s in enumerate(self.names):
            avoided[(kind, s, label)] = avoided.get((kind, s, label), 0.0) + float(per[i])
        return float(lost.sum())


@dataclass
class Merge:
    """Which rows are merged: :meth:`total` adds up a count column, :meth:`first` keeps a key column."""

    codes: np.ndarray  # row -> merged row
    firsts: np.ndarray  # merged row -> its first row

    @property
    def n(self) -> int:
        return len(self.firsts)

    def total(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=values, minlength=self.n)

    def first(self, values: np.ndarray) -> np.ndarray:
        return values[self.firsts]


def merge_rows(*columns: np.ndarray) -> Merge:
    """Merge rows equal in every one of ``columns`` (output key, joint cell, strategy combination,
    and whatever else an activity's run looks at): their counts add up, and a sum of Poissons is a
    Poisson, so the runs are unchanged in distribution and touch far fewer rows."""
    names = [str(i) for i in range(len(columns))]
    codes = factorize(pd.DataFrame(dict(zip(names, columns))), names)[0]
    n = int(codes.max()) + 1 if len(codes) else 0
    firsts = np.full(n, len(codes), np.int64)
    np.minimum.at(firsts, codes, np.arange(len(codes)))
    return Merge(codes, firsts)


def poisson_by_key(rng: np.random.Generator, key: np.ndarray, mean_row: np.ndarray, n_keys: int) -> np.ndarray:
    """One Poisson draw per output key with the summed mean of its rows."""
    return rng.poisson(np.bincount(key, weights=mean_row, minlength=n_keys))


def unmatched_warnings(source: str, root: str, kind: str, unmatched: list[str]) -> list[str]:
    """NHP ignores an avoidance strategy that matches no rows; carelens says so, naming the fields."""
    if not unmatched:
        return []
    fields = ", ".join(f"activity_avoidance.{kind}.{m}" for m in unmatched)
    return [f"{source}: {len(unmatched)} strategies match no rows of {root}/{kind} and are ignored: {fields}"]
