"""Inpatient spells: growth, activity avoidance, efficiencies and conversions, per spell.

Unlike outpatients and A&E (``pooled.py``), spells are never pooled: NHP gives each spell one of
its efficiency strategies, chosen uniformly at random in every run, and a converted spell changes
setting (day case, outpatient procedure, same-day emergency care), so the draws stay per spell.
They are still drawn on counts, never by copying rows: Poisson resampling followed by binomial
avoidance is a Poisson kept and an independent Poisson avoided (Poisson splitting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.capacity_areas import CapacityAreas
from carelens.demand.cells import codes_of, dot, flag, index_of
from carelens.demand.data import TrustData
from carelens.demand.factors import CLIP, GrowthFactors, Horizon, draw_many, prepare_growth, with_default_groups
from carelens.demand.keys import DAYCASE, M, OUTPATIENT_PROCEDURE, SDEC, OutputKeys, fill_waterfall
from carelens.demand.params import Params
from carelens.errors import TableError

# NHP (InpatientsModel._load_strategies): the strategy a spell with none gets, by admission method
GENERAL_LOS = {"1": "general_los_reduction_elective", "2": "general_los_reduction_emergency"}
# an efficiency's type as the run's code: 0 thins the nights, the others act on whole copies
EFFICIENCY_TYPES = {"all": 0, "pre-op": 1, "sdec": 2, "day_procedures_daycase": 3, "day_procedures_outpatients": 4}


@dataclass
class SpellAvoidance:
    """Activity avoidance: one Bernoulli(sample_rate) per (spell, strategy) row and run says
    whether the strategy applies to the spell in that run."""

    rows: np.ndarray  # per (spell, strategy) row: the spell
    strategy: np.ndarray  # ... and the strategy's position in ``names``
    rate: np.ndarray  # ... and its sample_rate
    names: list[str]
    lo: np.ndarray  # per strategy: its params interval
    hi: np.ndarray


@dataclass
class SpellEfficiencies:
    """Efficiencies: each spell's strategies, contiguous per spell (sample_rate ignored, as NHP)."""

    spells: np.ndarray  # spells with at least one strategy
    start: np.ndarray  # per such spell: its first entry in ``strategy``
    count: np.ndarray  # per such spell: how many strategies it has
    strategy: np.ndarray  # entries: strategy position in ``names``
    names: list[str]
    lo: np.ndarray  # per strategy: its params interval
    hi: np.ndarray
    kind: np.ndarray  # per strategy: its EFFICIENCY_TYPES code
    preop_days: np.ndarray  # per strategy: pre-op nights saved (type pre-op)


