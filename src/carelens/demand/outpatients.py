"""Outpatient attendances: growth, activity avoidance and conversion to tele-attendances.

Rows are pooled and drawn per output key (``pooled.py`` says why that is NHP's distribution).
Avoidance strategies are matched to rows as NHP's ``outpatients.py`` names them (follow-up,
consultant-to-consultant and GP-referred first attendance reductions, by type); the tele
conversion (``efficiencies.op.convert_to_tele_{type}``) moves face-to-face attendances without a
procedure to tele-attendances, so it changes the mix and not the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from carelens.demand.cells import codes_of, flag, index_of
from carelens.demand.data import TrustData
from carelens.demand.factors import CLIP, GrowthFactors, Horizon, Param, prepare_growth, with_default_groups
from carelens.demand.keys import M, OutputKeys, fill_waterfall
from carelens.demand.params import Params
from carelens.demand.pooled import StrategyCombos, merge_rows, poisson_by_key, unmatched_warnings

FLAGS = ["is_first", "is_gp_ref", "is_cons_cons_ref", "has_procedures"]


@dataclass
class Outpatients:
    """Outpatient rows prepared for fast runs (merged where every step treats them alike)."""

    n: int
    out_key: np.ndarray  # row -> output key
    growth: GrowthFactors
    avoidance: StrategyCombos
    tele: Param  # per row: share of face-to-face attendances that stay face to face
    attendances: np.ndarray  # face-to-face attendances per row
    tele_attendances: np.ndarray
    baseline_total: float  # all attendances (face to face and tele) of the data

    @classmethod
    def prepare(cls, params: Params, data: TrustData, horizon: Horizon, keys: OutputKeys,
                warnings: list[str]) -> "Outpatients":
        """The rows, merged; an avoidance strategy matching no row adds a line to ``warnings``."""
        op = with_default_groups(data["op"])
        op = op.assign(**{f: flag(op, f) for f in FLAGS if f not in op})
        if "is_first" not in data["op"]:
            gcodes, groups = codes_of(op["group"])
            op = op.assign(is_first=(groups == "first")[gcodes])
        att = op["attendances"].to_numpy(float)
        tele = op["tele_attendances"].to_numpy(float)
        base = att + tele
        out_key = keys.of(op)
        growth = prepare_growth(op, "op", "procedure", {"attendances": base}, horizon, params, data)
        first, proc = op["is_first"].to_numpy(bool), op["has_procedures"].to_numpy(bool)
        strategies = (params.raw.get("activity_avoidance") or {}).get("op") or {}
        names = list(strategies)
        # NHP (outpatients.py: _load_strategies)
        rows = [index_of(op["type"], names, "followup_reduction_", ~first & ~proc),
                index_of(op["type"], names, "consultant_to_consultant_reduction_",
                         op["is_cons_cons_ref"].to_numpy(bool)),
                index_of(op["type"], names, "gp_referred_first_attendance_reduction_",
                         op["is_gp_ref"].to_numpy(bool) & first)]
        avoidance, unmatched = StrategyCombos.of(len(op), strategies, rows)
        warnings += unmatched_warnings(params.source, data.root, "op", unmatched)
        tele_s = (params.raw.get("efficiencies") or {}).get("op") or {}
        tele_s = {k: v for k, v in tele_s.items() if k.startswith("convert_to_tele_")}
        tparam = Param.of([], {k: v["interval"] for k, v in tele_s.items()}, CLIP["efficiencies"])
        tparam.idx = index_of(op["type"], list(tele_s), "convert_to_tele_", ~proc)
        # merge rows alike in output key, joint cell, avoidance strategies and tele conversion
        merge = merge_rows(out_key, growth.joint.row, avoidance.combo, tparam.idx)
        growth.joint.row = merge.first(growth.joint.row)
        avoidance.combo = merge.first(avoidance.combo)
        tparam.idx = merge.first(tparam.idx)
        return cls(merge.n, merge.first(out_key), growth, avoidance, tparam, merge.total(att), merge.total(tele),
                   float(merge.total(base).sum()))

    def baseline(self, values: np.ndarray, waterfall: dict[Any, np.ndarray]) -> None:
        """Run 0: the data as is."""
        k = len(values)
        values[:, M["attendances"]] += np.bincount(self.out_key, weights=self.attendances, minlength=k)
        values[:, M["tele_attendances"]] += np.bincount(self.out_key, weights=self.tele_attendances, minlength=k)
        waterfall[("op", "attendances")][0] = self.baseline_total

    def run(self, rng: np.random.Generator, variant: int, ages: np.ndarray | None, values: np.ndarray,
            waterfall: dict[Any, np.ndarray], avoided: dict[tuple[str, str, str], float]) -> None:
        """One run, added into ``values``, ``waterfall`` and ``avoided``."""
        k = len(values)
        steps: dict[str, np.ndarray] = {}
        f = self.growth.draw(rng, variant, ages, steps)
        keep, share = self.avoidance.draw_keep(rng, self.n)
        q = self.tele.values(rng)  # share of face-to-face attendances that stay face to face
        lam_a, lam_t = self.attendances * f, self.tele_attendances * f
        kept_a = lam_a * keep
        key = self.out_key
        stay = poisson_by_key(rng, key, kept_a * q, k)
        moved = poisson_by_key(rng, key, kept_a * (1.0 - q), k)
        tele = poisson_by_key(rng, key, lam_t * keep, k)
        lost = self.avoidance.attribute(rng, "op", "attendances", (lam_a + lam_t) * (1.0 - keep), share, avoided)
        values[:, M["attendances"]] += stay
        values[:, M["tele_attendances"]] += tele + moved
        after_avoid = float(stay.sum() + moved.sum() + tele.sum())
        # tele conversion moves attendances between measures: efficiencies leave the total unchanged
        fill_waterfall(waterfall[("op", "attendances")], steps["attendances"], after_avoid + lost, -lost, 0.0)
