"""The growth factors every activity type shares (steps 1-9 of NHP's method), per factor cell.

Demography, health status, expat/repat, baseline and waiting-list adjustment, non-demographic
growth and inequalities each look at a few columns only, so each is computed per *cell* (the few
hundred combinations of the columns it looks at), and their product per *joint cell* (demography
x health status x group keys x inequalities): a run draws each params interval once per cell and
reaches the rows with one gather, never a per-row look-up. The same code serves inpatients,
outpatients and A&E, which differ only in how NHP keys their params (see :func:`group_params`).

What depends on the horizon year (population ratios, health status, the compounding of
non-demographic growth) is kept apart (:class:`Horizon`, :meth:`GrowthFactors.for_horizon`) so a
fan chart re-targets the year without preparing the rows again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.cells import codes_of, dot, factorize, text_of
from carelens.demand.data import TrustData
from carelens.demand.hsa import HealthStatus, hsa_factors
from carelens.demand.params import Params
from carelens.errors import ParamsError, TableError

Z80 = 2.563103  # width of an 80% normal interval in standard deviations (NHP: 2 * norm.ppf(0.9))
# NHP's valid ranges for drawn values (model.py: generate_run_params)
CLIP = {"expat": (0.0, 1.0), "repat_local": (1.0, 5.0), "repat_nonlocal": (1.0, 5.0),
        "baseline_adjustment": (0.0, 5.0), "waiting_list_adjustment": (0.0, 5.0),
        "non-demographic_adjustment": (0.0, 5.0), "activity_avoidance": (0.0, 1.0), "efficiencies": (0.0, 1.0)}
# the steps keyed by a row's group columns, in the order a run draws them (the order is the streams')
GROUP_STEPS = ["expat", "repat_local", "repat_nonlocal", "baseline_adjustment", "waiting_list_adjustment",
               "non-demographic_adjustment"]
GROUP_COLS = ["group", "tretspef_grouped", "is_main_icb", "is_wla", "ndggrp"]


def draw_interval(rng: np.random.Generator, lo: float, hi: float, clip: tuple[float, float]) -> float:
    """NHP's draw: normal with mean (lo+hi)/2 and sd (hi-lo)/2.563, clipped to the valid range."""
    value = rng.normal((lo + hi) / 2.0, (hi - lo) / Z80) if hi > lo else lo
    return float(min(max(value, clip[0]), clip[1]))


def draw_many(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, clip: tuple[float, float]) -> np.ndarray:
    """:func:`draw_interval` for many intervals at once (one normal draw each)."""
    if len(lo) == 0:
        return np.zeros(0)
    z = rng.standard_normal(len(lo))
    return np.clip((lo + hi) / 2.0 + z * (hi - lo) / Z80, clip[0], clip[1])


