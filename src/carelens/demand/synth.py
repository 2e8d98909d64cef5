"""A synthetic trust in NHP's parquet layout, of any size, seeded.

Why: NHP's users most ask for data to run the model without national data access; tests and
benchmarks need trusts of chosen sizes. Every table the engine reads is written, with NHP's names
and codes, and a params file that runs against it. All numbers are invented.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SPECIALTIES = ["100", "101", "110", "120", "130", "140", "150", "160", "170", "300", "301", "320", "330",
               "340", "400", "410", "430", "502", "Other (Medical)", "Other (Surgical)", "Other"]
SURGICAL = {"100", "101", "110", "120", "130", "140", "150", "160", "170", "Other (Surgical)"}
VARIANTS = ["migration_category", "var_proj_10_year_migration", "var_proj_zero_net_migration",
            "var_proj_high_intl_migration", "var_proj_low_intl_migration"]
AGE_GROUPS = [(0, 4, "0-4"), (5, 17, "5-17"), (18, 34, "18-34"), (35, 49, "35-49"), (50, 64, "50-64"),
              (65, 74, "65-74"), (75, 84, "75-84"), (85, 200, "85+")]
IP_AVOID = ["alcohol_partially_attributable_acute", "alcohol_wholly_attributable", "ambulatory_care_conditions_acute",
            "ambulatory_care_conditions_chronic", "cancelled_operations", "eol_care_2_days", "falls_related_admissions",
            "frail_elderly_high", "medicines_related_admissions_explicit", "readmission_within_28_days"]
IP_EFF = {"same_day_emergency_care_low": ("sdec", "non-elective"), "emergency_elderly": ("all", "non-elective"),
          "excess_beddays_emergency": ("all", "non-elective"), "enhanced_recovery_hip": ("all", "elective"),
          "enhanced_recovery_knee": ("all", "elective"), "pre-op_los_1-day": ("pre-op", "elective"),
          "day_procedures_usually_dc": ("day_procedures_daycase", "elective"),
          "day_procedures_usually_op": ("day_procedures_outpatients", "elective")}


def _age_group(age: np.ndarray) -> np.ndarray:
    out = np.empty(len(age), dtype=object)
    for lo, hi, name in AGE_GROUPS:
        out[(age >= lo) & (age <= hi)] = name
    return out


def _write(root: Path, table: str, frame: pd.DataFrame, year: int, dataset: str) -> None:
    folder = root / table / f"fyear={year}" / f"dataset={dataset}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder / "0.parquet", index=False)
    except OSError as exc:
        from carelens.errors import TableError

        raise TableError(f"cannot write the trust: {exc.strerror or exc}", file=str(folder), field="output") from None


def _populations(rng: np.random.Generator, start: int, sexes: list[int], ages: range, scale: float,
                 shape) -> pd.DataFrame:
    rows = []
    years = list(range(start, 2048))
    for vi, variant in enumerate(VARIANTS):
        growth = 0.004 + 0.002 * vi - 0.003 * (variant == "var_proj_zero_net_migration")
        for sex in sexes:
            for age in ages:
                base = scale * shape(age) * (1 + 0.05 * rng.standard_normal())
                g = growth + 0.0002 * (age - 40) / 10
                rows.append([variant, age, sex, *[base * (1 + g) ** (y - start) for y in years]])
    return pd.DataFrame(rows, columns=["variant", "age", "sex", *[str(y) for y in years]])


def synthesise(out: str | Path, spells: int = 100_000, seed: int = 1, start_year: int = 2023,
               dataset: str = "synthetic", write_params: bool = True) -> Path:
    """Write every NHP table for a synthetic trust under ``out``; return ``out``.

    ``spells`` from 1 to 50,000,000 and ``seed`` from 0, else ``ParamsError`` naming the field
    (a negative count would otherwise fail deep inside numpy)."""
    from carelens.errors import ParamsError, TableError

    if not 1 <= int(spells) <= 50_000_000:
        raise ParamsError("the number of spells must be from 1 to 50,000,000", field="spells")
    if int(seed) < 0:
        raise ParamsError("the seed must be 0 or more", field="seed")
    if not 1990 <= int(start_year) <= 2090:
        raise ParamsError("the baseline year must be from 1990 to 2090", field="start_year")
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise TableError("is a file, not a folder: give a folder for the trust", file=str(root), field="output")
    rng = np.random.default_rng(seed)
    n = int(spells)
    # ---------------- inpatients
    group = rng.choice(["elective", "non-elective", "maternity"], size=n, p=[0.52, 0.43, 0.05])
    age = np.where(group == "maternity", rng.integers(16, 46, n), np.clip(rng.gamma(3.0, 17.0, n).astype(int), 0, 90))
    sex = np.where(group == "maternity", 2, rng.integers(1, 3, n))
    daycase = (group == "elective") & (rng.random(n) < 0.72)
    speldur = np.where(daycase, 0, rng.geometric(np.where(group == "non-elective", 0.2, 0.35), n) - 1)
    spec = rng.choice(SPECIALTIES, size=n)
    spec = np.where(group == "maternity", "Other (Medical)", spec)
    regular = (group == "elective") & (rng.random(n) < 0.02)
    pod = np.select(
        [regular, daycase, group == "elective", group == "non-elective"],
        ["ip_regular_day_attender", "ip_elective_daycase", "ip_elective_admission", "ip_non-elective_admission"],
        "ip_maternity_admission")
    births = (group == "maternity") & (rng.random(n) < 0.3)
    hsagrp = np.select([group == "maternity", daycase, group == "elective", age < 18], ["maternity", "daycase", "ordelec", "paeds"], "emerg")
    ip = pd.DataFrame({
        "rn": np.arange(n, dtype=np.int64), "age": age.astype(np.int64), "sex": sex.astype(np.int64),
        "classpat": np.where(daycase, "2", np.where(regular, "3", "1")),
        "admimeth": np.where(group == "elective", "11", np.where(group == "maternity", "31", "21")),
        "tretspef": spec, "mainspef": spec, "speldur": speldur.astype(np.int64),
        "sitetret": rng.choice(["a", "b"], size=n, p=[0.6, 0.4]),
        "imd_quintile": rng.integers(1, 6, n).astype(np.int64), "is_main_icb": rng.random(n) < 0.85,
        "sushrg_trimmed": np.char.add("HRG", rng.integers(1, 30, n).astype(str)), "age_group": _age_group(age),
        "tretspef_grouped": spec, "icb": rng.choice(["A", "B"], size=n), "hsagrp": hsagrp, "group": group,
        "is_wla": (group == "elective") & (rng.random(n) < 0.7), "pod": pod,
        "demog_type": np.where(births | (group == "maternity"), "births", "demographics"),
        "ndggrp": group, "has_procedure": (group == "elective") | (rng.random(n) < 0.2),
        "maternity_delivery_in_spell": births,
    })
    _write(root, "ip", ip, start_year, dataset)
    # strategies: a share of spells in each, sample_rate is the chance it applies in a run
    pick = rng.random(n) < 0.45
    strat = rng.choice(IP_AVOID, size=int(pick.sum()))
    aa = pd.DataFrame({"rn": ip.rn[pick].to_numpy(), "strategy": strat, "sample_rate": rng.uniform(0.1, 1.0, pick.sum())})
    _write(root, "ip_activity_avoidance_strategies", aa, start_year, dataset)
    eff_rows = []
    for name, (kind, grp) in IP_EFF.items():
        # as in NHP's data, day-case conversion strategies sit on overnight elective spells only
        eligible = (group == grp) & ~(daycase & (kind == "day_procedures_daycase"))
        sel = np.nonzero(eligible & (rng.random(n) < 0.04))[0]
        eff_rows.append(pd.DataFrame({"rn": sel, "strategy": name, "sample_rate": 1.0}))
    ef = pd.concat(eff_rows, ignore_index=True)
    _write(root, "ip_efficiencies_strategies", ef, start_year, dataset)
    adult = np.where(age >= 18, "adult", "paediatric")
    kind = np.where(daycase, "daycase", np.where(group == "elective", "elective", "nonelective"))
    surg = np.where(np.isin(spec, list(SURGICAL)), "surgical", "medical")
    los = np.where(speldur > 0, "_nonzerolos", "_zerolos")
    area = pd.Series(adult).str.cat([pd.Series(kind), pd.Series(surg)], sep="_").to_numpy()
    area = np.where(daycase, area, np.char.add(area.astype(str), los))
    area = np.where(group == "maternity", "maternity_overnight_no_birth", area)
    _write(root, "ip_functional_areas_beds", pd.DataFrame({
        "rn": ip.rn, "sitetret": ip.sitetret, "functional_area": area, "group_los": speldur, "episodes": 1,
        "los_total": speldur, "group_pcnt": 1.0}), start_year, dataset)
    has_proc = ip.has_procedure.to_numpy()
    _write(root, "ip_functional_areas_procedures", pd.DataFrame({
        "rn": ip.rn[has_proc], "sitetret": ip.sitetret[has_proc],
        "functional_area": np.where(daycase[has_proc], "theatre_day", "theatre_general"),
        "count": np.ones(has_proc.sum(), dtype=np.int64)}), start_year, dataset)
    # ---------------- outpatients (aggregated cells)
    m = n
    oage = np.clip(rng.gamma(3.0, 17.0, m).astype(int), 0, 90)
    ospec = rng.choice(SPECIALTIES, size=m)
    ogroup = rng.choice(["first", "followup", "procedure"], size=m, p=[0.3, 0.55, 0.15])
    is_surg = np.isin(ospec, list(SURGICAL))
    otype = np.char.add(np.where(oage >= 18, "adult_", "child_"), np.where(is_surg, "surgical", "non-surgical"))
    atts = rng.poisson(5.0, m) + 1
    tele = rng.binomial(atts, np.where(ogroup == "procedure", 0.0, 0.15))
    op = pd.DataFrame({
        "age": oage.astype(np.int64), "sex": rng.integers(1, 3, m).astype(np.int64),
        "imd_quintile": rng.integers(1, 6, m).astype(np.int64), "tretspef": ospec,
        "sitetret": rng.choice(["a", "b"], size=m, p=[0.6, 0.4]), "type": otype, "group": ogroup,
        "pod": np.select([ogroup == "first", ogroup == "followup"], ["op_first", "op_follow-up"], "op_procedure"),
        "has_procedures": ogroup == "procedure", "sushrg_trimmed": "WF01", "icb": rng.choice(["A", "B"], size=m),
        "is_main_icb": rng.random(m) < 0.85, "is_surgical_specialty": is_surg, "is_adult": oage >= 18,
        "is_gp_ref": (ogroup == "first") & (rng.random(m) < 0.6),
        "is_cons_cons_ref": (ogroup == "first") & (rng.random(m) < 0.2), "is_first": ogroup == "first",
        "attendances": (atts - tele).astype(np.int64), "tele_attendances": tele.astype(np.int64),
        "is_wla": rng.random(m) < 0.7, "age_group": _age_group(oage), "tretspef_grouped": ospec,
        "hsagrp": np.char.add(np.char.add("op_", otype), np.char.add("_", ogroup)),
        "demog_type": "demographics", "ndggrp": ogroup,
    })
    op["index"] = np.arange(m).astype(str)
    _write(root, "op", op, start_year, dataset)
    # ---------------- A&E (aggregated cells)
    k = max(n // 2, 10)
    aage = np.clip(rng.gamma(2.2, 18.0, k).astype(int), 0, 90)
    agroup = rng.choice(["ambulance", "walk-in"], size=k, p=[0.25, 0.75])
    dept = rng.choice(["01", "02", "03", "04", "05"], size=k, p=[0.68, 0.02, 0.24, 0.01, 0.05])
    aae = pd.DataFrame({
        "age": aage.astype(np.int64), "sex": rng.integers(1, 3, k).astype(np.int64),
        "sitetret": rng.choice(["a", "b"], size=k, p=[0.6, 0.4]), "aedepttype": dept,
        "attendance_category": rng.choice(["1", "2", "3", "4"], size=k, p=[0.9, 0.06, 0.02, 0.02]),
        "acuity": rng.choice(["immediate-resuscitation", "very-urgent", "urgent", "standard", "non-urgent"], size=k),
        "tretspef": "Other", "tretspef_grouped": "Other", "group": agroup, "icb": rng.choice(["A", "B"], size=k),
        "is_main_icb": rng.random(k) < 0.85, "is_adult": aage >= 18, "is_ambulance": agroup == "ambulance",
        "is_frequent_attender": rng.random(k) < 0.05, "is_low_cost_referred_or_discharged": rng.random(k) < 0.1,
        "is_left_before_treatment": rng.random(k) < 0.03, "is_discharged_no_treatment": rng.random(k) < 0.05,
        "arrivals": (rng.poisson(3.0, k) + 1).astype(np.int64), "age_group": _age_group(aage),
        "pod": np.char.add("aae_type-", dept), "type": dept,
        "hsagrp": np.char.add(np.char.add("aae_", np.where(aage >= 18, "adult_", "child_")), agroup),
        "demog_type": "demographics", "ndggrp": agroup,
    })
    aae["index"] = np.arange(k).astype(str)
    _write(root, "aae", aae, start_year, dataset)
    # ---------------- reference tables
    scale = max(n / 100_000, 0.01) * 2800.0
    demo = _populations(rng, start_year, [1, 2], range(0, 91), scale, lambda a: 1.0 if a < 70 else np.exp(-(a - 70) / 12))
    _write(root, "demographic_factors", demo, start_year, dataset)
    birth = _populations(rng, start_year, [2], range(15, 51), scale / 500, lambda a: np.exp(-((a - 31) / 6) ** 2))
    _write(root, "birth_factors", birth, start_year, dataset)
    groups = sorted(set(ip.hsagrp) | set(op.hsagrp) | set(aae.hsagrp))
    hsa = pd.DataFrame([(g, s, a, 0.01 * np.exp(0.03 * a) * (1.1 if s == 2 else 1.0))
                        for g in groups for s in (1, 2) for a in range(0, 101)],
                       columns=["hsagrp", "sex", "age", "activity"])
    _write(root, "hsa_activity_tables", hsa, start_year, dataset)
    ineq = []
    for icb in ("A", "B"):
        for h in ("HRG1", "HRG2"):
            for q in range(1, 6):
                rate = 0.0025 - 0.00016 * q
                fitted = rate * (1 + 0.01 * rng.standard_normal())
                ineq.append([icb, h, q, rate, fitted, max(1.0, 0.0025 / rate * 0.86), min(1.0, 0.00166 / rate),
                             0.00216 / rate])
    _write(root, "inequalities", pd.DataFrame(ineq, columns=["icb", "sushrg_trimmed", "imd_quintile", "activity_rate",
                                                             "fitted_line", "level_up", "level_down", "zero_sum"]),
           start_year, dataset)
    if write_params:
        (root / "params.json").write_text(json.dumps(sample_params(start_year, dataset), indent=1), encoding="utf-8")
    return root


def sample_params(start_year: int = 2023, dataset: str = "synthetic", end_year: int | None = None) -> dict:
    """A params file that runs against :func:`synthesise`'s output (every strategy has rows)."""
    iv = [0.97, 0.99]
    rp = [1.01, 1.03]
    specs = {s: rp for s in SPECIALTIES}
    groups = ["elective", "non-elective", "maternity"]
    return {
        "id": "synthetic", "scenario": "synthetic", "dataset": dataset, "seed": 1234, "model_runs": 64,
        "app_version": "dev", "create_datetime": "20260101_000000",  # NHP's schema requires both
        "start_year": start_year, "end_year": end_year or start_year + 12,
        "demographic_factors": {"variant_probabilities": {v: p for v, p in zip(VARIANTS, [0.4, 0.15, 0.15, 0.15, 0.15])}},
        "health_status_adjustment": True,
        "inequalities": {"level_up": ["HRG1"], "zero_sum": ["HRG2"], "level_down": []},
        "expat": {"ip": {g: {"Other": iv} for g in groups}, "op": {"Other": iv}, "aae": {"walk-in": iv, "ambulance": iv}},
        "repat_local": {"ip": {g: specs for g in groups}, "op": specs, "aae": {"walk-in": rp, "ambulance": rp}},
        "repat_nonlocal": {"ip": {g: specs for g in groups}, "op": specs, "aae": {"walk-in": rp, "ambulance": rp}},
        "baseline_adjustment": {"ip": {g: {s: 1.0 for s in SPECIALTIES} for g in groups},
                                "op": {g: {s: 1.0 for s in SPECIALTIES} for g in ("first", "followup", "procedure")},
                                "aae": {"ambulance": 1.0, "walk-in": 1.0}},
        "waiting_list_adjustment": {"ip": {s: 1.01 for s in SPECIALTIES}, "op": {s: 1.02 for s in SPECIALTIES}},
        "non-demographic_adjustment": {"variant": "ndg-synthetic", "value-type": "year-on-year-growth", "values": {
            "ip": {g: [1.0, 1.02] for g in groups}, "op": {g: [1.0, 1.02] for g in ("first", "followup", "procedure")},
            "aae": {"ambulance": [1.0, 1.02], "walk-in": [1.0, 1.02]}}},
        "activity_avoidance": {
            "ip": {s: {"interval": [0.85, 0.95]} for s in IP_AVOID},
            "op": {f"{r}_{t}": {"interval": [0.7, 0.9]}
                   for r in ("consultant_to_consultant_reduction", "followup_reduction", "gp_referred_first_attendance_reduction")
                   for t in ("adult_surgical", "adult_non-surgical", "child_surgical", "child_non-surgical")},
            "aae": {f"{r}_{a}_{g}": {"interval": [0.7, 0.9]}
                    for r in ("frequent_attenders", "left_before_seen", "low_cost_discharged", "discharged_no_treatment")
                    for a in ("adult", "child") for g in ("ambulance", "walk-in")},
        },
        "efficiencies": {
            "ip": {name: ({"type": kind, "interval": [0.85, 0.95], "pre-op_days": 1} if kind == "pre-op"
                          else {"type": kind, "interval": [0.85, 0.95]}) for name, (kind, _g) in IP_EFF.items()},
            "op": {f"convert_to_tele_{t}": {"interval": [0.95, 0.975]}
                   for t in ("adult_surgical", "adult_non-surgical", "child_surgical", "child_non-surgical")},
        },
    }


def synthetic_data(spells: int = 20_000, seed: int = 11, start_year: int = 2023) -> tuple:
    """A synthetic trust in memory, with its matching params: ``(TrustData, Params)``. Written to a
    temporary folder, read, and the folder removed (nothing on the server refers to it after)."""
    import shutil
    import tempfile

    from carelens.demand.data import load_data
    from carelens.demand.params import params_from_dict

    folder = Path(tempfile.mkdtemp(prefix="carelens-synthetic-"))
    try:
        synthesise(folder, spells=spells, seed=seed, start_year=start_year, write_params=False)
        data = load_data(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    data.root = f"carelens synthetic trust ({spells:,} spells)"
    params = params_from_dict(sample_params(start_year=start_year), source="carelens sample params")
    return data, params
