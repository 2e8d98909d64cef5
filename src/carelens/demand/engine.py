"""The Monte Carlo engine: NHP's method (nhp-model 6.x), vectorised.

Why it is fast (and still NHP's method):
- Every growth factor is computed per *factor cell* (the few hundred combinations of the columns
  that factor looks at) and reaches the rows with one gather; interval draws are vectorised.
- Random steps are drawn on counts, never by copying rows: a Poisson-resampled row thinned by a
  binomial is a Poisson with the product of the rates, and the part thinned out an independent
  Poisson (Poisson splitting); a sum of independent Poissons is a Poisson. Outpatient and A&E rows
  feed only per-output-key totals, so their Poisson draws are made per output key (and per set of
  avoidance strategies for the avoided activity), which is the same distribution for every output.
  Inpatient spells keep per-spell draws, because each spell picks one efficiency strategy per run.
- Per-run random streams come from ``SeedSequence([scenario seed, model_run])`` only, so a run's
  result does not depend on which process or machine computes it.

Where NHP's code does something the data README leaves open, this follows NHP (see
docs/demand-nhp-agreement.md, "NHP's method, precisely").
"""

from __future__ import annotations

import copy
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.data import TrustData
from carelens.demand.hsa import HealthStatus, hsa_factors
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
GROUP_STEPS = ["expat", "repat_local", "repat_nonlocal", "baseline_adjustment", "waiting_list_adjustment",
               "non-demographic_adjustment"]
WATERFALL_MEASURES = [("ip", "admissions"), ("ip", "beddays"), ("op", "attendances"), ("aae", "arrivals")]
Z80 = 2.563103  # width of an 80% normal interval in standard deviations (NHP: 2 * norm.ppf(0.9))
# NHP's valid ranges for drawn values (model.py: generate_run_params)
CLIP = {"expat": (0.0, 1.0), "repat_local": (1.0, 5.0), "repat_nonlocal": (1.0, 5.0),
        "baseline_adjustment": (0.0, 5.0), "waiting_list_adjustment": (0.0, 5.0),
        "non-demographic_adjustment": (0.0, 5.0), "activity_avoidance": (0.0, 1.0), "efficiencies": (0.0, 1.0)}
GENERAL_LOS = {"1": "general_los_reduction_elective", "2": "general_los_reduction_emergency"}
CONVERT_TYPES = ("sdec", "day_procedures_daycase", "day_procedures_outpatients")


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


def release_memory() -> None:
    """Give the C heap's free memory back to the system (glibc keeps what preparation freed, and
    forked workers would each carry it); a no-op where there is no glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of products without BLAS: its thread pool spins badly on a busy shared machine."""
    return float(np.multiply(a, b, dtype=np.float64).sum())


def seed_for(seed: int, model_run: int) -> np.random.SeedSequence:
    """The run's random stream depends on (scenario seed, model_run) and nothing else."""
    return np.random.SeedSequence([int(seed), int(model_run)])


# ---------------------------------------------------------------------------------- preparation helpers
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


def _codes(values: Any) -> tuple[np.ndarray, np.ndarray]:
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


def _text(values: Any) -> np.ndarray:
    codes, uniq = _codes(values)
    return uniq[codes] if len(uniq) else np.zeros(len(codes), dtype=object)


def _index_of(values: Any, names: list[str], prefix: str = "", mask: np.ndarray | None = None,
              replace: tuple[str, str] | None = None) -> np.ndarray:
    """Per row: position in ``names`` of ``prefix + value`` (or of the value with ``replace``
    applied once), -1 where absent or where ``mask`` is False; computed once per distinct value."""
    codes, uniq = _codes(values)
    labels = [prefix + (u.replace(replace[0], replace[1], 1) if replace else u) for u in uniq]
    pos = {n: i for i, n in enumerate(names)}
    per = np.fromiter((pos.get(x, -1) for x in labels), np.int64, len(labels))
    out = per[codes] if len(per) else np.full(len(codes), -1, np.int64)
    return np.where(mask, out, -1) if mask is not None else out


def _bool(frame: pd.DataFrame, col: str, default: bool = False) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), default)
    return frame[col].to_numpy(bool)


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
class _Param:
    """A params section that gives each factor cell a value per run (missing key -> 1)."""

    idx: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    is_iv: np.ndarray
    clip: tuple[float, float]
    power: float = 1.0
    mask: np.ndarray | None = None  # cells the section applies to (others 1)

    @classmethod
    def of(cls, keys: list[Any], mapping: dict[Any, Any], clip: tuple[float, float], **kw: Any) -> "_Param":
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


@dataclass
class _Activity:
    """One activity type (ip/op/aae) prepared for fast runs."""

    name: str
    n: int
    base: dict[str, np.ndarray]  # baseline count per row, by waterfall measure
    out_key: np.ndarray  # row -> output key
    demog_cell: np.ndarray  # row -> (demog_type, age, sex) cell
    demog: np.ndarray  # [variant, demog cell] population ratio
    hsa_cell: np.ndarray  # row -> (hsagrp, sex, age) cell
    hsa: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None  # table, row, sex, age per cell
    group_cell: np.ndarray  # row -> cell of the group-keyed steps
    group_params: dict[str, _Param]
    ineq: np.ndarray  # per row inequality factor (fixed)
    extra: dict[str, Any] = field(default_factory=dict)


def _ratios(table: pd.DataFrame, variants: list[str], start: int, end: int, source: str, what: str,
            required: bool) -> dict[str, pd.Series] | None:
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


def _daycase_area(area: str) -> str:
    """NHP's remap of a converted day case's bed area (inpatients.py: _functional_area_beds)."""
    if "daycase" in area:
        return area
    return re.sub(r"^(paediatric|adult)_[^_]*_([^_]*)_.*$", r"\1_daycase_\2", area)


