"""Benchmark: carelens demand engine vs the NHP demand model (``nhp-model`` 6.x, PyPI) side by side.

    .venv/bin/python benchmarks/demand.py [--params P.json] [--data ROOT] [--runs 256]
        [--nhp-runs N] [--workers 2] [--skip-peer] [--out benchmarks/results/demand.json]
    .venv/bin/python benchmarks/demand.py --big [--spells 1000000] [--runs 256] [--nhp-runs 4]
    .venv/bin/python benchmarks/demand.py --point --runs 512 --nhp-json A.json B.json   # sharp check
    .venv/bin/python benchmarks/demand.py --hsa-check benchmarks/.cache/nhp_hsa.json

Both sides run the same scenario (default ``../shared/data/demand/params-sample.json``) on the same
NHP-layout trust (default ``../shared/data/demand/nhp_synthetic/``), each in its own subprocess so
each side's time and peak memory (whole process tree, sampled every 0.1 s from /proc) are its own.
The peer runs NHP's own code under its own Python 3.12 venv (``benchmarks/.peers/nhp``, see
``benchmarks/peers/nhp_runner.py``); its set-up is::

    ~/.pyenv/versions/3.12.1/bin/python -m venv benchmarks/.peers/nhp
    benchmarks/.peers/nhp/bin/pip install nhp-model

Statistical agreement, per point of delivery (pod) x measure, from NHP's ``default`` aggregation
summed over sites and carelens' per-run results:
- baseline (run 0) must be equal: same data, no change;
- principal = mean of runs 1..N on each side; the two sides use different random streams, so the
  principals differ by Monte Carlo noise only if the methods agree. SE of the difference =
  sqrt(var_c / N_c + var_n / N_n) (sample variances over runs); "agree" means |diff| < 3 SE.
  With ~35 comparisons a single |z| in 3..3.5 can be chance (p ~ 0.003 each); a run of them, or
  one far beyond, is a method difference (see docs/demand-nhp-agreement.md).
- speed: wall time of each whole run (load + runs + summaries) and per Monte Carlo run.

``--big`` generates a 1M-spell trust with carelens' own synthetic generator (cached under
``benchmarks/.cache/``), times carelens' 256 runs on it and NHP's on a few runs (NHP takes about
14 s a run there); NHP's time for the full count is then extrapolated from its per-run time, and
the report says so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "demand"
DEFAULT_PARAMS = SHARED / "params-sample.json"
DEFAULT_DATA = SHARED / "nhp_synthetic"
CACHE = REPO / "benchmarks" / ".cache"
PEER_PYTHON = REPO / "benchmarks" / ".peers" / "nhp" / "bin" / "python"
PEER_RUNNER = REPO / "benchmarks" / "peers" / "nhp_runner.py"
AGREE_Z = 3.0
BIG_SEED = 20261123  # seed of the generated 1M-spell trust; chosen once


# ------------------------------------------------------------------------------- process memory
def _pss_bytes(pid: int) -> int | None:
    """Proportional set size of one process (shared pages split between their users), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _tree_rss_bytes(root_pid: int, pss: bool = True) -> int:
    """Memory of a process and all its descendants, read from /proc (Linux).

    With ``pss`` (default) each process counts its proportional set size, so pages that forked
    workers share with their parent are counted once in total, not once per process (plain RSS
    summed over a tree of forked workers overstates the memory actually used)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            fields = stat[stat.rfind(")") + 2 :].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * page
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        value = _pss_bytes(pid) if pss else None
        total += value if value is not None else rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a command; return it, its wall seconds and the peak memory (MB, PSS summed over its process tree)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_bytes(proc.pid, pss=True))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds (user + sys) of the whole tree: waited-for grandchildren roll up into the child
    run_measured.cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    done = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    return done, wall, peak / 2**20


# ------------------------------------------------------------------------------------- carelens
def carelens_side(params_path: Path, data_root: Path, runs: int, workers: int, out: Path) -> None:
    """Run carelens in this (sub)process and write per-run results by pod x measure to ``out``."""
    t0 = time.perf_counter()
    from carelens.demand import load_data, load_params, run_model, summarise

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    params = load_params(params_path)
    data = load_data(data_root)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = run_model(params, data, runs=runs, workers=workers, progress=False)
    runs_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = summarise(result)
    summary_s = time.perf_counter() - t0
    per_run = per_run_by_pod_measure(result)
    payload = {
        "runs": runs,
        "workers": workers,
        "timings": {"import": import_s, "load": load_s, "runs": runs_s, "summarise": summary_s},
        "results": per_run.to_dict(orient="records"),
        "summary": summary.to_dict(orient="records"),
    }
    out.write_text(json.dumps(payload, default=float), encoding="utf-8")


def per_run_by_pod_measure(result) -> pd.DataFrame:
    """carelens' per-run values summed to (pod, measure, model_run), zeros kept; run 0 = baseline."""
    from carelens.demand import MEASURES

    codes, pods = pd.factorize(result.keys["pod"])
    by_pod = np.zeros((len(result.model_runs), len(pods), len(MEASURES)))
    np.add.at(by_pod, (slice(None), codes), result.values)  # values[run, key, measure]
    used = by_pod.any(axis=0)  # [pod, measure] pairs non-zero in some run
    pod, measure = np.nonzero(used)
    n_runs = len(result.model_runs)
    return pd.DataFrame({
        "pod": np.tile(np.asarray(pods)[pod], n_runs),
        "measure": np.tile(np.asarray(MEASURES)[measure], n_runs),
        "model_run": np.repeat(result.model_runs, len(pod)),
        "value": by_pod[:, pod, measure].ravel(),
    })