def _lookup(keys: list[Any] | np.ndarray, mapping: dict[Any, Any]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each key: index into the mapping's entries (or -1), and per entry lo, hi, is_interval."""
    names = list(mapping)
    if names:
        idx = pd.Index(names, tupleize_cols=False, dtype=object).get_indexer(
            pd.Index(list(keys), tupleize_cols=False, dtype=object)).astype(np.int64)
    else:
        idx = np.full(len(keys), -1, np.int64)
    lo = np.array([float(v[0]) if isinstance(v, list) else float(v) for v in mapping.values()], float)
    hi = np.array([float(v[1]) if isinstance(v, list) else float(v) for v in mapping.values()], float)
    is_iv = np.array([isinstance(v, list) for v in mapping.values()], bool)
    return idx, lo, hi, is_iv


@dataclass
class Param:
    """A params section that gives each cell a value per run (a key missing from the params: 1)."""

    idx: np.ndarray  # cell -> entry of the section (-1: not in it)
    lo: np.ndarray
    hi: np.ndarray
    is_iv: np.ndarray
    clip: tuple[float, float]
    power: float = 1.0
    mask: np.ndarray | None = None  # cells the section applies to (others 1)

    @classmethod
    def of(cls, keys: list[Any], mapping: dict[Any, Any], clip: tuple[float, float], **kw: Any) -> "Param":
        return cls(*_lookup(keys, mapping), clip=clip, **kw)

    def values(self, rng: np.random.Generator) -> np.ndarray:
        vals = self.lo.copy()
        if self.is_iv.any():  # scalars are used as is (NHP); intervals drawn and clipped
            vals[self.is_iv] = draw_many(rng, self.lo[self.is_iv], self.hi[self.is_iv], self.clip)
        vals = np.append(vals ** self.power, 1.0)
        out = vals[self.idx]  # idx -1 -> the appended 1.0
        if self.mask is not None:
            out = np.where(self.mask, out, 1.0)
        return out


# ------------------------------------------------------------------------------------ the horizon
def _ratios(table: pd.DataFrame, variants: list[str], start: int, end: int, source: str, what: str,
            required: bool) -> dict[str, pd.Series] | None:
    """Per population variant: population end / start by (age, sex)."""
    if not len(table):
        if required:
            raise TableError("is empty", file=what)
        return None
    for year in (start, end):
        if str(year) not in table.columns:
            raise TableError(f"has no column for year {year} (start_year/end_year in the params)",
                             file=what, field=str(year))
    out: dict[str, pd.Series] = {}
    have = set(table["variant"].astype(str))
    for variant in variants:
        if variant not in have:
            raise ParamsError(
                f"variant '{variant}' is not in the {what} table (it has: {', '.join(sorted(have)[:8])})",
                file=source, field=f"demographic_factors.variant_probabilities.{variant}")
        sub = table[table["variant"].astype(str) == variant]
        base = sub[str(start)].to_numpy(float)
        ratio = np.divide(sub[str(end)].to_numpy(float), base, out=np.ones_like(base), where=base > 0)
        out[variant] = pd.Series(ratio, index=pd.MultiIndex.from_arrays(
            [sub["age"].to_numpy(np.int64), sub["sex"].to_numpy(np.int64)]))
    return out


@dataclass
class Horizon:
    """The scenario's years and what depends on them and on the population tables: population
    ratios per variant (births rows from birth factors), and the health-status adjustment."""

    start: int
    end: int
    variants: list[str]
    variant_p: np.ndarray  # probability of each population variant (normalised)
    base_variant: int  # NHP: run 0 uses the most probable variant
    demog: dict[str, pd.Series]
    births: dict[str, pd.Series] | None
    health: HealthStatus | None  # None: no health-status adjustment
    hsa_table: tuple[np.ndarray, pd.Index] | None  # activity rate [(hsagrp, sex), age 0..100]

    @property
    def years(self) -> int:
        return self.end - self.start

    @classmethod
    def of(cls, params: Params, data: TrustData) -> "Horizon":
        raw = params.raw
        start, end = params.start_year, params.end_year
        probs = raw["demographic_factors"]["variant_probabilities"]
        variants = list(probs)
        p = np.asarray([probs[v] for v in variants], float)
        variant_p = p / p.sum()
        demog = _ratios(data["demographic_factors"], variants, start, end, params.source,
                        f"{data.root}/demographic_factors", True)
        births = _ratios(data["birth_factors"], variants, start, end, params.source, f"{data.root}/birth_factors",
                         False)
        hsa = raw.get("health_status_adjustment", False)
        hsa_on = hsa is not False and hsa is not None and hsa != [0, 0] and len(data["hsa_activity_tables"]) > 0
        health = HealthStatus(start, end, params.source) if hsa_on else None
        table = None
        if hsa_on:
            rates = data["hsa_activity_tables"].pivot_table(index=["hsagrp", "sex"], columns="age", values="activity",
                                                            aggfunc="mean", observed=True)
            rates = rates.reindex(columns=range(0, 101)).ffill(axis=1).bfill(axis=1)
            table = (rates.to_numpy(float), rates.index)
        assert demog is not None  # required
        return cls(start, end, variants, variant_p, int(np.argmax(variant_p)), demog, births, health, table)

    def to_year(self, end_year: int, params: Params, data: TrustData) -> "Horizon":
        """The same scenario projecting to ``end_year`` (population ratios and health status redone)."""
        demog = _ratios(data["demographic_factors"], self.variants, self.start, end_year, params.source,
                        f"{data.root}/demographic_factors", True)
        births = _ratios(data["birth_factors"], self.variants, self.start, end_year, params.source,
                         f"{data.root}/birth_factors", False)
        assert demog is not None
        health = HealthStatus(self.start, end_year, params.source) if self.health is not None else None
        return replace(self, end=end_year, demog=demog, births=births, health=health)

    def demog_matrix(self, dcells: pd.DataFrame) -> np.ndarray:
        """[variant, cell] population ratio end/start (births rows: birth_factors; unmatched: 1)."""
        idx = pd.MultiIndex.from_arrays([dcells["age"].to_numpy(np.int64), dcells["sex"].to_numpy(np.int64)])
        dtype = text_of(dcells["demog_type"])
        demog = np.ones((len(self.variants), len(dcells)))
        for v, variant in enumerate(self.variants):
            d = self.demog[variant].reindex(idx).to_numpy(float)
            demog[v] = np.where(dtype == "demographics", np.nan_to_num(d, nan=1.0), 1.0)
            if self.births is not None:
                b = self.births[variant].reindex(idx).to_numpy(float)
                demog[v] = np.where(dtype == "births", np.nan_to_num(b, nan=1.0), demog[v])
        return demog


# ------------------------------------------------------------------------- factors of one activity
@dataclass
class HealthCells:
    """Per health-status cell (hsagrp, sex, age): its row of the activity-rate table, sex and age."""

    table: np.ndarray
    row: np.ndarray
    sex: np.ndarray
    age: np.ndarray

    def factors(self, adjusted_ages: np.ndarray) -> np.ndarray:
        return hsa_factors(adjusted_ages, self.table, self.row, self.sex, self.age)


@dataclass
class JointCells:
    """The combinations of the four factor cells that occur: a run multiplies the factors once per
    joint cell, and each row reaches its product with one gather."""

    row: np.ndarray  # row -> joint cell
    demog: np.ndarray  # joint cell -> demography cell
    hsa: np.ndarray  # joint cell -> health-status cell
    group: np.ndarray  # joint cell -> group cell
    ineq: np.ndarray  # joint cell -> inequality factor (fixed)
    base: dict[str, np.ndarray]  # baseline count per joint cell, by waterfall measure


@dataclass
class GrowthFactors:
    """Steps 1-9 for one activity type's rows."""

    demog_cells: pd.DataFrame  # (demog_type, age, sex) per demography cell: kept for other horizons
    demog: np.ndarray  # [variant, demography cell] population ratio
    hsa: HealthCells | None
    group_params: dict[str, Param]  # by step of GROUP_STEPS, per group cell
    joint: JointCells

    def for_horizon(self, horizon: Horizon) -> "GrowthFactors":
        """The same factors projecting to ``horizon``'s end year (non-demographic growth compounds)."""
        params = dict(self.group_params)
        params["non-demographic_adjustment"] = replace(params["non-demographic_adjustment"],
                                                       power=float(horizon.years))
        return replace(self, demog=horizon.demog_matrix(self.demog_cells), group_params=params)

    def draw(self, rng: np.random.Generator, variant: int, ages: np.ndarray | None,
             step_totals: dict[str, np.ndarray]) -> np.ndarray:
        """Product of the growth factors per row; fills each base's expected total after each step
        (``step_totals[measure][0..9]``: baseline, then after steps 1..9) for the waterfall."""
        j = self.joint
        d = self.demog[variant][j.demog]
        if self.hsa is not None and ages is not None:
            dh = d * self.hsa.factors(ages)[j.hsa]
        else:
            dh = d
        gvals = {step: self.group_params[step].values(rng) for step in GROUP_STEPS}
        n_g = len(gvals["expat"])
        g = np.ones(n_g)
        for step in GROUP_STEPS:
            g = g * gvals[step]
        f = dh * g[j.group] * j.ineq
        for name, base in j.base.items():
            steps = np.empty(10)
            steps[0] = base.sum()
            steps[1] = dot(base, d)
            bdh = base * dh
            steps[2] = bdh.sum()
            per_cell = np.bincount(j.group, weights=bdh, minlength=n_g)
            for i, step in enumerate(GROUP_STEPS):
                per_cell = per_cell * gvals[step]
                steps[3 + i] = per_cell.sum()
            steps[9] = dot(base, f)
            step_totals[name] = steps
        return f[j.row]


def with_default_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """The optional group columns where the data has none: ndggrp = group, not on a waiting list,
    from the main ICB."""
    extra = {}
    if "ndggrp" not in frame:
        extra["ndggrp"] = frame["group"]
    for col in ("is_wla", "is_main_icb"):
        if col not in frame:
            extra[col] = col == "is_main_icb"
    return frame.assign(**extra) if extra else frame


def prepare_growth(frame: pd.DataFrame, kind: str, ineq_group: str | None, base: dict[str, np.ndarray],
                   horizon: Horizon, params: Params, data: TrustData) -> GrowthFactors:
    """Cells and params of steps 1-9 for one activity type's rows (``kind``: ip, op or aae).

    ``ineq_group``: the group NHP joins inequality factors on (ip "elective", op "procedure"; A&E
    none). ``base``: each row's baseline count per waterfall measure."""
    # demography (births rows by mother's age from birth_factors), on (demog_type, age, sex)
    dcell, dcells = factorize(frame, ["demog_type", "age", "sex"])
    demog = horizon.demog_matrix(dcells)
    # health status, on (hsagrp, sex, age)
    hcell, hcells = factorize(frame, ["hsagrp", "sex", "age"])
    hsa = None
    if horizon.hsa_table is not None:
        table, index = horizon.hsa_table
        row = index.get_indexer(pd.MultiIndex.from_arrays(
            [text_of(hcells["hsagrp"]), hcells["sex"].to_numpy(np.int64)]))
        hsa = HealthCells(table, row, hcells["sex"].to_numpy(np.int64), hcells["age"].to_numpy(np.int64))
    # the group-keyed steps (expat, repat, baseline, waiting list, non-demographic growth)
    gcell, gcells = factorize(frame, GROUP_COLS)
    gparams = group_params(gcells, kind, params, horizon.years)
    # inequalities: fixed factors on (icb, HRG, IMD quintile) for the listed HRGs, one group only
    ineq = np.ones(len(frame))
    if ineq_group is not None and {"icb", "sushrg_trimmed", "imd_quintile"} <= set(frame.columns):
        icell, icells = factorize(frame, ["group", "icb", "sushrg_trimmed", "imd_quintile"])
        ineq = inequality_factors(icells, ineq_group, params, data)[icell]
    # joint cells of all four: each run computes the factors once per joint cell, one gather per row
    icode, ivals = pd.factorize(ineq)
    joint = pd.DataFrame({"d": dcell, "h": hcell, "g": gcell, "i": icode})
    jrow, jcells = factorize(joint, ["d", "h", "g", "i"])
    cells = JointCells(jrow, jcells["d"].to_numpy(np.int64), jcells["h"].to_numpy(np.int64),
                       jcells["g"].to_numpy(np.int64), np.asarray(ivals, float)[jcells["i"].to_numpy()],
                       {name: np.bincount(jrow, weights=b, minlength=len(jcells)) for name, b in base.items()})
    return GrowthFactors(dcells, demog, hsa, gparams, cells)


def inequality_factors(cells: pd.DataFrame, group: str, params: Params, data: TrustData) -> np.ndarray:
    """Per (group, icb, HRG, IMD quintile) cell: the factor of the first listed kind that has one."""
    raw = params.raw.get("inequalities", {}) or {}
    table = data["inequalities"]
    out = np.ones(len(cells))
    if not len(table) or not any(raw.get(k) for k in ("level_up", "level_down", "zero_sum")):
        return out
    cols = ["icb", "sushrg_trimmed", "imd_quintile"]
    tkey = pd.MultiIndex.from_frame(table[cols].astype(str))
    pos = tkey.get_indexer(pd.MultiIndex.from_frame(cells[cols].astype(str)))
    hrg = text_of(cells["sushrg_trimmed"])
    for kind in ("level_up", "level_down", "zero_sum"):
        listed = np.isin(hrg, [str(h) for h in raw.get(kind, []) or []])
        vals = np.append(table[kind].to_numpy(float), np.nan)[pos]
        out = np.where(listed & ~np.isnan(vals), vals, out)
    # NHP joins inequality factors on group too: ip "elective", op "procedure"
    return np.where(text_of(cells["group"]) == group, out, 1.0)


def _flat(params: Params, section: str, kind: str, nested: bool) -> dict[Any, Any]:
    node = (params.raw.get(section) or {}).get(kind) or {}
    if nested:
        return {(str(g), str(t)): v for g, sub in node.items() for t, v in (sub or {}).items()}
    return {str(k): v for k, v in node.items()}


def _ndg(params: Params, kind: str) -> dict[Any, Any]:
    ndg = params.raw.get("non-demographic_adjustment") or {}
    vtype = ndg.get("value-type", "year-on-year-growth")
    if vtype != "year-on-year-growth":
        raise ParamsError(f"value-type '{vtype}' is not supported (NHP supports year-on-year-growth)",
                          file=params.source, field="non-demographic_adjustment.value-type")
    return {str(k): v for k, v in ((ndg.get("values") or {}).get(kind) or {}).items()}


def group_params(cells: pd.DataFrame, kind: str, params: Params, years: int) -> dict[str, Param]:
    """expat/repat/baseline/waiting-list/non-demographic factors per group cell, as NHP keys them."""
    grp = text_of(cells["group"])
    spec = text_of(cells["tretspef_grouped"])
    main = cells["is_main_icb"].to_numpy(bool)
    wla = cells["is_wla"].to_numpy(bool)
    ndg = text_of(cells["ndggrp"])
    by_gs = list(zip(grp, spec))
    if kind == "ip":
        keys, nested = by_gs, True
    elif kind == "op":  # NHP patches the op dict (by specialty) onto each of first/followup/procedure
        keys, nested = list(spec), False
    else:  # aae: keyed by group (ambulance / walk-in), tretspef_grouped "Other"
        keys, nested = list(grp), False
    out = {
        "expat": Param.of(keys, _flat(params, "expat", kind, nested), CLIP["expat"]),
        "repat_local": Param.of(keys, _flat(params, "repat_local", kind, nested), CLIP["repat_local"], mask=main),
        "repat_nonlocal": Param.of(keys, _flat(params, "repat_nonlocal", kind, nested), CLIP["repat_nonlocal"],
                                   mask=~main),
        "non-demographic_adjustment": Param.of(list(ndg), _ndg(params, kind), CLIP["non-demographic_adjustment"],
                                               power=float(years)),
    }
    badj = (params.raw.get("baseline_adjustment") or {}).get(kind) or {}
    if kind == "aae":
        out["baseline_adjustment"] = Param.of(list(grp), {str(k): v for k, v in badj.items()},
                                              CLIP["baseline_adjustment"])
        out["waiting_list_adjustment"] = Param.of(list(grp), {}, CLIP["waiting_list_adjustment"])
    else:
        out["baseline_adjustment"] = Param.of(by_gs, _flat(params, "baseline_adjustment", kind, True),
                                              CLIP["baseline_adjustment"])
        out["waiting_list_adjustment"] = Param.of(list(spec), _flat(params, "waiting_list_adjustment", kind, False),
                                                  CLIP["waiting_list_adjustment"], mask=wla)
    return out


#: The steps whose params are keyed by the data's groups and specialties (``group_params``).
KEYED_STEPS = ("expat", "repat_local", "repat_nonlocal", "baseline_adjustment", "waiting_list_adjustment")


def unmatched_assumptions(params: Params, data: TrustData) -> list[str]:
    """Assumptions the params make that the data cannot take, in words: a step keyed by specialty
    (or A&E group) none of whose keys is a value of the data (a trust coding specialties ``C_110``
    where the params say ``110``: the whole step would change nothing, silently), and a health
    status adjustment or inequalities asked for with no table to compute them from."""
    said = []
    for kind in ("ip", "op", "aae"):
        frame = data[kind]
        if not len(frame):
            continue
        column = "group" if kind == "aae" else "tretspef_grouped"
        have = set(codes_of(frame[column])[1])
        steps = []
        for step in KEYED_STEPS:
            node = (params.raw.get(step) or {}).get(kind) or {}
            # as group_params reads them: ip by (group, specialty), op's baseline too; the rest flat
            nested = step != "waiting_list_adjustment" and (kind == "ip" or
                                                            (kind, step) == ("op", "baseline_adjustment"))
            named = {str(k) for sub in node.values() for k in (sub or {})} if nested else {str(k) for k in node}
            if named and not named & have:
                steps.append(f"{step}.{kind}")
        if steps:
            shown = ", ".join(sorted(have)[:5]) + (" ..." if len(have) > 5 else "")
            said.append(f"{params.source}: {', '.join(steps)} name {column} values the data does not have (it has "
                        f"{shown}), so these steps change nothing")
    hsa = params.raw.get("health_status_adjustment", False)
    if hsa not in (False, None, [0, 0]) and not len(data["hsa_activity_tables"]):
        said.append(f"{params.source}: health_status_adjustment is on, but {data.root} has no hsa_activity_tables:"
                    " no health-status adjustment is made")
    ineq = params.raw.get("inequalities") or {}
    if any(ineq.get(k) for k in ("level_up", "level_down", "zero_sum")) and not len(data["inequalities"]):
        said.append(f"{params.source}: inequalities are asked for, but {data.root} has no inequalities table: "
                    "none are applied")
    return said
