"""The Monte Carlo engine: NHP's method, vectorised on counts per cell.

Why cells: NHP copies every spell once per resampled admission and pushes pandas frames through
each step. Here every factor is computed once per *factor cell* (rows sharing the attributes a
factor looks at), broadcast with one gather, and every random step is drawn on counts (a sum of
independent binomials is a binomial), so a run is a handful of numpy passes over the rows.
Per-run random streams come from ``SeedSequence([scenario seed, model_run])`` only, so a run's
result does not depend on which process or machine computes it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.data import TrustData
from carelens.demand.params import Params
from carelens.errors import ParamsError, TableError

OUT_DIMS = ["pod", "sitetret", "age_group", "sex", "tretspef_grouped"]
MEASURES = ["admissions", "beddays", "procedures", "attendances", "tele_attendances", "ambulance", "walk-in"]
M = {m: i for i, m in enumerate(MEASURES)}
STEPS = [
    "baseline", "demographic_adjustment", "health_status_adjustment", "expat", "repat_local",
    "repat_nonlocal", "baseline_adjustment", "waiting_list_adjustment", "non-demographic_adjustment",
    "inequalities", "model_interaction_term", "activity_avoidance", "efficiencies",
]
FACTOR_STEPS = STEPS[1:10]
WATERFALL_MEASURES = [("ip", "admissions"), ("ip", "beddays"), ("op", "attendances"), ("aae", "arrivals")]
Z80 = 2.563  # width of an 80% normal interval in standard deviations (2 x 1.2816)


def draw_interval(rng: np.random.Generator, lo: float, hi: float, clip: tuple[float, float]) -> float:
    """NHP's draw: normal with mean (lo+hi)/2 and sd (hi-lo)/2.563, clipped to the valid range."""
    value = rng.normal((lo + hi) / 2.0, (hi - lo) / Z80) if hi > lo else lo
    return float(min(max(value, clip[0]), clip[1]))


def seed_for(seed: int, model_run: int) -> np.random.SeedSequence:
    """The run's random stream depends on (scenario seed, model_run) and nothing else."""
    return np.random.SeedSequence([int(seed), int(model_run)])


class _Keyed:
    """Maps each factor cell to an entry of a params dict (missing keys -> factor 1)."""

    def __init__(self, keys: list[Any], mapping: dict[Any, Any]) -> None:
        self.names = list(mapping)
        lookup = {k: i for i, k in enumerate(self.names)}
        self.index = (pd.Series(keys, dtype=object).map(lookup).fillna(len(self.names)).to_numpy().astype(np.int64)
                      if len(keys) else np.zeros(0, np.int64))
        self.values = [mapping[k] for k in self.names]

    def fixed(self) -> np.ndarray:
        return np.append(np.asarray(self.values, dtype=float), 1.0)[self.index]

    def drawn(self, rng: np.random.Generator, clip: tuple[float, float], power: float = 1.0) -> np.ndarray:
        vals = [draw_interval(rng, v[0], v[1], clip) ** power for v in self.values]
        return np.append(np.asarray(vals, dtype=float), 1.0)[self.index]


@dataclass
class _Activity:
    """One activity type (ip/op/aae) prepared for fast runs."""

    name: str
    rows: pd.DataFrame
    counts: dict[str, np.ndarray]  # baseline counts per row, by measure source
    cell: np.ndarray  # row -> factor cell
    cells: pd.DataFrame  # factor cell attributes
    out_key: np.ndarray  # row -> output key index
    cell_base: dict[str, np.ndarray] = field(default_factory=dict)
    factors: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _variant_ratios(table: pd.DataFrame, variants: list[str], start: int, end: int, source: str,
                    what: str) -> dict[str, pd.Series]:
    for year in (start, end):
        if str(year) not in table.columns:
            raise TableError(f"has no column for year {year}", file=f"{source}/{what}", field=str(year))
    out: dict[str, pd.Series] = {}
    for variant in variants:
        sub = table[table["variant"] == variant]
        if sub.empty:
            raise ParamsError(
                f"variant '{variant}' is not in the {what} table (has: {', '.join(sorted(table['variant'].unique())[:8])})",
                file=source, field=f"demographic_factors.variant_probabilities.{variant}")
        base = sub[str(start)].to_numpy(float)
        ratio = np.divide(sub[str(end)].to_numpy(float), base, out=np.ones_like(base), where=base > 0)
        out[variant] = pd.Series(ratio, index=pd.MultiIndex.from_arrays([sub["age"], sub["sex"]]))
    return out