def run_carelens(params: Path, data: Path, runs: int, workers: int, workdir: Path) -> dict:
    out = workdir / "carelens.json"
    cmd = [
        sys.executable, __file__, "--_side", "carelens", "--params", str(params), "--data",
        str(data), "--runs", str(runs), "--workers", str(workers), "--_out", str(out),
    ]
    load_before = os.getloadavg()
    proc, wall, peak = run_measured(cmd)
    if proc.returncode != 0:
        raise SystemExit(f"carelens side failed:\n{proc.stderr[-4000:]}")
    payload = json.loads(out.read_text(encoding="utf-8"))
    payload.update(wall_s=wall, peak_rss_mb=peak, cpu_s=run_measured.cpu_s, loadavg_before=load_before,
                   loadavg_after=os.getloadavg())
    return payload


# ------------------------------------------------------------------------------------------ NHP
def run_nhp(params: Path, data: Path, runs: int, workdir: Path) -> dict:
    if not PEER_PYTHON.exists():
        raise SystemExit(
            "NHP venv missing: ~/.pyenv/versions/3.12.1/bin/python -m venv benchmarks/.peers/nhp "
            "&& benchmarks/.peers/nhp/bin/pip install nhp-model (or pass --skip-peer)"
        )
    out = workdir / "nhp.json"
    cmd = [
        str(PEER_PYTHON), str(PEER_RUNNER), "--params", str(params), "--data", str(data),
        "--runs", str(runs), "--out", str(out), "--quiet",
    ]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "TQDM_DISABLE": "1"}
    proc, wall, peak = run_measured(cmd, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"NHP side failed:\n{proc.stderr[-4000:]}")
    payload = json.loads(out.read_text(encoding="utf-8"))
    payload.update(wall_s=wall, peak_rss_mb_tree=peak)
    return payload


# ------------------------------------------------------------------------------------ agreement
def compare(carelens: pd.DataFrame, nhp: pd.DataFrame) -> pd.DataFrame:
    """One row per pod x measure: baselines, principals, SE of the difference, z, agreement."""

    pairs = pd.concat([carelens, nhp])[["pod", "measure"]].drop_duplicates()
    index = pd.MultiIndex.from_frame(pairs.sort_values(["pod", "measure"]))

    def stats(frame: pd.DataFrame, side: str) -> pd.DataFrame:
        # wide [pod x measure, run]; a pair one side never produces is 0 in all its runs
        wide = frame.pivot_table(index=["pod", "measure"], columns="model_run", values="value",
                                 aggfunc="sum", fill_value=0.0).reindex(index, fill_value=0.0)
        runs = wide.loc[:, wide.columns > 0]
        return pd.DataFrame(
            {
                f"baseline_{side}": wide[0] if 0 in wide.columns else np.nan,
                f"principal_{side}": runs.mean(axis=1),
                f"var_{side}": runs.var(axis=1, ddof=1),
                f"n_{side}": runs.shape[1],
            }
        )

    both = stats(carelens, "c").join(stats(nhp, "n"), how="outer")
    both["diff"] = both["principal_c"] - both["principal_n"]
    both["se"] = np.sqrt(both["var_c"] / both["n_c"] + both["var_n"] / both["n_n"])
    both["z"] = both["diff"] / both["se"].replace(0, np.nan)
    both.loc[(both["se"] == 0) & (both["diff"] == 0), "z"] = 0.0
    both["rel_diff"] = both["diff"] / both["principal_n"].replace(0, np.nan)
    both["agree"] = both["z"].abs() < AGREE_Z
    return both.reset_index()