@dataclass
class Inpatients:
    """Inpatient spells prepared for fast runs (one row per spell, in the data's order)."""

    n: int
    out_key: np.ndarray  # spell -> output key
    growth: GrowthFactors
    speldur: np.ndarray  # nights per spell
    has_procedure: np.ndarray  # procedures per admission (0/1 flag, or counted from the theatre table)
    avoidance: SpellAvoidance
    efficiencies: SpellEfficiencies
    daycase_key: np.ndarray  # spell -> output key once converted to a day case
    op_key: np.ndarray  # ... to an outpatient procedure
    sdec_key: np.ndarray  # ... to same-day emergency care

    @classmethod
    def prepare(cls, params: Params, data: TrustData, horizon: Horizon, keys: OutputKeys,
                warnings: list[str]) -> tuple["Inpatients", CapacityAreas]:
        """The spells and the capacity areas they use; a params strategy with no rows in the data
        adds a line to ``warnings`` (NHP stops with an error there)."""
        ip = with_default_groups(data["ip"].reset_index(drop=True))
        raw = params.raw
        n = len(ip)
        speldur = ip["speldur"].to_numpy(np.int64)
        out_key = keys.of(ip)
        base = {"admissions": np.ones(n), "beddays": speldur + 1.0}
        growth = prepare_growth(ip, "ip", "elective", base, horizon, params, data)
        has_procedure = flag(ip, "has_procedure") if "has_procedure" in ip else None
        rn_pos = pd.Index(ip["rn"].to_numpy())
        if rn_pos.has_duplicates:
            raise TableError("spell ids must be unique", file=f"{data.root}/ip", field="rn")

        def rows_of(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
            pos = rn_pos.get_indexer(table["rn"].to_numpy())
            return pos, pos >= 0

        # activity avoidance: one Bernoulli(sample_rate) per (spell, strategy) row and run
        strategies = raw.get("activity_avoidance", {}).get("ip", {}) or {}
        names = list(strategies)
        table = data["ip_activity_avoidance_strategies"]
        warnings += _missing(params, data, "activity_avoidance", table, names, set())
        strat = index_of(table["strategy"], names)
        rows, ok = rows_of(table)
        ok &= strat >= 0
        avoidance = SpellAvoidance(rows[ok], strat[ok], table["sample_rate"].to_numpy(float)[ok], names,
                                   np.array([strategies[s]["interval"][0] for s in names], float),
                                   np.array([strategies[s]["interval"][1] for s in names], float))
        # efficiencies: one strategy per spell, chosen at random per run (sample_rate ignored, as NHP)
        effs = raw.get("efficiencies", {}).get("ip", {}) or {}
        enames = list(effs)
        etable = data["ip_efficiencies_strategies"]
        warnings += _missing(params, data, "efficiencies", etable, enames, set(GENERAL_LOS.values()))
        estrat = index_of(etable["strategy"], enames)
        erows, eok = rows_of(etable)
        eok &= estrat >= 0
        erows, estrat = erows[eok], estrat[eok]
        # NHP (InpatientsModel._load_strategies): a spell with no efficiency strategy, speldur > 0 and
        # classpat "1" gets general_los_reduction_elective (admimeth "1...") or _emergency ("2...")
        if {"admimeth", "classpat"} <= set(ip.columns):
            has = np.zeros(n, bool)
            has[erows] = True
            cp_codes, cp = codes_of(ip["classpat"])
            free = ~has & (speldur > 0) & (cp == "1")[cp_codes]
            am_codes, am = codes_of(ip["admimeth"])
            for prefix, name in GENERAL_LOS.items():
                if name in effs:
                    starts = np.array([a.startswith(prefix) for a in am], bool)
                    sel = np.nonzero(free & starts[am_codes])[0]
                    erows = np.concatenate([erows, sel])
                    estrat = np.concatenate([estrat, np.full(len(sel), enames.index(name), np.int64)])
        order = np.lexsort((estrat, erows))
        erows, estrat = erows[order], estrat[order]
        spells, start, count = np.unique(erows, return_index=True, return_counts=True)
        types = np.array([effs[s].get("type", "all") for s in enames] or ["all"], dtype=object)
        efficiencies = SpellEfficiencies(
            spells, start, count, estrat, enames,
            np.array([effs[s]["interval"][0] for s in enames], float),
            np.array([effs[s]["interval"][1] for s in enames], float),
            np.array([EFFICIENCY_TYPES.get(str(x), 0) for x in types], np.int64),
            np.array([int(effs[s].get("pre-op_days", 1)) for s in enames] or [0], np.int64))
        # keys for converted spells (day case, outpatient procedure, same-day emergency care)
        daycase_key, op_key, sdec_key = keys.of(ip, **DAYCASE), keys.of(ip, **OUTPATIENT_PROCEDURE), keys.of(ip, **SDEC)
        capacity = CapacityAreas.of(ip, rn_pos, data)
        warnings += _own_areas(data, has_procedure is not None)
        if has_procedure is None:  # no has_procedure column: procedures from the theatre table
            has_procedure = capacity.procedures_per_spell(n)
        return cls(n, out_key, growth, speldur, has_procedure, avoidance, efficiencies, daycase_key, op_key,
                   sdec_key), capacity

    def baseline(self, values: np.ndarray, waterfall: dict[Any, np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run 0: the data as is. Returns per spell bed days, day-case bed days and admissions."""
        k = len(values)
        ones = np.ones(self.n)
        values[:, M["admissions"]] += np.bincount(self.out_key, minlength=k)
        values[:, M["beddays"]] += np.bincount(self.out_key, weights=self.speldur + 1.0, minlength=k)
        values[:, M["procedures"]] += np.bincount(self.out_key, weights=self.has_procedure, minlength=k)
        waterfall[("ip", "admissions")][0] = self.n
        waterfall[("ip", "beddays")][0] = float((self.speldur + 1).sum())
        return self.speldur + ones, np.zeros(self.n), ones

    def run(self, rng: np.random.Generator, variant: int, ages: np.ndarray | None, values: np.ndarray,
            waterfall: dict[Any, np.ndarray], avoided: dict[tuple[str, str, str], float]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One run, added into ``values``, ``waterfall`` and ``avoided``. Returns per spell bed days
        where it stays, bed days as a converted day case, and admissions (for capacity)."""
        n_rows, k = self.n, len(values)
        speldur = self.speldur
        steps: dict[str, np.ndarray] = {}
        lam = self.growth.draw(rng, variant, ages, steps)
        # activity avoidance: Bernoulli(sample_rate) per (spell, strategy) says which strategies apply
        aa = self.avoidance
        draws = draw_many(rng, aa.lo, aa.hi, CLIP["activity_avoidance"])
        applies = rng.random(len(aa.rows)) < aa.rate
        ap_rows, ap_strat = aa.rows[applies], aa.strategy[applies]
        ap_log = np.log(np.maximum(draws[ap_strat], 1e-300))
        logf = np.bincount(ap_rows, weights=ap_log, minlength=n_rows)
        keep = np.exp(logf)
        # Poisson resampling then binomial thinning == Poisson(rate x keep) kept and an independent
        # Poisson(rate x (1 - keep)) avoided
        n = rng.poisson(lam * keep)
        sub = np.nonzero(logf < 0)[0]
        removed_sub = rng.poisson(lam[sub] * (1.0 - keep[sub]))
        beddays1 = speldur + 1.0
        adm_resampled = float(n.sum() + removed_sub.sum())
        bd_kept = dot(n, beddays1)
        bd_resampled = bd_kept + dot(removed_sub, beddays1[sub])
        if len(ap_rows) and len(sub):
            removed = np.zeros(n_rows)
            removed[sub] = removed_sub
            share = np.divide(ap_log, logf[ap_rows], out=np.zeros(len(ap_rows)), where=logf[ap_rows] != 0)
            rem = removed[ap_rows] * share
            per = np.bincount(ap_strat, weights=rem, minlength=len(aa.names))
            perb = np.bincount(ap_strat, weights=rem * beddays1[ap_rows], minlength=len(aa.names))
            for i, s in enumerate(aa.names):
                avoided[("ip", s, "admissions")] = float(per[i])
                avoided[("ip", s, "beddays")] = float(perb[i])
        adm_avoid = float(n.sum())
        # efficiencies: each spell gets one of its strategies, uniformly at random, every run
        eff = self.efficiencies
        nights = n * speldur
        conv = np.zeros((3, n_rows), np.int64)  # sdec, daycase, outpatients
        if len(eff.spells):
            pick = eff.start + (rng.random(len(eff.spells)) * eff.count).astype(np.int64)
            s = eff.strategy[pick]
            r = eff.spells
            live = n[r] > 0
            r, s = r[live], s[live]
            f = draw_many(rng, eff.lo, eff.hi, CLIP["efficiencies"])[s]
            code = eff.kind[s]
            nr, dur = n[r], speldur[r]
            is_all = code == EFFICIENCY_TYPES["all"]
            # type "all": the nights of every copy thinned, Binomial(copies x nights, f); other types:
            # Binomial(copies, 1 - f) copies lose pre-op nights or convert to another setting
            k_draw = rng.binomial(np.where(is_all, nr * dur, nr), np.where(is_all, f, 1.0 - f))
            new_nights = np.where(is_all, k_draw, nr * dur)
            pre = code == EFFICIENCY_TYPES["pre-op"]
            new_nights[pre] -= k_draw[pre] * np.minimum(eff.preop_days[s[pre]], dur[pre])
            for j, t in enumerate((2, 3, 4)):  # sdec, day_procedures_daycase, day_procedures_outpatients
                m = code == t
                new_nights[m] -= k_draw[m] * dur[m]
                conv[j, r[m]] = k_draw[m]
            saved = nr * dur - new_nights
            nights[r] = new_nights
            per = np.bincount(s, weights=saved, minlength=len(eff.names))
            for i, name in enumerate(eff.names):
                if per[i]:
                    avoided[("ip", name, "beddays")] = avoided.get(("ip", name, "beddays"), 0.0) + float(per[i])
        to_sdec, to_dc, to_op = conv
        stay = n - to_sdec - to_dc - to_op
        hp = self.has_procedure
        key = self.out_key
        values[:, M["admissions"]] += np.bincount(key, weights=stay, minlength=k)
        values[:, M["beddays"]] += np.bincount(key, weights=nights + stay, minlength=k)
        values[:, M["procedures"]] += np.bincount(key, weights=stay * hp, minlength=k)
        conv_rows = np.nonzero(to_sdec + to_dc + to_op)[0]
        if len(conv_rows):
            dck = self.daycase_key[conv_rows]
            dcn = to_dc[conv_rows]
            values[:, M["admissions"]] += np.bincount(dck, weights=dcn, minlength=k)
            values[:, M["beddays"]] += np.bincount(dck, weights=dcn, minlength=k)  # a day case: 0 nights, 1 bed day
            values[:, M["procedures"]] += np.bincount(dck, weights=dcn * hp[conv_rows], minlength=k)
            values[:, M["attendances"]] += np.bincount(self.op_key[conv_rows], weights=to_op[conv_rows], minlength=k)
            values[:, M["walk-in"]] += np.bincount(self.sdec_key[conv_rows], weights=to_sdec[conv_rows],
                                                   minlength=k)
        adm_final = float(stay.sum() + to_dc.sum())
        bd_final = float(nights.sum() + stay.sum() + to_dc.sum())
        for m, after_resample, after_avoid, final in (
            ("admissions", adm_resampled, adm_avoid, adm_final),
            ("beddays", bd_resampled, bd_kept, bd_final),
        ):
            fill_waterfall(waterfall[("ip", m)], steps[m], after_resample, after_avoid - after_resample,
                           final - after_avoid)
        return (nights + stay).astype(float), to_dc.astype(float), (stay + to_dc).astype(float)


def _own_areas(data: TrustData, has_procedure: bool) -> list[str]:
    """What the planner should know when beds or theatres come from the spells' own columns."""
    said = []
    if not len(data["ip_functional_areas_beds"]):
        said.append(f"{data.root} has no ip_functional_areas_beds table: beds by ward type from each spell's "
                    "age, group, point of delivery and length of stay (not NHP's functional areas)")
    if not len(data["ip_functional_areas_procedures"]):
        said.append(f"{data.root} has no ip_functional_areas_procedures table: " + (
            "theatres from the spells' has_procedure column (one procedure each; day cases in day-surgery "
            "theatres)" if has_procedure else "no theatres are projected (nor has_procedure in ip)"))
    return said


def _missing(params: Params, data: TrustData, kind: str, table: pd.DataFrame, names: list[str],
             implicit: set[str]) -> list[str]:
    """NHP crashes on a params strategy with no rows in the data; carelens warns and skips it."""
    have = set(codes_of(table["strategy"])[1][np.unique(codes_of(table["strategy"])[0])]) if len(table) else set()
    missing = sorted(set(names) - have - implicit)
    if not missing:
        return []
    fields = ", ".join(f"{kind}.ip.{m}" for m in missing)
    return [f"{params.source}: {len(missing)} strategies have no rows in {data.root}/ip_{kind}_strategies"
            f" and are ignored (NHP stops with an error here): {fields}"]