class Engine:
    """Data and params prepared once; :meth:`run` computes one Monte Carlo run."""

    def __init__(self, params: Params, data: TrustData) -> None:
        self.params = params
        self.data = data
        raw = params.raw
        self.start, self.end = params.start_year, params.end_year
        probs = raw["demographic_factors"]["variant_probabilities"]
        self.variants = list(probs)
        self.variant_p = np.asarray([probs[v] for v in self.variants], float)
        self.variant_p = self.variant_p / self.variant_p.sum()
        self.demog = _variant_ratios(data["demographic_factors"], self.variants, self.start, self.end,
                                     params.source, "demographic_factors")
        births = data["birth_factors"]
        self.births = (_variant_ratios(births, self.variants, self.start, self.end, params.source, "birth_factors")
                       if len(births) else None)
        self.warnings: list[str] = []
        self._build_out_keys()
        self.ip = self._prep_ip()
        self.op = self._prep_op()
        self.aae = self._prep_aae()
        self._prep_capacity()

    # ------------------------------------------------------------------ preparation
    def _build_out_keys(self) -> None:
        frames = []
        for name in ("ip", "op", "aae"):
            frames.append(self.data[name][OUT_DIMS].drop_duplicates().astype(str))
        ip = self.data["ip"]
        extra = ip[OUT_DIMS].drop_duplicates().astype(str)
        frames.append(extra.assign(pod="ip_elective_daycase"))
        frames.append(extra.assign(pod="op_procedure"))
        # NHP agreement (fix E): spells converted to same-day emergency care become aae_type-05 walk-ins
        frames.append(extra.assign(pod="aae_type-05", tretspef_grouped="Other"))
        keys = pd.concat(frames, ignore_index=True).drop_duplicates().sort_values(OUT_DIMS).reset_index(drop=True)
        self.keys = keys
        self._key_index = pd.MultiIndex.from_frame(keys)

    def _key_of(self, frame: pd.DataFrame) -> np.ndarray:
        """Output key index per row: factorize the rows' dims first so only unique combos are matched."""
        codes, uniq = pd.MultiIndex.from_frame(frame[OUT_DIMS]).factorize()
        u = uniq.to_frame(index=False).astype(str)
        idx = self._key_index.get_indexer(pd.MultiIndex.from_frame(u))
        assert (idx >= 0).all()
        return idx[codes].astype(np.int64)

    def _factor_cells(self, frame: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        codes, uniques = pd.MultiIndex.from_frame(frame[cols]).factorize()
        cells = uniques.to_frame(index=False)
        cells.columns = cols
        return codes.astype(np.int64), cells

    def _common_factors(self, act: _Activity, kind: str) -> None:
        """Prepare the lookups every activity shares: demography, HSA, ndg, expat/repat..."""
        raw = self.params.raw
        cells = act.cells
        age = cells["age"].to_numpy(int)
        sex = cells["sex"].to_numpy(int)
        is_birth = (cells["demog_type"].astype(str) == "births").to_numpy()
        demog = []
        for variant in self.variants:
            idx = pd.MultiIndex.from_arrays([age, sex])
            ratio = self.demog[variant].reindex(idx).to_numpy(float)
            if self.births is not None and is_birth.any():
                bser = self.births[variant]
                b = bser.reindex(idx).to_numpy(float)
                # NHP agreement (docs/demand-nhp-agreement.md, fix A): a births row whose (age, sex) is
                # not in birth_factors keeps factor 1.0, as NHP's left join + fillna(1.0) does
                b = np.where(np.isnan(b), 1.0, b)
                ratio = np.where(is_birth, b, ratio)
            demog.append(np.where(np.isnan(ratio), 1.0, ratio))
        act.factors["demographic"] = np.vstack(demog)
        # health status adjustment: activity rate at a younger, adjusted age
        hsa = self.data["hsa_activity_tables"]
        act.factors["hsa"] = None
        if raw.get("health_status_adjustment", False) is not False and len(hsa):
            grp = cells["hsagrp"].astype(str).to_numpy()
            table = hsa.pivot_table(index=["hsagrp", "sex"], columns="age", values="activity", aggfunc="mean")
            table = table.reindex(columns=range(0, 101)).ffill(axis=1).bfill(axis=1)
            row = table.index.get_indexer(pd.MultiIndex.from_arrays([grp, sex]))
            act.factors["hsa"] = (table.to_numpy(float), row, np.clip(age, 0, 100))
        ndg = raw.get("non-demographic_adjustment", {}).get("values", {}).get(kind, {})
        act.factors["ndg"] = _Keyed(list(cells["group"].astype(str)), ndg)

    def _expat_repat(self, act: _Activity, kind: str, keys: list[Any]) -> None:
        raw = self.params.raw
        main = act.cells["is_main_icb"].to_numpy(bool)

        def flat(section: str) -> dict[Any, Any]:
            node = raw.get(section, {}).get(kind, {})
            if kind == "ip":
                return {(g, t): v for g, sub in node.items() for t, v in sub.items()}
            return dict(node)

        act.factors["expat"] = _Keyed(keys, flat("expat"))
        act.factors["repat_local"] = (_Keyed(keys, flat("repat_local")), main)
        act.factors["repat_nonlocal"] = (_Keyed(keys, flat("repat_nonlocal")), ~main)

    def _prep_ip(self) -> _Activity:
        ip = self.data["ip"].reset_index(drop=True)
        cols = ["age", "sex", "hsagrp", "group", "tretspef_grouped", "demog_type", "is_main_icb", "is_wla"]
        has_ineq = "sushrg_trimmed" in ip and "icb" in ip and "imd_quintile" in ip
        if has_ineq:
            cols += ["icb", "sushrg_trimmed", "imd_quintile"]
        cell, cells = self._factor_cells(ip, cols)
        speldur = ip["speldur"].to_numpy(np.int64)
        act = _Activity("ip", ip, {"admissions": np.ones(len(ip), np.int64), "speldur": speldur}, cell, cells,
                        self._key_of(ip))
        act.cell_base["admissions"] = np.bincount(cell, minlength=len(cells)).astype(float)
        act.cell_base["beddays"] = np.bincount(cell, weights=speldur + 1.0, minlength=len(cells))
        self._common_factors(act, "ip")
        keys = list(zip(cells["group"].astype(str), cells["tretspef_grouped"].astype(str)))
        self._expat_repat(act, "ip", keys)
        raw = self.params.raw
        badj = raw.get("baseline_adjustment", {}).get("ip", {})
        act.factors["baseline_adjustment"] = _Keyed(keys, {(g, t): v for g, s in badj.items() for t, v in s.items()})
        wla = raw.get("waiting_list_adjustment", {}).get("ip", {})
        wl = _Keyed(list(cells["tretspef_grouped"].astype(str)), wla).fixed()
        act.factors["waiting_list"] = np.where(cells["is_wla"].to_numpy(bool), wl, 1.0)
        act.factors["inequalities"] = self._inequalities(cells, "elective") if has_ineq else np.ones(len(cells))
        # activity avoidance and efficiencies: (row, strategy, sample_rate) pairs
        rn_pos = pd.Series(np.arange(len(ip)), index=ip["rn"].to_numpy())
        if rn_pos.index.has_duplicates:
            raise TableError("spell ids must be unique", file=f"{self.data.root}/ip", field="rn")
        for kind in ("activity_avoidance", "efficiencies"):
            table = self.data[f"ip_{kind}_strategies"]
            strategies = raw.get(kind, {}).get("ip", {})
            names = list(strategies)
            known = table["strategy"].astype(str).isin(names)
            general = {"general_los_reduction_elective", "general_los_reduction_emergency"}
            missing = sorted(set(names) - set(table["strategy"].astype(str)) - general)
            if missing:
                self.warnings.append(
                    f"{self.params.source}: {kind}.ip strategies with no matching rows in the data, ignored:"
                    f" {', '.join(missing)}")
            t = table[known]
            if kind == "efficiencies":
                t = self._with_general_los(ip, t, names)
            rows = rn_pos.reindex(t["rn"].to_numpy()).to_numpy()
            ok = ~np.isnan(rows)
            strat = pd.Categorical(t["strategy"].astype(str), categories=names).codes
            act.extra[kind] = (rows[ok].astype(np.int64), strat[ok].astype(np.int64),
                               t["sample_rate"].to_numpy(float)[ok], names, strategies)
        # keys for converted spells (day case, outpatient procedure)
        act.extra["daycase_key"] = self._key_of(ip.assign(pod="ip_elective_daycase"))
        act.extra["op_key"] = self._key_of(ip.assign(pod="op_procedure"))
        act.extra["sdec_key"] = self._key_of(ip.assign(pod="aae_type-05", tretspef_grouped="Other"))
        return act

    @staticmethod
    def _with_general_los(ip: pd.DataFrame, table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
        """NHP agreement (fix D): NHP (``InpatientsModel._load_strategies``) gives every spell with no
        efficiency strategy, ``speldur > 0`` and ``classpat == "1"`` the strategy
        ``general_los_reduction_elective`` (admimeth starting "1") or ``_emergency`` (starting "2"),
        sample rate 1, when the params name it."""
        if not {"admimeth", "classpat"} <= set(ip.columns):
            return table
        free = ip[~ip["rn"].isin(table["rn"]) & (ip["speldur"] > 0) & (ip["classpat"].astype(str) == "1")]
        extra = []
        for prefix, name in (("1", "general_los_reduction_elective"), ("2", "general_los_reduction_emergency")):
            if name in names:
                rn = free.loc[free["admimeth"].astype(str).str.startswith(prefix), "rn"]
                extra.append(pd.DataFrame({"rn": rn.to_numpy(), "strategy": name, "sample_rate": 1.0}))
        return pd.concat([table[["rn", "strategy", "sample_rate"]], *extra], ignore_index=True) if extra else table

    def _inequalities(self, cells: pd.DataFrame, group: str) -> np.ndarray:
        raw = self.params.raw.get("inequalities", {})
        table = self.data["inequalities"]
        out = np.ones(len(cells))
        if not len(table):
            return out
        idx = pd.MultiIndex.from_frame(table[["icb", "sushrg_trimmed", "imd_quintile"]].astype(str))
        pos = idx.get_indexer(pd.MultiIndex.from_frame(cells[["icb", "sushrg_trimmed", "imd_quintile"]].astype(str)))
        hrg = cells["sushrg_trimmed"].astype(str).to_numpy()
        for kind in ("level_up", "level_down", "zero_sum"):
            vals = np.append(table[kind].to_numpy(float), 1.0)[pos]
            vals = np.where(np.isnan(vals), 1.0, vals)
            out = np.where(np.isin(hrg, list(raw.get(kind, []))), vals, out)
        # NHP agreement (fix C): NHP joins inequality factors on group too: ip "elective", op "procedure"
        return np.where(cells["group"].astype(str).to_numpy() == group, out, 1.0)

    def _prep_op(self) -> _Activity:
        op = self.data["op"]
        flags = ["is_first", "is_gp_ref", "is_cons_cons_ref", "has_procedures"]
        op = op.assign(**{f: op[f] if f in op else False for f in flags})
        cols = OUT_DIMS + ["age", "hsagrp", "group", "type", "demog_type", "is_main_icb", "is_wla"] + flags
        has_ineq = "sushrg_trimmed" in op and "icb" in op and "imd_quintile" in op
        if has_ineq:  # NHP agreement (fix C): op "procedure" rows get inequality factors too
            cols += ["icb", "sushrg_trimmed", "imd_quintile"]
        cols = list(dict.fromkeys(cols))
        agg = op.groupby(cols, dropna=False, observed=True, sort=False)[["attendances", "tele_attendances"]].sum()
        agg = agg.reset_index()
        cell, cells = self._factor_cells(agg, [c for c in cols if c not in ("pod", "sitetret", "age_group")])
        counts = {"attendances": agg["attendances"].to_numpy(np.int64),
                  "tele_attendances": agg["tele_attendances"].to_numpy(np.int64)}
        act = _Activity("op", agg, counts, cell, cells, self._key_of(agg))
        act.cell_base["attendances"] = np.bincount(cell, weights=counts["attendances"] + counts["tele_attendances"],
                                                   minlength=len(cells))
        self._common_factors(act, "op")
        spec = list(cells["tretspef_grouped"].astype(str))
        self._expat_repat(act, "op", spec)
        raw = self.params.raw
        badj = raw.get("baseline_adjustment", {}).get("op", {})
        act.factors["baseline_adjustment"] = _Keyed(
            list(zip(cells["group"].astype(str), spec)), {(g, t): v for g, s in badj.items() for t, v in s.items()})
        wl = _Keyed(spec, raw.get("waiting_list_adjustment", {}).get("op", {})).fixed()
        act.factors["waiting_list"] = np.where(cells["is_wla"].to_numpy(bool), wl, 1.0)
        act.factors["inequalities"] = self._inequalities(cells, "procedure") if has_ineq else np.ones(len(cells))
        typ = cells["type"].astype(str).to_numpy()
        rules = {
            "consultant_to_consultant_reduction": cells["is_cons_cons_ref"].to_numpy(bool),
            "followup_reduction": ((cells["group"].astype(str) == "followup").to_numpy()
                                   & ~cells["has_procedures"].to_numpy(bool)),
            "gp_referred_first_attendance_reduction": (cells["is_first"].to_numpy(bool)
                                                       & cells["is_gp_ref"].to_numpy(bool)),
        }
        act.extra["avoid"] = self._rule_strategies(raw.get("activity_avoidance", {}).get("op", {}), rules, typ, "op")
        tele = {"convert_to_tele": ~cells["has_procedures"].to_numpy(bool)}
        act.extra["tele"] = self._rule_strategies(raw.get("efficiencies", {}).get("op", {}), tele, typ, "op")
        return act

    def _rule_strategies(self, strategies: dict[str, Any], rules: dict[str, np.ndarray], suffix: np.ndarray,
                         kind: str) -> list[tuple[str, np.ndarray, list[float]]]:
        """Strategies that select cells by flags and a ``{rule}_{suffix}`` name (op and A&E)."""
        out = []
        for name, spec in strategies.items():
            mask = None
            for rule, flag in rules.items():
                if name.startswith(rule + "_"):
                    mask = flag & (suffix == name[len(rule) + 1:])
            if mask is None or not mask.any():
                self.warnings.append(f"{self.params.source}: strategy '{name}' ({kind}) matches no rows, ignored")
                continue
            out.append((name, mask, spec["interval"]))
        return out

    def _prep_aae(self) -> _Activity:
        aae = self.data["aae"]
        flags = ["is_frequent_attender", "is_left_before_treatment", "is_low_cost_referred_or_discharged",
                 "is_discharged_no_treatment"]
        aae = aae.assign(**{f: aae[f] if f in aae else False for f in flags})
        cols = list(dict.fromkeys(OUT_DIMS + ["age", "hsagrp", "group", "demog_type", "is_main_icb", "is_adult"] + flags))
        agg = aae.groupby(cols, dropna=False, observed=True, sort=False)[["arrivals"]].sum().reset_index()
        agg["is_wla"] = False
        cell, cells = self._factor_cells(agg, [c for c in cols if c not in ("pod", "sitetret", "age_group",
                                                                            "tretspef_grouped")] + ["is_wla"])
        counts = {"arrivals": agg["arrivals"].to_numpy(np.int64)}
        act = _Activity("aae", agg, counts, cell, cells, self._key_of(agg))
        act.cell_base["arrivals"] = np.bincount(cell, weights=counts["arrivals"], minlength=len(cells))
        self._common_factors(act, "aae")
        grp = list(cells["group"].astype(str))
        self._expat_repat(act, "aae", grp)
        raw = self.params.raw
        act.factors["baseline_adjustment"] = _Keyed(grp, raw.get("baseline_adjustment", {}).get("aae", {}))
        act.factors["waiting_list"] = np.ones(len(cells))
        act.factors["inequalities"] = np.ones(len(cells))
        suffix = np.where(cells["is_adult"].to_numpy(bool), "adult_", "child_") + cells["group"].astype(str).to_numpy()
        rules = {
            "frequent_attenders": cells["is_frequent_attender"].to_numpy(bool),
            "left_before_seen": cells["is_left_before_treatment"].to_numpy(bool),
            "low_cost_discharged": cells["is_low_cost_referred_or_discharged"].to_numpy(bool),
            "discharged_no_treatment": cells["is_discharged_no_treatment"].to_numpy(bool),
        }
        act.extra["avoid"] = self._rule_strategies(raw.get("activity_avoidance", {}).get("aae", {}), rules, suffix, "aae")
        act.extra["measure"] = np.where(agg["group"].astype(str).to_numpy() == "ambulance", M["ambulance"], M["walk-in"])
        return act

    def _prep_capacity(self) -> None:
        ip = self.ip.rows
        rn_pos = pd.Series(np.arange(len(ip)), index=ip["rn"].to_numpy())
        beds = self.data["ip_functional_areas_beds"]
        procs = self.data["ip_functional_areas_procedures"]
        site = ip["sitetret"].astype(str).to_numpy()

        def mapping(table: pd.DataFrame, weight: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
            rows = rn_pos.reindex(table["rn"].to_numpy()).to_numpy()
            ok = ~np.isnan(rows)
            rows = rows[ok].astype(np.int64)
            frame = pd.DataFrame({"sitetret": site[rows], "area": table["functional_area"].astype(str).to_numpy()[ok]})
            code, uniq = pd.MultiIndex.from_frame(frame).factorize()
            areas = uniq.to_frame(index=False)
            areas.columns = ["sitetret", "area"]
            return rows, code.astype(np.int64), table[weight].to_numpy(float)[ok], areas

        self.bed_map = mapping(beds, "group_pcnt")
        self.theatre_map = mapping(procs, "count")
        self.sites = sorted(set(self.keys["sitetret"]))

    # ------------------------------------------------------------------ one run
    def _draw_factors(self, act: _Activity, rng: np.random.Generator, variant: int, hsa_shift: float,
                      years: int) -> dict[str, np.ndarray]:
        f = act.factors
        out: dict[str, np.ndarray] = {"demographic_adjustment": f["demographic"][variant]}
        if f["hsa"] is not None and hsa_shift > 0:
            table, row, age = f["hsa"]
            cap = self.params.capacity["health_status"]
            eligible = age >= cap["min_age"]
            adj = np.clip(age - hsa_shift, 0, 100)
            lo = np.floor(adj).astype(int)
            hi = np.minimum(lo + 1, 100)
            w = adj - lo
            ok = row >= 0
            r = np.where(ok, row, 0)
            num = table[r, lo] * (1 - w) + table[r, hi] * w
            den = table[r, age]
            ratio = np.divide(num, den, out=np.ones_like(num), where=den > 0)
            out["health_status_adjustment"] = np.where(ok & eligible, ratio, 1.0)
        else:
            out["health_status_adjustment"] = np.ones(len(act.cells))
        out["expat"] = f["expat"].drawn(rng, (0.0, np.inf))
        k, mask = f["repat_local"]
        out["repat_local"] = np.where(mask, k.drawn(rng, (0.0, np.inf)), 1.0)
        k, mask = f["repat_nonlocal"]
        out["repat_nonlocal"] = np.where(mask, k.drawn(rng, (0.0, np.inf)), 1.0)
        out["baseline_adjustment"] = f["baseline_adjustment"].fixed()
        out["waiting_list_adjustment"] = f["waiting_list"]
        out["non-demographic_adjustment"] = f["ndg"].drawn(rng, (0.0, np.inf), power=years)
        out["inequalities"] = f["inequalities"]
        return out

    def run(self, model_run: int) -> dict[str, Any]:
        """One Monte Carlo run -> dense arrays (values[key, measure], waterfall, capacity inputs)."""
        rng = np.random.default_rng(seed_for(self.params.seed, model_run))
        years = self.end - self.start
        values = np.zeros((len(self.keys), len(MEASURES)))
        waterfall = {m: np.zeros(len(STEPS)) for m in WATERFALL_MEASURES}
        baseline = model_run == 0
        variant = int(rng.choice(len(self.variants), p=self.variant_p))
        hsa = self.params.raw.get("health_status_adjustment", False)
        if isinstance(hsa, list):
            g = draw_interval(rng, hsa[0], hsa[1], (0.0, 1.0))
        else:
            g = float(rng.uniform()) if hsa else 0.0
        hsa_shift = g * self.params.capacity["health_status"]["life_expectancy_gain_per_year"] * years
        streams = {name: np.random.default_rng(s) for name, s in zip(("ip", "op", "aae"), rng.bit_generator.seed_seq.spawn(3))}
        bed_days_row, adm_row, avoided = self._run_ip(streams["ip"], values, waterfall, baseline, variant, hsa_shift, years)
        self._run_op(streams["op"], values, waterfall, baseline, variant, hsa_shift, years, avoided)
        self._run_aae(streams["aae"], values, waterfall, baseline, variant, hsa_shift, years, avoided)
        rows, code, weight, uniq = self.bed_map
        beds = np.bincount(code, weights=bed_days_row[rows] * weight, minlength=len(uniq))
        rows, code, weight, tuniq = self.theatre_map
        theatres = np.bincount(code, weights=adm_row[rows] * weight, minlength=len(tuniq))
        return {"model_run": model_run, "variant": self.variants[variant], "values": values,
                "waterfall": waterfall, "beddays_by_area": beds, "procedures_by_area": theatres,
                "avoided": avoided}

    def _expected_steps(self, act: _Activity, factors: dict[str, np.ndarray], base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected totals after each growth step (for the waterfall) and the combined cell factor."""
        total = np.ones(len(act.cells))
        steps = [float(base.sum())]
        for step in FACTOR_STEPS:
            total = total * factors[step]
            steps.append(float((base * total).sum()))
        return np.asarray(steps), total

    def _run_ip(self, rng, values, waterfall, baseline, variant, hsa_shift, years):
        act = self.ip
        n_rows = len(act.rows)
        speldur = act.counts["speldur"]
        avoided: dict[tuple[str, str, str], float] = {}
        if baseline:
            n = np.ones(n_rows, np.int64)
            nights = speldur.astype(float)
            np.add.at(values[:, M["admissions"]], act.out_key, 1.0)
            np.add.at(values[:, M["beddays"]], act.out_key, nights + 1.0)
            for m in ("admissions", "beddays"):
                waterfall[("ip", m)][0] = act.cell_base[m].sum()
            adm = n.astype(float)
            values[:, M["procedures"]] += self._procedures(adm)
            return nights + n, adm, avoided
        factors = self._draw_factors(act, rng, variant, hsa_shift, years)
        steps_a, cellf = self._expected_steps(act, factors, act.cell_base["admissions"])
        steps_b, _ = self._expected_steps(act, factors, act.cell_base["beddays"])
        lam = cellf[act.cell]
        # activity avoidance: Bernoulli(sample_rate) per (spell, strategy) says which strategies apply
        rows, strat, rate, names, specs = act.extra["activity_avoidance"]
        draws = np.array([draw_interval(rng, *specs[s]["interval"], (0.0, 1.0)) for s in names])
        applies = rng.random(len(rows)) < rate
        ap_rows, ap_strat = rows[applies], strat[applies]
        ap_log = np.log(np.maximum(draws[ap_strat], 1e-300)) if len(names) else np.zeros(0)
        logf = np.bincount(ap_rows, weights=ap_log, minlength=n_rows)
        keep = np.exp(logf)
        # Poisson resampling then binomial thinning: a thinned Poisson is Poisson(rate x keep) and the
        # thinned-out part an independent Poisson(rate x (1 - keep)), so draw both directly
        n = rng.poisson(lam * keep)
        removed = np.zeros(n_rows, np.int64)
        sub = np.nonzero(keep < 1.0)[0]
        removed[sub] = rng.poisson(lam[sub] * (1.0 - keep[sub]))
        adm_resampled = float(n.sum() + removed.sum())
        bd_resampled = float(((n + removed) * (speldur + 1)).sum())
        if len(ap_rows):
            # attribute each spell's avoided activity to its applying strategies in proportion to log factor
            share = np.divide(ap_log, logf[ap_rows], out=np.zeros(len(ap_rows)), where=logf[ap_rows] != 0)
            rem = removed[ap_rows] * share
            per = np.bincount(ap_strat, weights=rem, minlength=len(names))
            perb = np.bincount(ap_strat, weights=rem * (speldur[ap_rows] + 1), minlength=len(names))
            for i, s in enumerate(names):
                avoided[("ip", s, "admissions")] = float(per[i])
                avoided[("ip", s, "beddays")] = float(perb[i])
        adm_avoid, bd_avoid = float(n.sum()), float((n * (speldur + 1)).sum())
        # efficiencies: each spell gets one applying strategy at random
        rows, strat, rate, names, specs = act.extra["efficiencies"]
        draws = np.array([draw_interval(rng, *specs[s]["interval"], (0.0, 1.0)) for s in names])
        nights = (n * speldur).astype(np.int64)
        out_key = act.out_key
        to_daycase = np.zeros(n_rows, np.int64)
        to_op = np.zeros(n_rows, np.int64)
        to_sdec = np.zeros(n_rows, np.int64)  # NHP agreement (fix E)
        if len(rows):
            applies = rng.random(len(rows)) < rate
            r, s = rows[applies], strat[applies]
            order = np.lexsort((rng.random(len(r)), r))
            r, s = r[order], s[order]
            first = np.ones(len(r), bool)
            first[1:] = r[1:] != r[:-1]
            r, s = r[first], s[first]
            types = np.array([specs[x].get("type", "all") for x in names])[s]
            f = draws[s]
            nr, dur = n[r], speldur[r]
            saved = np.zeros(len(r), np.int64)
            m = types == "all"
            saved[m] = nr[m] * dur[m] - rng.binomial(nr[m] * dur[m], f[m])
            m = types == "pre-op"
            pre = np.array([specs[x].get("pre-op_days", 1) for x in names])[s]
            k = rng.binomial(nr[m], 1 - f[m])
            saved[m] = k * np.minimum(pre[m], dur[m])
            m = types == "sdec"
            k = rng.binomial(nr[m], 1 - f[m])
            saved[m] = k * dur[m]
            to_sdec[r[m]] = k  # NHP agreement (fix E): these leave inpatients for aae_type-05
            m = types == "day_procedures_daycase"
            k = rng.binomial(nr[m], 1 - f[m])
            saved[m] = k * dur[m]
            to_daycase[r[m]] = k
            m = types == "day_procedures_outpatients"
            k = rng.binomial(nr[m], 1 - f[m])
            saved[m] = k * dur[m]
            to_op[r[m]] = k
            np.add.at(nights, r, -saved)
            for i, name in enumerate(names):
                sel = s == i
                avoided[("ip", name, "beddays")] = avoided.get(("ip", name, "beddays"), 0.0) + float(saved[sel].sum())
        stay = n - to_daycase - to_op - to_sdec
        adm = (n - to_op - to_sdec).astype(float)
        np.add.at(values[:, M["admissions"]], out_key, stay.astype(float))
        np.add.at(values[:, M["admissions"]], act.extra["daycase_key"], to_daycase.astype(float))
        np.add.at(values[:, M["beddays"]], out_key, (nights + stay).astype(float))
        np.add.at(values[:, M["beddays"]], act.extra["daycase_key"], to_daycase.astype(float))
        np.add.at(values[:, M["attendances"]], act.extra["op_key"], to_op.astype(float))
        np.add.at(values[:, M["walk-in"]], act.extra["sdec_key"], to_sdec.astype(float))
        # NHP agreement (fix F): a spell converted to a day case counts its procedures there
        values[:, M["procedures"]] += self._procedures(adm - to_daycase)
        values[:, M["procedures"]] += self._procedures(to_daycase.astype(float), act.extra["daycase_key"])
        bed_days_row = (nights + n - to_op - to_sdec).astype(float)
        for m, steps, after_resample, after_avoid, final in (
            ("admissions", steps_a, adm_resampled, adm_avoid, float(adm.sum())),
            ("beddays", steps_b, bd_resampled, bd_avoid, float(bed_days_row.sum())),
        ):
            wf = waterfall[("ip", m)]
            wf[0] = steps[0]
            wf[1:10] = np.diff(steps)
            wf[10] = after_resample - steps[-1]
            wf[11] = after_avoid - after_resample
            wf[12] = final - after_avoid
        return bed_days_row, adm, avoided

    def _procedures(self, adm: np.ndarray, key: np.ndarray | None = None) -> np.ndarray:
        rows, code, weight, _ = self.theatre_map
        per_row = np.bincount(rows, weights=weight, minlength=len(adm))
        out = np.zeros(len(self.keys))
        np.add.at(out, self.ip.out_key if key is None else key, adm * per_row)
        return out

    def _avoidance(self, rng, act, strategies) -> tuple[np.ndarray, list[np.ndarray]]:
        """Per cell: total log keep-factor of the strategies covering it, and each strategy's part."""
        logs = []
        for _name, mask, interval in strategies:
            value = draw_interval(rng, interval[0], interval[1], (0.0, 1.0))
            logs.append(np.where(mask, np.log(max(value, 1e-300)), 0.0))
        total = np.sum(logs, axis=0) if logs else np.zeros(len(act.cells))
        return total, logs

    @staticmethod
    def _split(rng, lam: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Poisson(lam) thinned by Binomial(keep) == independent Poisson(lam*keep), Poisson(lam*(1-keep))."""
        kept = rng.poisson(lam * keep)
        lost = np.zeros(len(lam), np.int64)
        sub = np.nonzero((keep < 1.0) & (lam > 0))[0]
        lost[sub] = rng.poisson(lam[sub] * (1.0 - keep[sub]))
        return kept, lost

    def _attribute(self, act, strategies, logs, total, removed, kind, label, avoided) -> None:
        """Avoided activity attributed to strategies in proportion to their log factor (NHP's step counts)."""
        if not strategies:
            return
        per_cell = np.bincount(act.cell, weights=removed, minlength=len(act.cells))
        for (name, _m, _i), lf in zip(strategies, logs):
            share = np.divide(lf, total, out=np.zeros_like(lf), where=total != 0)
            avoided[(kind, name, label)] = avoided.get((kind, name, label), 0.0) + float((per_cell * share).sum())

    def _run_op(self, rng, values, waterfall, baseline, variant, hsa_shift, years, avoided):
        act = self.op
        att, tele = act.counts["attendances"], act.counts["tele_attendances"]
        wf = waterfall[("op", "attendances")]
        wf[0] = act.cell_base["attendances"].sum()
        if not baseline:
            factors = self._draw_factors(act, rng, variant, hsa_shift, years)
            steps, cellf = self._expected_steps(act, factors, act.cell_base["attendances"])
            f = cellf[act.cell]
            total, logs = self._avoidance(rng, act, act.extra["avoid"])
            keep = np.exp(total)[act.cell]
            q = np.ones(len(act.cells))
            for _name, mask, interval in act.extra["tele"]:
                q = np.where(mask, draw_interval(rng, interval[0], interval[1], (0.0, 1.0)), q)
            q = q[act.cell]
            lam_a, lam_t = att * f, tele * f
            # face-to-face: Poisson splitting into avoided / kept-and-converted-to-tele / kept-and-stays
            lost_a = np.zeros(len(lam_a), np.int64)
            sub = np.nonzero((keep < 1.0) & (lam_a > 0))[0]
            lost_a[sub] = rng.poisson(lam_a[sub] * (1.0 - keep[sub]))
            stay, moved = self._split(rng, lam_a * keep, q)
            tele, lost_t = self._split(rng, lam_t, keep)
            att = stay
            removed = lost_a + lost_t
            resampled = float(stay.sum() + moved.sum() + tele.sum() + removed.sum())
            after_avoid = float(stay.sum() + moved.sum() + tele.sum())
            self._attribute(act, act.extra["avoid"], logs, total, removed.astype(float), "op", "attendances", avoided)
            tele = tele + moved
            wf[1:10] = np.diff(steps)
            wf[10] = resampled - steps[-1]
            wf[11] = after_avoid - resampled
            wf[12] = 0.0  # tele conversion moves attendances between measures; the total is unchanged
        values[:, M["attendances"]] += np.bincount(act.out_key, weights=att, minlength=len(self.keys))
        values[:, M["tele_attendances"]] += np.bincount(act.out_key, weights=tele, minlength=len(self.keys))

    def _run_aae(self, rng, values, waterfall, baseline, variant, hsa_shift, years, avoided):
        act = self.aae
        arr = act.counts["arrivals"]
        wf = waterfall[("aae", "arrivals")]
        wf[0] = act.cell_base["arrivals"].sum()
        if not baseline:
            factors = self._draw_factors(act, rng, variant, hsa_shift, years)
            steps, cellf = self._expected_steps(act, factors, act.cell_base["arrivals"])
            total, logs = self._avoidance(rng, act, act.extra["avoid"])
            arr, removed = self._split(rng, arr * cellf[act.cell], np.exp(total)[act.cell])
            resampled = float(arr.sum() + removed.sum())
            self._attribute(act, act.extra["avoid"], logs, total, removed.astype(float), "aae", "arrivals", avoided)
            wf[1:10] = np.diff(steps)
            wf[10] = resampled - steps[-1]
            wf[11] = float(arr.sum()) - resampled
        measure = act.extra["measure"]
        np.add.at(values, (act.out_key, measure), arr.astype(float))


def check_no_silent_warnings(engine: Engine) -> None:
    for message in engine.warnings:
        warnings.warn(message, stacklevel=3)