def markdown_table(table: pd.DataFrame) -> str:
    """The agreement table as markdown (for docs/demand-nhp-agreement.md)."""
    lines = ["| pod | measure | baseline (both) | carelens | NHP | diff % | SE | z |", "|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        if r.principal_n == 0 and r.principal_c == 0:
            continue
        rel = f"{100 * r.rel_diff:+.2f}" if not math.isnan(r.rel_diff) else "-"
        base = f"{r.baseline_c:,.0f}" if r.baseline_c == r.baseline_n else f"{r.baseline_c:,.0f} / {r.baseline_n:,.0f}"
        lines.append(f"| {r.pod} | {r.measure} | {base} | {r.principal_c:,.0f} | {r.principal_n:,.0f} | {rel} |"
                     f" {r.se:,.0f} | {r.z:+.2f} |")
    return "\n".join(lines)


def print_table(table: pd.DataFrame) -> None:
    header = (
        f"{'pod':<26} {'measure':<17} {'baseline':>10} {'base NHP':>10} {'carelens':>11} "
        f"{'NHP':>11} {'diff %':>7} {'SE':>8} {'z':>6}  agree"
    )
    print(header)
    print("-" * len(header))
    for r in table.itertuples(index=False):
        def f(x: float, w: int) -> str:
            return f"{x:>{w},.0f}" if isinstance(x, float) and not math.isnan(x) else f"{'-':>{w}}"

        rel = f"{100 * r.rel_diff:>7.2f}" if not math.isnan(r.rel_diff) else f"{'-':>7}"
        z = f"{r.z:>6.2f}" if not math.isnan(r.z) else f"{'-':>6}"
        mark = "yes" if r.agree else ("n/a" if math.isnan(r.z) else "NO")
        print(
            f"{r.pod:<26} {r.measure:<17} {f(r.baseline_c, 10)} {f(r.baseline_n, 10)} "
            f"{f(r.principal_c, 11)} {f(r.principal_n, 11)} {rel} {f(r.se, 8)} {z}  {mark}"
        )


def pool_nhp(paths: list[Path]) -> dict:
    """Several NHP results for the same params (different seeds) as one: runs renumbered, baseline
    from the first, timings summed (per-run time = total run time / total runs)."""
    parts = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    out = dict(parts[0])
    results, offset = [], 0
    for part in parts:
        for r in part["results"]:
            if r["model_run"] == 0 and offset:
                continue
            results.append({**r, "model_run": r["model_run"] + offset if r["model_run"] else 0})
        offset += part["runs"]
    out["results"] = results
    out["runs"] = offset
    out["seeds"] = [p["seed"] for p in parts]
    out["timings"] = {k: sum(p["timings"].get(k, 0.0) for p in parts) for k in parts[0]["timings"]}
    out["peak_rss_mb"] = max(p["peak_rss_mb"] for p in parts)
    return out


def point_params(src: Path) -> Path:
    """``src`` with every [lo, hi] at its midpoint, the most probable variant only, no HSA."""
    raw = json.loads(Path(src).read_text(encoding="utf-8"))

    def collapse(node):
        if isinstance(node, dict):
            return {k: collapse(v) for k, v in node.items()}
        if isinstance(node, list) and len(node) == 2 and all(isinstance(v, (int, float)) for v in node):
            mid = (node[0] + node[1]) / 2
            return [mid, mid]
        return node

    out = collapse({k: v for k, v in raw.items() if k != "demographic_factors"})
    probs = raw["demographic_factors"]["variant_probabilities"]
    out["demographic_factors"] = {"variant_probabilities": {max(probs, key=probs.get): 1.0}}
    out["health_status_adjustment"] = False
    out["scenario"] = f"{raw.get('scenario', 'scenario')}-point"
    CACHE.mkdir(parents=True, exist_ok=True)
    dst = CACHE / "params-point.json"
    dst.write_text(json.dumps(out, indent=1), encoding="utf-8")
    return dst


def hsa_check(dump: Path, data_root: Path) -> None:
    """NHP's health-status adjustment (from nhp_runner.py --hsa-dump) against carelens'.

    1. The factor computation: carelens' ``hsa_factors`` fed NHP's adjusted ages of runs 1-3 must
       give NHP's factors for every (hsagrp, sex, age).
    2. The distribution of adjusted ages: mean and P10/P90 of years "younger" over NHP's draws
       against carelens' (NHP's 10,000 draws vs 10,000 carelens draws).
    """
    from carelens.demand import load_data
    from carelens.demand.hsa import AGES, HealthStatus, hsa_factors

    nhp = json.loads(dump.read_text(encoding="utf-8"))
    data = load_data(data_root)
    hsa = data["hsa_activity_tables"]
    table = hsa.pivot_table(index=["hsagrp", "sex"], columns="age", values="activity", aggfunc="mean", observed=True)
    table = table.reindex(columns=range(0, 101)).ffill(axis=1).bfill(axis=1)
    worst = 0.0
    for run, rows in enumerate(nhp["factors"], start=1):
        f = pd.DataFrame(rows)
        ages = np.vstack([np.asarray(nhp["adjusted_ages"][str(s)][run - 1]) for s in (1, 2)])
        pos = table.index.get_indexer(pd.MultiIndex.from_arrays([f["hsagrp"].astype(str), f["sex"].astype(np.int64)]))
        ours = hsa_factors(ages, table.to_numpy(float), pos, f["sex"].to_numpy(np.int64), f["age"].to_numpy(np.int64))
        worst = max(worst, float(np.nanmax(np.abs(ours - f["factor"].to_numpy(float)))))
    print(f"1. factors from NHP's adjusted ages, runs 1-3, {len(nhp['factors'][0])} (hsagrp, sex, age) each:"
          f" largest |carelens - NHP| = {worst:.2e}")
    health = HealthStatus(nhp["start_year"], nhp["end_year"])
    rng = np.random.default_rng(84308)
    ours = np.array([AGES - health.adjusted_ages(health.draw_h(rng)) for _ in range(10_000)])
    print("2. years 'younger' (mean, P10, P90), NHP's draws vs carelens':")
    for si, sex in enumerate((1, 2)):
        theirs = AGES - np.asarray(nhp["adjusted_ages"][str(sex)])
        for age in (55, 65, 75, 90):
            a = age - 55
            t, o = theirs[:, a], ours[:, si, a]
            print(f"   sex {sex} age {age}: NHP {t.mean():.3f} ({np.percentile(t, 10):.2f}, {np.percentile(t, 90):.2f})"
                  f"  carelens {o.mean():.3f} ({np.percentile(o, 10):.2f}, {np.percentile(o, 90):.2f})"
                  f"  diff of means {o.mean() - t.mean():+.3f} (SE {np.sqrt(t.var() / len(t) + o.var() / len(o)):.3f})")


# ------------------------------------------------------------------------------------------ big
def big_trust(spells: int) -> Path:
    """A generated NHP-layout trust of ``spells`` inpatient spells, cached between runs."""
    root = CACHE / f"synth_{spells}_{BIG_SEED}_v2"  # v2: synth places day-case strategies as NHP data does
    if (root / ".done").exists():
        return root
    from carelens.demand.synth import synthesise

    t0 = time.perf_counter()
    synthesise(root, spells=spells, seed=BIG_SEED)
    (root / ".done").write_text(f"{time.perf_counter() - t0:.1f}s\n")
    return root


# ----------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=256)
    parser.add_argument("--nhp-runs", type=int, default=None, help="NHP's run count (default --runs)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--nhp-json", type=Path, nargs="+", default=None,
                        help="reuse earlier NHP results (nhp_runner.py --out) instead of running it; several"
                             " files (runs of the same params with different seeds) are pooled")
    parser.add_argument("--point", action="store_true",
                        help="compare on the params with every interval collapsed to its midpoint, one population"
                             " variant and no health-status adjustment (written to benchmarks/.cache/): with the"
                             " parameter uncertainty gone, the Monte Carlo error is Poisson noise only, so the"
                             " comparison is sharp")
    parser.add_argument("--hsa-check", type=Path, default=None,
                        help="compare carelens' health-status adjustment with NHP's (nhp_runner.py --hsa-dump)")
    parser.add_argument("--big", action="store_true", help="speed on a generated 1M-spell trust")
    parser.add_argument("--spells", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None, help="write all figures as JSON")
    parser.add_argument("--markdown", action="store_true", help="also print the agreement table as markdown")
    parser.add_argument("--_side", help=argparse.SUPPRESS)
    parser.add_argument("--_out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args._side == "carelens":
        carelens_side(args.params, args.data, args.runs, args.workers, args._out)
        return

    if args.hsa_check:
        hsa_check(args.hsa_check, args.data)
        return
    if args.point:
        args.params = point_params(args.params)
        print(f"point params: {args.params}")
    data = big_trust(args.spells) if args.big else args.data
    nhp_runs = args.nhp_runs or (4 if args.big else args.runs)
    print(f"data: {data}\nparams: {args.params}\nmachine: {platform.platform()}, "
          f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f}")
    report: dict = {"data": str(data), "params": str(args.params), "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"\ncarelens: {args.runs} runs on {args.workers} workers ...", flush=True)
        care = run_carelens(args.params, data, args.runs, args.workers, work)
        report["carelens"] = {k: v for k, v in care.items() if k not in ("results", "summary")}
        nhp = None
        if args.nhp_json:
            nhp = pool_nhp(args.nhp_json)
            print(f"NHP: reusing {', '.join(map(str, args.nhp_json))} ({nhp['runs']} runs, not re-run)")
        elif not args.skip_peer:
            print(f"NHP {nhp_runs} runs on {os.cpu_count()} workers (its default) ...", flush=True)
            nhp = run_nhp(args.params, data, nhp_runs, work)
        if nhp is not None:
            report["nhp"] = {k: v for k, v in nhp.items() if k not in ("results", "variants")}

    c_per_run = care["timings"]["runs"] / args.runs
    print(f"\ncarelens: wall {care['wall_s']:.1f}s (load {care['timings']['load']:.1f}s, "
          f"{args.runs} runs {care['timings']['runs']:.1f}s = {c_per_run:.3f}s/run), "
          f"peak memory {care['peak_rss_mb']:.0f} MB (PSS, process tree); CPU {care['cpu_s']:.1f}s (user+sys, all"
          f" processes); load average {care['loadavg_before'][0]:.2f} before, {care['loadavg_after'][0]:.2f} after")
    if nhp is None:
        return
    n_per_run = nhp["timings"]["runs"] / nhp["runs"]
    n_fixed = nhp["timings"]["total"] - nhp["timings"]["runs"] + nhp["timings"]["import"]
    print(f"NHP:      wall {nhp.get('wall_s', float('nan')):.1f}s (set-up {n_fixed:.1f}s, "
          f"{nhp['runs']} runs {nhp['timings']['runs']:.1f}s = {n_per_run:.3f}s/run), "
          f"peak memory {nhp['peak_rss_mb']:.0f} MB (RSS summed over its spawned workers)")
    nhp_same_n = n_fixed + n_per_run * args.runs
    extrapolated = nhp["runs"] != args.runs
    c_total = care["wall_s"]
    print(f"speed: NHP {'(extrapolated from its per-run time) ' if extrapolated else ''}"
          f"{nhp_same_n:.0f}s for {args.runs} runs vs carelens {c_total:.1f}s: "
          f"{nhp_same_n / c_total:.0f}x; per run {n_per_run / c_per_run:.0f}x")
    report["speed"] = {
        "carelens_wall_s": c_total, "carelens_s_per_run": c_per_run,
        "nhp_s_per_run": n_per_run, "nhp_wall_s_for_runs": nhp_same_n,
        "nhp_extrapolated": extrapolated, "ratio_wall": nhp_same_n / c_total,
        "ratio_per_run": n_per_run / c_per_run,
    }

    if not args.big:
        table = compare(pd.DataFrame(care["results"]), pd.DataFrame(nhp["results"]))
        print(f"\nagreement ({args.runs} carelens runs vs {nhp['runs']} NHP runs; "
              f"agree = |diff| < {AGREE_Z:g} SE):")
        print_table(table)
        tested = table["z"].notna()
        print(f"\n{int(table.loc[tested, 'agree'].sum())} of {int(tested.sum())} pod x measure "
              f"agree within {AGREE_Z:g} SE; baselines equal: "
              f"{bool((table['baseline_c'].fillna(-1) == table['baseline_n'].fillna(-1)).all())}")
        report["agreement"] = table.to_dict(orient="records")
        if args.markdown:
            print("\n" + markdown_table(table))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
        print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