class Engine:
    """Data and params prepared once; :meth:`run` computes one Monte Carlo run."""

    def __init__(self, params: Params, data: TrustData) -> None:
        self.params = params
        self.data = data
        raw = params.raw
        self.start, self.end = params.start_year, params.end_year
        self.years = self.end - self.start
        probs = raw["demographic_factors"]["variant_probabilities"]
        self.variants = list(probs)
        p = np.asarray([probs[v] for v in self.variants], float)
        self.variant_p = p / p.sum()
        self.base_variant = int(np.argmax(self.variant_p))  # NHP: run 0 uses the most probable variant
        where = f"{data.root}/demographic_factors"
        self.demog = _ratios(data["demographic_factors"], self.variants, self.start, self.end, params.source, where,
                             True)
        self.births = _ratios(data["birth_factors"], self.variants, self.start, self.end, params.source,
                              f"{data.root}/birth_factors", False)
        hsa = raw.get("health_status_adjustment", False)
        self.hsa_on = hsa is not False and hsa is not None and hsa != [0, 0] and len(data["hsa_activity_tables"]) > 0
        self.health = HealthStatus(self.start, self.end, params.source) if self.hsa_on else None
        self._hsa_table()
        self.warnings: list[str] = []
        self._build_out_keys()
        self.ip = self._prep_ip()
        self.op = self._prep_op()
        self.aae = self._prep_aae()
        self.sites = sorted(set(self.keys["sitetret"]))
        # memory: the runs need only the joint cells, not the per-row cell codes or frame copies
        self.__dict__.pop("_out_cache", None)
        for act in (self.ip, self.op, self.aae):
            empty = np.zeros(0, np.int64)
            act.demog_cell = act.hsa_cell = act.group_cell = empty
            act.ineq = np.zeros(0)
        release_memory()

    # ------------------------------------------------------------------ shared preparation
    def _hsa_table(self) -> None:
        hsa = self.data["hsa_activity_tables"]
        if not self.hsa_on:
            self._hsa = None
            return
        table = hsa.pivot_table(index=["hsagrp", "sex"], columns="age", values="activity", aggfunc="mean",
                                observed=True)
        table = table.reindex(columns=range(0, 101)).ffill(axis=1).bfill(axis=1)
        self._hsa = (table.to_numpy(float), table.index)

    def _out_cells(self, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        cache = self.__dict__.setdefault("_out_cache", {})
        if id(frame) not in cache:
            codes, cells = factorize(frame, OUT_DIMS)
            cache[id(frame)] = (frame, codes, cells.astype(str))
        return cache[id(frame)][1], cache[id(frame)][2]

    def _build_out_keys(self) -> None:
        frames = []
        for name in ("ip", "op", "aae"):
            frames.append(self._out_cells(self.data[name])[1])
        ipc = self._out_cells(self.data["ip"])[1]
        frames.append(ipc.assign(pod="ip_elective_daycase"))
        frames.append(ipc.assign(pod="op_procedure"))
        frames.append(ipc.assign(pod="aae_type-05", tretspef_grouped="Other"))  # spells converted to SDEC
        keys = pd.concat(frames, ignore_index=True).drop_duplicates().sort_values(OUT_DIMS).reset_index(drop=True)
        self.keys = keys
        self._key_index = pd.MultiIndex.from_frame(keys)

    def _key_of(self, frame: pd.DataFrame, **override: str) -> np.ndarray:
        """Output key index per row (only the unique combinations are matched against the keys)."""
        codes, cells = self._out_cells(frame)
        cells = cells.assign(**override)
        idx = self._key_index.get_indexer(pd.MultiIndex.from_frame(cells[OUT_DIMS]))
        assert (idx >= 0).all()
        return idx[codes].astype(np.int64)

    def _growth(self, frame: pd.DataFrame, kind: str, group_cols: list[str], group_keys, ineq_group: str | None,
                base: dict[str, np.ndarray], out_key: np.ndarray) -> _Activity:
        """Prepare the growth factors every activity shares (steps 1-9 of the method)."""
        # demography (births rows by mother's age from birth_factors), on (demog_type, age, sex)
        dcell, dcells = factorize(frame, ["demog_type", "age", "sex"])
        demog = self._demog_matrix(dcells)
        # health status, on (hsagrp, sex, age)
        hcell, hcells = factorize(frame, ["hsagrp", "sex", "age"])
        hsa = None
        if self._hsa is not None:
            table, index = self._hsa
            row = index.get_indexer(pd.MultiIndex.from_arrays(
                [_text(hcells["hsagrp"]), hcells["sex"].to_numpy(np.int64)]))
            hsa = (table, row, hcells["sex"].to_numpy(np.int64), hcells["age"].to_numpy(np.int64))
        # the group-keyed steps (expat, repat, baseline, waiting list, non-demographic growth)
        gcell, gcells = factorize(frame, group_cols)
        gparams = group_keys(gcells)
        # inequalities: fixed factors on (icb, HRG, IMD quintile) for the listed HRGs, one group only
        ineq = np.ones(len(frame))
        if ineq_group is not None and {"icb", "sushrg_trimmed", "imd_quintile"} <= set(frame.columns):
            icell, icells = factorize(frame, ["group", "icb", "sushrg_trimmed", "imd_quintile"])
            ineq = self._inequalities(icells, ineq_group)[icell]
        act = _Activity(kind, len(frame), base, out_key, dcell, demog, hcell, hsa, gcell, gparams, ineq)
        act.extra["demog_cells"] = dcells
        # joint cells of all four: each run computes the factors once per joint cell, one gather per row
        icode, ivals = pd.factorize(ineq)
        joint = pd.DataFrame({"d": dcell, "h": hcell, "g": gcell, "i": icode})
        jrow, jcells = factorize(joint, ["d", "h", "g", "i"])
        act.extra["joint"] = (jrow, jcells["d"].to_numpy(np.int64), jcells["h"].to_numpy(np.int64),
                              jcells["g"].to_numpy(np.int64), np.asarray(ivals, float)[jcells["i"].to_numpy()],
                              {name: np.bincount(jrow, weights=b, minlength=len(jcells)) for name, b in base.items()})
        return act

    def _demog_matrix(self, dcells: pd.DataFrame) -> np.ndarray:
        """[variant, cell] population ratio end/start (births rows: birth_factors; unmatched: 1)."""
        idx = pd.MultiIndex.from_arrays([dcells["age"].to_numpy(np.int64), dcells["sex"].to_numpy(np.int64)])
        dtype = _text(dcells["demog_type"])
        demog = np.ones((len(self.variants), len(dcells)))
        for v, variant in enumerate(self.variants):
            d = self.demog[variant].reindex(idx).to_numpy(float)
            demog[v] = np.where(dtype == "demographics", np.nan_to_num(d, nan=1.0), 1.0)
            if self.births is not None:
                b = self.births[variant].reindex(idx).to_numpy(float)
                demog[v] = np.where(dtype == "births", np.nan_to_num(b, nan=1.0), demog[v])
        return demog

    def for_year(self, end_year: int) -> "Engine":
        """This engine projecting to another horizon year (same data, strategies and seed).

        Only what depends on the horizon is recomputed: population ratios, health-status
        adjustment and the compounding of non-demographic growth. Used for fan charts, where
        each year is its own projection to that year with the scenario's assumptions in full.
        """
        if int(end_year) == self.end:
            return self
        if int(end_year) < self.start:
            raise ParamsError(f"year {end_year} is before start_year {self.start}", file=self.params.source,
                              field="end_year")
        other = copy.copy(self)
        other.params = Params(raw=dict(self.params.raw, end_year=int(end_year)), capacity=self.params.capacity,
                              source=self.params.source)
        other.end, other.years = int(end_year), int(end_year) - self.start
        data = self.data
        other.demog = _ratios(data["demographic_factors"], self.variants, self.start, other.end, self.params.source,
                              f"{data.root}/demographic_factors", True)
        other.births = _ratios(data["birth_factors"], self.variants, self.start, other.end, self.params.source,
                               f"{data.root}/birth_factors", False)
        other.health = HealthStatus(self.start, other.end, self.params.source) if self.hsa_on else None
        for name in ("ip", "op", "aae"):
            act = getattr(self, name)
            params = dict(act.group_params)
            params["non-demographic_adjustment"] = replace(params["non-demographic_adjustment"],
                                                           power=float(other.years))
            setattr(other, name, replace(act, demog=other._demog_matrix(act.extra["demog_cells"]),
                                         group_params=params))
        return other

    def _inequalities(self, cells: pd.DataFrame, group: str) -> np.ndarray:
        raw = self.params.raw.get("inequalities", {}) or {}
        table = self.data["inequalities"]
        out = np.ones(len(cells))
        if not len(table) or not any(raw.get(k) for k in ("level_up", "level_down", "zero_sum")):
            return out
        cols = ["icb", "sushrg_trimmed", "imd_quintile"]
        tkey = pd.MultiIndex.from_frame(table[cols].astype(str))
        pos = tkey.get_indexer(pd.MultiIndex.from_frame(cells[cols].astype(str)))
        hrg = _text(cells["sushrg_trimmed"])
        for kind in ("level_up", "level_down", "zero_sum"):
            listed = np.isin(hrg, [str(h) for h in raw.get(kind, []) or []])
            vals = np.append(table[kind].to_numpy(float), np.nan)[pos]
            out = np.where(listed & ~np.isnan(vals), vals, out)
        # NHP joins inequality factors on group too: ip "elective", op "procedure"
        return np.where(_text(cells["group"]) == group, out, 1.0)

    def _flat(self, section: str, kind: str, nested: bool) -> dict[Any, Any]:
        node = (self.params.raw.get(section) or {}).get(kind) or {}
        if nested:
            return {(str(g), str(t)): v for g, sub in node.items() for t, v in (sub or {}).items()}
        return {str(k): v for k, v in node.items()}

    def _ndg(self, kind: str) -> dict[Any, Any]:
        ndg = self.params.raw.get("non-demographic_adjustment") or {}
        vtype = ndg.get("value-type", "year-on-year-growth")
        if vtype != "year-on-year-growth":
            raise ParamsError(f"value-type '{vtype}' is not supported (NHP supports year-on-year-growth)",
                              file=self.params.source, field="non-demographic_adjustment.value-type")
        return {str(k): v for k, v in ((ndg.get("values") or {}).get(kind) or {}).items()}

    def _group_params(self, cells: pd.DataFrame, kind: str) -> dict[str, _Param]:
        """expat/repat/baseline/waiting-list/non-demographic factors per group cell, as NHP keys them."""
        grp = _text(cells["group"])
        spec = _text(cells["tretspef_grouped"])
        main = cells["is_main_icb"].to_numpy(bool)
        wla = cells["is_wla"].to_numpy(bool)
        ndg = _text(cells["ndggrp"])
        by_gs = list(zip(grp, spec))
        if kind == "ip":
            keys, nested = by_gs, True
        elif kind == "op":  # NHP patches the op dict (by specialty) onto each of first/followup/procedure
            keys, nested = list(spec), False
        else:  # aae: keyed by group (ambulance / walk-in), tretspef_grouped "Other"
            keys, nested = list(grp), False
        out = {
            "expat": _Param.of(keys, self._flat("expat", kind, nested), CLIP["expat"]),
            "repat_local": _Param.of(keys, self._flat("repat_local", kind, nested), CLIP["repat_local"], mask=main),
            "repat_nonlocal": _Param.of(keys, self._flat("repat_nonlocal", kind, nested), CLIP["repat_nonlocal"],
                                        mask=~main),
            "non-demographic_adjustment": _Param.of(list(ndg), self._ndg(kind), CLIP["non-demographic_adjustment"],
                                                    power=float(self.years)),
        }
        badj = (self.params.raw.get("baseline_adjustment") or {}).get(kind) or {}
        if kind == "aae":
            out["baseline_adjustment"] = _Param.of(list(grp), {str(k): v for k, v in badj.items()},
                                                   CLIP["baseline_adjustment"])
            out["waiting_list_adjustment"] = _Param.of(list(grp), {}, CLIP["waiting_list_adjustment"])
        else:
            out["baseline_adjustment"] = _Param.of(by_gs, self._flat("baseline_adjustment", kind, True),
                                                   CLIP["baseline_adjustment"])
            out["waiting_list_adjustment"] = _Param.of(list(spec), self._flat("waiting_list_adjustment", kind, False),
                                                       CLIP["waiting_list_adjustment"], mask=wla)
        return out

    @staticmethod
    def _with_ndg(frame: pd.DataFrame) -> pd.DataFrame:
        extra = {}
        if "ndggrp" not in frame:
            extra["ndggrp"] = frame["group"]
        for col in ("is_wla", "is_main_icb"):
            if col not in frame:
                extra[col] = col == "is_main_icb"
        return frame.assign(**extra) if extra else frame

    # ------------------------------------------------------------------ inpatients
    def _prep_ip(self) -> _Activity:
        ip = self._with_ndg(self.data["ip"].reset_index(drop=True))
        raw = self.params.raw
        n = len(ip)
        speldur = ip["speldur"].to_numpy(np.int64)
        out_key = self._key_of(ip)
        base = {"admissions": np.ones(n), "beddays": speldur + 1.0}
        act = self._growth(ip, "ip", ["group", "tretspef_grouped", "is_main_icb", "is_wla", "ndggrp"],
                           lambda cells: self._group_params(cells, "ip"), "elective", base, out_key)
        act.extra["speldur"] = speldur
        act.extra["has_procedure"] = (_bool(ip, "has_procedure") if "has_procedure" in ip else None)
        rn = ip["rn"].to_numpy()
        rn_pos = pd.Index(rn)
        if rn_pos.has_duplicates:
            raise TableError("spell ids must be unique", file=f"{self.data.root}/ip", field="rn")
        self._rn_pos = rn_pos

        def rows_of(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
            pos = rn_pos.get_indexer(table["rn"].to_numpy())
            return pos, pos >= 0

        # activity avoidance: one Bernoulli(sample_rate) per (spell, strategy) row and run
        strategies = raw.get("activity_avoidance", {}).get("ip", {}) or {}
        names = list(strategies)
        table = self.data["ip_activity_avoidance_strategies"]
        self._warn_missing("activity_avoidance", table, names, set())
        t = table
        strat = _index_of(t["strategy"], names)
        rows, ok = rows_of(t)
        ok &= strat >= 0
        act.extra["aa"] = (rows[ok], strat[ok], t["sample_rate"].to_numpy(float)[ok], names,
                           np.array([strategies[s]["interval"][0] for s in names], float),
                           np.array([strategies[s]["interval"][1] for s in names], float))
        # efficiencies: one strategy per spell, chosen at random per run (sample_rate ignored, as NHP)
        effs = raw.get("efficiencies", {}).get("ip", {}) or {}
        enames = list(effs)
        etable = self.data["ip_efficiencies_strategies"]
        self._warn_missing("efficiencies", etable, enames, set(GENERAL_LOS.values()))
        estrat = _index_of(etable["strategy"], enames)
        erows, eok = rows_of(etable)
        eok &= estrat >= 0
        erows, estrat = erows[eok], estrat[eok]
        # NHP (InpatientsModel._load_strategies): a spell with no efficiency strategy, speldur > 0 and
        # classpat "1" gets general_los_reduction_elective (admimeth "1...") or _emergency ("2...")
        if {"admimeth", "classpat"} <= set(ip.columns):
            has = np.zeros(n, bool)
            has[erows] = True
            cp_codes, cp = _codes(ip["classpat"])
            free = ~has & (speldur > 0) & (cp == "1")[cp_codes]
            am_codes, am = _codes(ip["admimeth"])
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
        act.extra["eff"] = {
            "spells": spells, "start": start, "count": count, "strat": estrat, "names": enames,
            "lo": np.array([effs[s]["interval"][0] for s in enames], float),
            "hi": np.array([effs[s]["interval"][1] for s in enames], float),
            "code": np.array([{"all": 0, "pre-op": 1, "sdec": 2, "day_procedures_daycase": 3,
                               "day_procedures_outpatients": 4}.get(str(x), 0) for x in types], np.int64),
            "pre": np.array([int(effs[s].get("pre-op_days", 1)) for s in enames] or [0], np.int64),
        }
        # keys for converted spells (day case, outpatient procedure, same-day emergency care)
        act.extra["daycase_key"] = self._key_of(ip, pod="ip_elective_daycase")
        act.extra["op_key"] = self._key_of(ip, pod="op_procedure")
        act.extra["sdec_key"] = self._key_of(ip, pod="aae_type-05", tretspef_grouped="Other")
        self._prep_capacity(ip, act)
        return act

    def _warn_missing(self, kind: str, table: pd.DataFrame, names: list[str], implicit: set[str]) -> None:
        """NHP crashes on a params strategy with no rows in the data; carelens warns and skips it."""
        have = set(_codes(table["strategy"])[1][np.unique(_codes(table["strategy"])[0])]) if len(table) else set()
        missing = sorted(set(names) - have - implicit)
        if missing:
            fields = ", ".join(f"{kind}.ip.{m}" for m in missing)
            self.warnings.append(
                f"{self.params.source}: {len(missing)} strategies have no rows in {self.data.root}/ip_{kind}_strategies"
                f" and are ignored (NHP stops with an error here): {fields}")

    def _prep_capacity(self, ip: pd.DataFrame, act: _Activity) -> None:
        site_code, sites = _codes(ip["sitetret"])
        beds = self.data["ip_functional_areas_beds"]
        procs = self.data["ip_functional_areas_procedures"]
        # beds: a spell's bed days split over its areas by group_pcnt (equal shares if all are 0)
        rows = self._rn_pos.get_indexer(beds["rn"].to_numpy())
        ok = rows >= 0
        rows = rows[ok]
        pct = np.nan_to_num(beds["group_pcnt"].to_numpy(float)[ok])
        tot = np.bincount(rows, weights=pct, minlength=len(ip))
        cnt = np.bincount(rows, minlength=len(ip))
        weight = np.where(tot[rows] > 0, pct / np.where(tot[rows] > 0, tot[rows], 1.0), 1.0 / np.maximum(cnt[rows], 1))
        acode, anames = _codes(beds["functional_area"])
        acode = acode[ok]
        # a spell converted to a day case counts its bed day in the day-case area (NHP's remap)
        names = list(dict.fromkeys([*anames, *(_daycase_area(a) for a in anames)]))
        pos = {a: i for i, a in enumerate(names)}
        own = np.array([pos[a] for a in anames], np.int64)
        dca = np.array([pos[_daycase_area(a)] for a in anames], np.int64)
        keys = np.concatenate([site_code[rows] * len(names) + own[acode], site_code[rows] * len(names) + dca[acode]])
        code, uniq = pd.factorize(keys)
        self.bed_areas = pd.DataFrame({"sitetret": sites[uniq // len(names)],
                                       "functional_area": np.asarray(names, dtype=object)[uniq % len(names)]})
        act.extra["beds"] = (rows, code[:len(rows)].astype(np.int64), code[len(rows):].astype(np.int64), weight)
        # the usual case: one bed row per spell, in spell order, whole spell in one area
        act.extra["beds_identity"] = bool(len(rows) == len(ip) and np.array_equal(rows, np.arange(len(ip)))
                                          and np.all(weight == 1.0))
        # theatres: procedures by theatre area (count per admission)
        prow = self._rn_pos.get_indexer(procs["rn"].to_numpy())
        pok = prow >= 0
        prow = prow[pok]
        tcode, tnames = _codes(procs["functional_area"])
        tkeys = site_code[prow] * max(len(tnames), 1) + tcode[pok]
        pcode, puniq = pd.factorize(tkeys)
        self.theatre_areas = pd.DataFrame({"sitetret": sites[puniq // max(len(tnames), 1)],
                                           "functional_area": tnames[puniq % max(len(tnames), 1)]})
        act.extra["theatres"] = (prow, pcode.astype(np.int64), procs["count"].to_numpy(float)[pok])
        if act.extra["has_procedure"] is None:  # no has_procedure column: procedures from the theatre table
            act.extra["has_procedure"] = np.bincount(prow, weights=act.extra["theatres"][2], minlength=len(ip))

    # ------------------------------------------------------------------ outpatients and A&E
    def _rule_cells(self, frame: pd.DataFrame, kind: str, strategies: dict[str, Any],
                    index_per_rule: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
        """Avoidance strategies by row as NHP names them (e.g. ``followup_reduction_{type}``).

        ``index_per_rule``: per rule, each row's strategy position in ``strategies`` (-1: none).
        Returns row -> combination of strategies, [combination, strategy] membership, names, lo, hi.
        """
        names = list(strategies)
        member = np.zeros((len(frame), len(names)), bool)
        used = np.zeros(len(names), bool)
        for idx in index_per_rule:
            ok = idx >= 0
            member[np.nonzero(ok)[0], idx[ok]] = True
            used[np.unique(idx[ok])] = True
        missing = sorted(np.asarray(names, dtype=object)[~used].tolist()) if names else []
        if missing:
            fields = ", ".join(f"activity_avoidance.{kind}.{m}" for m in missing)
            self.warnings.append(f"{self.params.source}: {len(missing)} strategies match no rows of"
                                 f" {self.data.root}/{kind} and are ignored: {fields}")
        if not names:
            combo, uniq = np.zeros(len(frame), np.int64), np.zeros((1, 0), bool)
        elif len(names) <= 62:
            bits = member.astype(np.int64) @ (np.int64(1) << np.arange(len(names), dtype=np.int64))
            combo = pd.factorize(bits)[0]
            firsts = np.full(combo.max() + 1, len(frame), np.int64)
            np.minimum.at(firsts, combo, np.arange(len(frame)))
            uniq = member[firsts]
        else:
            uniq, combo = np.unique(member, axis=0, return_inverse=True)
        lo = np.array([strategies[s]["interval"][0] for s in names], float)
        hi = np.array([strategies[s]["interval"][1] for s in names], float)
        return combo.reshape(-1).astype(np.int64), uniq, names, lo, hi

    def _prep_op(self) -> _Activity:
        op = self._with_ndg(self.data["op"])
        flags = ["is_first", "is_gp_ref", "is_cons_cons_ref", "has_procedures"]
        op = op.assign(**{f: _bool(op, f) for f in flags if f not in op})
        if "is_first" not in self.data["op"]:
            gcodes, groups = _codes(op["group"])
            op = op.assign(is_first=(groups == "first")[gcodes])
        att = op["attendances"].to_numpy(float)
        tele = op["tele_attendances"].to_numpy(float)
        base = {"attendances": att + tele}
        act = self._growth(op, "op", ["group", "tretspef_grouped", "is_main_icb", "is_wla", "ndggrp"],
                           lambda cells: self._group_params(cells, "op"), "procedure", base, self._key_of(op))
        first, proc = op["is_first"].to_numpy(bool), op["has_procedures"].to_numpy(bool)
        strategies = (self.params.raw.get("activity_avoidance") or {}).get("op") or {}
        names = list(strategies)
        # NHP (outpatients.py: _load_strategies)
        rows = [_index_of(op["type"], names, "followup_reduction_", ~first & ~proc),
                _index_of(op["type"], names, "consultant_to_consultant_reduction_", op["is_cons_cons_ref"].to_numpy(bool)),
                _index_of(op["type"], names, "gp_referred_first_attendance_reduction_",
                          op["is_gp_ref"].to_numpy(bool) & first)]
        act.extra["aa"] = self._rule_cells(op, "op", strategies, rows)
        tele_s = (self.params.raw.get("efficiencies") or {}).get("op") or {}
        tele_s = {k: v for k, v in tele_s.items() if k.startswith("convert_to_tele_")}
        tidx = _index_of(op["type"], list(tele_s), "convert_to_tele_", ~proc)
        tparam = _Param.of([], {k: v["interval"] for k, v in tele_s.items()}, CLIP["efficiencies"])
        tparam.idx = tidx
        act.extra["tele"] = tparam
        act.extra["att"], act.extra["tele_att"] = att, tele
        self._merge_rows(act, ["tele"], ["att", "tele_att"])
        return act

    def _prep_aae(self) -> _Activity:
        aae = self._with_ndg(self.data["aae"]).assign(is_wla=False)
        arr = aae["arrivals"].to_numpy(float)
        act = self._growth(aae, "aae", ["group", "tretspef_grouped", "is_main_icb", "is_wla", "ndggrp"],
                           lambda cells: self._group_params(cells, "aae"), None, {"arrivals": arr},
                           self._key_of(aae))
        hsagrp = aae["hsagrp"]
        if not all(str(h).startswith("aae") for h in _codes(hsagrp)[1]):  # simple layout: build NHP's hsagrp
            gcodes, groups = _codes(aae["group"])
            adult = _bool(aae, "is_adult", True)
            hsagrp = pd.Series(pd.Categorical.from_codes(
                gcodes * 2 + adult.astype(np.int64),
                [f"aae_{a}_{g}" for g in groups for a in ("child", "adult")]))
        rules = [("is_frequent_attender", "frequent_attenders"), ("is_left_before_treatment", "left_before_seen"),
                 ("is_low_cost_referred_or_discharged", "low_cost_discharged"),
                 ("is_discharged_no_treatment", "discharged_no_treatment")]
        strategies = (self.params.raw.get("activity_avoidance") or {}).get("aae") or {}
        names = list(strategies)
        # NHP (aae.py: _load_strategies): the hsagrp with "aae" replaced by the strategy's stem
        rows = [_index_of(hsagrp, names, mask=_bool(aae, col), replace=("aae", stem)) for col, stem in rules]
        act.extra["aa"] = self._rule_cells(aae, "aae", strategies, rows)
        if "is_ambulance" in aae:
            amb = _bool(aae, "is_ambulance")
        else:
            gcodes, groups = _codes(aae["group"])
            amb = (groups == "ambulance")[gcodes]
        act.extra["measure"] = np.where(amb, M["ambulance"], M["walk-in"])
        act.extra["arr"] = arr
        self._merge_rows(act, ["measure"], ["arr"])
        return act

    @staticmethod
    def _merge_rows(act: _Activity, also: list[str], sums: list[str]) -> None:
        """Merge rows that every step treats alike (same output key, joint factor cell, avoidance
        strategies and ``also``): their counts add up, and a sum of Poissons is a Poisson, so the
        runs are unchanged in distribution and touch far fewer rows."""
        jrow = act.extra["joint"][0]
        combo = act.extra["aa"][0]
        cols = {"k": act.out_key, "j": jrow, "c": combo}
        for name in also:
            value = act.extra[name]
            cols[name] = value.idx if isinstance(value, _Param) else value
        codes = factorize(pd.DataFrame(cols), list(cols))[0]
        n = int(codes.max()) + 1 if len(codes) else 0
        firsts = np.full(n, len(codes), np.int64)
        np.minimum.at(firsts, codes, np.arange(len(codes)))
        for name in sums:
            act.extra[name] = np.bincount(codes, weights=act.extra[name], minlength=n)
        act.base = {name: np.bincount(codes, weights=b, minlength=n) for name, b in act.base.items()}
        act.out_key = act.out_key[firsts]
        j = act.extra["joint"]
        act.extra["joint"] = (jrow[firsts], *j[1:])
        aa = act.extra["aa"]
        act.extra["aa"] = (combo[firsts], *aa[1:])
        for name in also:
            value = act.extra[name]
            if isinstance(value, _Param):
                value.idx = value.idx[firsts]
            else:
                act.extra[name] = value[firsts]
        act.n = n

    # ------------------------------------------------------------------ one run
    def _factors(self, act: _Activity, rng: np.random.Generator, variant: int, ages: np.ndarray | None,
                 waterfall: dict[str, np.ndarray]) -> np.ndarray:
        """Product of the growth factors per row; fills each base's expected step totals."""
        jrow, jd, jh, jg, jineq, jbase = act.extra["joint"]
        d = act.demog[variant][jd]
        if act.hsa is not None and ages is not None:
            table, row, sex, age = act.hsa
            dh = d * hsa_factors(ages, table, row, sex, age)[jh]
        else:
            dh = d
        gvals = {step: act.group_params[step].values(rng) for step in GROUP_STEPS}
        n_g = len(gvals["expat"])
        g = np.ones(n_g)
        for step in GROUP_STEPS:
            g = g * gvals[step]
        f = dh * g[jg] * jineq
        for name, base in jbase.items():
            steps = np.empty(10)
            steps[0] = base.sum()
            steps[1] = _dot(base, d)
            bdh = base * dh
            steps[2] = bdh.sum()
            per_cell = np.bincount(jg, weights=bdh, minlength=n_g)
            for i, step in enumerate(GROUP_STEPS):
                per_cell = per_cell * gvals[step]
                steps[3 + i] = per_cell.sum()
            steps[9] = _dot(base, f)
            waterfall[name] = steps
        return f[jrow]

    def run(self, model_run: int) -> dict[str, Any]:
        """One Monte Carlo run -> dense arrays (values[key, measure], waterfall, capacity inputs)."""
        rng = np.random.default_rng(seed_for(self.params.seed, model_run))
        values = np.zeros((len(self.keys), len(MEASURES)))
        waterfall = {m: np.zeros(len(STEPS)) for m in WATERFALL_MEASURES}
        avoided: dict[tuple[str, str, str], float] = {}
        if model_run == 0:
            variant = self.base_variant
            beds, theatres = self._baseline(values, waterfall)
            return {"model_run": 0, "variant": self.variants[variant], "values": values, "waterfall": waterfall,
                    "beddays_by_area": beds, "procedures_by_area": theatres, "avoided": avoided}
        variant = int(rng.choice(len(self.variants), p=self.variant_p))
        ages = self.health.adjusted_ages(self.health.draw_h(rng)) if self.health is not None else None
        streams = [np.random.default_rng(s) for s in rng.bit_generator.seed_seq.spawn(3)]
        beds, theatres = self._run_ip(streams[0], values, waterfall, variant, ages, avoided)
        self._run_op(streams[1], values, waterfall, variant, ages, avoided)
        self._run_aae(streams[2], values, waterfall, variant, ages, avoided)
        return {"model_run": model_run, "variant": self.variants[variant], "values": values,
                "waterfall": waterfall, "beddays_by_area": beds, "procedures_by_area": theatres,
                "avoided": avoided}

    def _nkeys(self) -> int:
        return len(self.keys)

    def _baseline(self, values: np.ndarray, waterfall: dict) -> tuple[np.ndarray, np.ndarray]:
        ip, op, aae = self.ip, self.op, self.aae
        k = self._nkeys()
        speldur = ip.extra["speldur"]
        ones = np.ones(ip.n)
        values[:, M["admissions"]] += np.bincount(ip.out_key, minlength=k)
        values[:, M["beddays"]] += np.bincount(ip.out_key, weights=speldur + 1.0, minlength=k)
        values[:, M["procedures"]] += np.bincount(ip.out_key, weights=ip.extra["has_procedure"], minlength=k)
        values[:, M["attendances"]] += np.bincount(op.out_key, weights=op.extra["att"], minlength=k)
        values[:, M["tele_attendances"]] += np.bincount(op.out_key, weights=op.extra["tele_att"], minlength=k)
        for m in (M["ambulance"], M["walk-in"]):
            sel = aae.extra["measure"] == m
            values[:, m] += np.bincount(aae.out_key[sel], weights=aae.extra["arr"][sel], minlength=k)
        waterfall[("ip", "admissions")][0] = ip.n
        waterfall[("ip", "beddays")][0] = float((speldur + 1).sum())
        waterfall[("op", "attendances")][0] = float(op.base["attendances"].sum())
        waterfall[("aae", "arrivals")][0] = float(aae.extra["arr"].sum())
        return self._capacity(speldur + ones, np.zeros(ip.n), ones)

    def _capacity(self, beddays_row: np.ndarray, daycase_row: np.ndarray, adm_row: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        rows, code, dc_code, weight = self.ip.extra["beds"]
        n_areas = len(self.bed_areas)
        if self.ip.extra["beds_identity"]:
            beds = np.bincount(code, weights=beddays_row, minlength=n_areas)
            dc = np.nonzero(daycase_row)[0]
            if len(dc):
                beds += np.bincount(dc_code[dc], weights=daycase_row[dc], minlength=n_areas)
        else:
            beds = np.bincount(code, weights=beddays_row[rows] * weight, minlength=n_areas)
            if daycase_row.any():
                beds += np.bincount(dc_code, weights=daycase_row[rows] * weight, minlength=n_areas)
        prow, pcode, count = self.ip.extra["theatres"]
        theatres = np.bincount(pcode, weights=adm_row[prow] * count, minlength=len(self.theatre_areas))
        return beds, theatres

    def _run_ip(self, rng, values, waterfall, variant, ages, avoided):
        act = self.ip
        n_rows, k = act.n, self._nkeys()
        speldur = act.extra["speldur"]
        steps: dict[str, np.ndarray] = {}
        lam = self._factors(act, rng, variant, ages, steps)
        # activity avoidance: Bernoulli(sample_rate) per (spell, strategy) says which strategies apply
        rows, strat, rate, names, lo, hi = act.extra["aa"]
        draws = draw_many(rng, lo, hi, CLIP["activity_avoidance"])
        applies = rng.random(len(rows)) < rate
        ap_rows, ap_strat = rows[applies], strat[applies]
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
        bd_kept = _dot(n, beddays1)
        bd_resampled = bd_kept + _dot(removed_sub, beddays1[sub])
        if len(ap_rows) and len(sub):
            removed = np.zeros(n_rows)
            removed[sub] = removed_sub
            share = np.divide(ap_log, logf[ap_rows], out=np.zeros(len(ap_rows)), where=logf[ap_rows] != 0)
            rem = removed[ap_rows] * share
            per = np.bincount(ap_strat, weights=rem, minlength=len(names))
            perb = np.bincount(ap_strat, weights=rem * beddays1[ap_rows], minlength=len(names))
            for i, s in enumerate(names):
                avoided[("ip", s, "admissions")] = float(per[i])
                avoided[("ip", s, "beddays")] = float(perb[i])
        adm_avoid = float(n.sum())
        # efficiencies: each spell gets one of its strategies, uniformly at random, every run
        eff = act.extra["eff"]
        nights = n * speldur
        conv = np.zeros((3, n_rows), np.int64)  # sdec, daycase, outpatients
        if len(eff["spells"]):
            pick = eff["start"] + (rng.random(len(eff["spells"])) * eff["count"]).astype(np.int64)
            s = eff["strat"][pick]
            r = eff["spells"]
            live = n[r] > 0
            r, s = r[live], s[live]
            f = draw_many(rng, eff["lo"], eff["hi"], CLIP["efficiencies"])[s]
            code = eff["code"][s]
            nr, dur = n[r], speldur[r]
            is_all = code == 0
            # type "all": the nights of every copy thinned, Binomial(copies x nights, f); other types:
            # Binomial(copies, 1 - f) copies lose pre-op nights or convert to another setting
            k_draw = rng.binomial(np.where(is_all, nr * dur, nr), np.where(is_all, f, 1.0 - f))
            new_nights = np.where(is_all, k_draw, nr * dur)
            pre = code == 1
            new_nights[pre] -= k_draw[pre] * np.minimum(eff["pre"][s[pre]], dur[pre])
            for j, t in enumerate((2, 3, 4)):
                m = code == t
                new_nights[m] -= k_draw[m] * dur[m]
                conv[j, r[m]] = k_draw[m]
            saved = nr * dur - new_nights
            nights[r] = new_nights
            per = np.bincount(s, weights=saved, minlength=len(eff["names"]))
            for i, name in enumerate(eff["names"]):
                if per[i]:
                    avoided[("ip", name, "beddays")] = avoided.get(("ip", name, "beddays"), 0.0) + float(per[i])
        to_sdec, to_dc, to_op = conv
        stay = n - to_sdec - to_dc - to_op
        hp = act.extra["has_procedure"]
        key = act.out_key
        values[:, M["admissions"]] += np.bincount(key, weights=stay, minlength=k)
        values[:, M["beddays"]] += np.bincount(key, weights=nights + stay, minlength=k)
        values[:, M["procedures"]] += np.bincount(key, weights=stay * hp, minlength=k)
        conv_rows = np.nonzero(to_sdec + to_dc + to_op)[0]
        if len(conv_rows):
            dck = act.extra["daycase_key"][conv_rows]
            dcn = to_dc[conv_rows]
            values[:, M["admissions"]] += np.bincount(dck, weights=dcn, minlength=k)
            values[:, M["beddays"]] += np.bincount(dck, weights=dcn, minlength=k)  # a day case: 0 nights, 1 bed day
            values[:, M["procedures"]] += np.bincount(dck, weights=dcn * hp[conv_rows], minlength=k)
            values[:, M["attendances"]] += np.bincount(act.extra["op_key"][conv_rows], weights=to_op[conv_rows],
                                                       minlength=k)
            values[:, M["walk-in"]] += np.bincount(act.extra["sdec_key"][conv_rows], weights=to_sdec[conv_rows],
                                                   minlength=k)
        adm_final = float(stay.sum() + to_dc.sum())
        bd_final = float(nights.sum() + stay.sum() + to_dc.sum())
        for m, after_resample, after_avoid, final in (
            ("admissions", adm_resampled, adm_avoid, adm_final),
            ("beddays", bd_resampled, bd_kept, bd_final),
        ):
            wf = waterfall[("ip", m)]
            st = steps[m]
            wf[0] = st[0]
            wf[1:10] = np.diff(st)
            wf[10] = after_resample - st[9]
            wf[11] = after_avoid - after_resample
            wf[12] = final - after_avoid
        return self._capacity((nights + stay).astype(float), to_dc.astype(float), (stay + to_dc).astype(float))

    def _avoid_combo(self, rng, act) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
        """Per row keep factor of its avoidance strategies; per combination each strategy's share."""
        combo, member, names, lo, hi = act.extra["aa"]
        if not names:
            return np.ones(act.n), combo, names, np.zeros((len(member), 0))
        logs = np.log(np.maximum(draw_many(rng, lo, hi, CLIP["activity_avoidance"]), 1e-300))
        per_combo = member * logs  # [combo, strategy]
        total = per_combo.sum(axis=1)
        share = np.divide(per_combo, total[:, None], out=np.zeros_like(per_combo), where=total[:, None] != 0)
        return np.exp(total)[combo], combo, names, share

    def _attribute(self, rng, kind, label, lost_mean_row, combo, names, share, avoided) -> float:
        """Avoided activity: Poisson per strategy combination, shared out by log factor."""
        if not names:
            return 0.0
        mu = np.bincount(combo, weights=lost_mean_row, minlength=len(share))
        lost = rng.poisson(mu)
        per = (lost[:, None] * share).sum(axis=0)
        for i, s in enumerate(names):
            avoided[(kind, s, label)] = avoided.get((kind, s, label), 0.0) + float(per[i])
        return float(lost.sum())

    def _run_op(self, rng, values, waterfall, variant, ages, avoided):
        act = self.op
        k = self._nkeys()
        steps: dict[str, np.ndarray] = {}
        f = self._factors(act, rng, variant, ages, steps)
        keep, combo, names, share = self._avoid_combo(rng, act)
        q = act.extra["tele"].values(rng)  # share of face-to-face attendances that stay face to face
        lam_a, lam_t = act.extra["att"] * f, act.extra["tele_att"] * f
        kept_a = lam_a * keep
        key = act.out_key
        stay = rng.poisson(np.bincount(key, weights=kept_a * q, minlength=k))
        moved = rng.poisson(np.bincount(key, weights=kept_a * (1.0 - q), minlength=k))
        tele = rng.poisson(np.bincount(key, weights=lam_t * keep, minlength=k))
        lost = self._attribute(rng, "op", "attendances", (lam_a + lam_t) * (1.0 - keep), combo, names, share, avoided)
        values[:, M["attendances"]] += stay
        values[:, M["tele_attendances"]] += tele + moved
        after_avoid = float(stay.sum() + moved.sum() + tele.sum())
        wf = waterfall[("op", "attendances")]
        st = steps["attendances"]
        wf[0] = st[0]
        wf[1:10] = np.diff(st)
        wf[10] = after_avoid + lost - st[9]
        wf[11] = -lost
        wf[12] = 0.0  # tele conversion moves attendances between measures; the total is unchanged

    def _run_aae(self, rng, values, waterfall, variant, ages, avoided):
        act = self.aae
        k = self._nkeys()
        steps: dict[str, np.ndarray] = {}
        f = self._factors(act, rng, variant, ages, steps)
        keep, combo, names, share = self._avoid_combo(rng, act)
        lam = act.extra["arr"] * f
        measure = act.extra["measure"]
        kept = 0.0
        for m in (M["ambulance"], M["walk-in"]):
            sel = measure == m
            draw = rng.poisson(np.bincount(act.out_key[sel], weights=(lam * keep)[sel], minlength=k))
            values[:, m] += draw
            kept += float(draw.sum())
        lost = self._attribute(rng, "aae", "arrivals", lam * (1.0 - keep), combo, names, share, avoided)
        wf = waterfall[("aae", "arrivals")]
        st = steps["arrivals"]
        wf[0] = st[0]
        wf[1:10] = np.diff(st)
        wf[10] = kept + lost - st[9]
        wf[11] = -lost


def check_no_silent_warnings(engine: Engine) -> None:
    for message in engine.warnings:
        warnings.warn(message, stacklevel=3)
