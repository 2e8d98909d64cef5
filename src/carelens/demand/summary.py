"""Summaries of a scenario's runs: principal (mean of runs 1..N), P10/P50/P90, waterfall, capacity.

Capacity is the step NHP leaves to planners: beds = bed days / (days open x target occupancy);
theatres and clinic rooms = hours of activity / (hours available x utilisation). It is computed per
run, so its uncertainty comes from the same Monte Carlo draws as the activity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from carelens.demand.keys import MEASURES, OUT_DIMS, STEPS, WATERFALL_MEASURES
from carelens.demand.runner import Results

POD_MEASURES = {"ip": ["admissions", "beddays", "procedures"], "op": ["attendances", "tele_attendances"],
                "aae": ["ambulance", "walk-in"]}
STAT_COLUMNS = ["baseline", "principal", "p10", "p50", "p90"]


def _stats(matrix: np.ndarray, runs: np.ndarray) -> dict[str, np.ndarray]:
    """matrix[run, item] -> baseline (run 0) and principal/quantiles over runs 1..N."""
    base = matrix[runs == 0][0] if (runs == 0).any() else np.full(matrix.shape[1], np.nan)
    sims = matrix[runs > 0]
    if len(sims) == 0:
        sims = base[None, :]
    p10, p50, p90 = np.quantile(sims, [0.1, 0.5, 0.9], axis=0)
    return {"baseline": base, "principal": sims.mean(axis=0), "p10": p10, "p50": p50, "p90": p90}


def _group_sum(result: Results, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """result.values[run, key, measure] summed over keys into groups -> [run, group, measure].

    One sparse (group x key) indicator product on a key-major copy of the values, made once per
    result: a few tens of milliseconds for 257 runs."""
    from scipy import sparse

    runs, keys, measures = result.values.shape
    flat = result.__dict__.get("_key_major")
    if flat is None:
        flat = np.ascontiguousarray(result.values.transpose(1, 0, 2)).reshape(keys, runs * measures)
        result.__dict__["_key_major"] = flat
    indicator = sparse.csr_matrix((np.ones(keys), (codes, np.arange(keys))), shape=(n_groups, keys))
    return np.asarray(indicator @ flat).reshape(n_groups, runs, measures).transpose(1, 0, 2)


def _groups(result: Results, dims: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    codes, uniq = pd.MultiIndex.from_frame(result.keys[dims]).factorize()
    groups = uniq.to_frame(index=False)
    groups.columns = dims
    return np.asarray(codes, np.int64), groups


def summarise(result: Results, by: list[str] | None = None) -> pd.DataFrame:
    """pod, measure, [by...], baseline, principal, p10, p50, p90.

    ``by`` adds any of ``sitetret``, ``age_group``, ``sex``, ``tretspef_grouped``. Without ``by`` the
    frame has exactly one row per point of delivery and its measures (zeros kept).
    """
    by = list(by or [])
    unknown = set(by) - set(OUT_DIMS)
    if unknown:
        raise ValueError(f"cannot summarise by {sorted(unknown)}; choose from {OUT_DIMS[1:]}")
    dims = ["pod", *by]
    codes, groups = _groups(result, dims)
    grouped = _group_sum(result, codes, len(groups))  # [run, group, measure]
    frames = []
    pods = groups["pod"].astype(str)
    for mi, measure in enumerate(MEASURES):
        wanted = pods.map(lambda p: measure in POD_MEASURES.get(p.split("_", 1)[0], [])).to_numpy()
        if not wanted.any():
            continue
        st = _stats(grouped[:, wanted, mi], result.model_runs)
        frame = groups[wanted].reset_index(drop=True)
        frame.insert(1, "measure", measure)
        for col in STAT_COLUMNS:
            frame[col] = st[col]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["pod", "measure", *by]).reset_index(drop=True)


def per_run(result: Results, by: list[str] | None = None) -> pd.DataFrame:
    """Long frame: model_run, pod, [by...], measure, value (zeros omitted)."""
    dims = ["pod", *(by or [])]
    codes, groups = _groups(result, dims)
    grouped = _group_sum(result, codes, len(groups))
    run_i, group_i, measure_i = np.nonzero(grouped)
    frame = groups.iloc[group_i].reset_index(drop=True)
    frame.insert(0, "model_run", result.model_runs[run_i])
    frame["measure"] = np.asarray(MEASURES, dtype=object)[measure_i]
    frame["value"] = grouped[run_i, group_i, measure_i]
    return frame.sort_values(["model_run", *dims, "measure"]).reset_index(drop=True)


def waterfall(result: Results) -> pd.DataFrame:
    """activity, measure, step, principal/p10/p50/p90 change in activity attributable to each step."""
    rows = []
    runs = result.model_runs
    for wi, (activity, measure) in enumerate(WATERFALL_MEASURES):
        st = _stats(result.waterfall[:, wi, :], runs)
        for si, step in enumerate(STEPS):
            rows.append({"activity": activity, "measure": measure, "step": step,
                         **{c: float(st[c][si]) for c in ("principal", "p10", "p50", "p90")}})
    frame = pd.DataFrame(rows)
    base_run = result.waterfall[runs == 0]
    if len(base_run):  # the baseline bar is the baseline itself, with no uncertainty
        for wi, (activity, measure) in enumerate(WATERFALL_MEASURES):
            sel = (frame.activity == activity) & (frame.measure == measure) & (frame.step == "baseline")
            frame.loc[sel, ["principal", "p10", "p50", "p90"]] = float(base_run[0, wi, 0])
    return frame


def avoided(result: Results) -> pd.DataFrame:
    """activity, strategy, measure, principal/p10/p50/p90 of activity avoided (or bed days saved)."""
    frame = result.avoided[result.avoided["model_run"] > 0]
    if frame.empty:
        return pd.DataFrame(columns=["activity", "strategy", "measure", "principal", "p10", "p50", "p90"])
    g = frame.groupby(["activity", "strategy", "measure"])["value"]
    out = g.mean().rename("principal").to_frame()
    for q, name in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        out[name] = g.quantile(q)
    return out.reset_index()


def _ward_type(area: str) -> str:
    if "daycase" in area:
        return "daycase"
    if area.startswith("maternity"):
        return "maternity"
    if area.startswith("paediatric"):
        return "paediatric"
    if area.startswith("adult_elective"):
        return "adult_elective"
    if area.startswith("adult_nonelective"):
        return "adult_nonelective"
    return "other"


def _capacity_runs(result: Results) -> tuple[pd.DataFrame, np.ndarray]:
    """Capacity items (resource, sitetret, ward_type, functional_area) and their value per run."""
    cap: dict[str, Any] = result.params.capacity
    runs = len(result.model_runs)
    labels, mats = [], []
    # beds by functional area (ward type decides the occupancy and days open)
    areas = result.beds_areas
    ward = areas["functional_area"].map(_ward_type)
    occ = ward.map(lambda w: cap["target_occupancy"].get(w, cap["target_occupancy"].get("other", 0.9))).to_numpy(float)
    days = np.where(ward == "daycase", cap["days_open"]["daycase"], cap["days_open"]["overnight"]).astype(float)
    labels.append(areas.assign(resource="beds", ward_type=ward.to_numpy()))
    mats.append(result.beddays_by_area / (days * occ))
    # theatres by theatre type: procedures x hours each / (hours available x utilisation)
    tareas = result.theatre_areas
    hours = cap["theatre"]["hours_per_procedure"]
    per = tareas["functional_area"].map(lambda a: hours.get(a, hours.get("default", 1.5))).to_numpy(float)
    labels.append(tareas.assign(resource="theatres", ward_type=tareas["functional_area"].to_numpy()))
    mats.append(result.procedures_by_area * per / (cap["theatre"]["hours_per_year"] * cap["theatre"]["utilisation"]))
    # outpatient clinic rooms by site (face-to-face attendances x minutes per attendance)
    keys = result.keys
    minutes = cap["clinic"]["minutes_per_attendance"]
    per_key = keys["pod"].map(lambda p: minutes.get(p, 0.0)).to_numpy(float) / 60.0
    site_codes, sites = pd.factorize(keys["sitetret"])
    hrs = np.zeros((runs, len(sites)))
    att = result.values[:, :, MEASURES.index("attendances")] * per_key
    np.add.at(hrs, (slice(None), site_codes), att)
    labels.append(pd.DataFrame({"sitetret": np.asarray(sites), "functional_area": "outpatient_clinic",
                                "resource": "clinic_rooms", "ward_type": "clinic"}))
    mats.append(hrs / (cap["clinic"]["hours_per_year"] * cap["clinic"]["utilisation"]))
    items = pd.concat(labels, ignore_index=True)[["resource", "sitetret", "ward_type", "functional_area"]]
    return items, np.hstack(mats) if mats else np.zeros((runs, 0))


def capacity(result: Results) -> pd.DataFrame:
    """resource, sitetret, ward_type, functional_area, baseline/principal/p10/p50/p90 of beds, theatres
    and clinic rooms. Computed per run, so the uncertainty is that of the activity runs."""
    items, mat = _capacity_runs(result)
    st = _stats(mat, result.model_runs)
    return items.assign(**st)


def capacity_totals(result: Results) -> pd.DataFrame:
    """Capacity summed over sites and areas: resource, ward_type, baseline..p90.

    The quantiles are those of the per-run totals (not sums of per-area quantiles)."""
    items, mat = _capacity_runs(result)
    codes, groups = pd.MultiIndex.from_frame(items[["resource", "ward_type"]]).factorize()
    totals = np.zeros((mat.shape[0], len(groups)))
    np.add.at(totals, (slice(None), np.asarray(codes)), mat)
    frame = groups.to_frame(index=False)
    frame.columns = ["resource", "ward_type"]
    return frame.assign(**_stats(totals, result.model_runs))


def fan_chart(fan: pd.DataFrame, activity: str, measure: str) -> pd.DataFrame:
    """One fan chart from :func:`~carelens.demand.runner.project_years`' per-run totals: per year
    (the index) P10, P50, P90 and the principal (mean) of runs 1..N for ``activity`` and ``measure``.

    A year with no runs (the start year: the data as is) takes its baseline for all four, so the fan
    opens from a point; the quantiles are those of the runs' totals, like :func:`capacity_totals`.
    """
    sel = fan[(fan.activity == activity) & (fan.measure == measure)]
    runs = sel[sel.model_run > 0]
    base = sel[sel.model_run == 0].groupby("year")["value"].first()
    q = runs.groupby("year")["value"].quantile([0.1, 0.5, 0.9]).unstack()
    q = pd.concat([pd.DataFrame({0.1: base, 0.5: base, 0.9: base}).loc[~base.index.isin(q.index)], q]).sort_index()
    mean = runs.groupby("year")["value"].mean().reindex(q.index).fillna(base)
    out = pd.DataFrame({"p10": q[0.1], "p50": q[0.5], "p90": q[0.9], "principal": mean}, index=q.index)
    out.index.name = "year"
    return out


def capacity_run_totals(result: Results) -> pd.DataFrame:
    """Per run capacity totals, in the long shape of :func:`~carelens.demand.runner.activity_totals`:
    activity = the resource (beds, theatres, clinic_rooms), measure = its ward or theatre type, and
    ``total`` for all of that resource (the sum per run, so its quantiles are those of the runs)."""
    items, mat = _capacity_runs(result)
    frames = []
    for resource in pd.unique(items["resource"]):
        of_resource = (items["resource"] == resource).to_numpy()
        kinds = items.loc[of_resource, "ward_type"].to_numpy()
        for kind in [*pd.unique(kinds), "total"]:
            cols = of_resource.copy()
            if kind != "total":
                cols &= (items["ward_type"] == kind).to_numpy()
            frames.append(pd.DataFrame({"activity": resource, "measure": kind, "model_run": result.model_runs,
                                        "value": mat[:, cols].sum(axis=1)}))
    return pd.concat(frames, ignore_index=True)


def trajectories(run_totals: pd.DataFrame) -> pd.DataFrame:
    """Year by year from the baseline to the horizon, for every activity and capacity total in
    ``run_totals`` (year, activity, measure, model_run, value): activity, measure, year, baseline,
    principal, p10, p50, p90 (each year's own runs; the baseline year is the data as is)."""
    frames = []
    pairs = run_totals[["activity", "measure"]].drop_duplicates().itertuples(index=False)
    for activity, measure in pairs:
        fan = fan_chart(run_totals, activity, measure).reset_index()
        base = run_totals[(run_totals.activity == activity) & (run_totals.measure == measure)
                          & (run_totals.model_run == 0)].groupby("year")["value"].first()
        fan.insert(0, "measure", measure)
        fan.insert(0, "activity", activity)
        fan.insert(3, "baseline", fan["year"].map(base).astype(float))
        frames.append(fan[["activity", "measure", "year", "baseline", "principal", "p10", "p50", "p90"]])
    if not frames:
        return pd.DataFrame(columns=["activity", "measure", "year", "baseline", "principal", "p10", "p50", "p90"])
    return pd.concat(frames, ignore_index=True)
