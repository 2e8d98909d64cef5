"""A&E arrivals: growth and activity avoidance, by ambulance and walk-in arrival.

Rows are pooled and drawn per output key (``pooled.py`` says why that is NHP's distribution).
Avoidance strategies are matched as NHP's ``aae.py`` does: a row's flag (frequent attender, left
before treatment, low-cost discharge, discharged with no treatment) picks the strategy named like
its ``hsagrp`` with "aae" replaced by the strategy's stem. A&E has no efficiencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.cells import codes_of, flag, index_of
from carelens.demand.data import TrustData
from carelens.demand.factors import GrowthFactors, Horizon, prepare_growth, with_default_groups
from carelens.demand.keys import M, OutputKeys, fill_waterfall
from carelens.demand.params import Params
from carelens.demand.pooled import StrategyCombos, merge_rows, poisson_by_key, unmatched_warnings

# NHP (aae.py: _load_strategies): the row's flag and the strategy stem it selects
RULES = [("is_frequent_attender", "frequent_attenders"), ("is_left_before_treatment", "left_before_seen"),
         ("is_low_cost_referred_or_discharged", "low_cost_discharged"),
         ("is_discharged_no_treatment", "discharged_no_treatment")]
ARRIVAL_MEASURES = (M["ambulance"], M["walk-in"])


@dataclass
class AccidentAndEmergency:
    """A&E rows prepared for fast runs (merged where every step treats them alike)."""

    n: int
    out_key: np.ndarray  # row -> output key
    growth: GrowthFactors
    avoidance: StrategyCombos
    measure: np.ndarray  # row -> M["ambulance"] or M["walk-in"]
    arrivals: np.ndarray  # arrivals per row

    @classmethod
    def prepare(cls, params: Params, data: TrustData, horizon: Horizon, keys: OutputKeys,
                warnings: list[str]) -> "AccidentAndEmergency":
        """The rows, merged; an avoidance strategy matching no row adds a line to ``warnings``."""
        aae = with_default_groups(data["aae"]).assign(is_wla=False)
        arr = aae["arrivals"].to_numpy(float)
        out_key = keys.of(aae)
        growth = prepare_growth(aae, "aae", None, {"arrivals": arr}, horizon, params, data)
        hsagrp = aae["hsagrp"]
        if not all(str(h).startswith("aae") for h in codes_of(hsagrp)[1]):  # simple layout: build NHP's hsagrp
            gcodes, groups = codes_of(aae["group"])
            adult = flag(aae, "is_adult", True)
            hsagrp = pd.Series(pd.Categorical.from_codes(
                gcodes * 2 + adult.astype(np.int64),
                [f"aae_{a}_{g}" for g in groups for a in ("child", "adult")]))
        strategies = (params.raw.get("activity_avoidance") or {}).get("aae") or {}
        names = list(strategies)
        # NHP (aae.py: _load_strategies): the hsagrp with "aae" replaced by the strategy's stem
        rows = [index_of(hsagrp, names, mask=flag(aae, col), replace=("aae", stem)) for col, stem in RULES]
        avoidance, unmatched = StrategyCombos.of(len(aae), strategies, rows)
        warnings += unmatched_warnings(params.source, data.root, "aae", unmatched)
        if "is_ambulance" in aae:
            amb = flag(aae, "is_ambulance")
        else:
            gcodes, groups = codes_of(aae["group"])
            amb = (groups == "ambulance")[gcodes]
        measure = np.where(amb, M["ambulance"], M["walk-in"])
        # merge rows alike in output key, joint cell, avoidance strategies and arrival mode
        merge = merge_rows(out_key, growth.joint.row, avoidance.combo, measure)
        growth.joint.row = merge.first(growth.joint.row)
        avoidance.combo = merge.first(avoidance.combo)
        return cls(merge.n, merge.first(out_key), growth, avoidance, merge.first(measure), merge.total(arr))

    def baseline(self, values: np.ndarray, waterfall: dict[Any, np.ndarray]) -> None:
        """Run 0: the data as is."""
        k = len(values)
        for m in ARRIVAL_MEASURES:
            sel = self.measure == m
            values[:, m] += np.bincount(self.out_key[sel], weights=self.arrivals[sel], minlength=k)
        waterfall[("aae", "arrivals")][0] = float(self.arrivals.sum())

    def run(self, rng: np.random.Generator, variant: int, ages: np.ndarray | None, values: np.ndarray,
            waterfall: dict[Any, np.ndarray], avoided: dict[tuple[str, str, str], float]) -> None:
        """One run, added into ``values``, ``waterfall`` and ``avoided``."""
        k = len(values)
        steps: dict[str, np.ndarray] = {}
        f = self.growth.draw(rng, variant, ages, steps)
        keep, share = self.avoidance.draw_keep(rng, self.n)
        lam = self.arrivals * f
        kept = 0.0
        for m in ARRIVAL_MEASURES:
            sel = self.measure == m
            draw = poisson_by_key(rng, self.out_key[sel], (lam * keep)[sel], k)
            values[:, m] += draw
            kept += float(draw.sum())
        lost = self.avoidance.attribute(rng, "aae", "arrivals", lam * (1.0 - keep), share, avoided)
        fill_waterfall(waterfall[("aae", "arrivals")], steps["arrivals"], kept + lost, -lost)  # no efficiencies
