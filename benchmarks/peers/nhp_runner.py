"""Run the NHP demand model (``nhp-model`` from PyPI, the peer) on an NHP-layout data folder.

Runs under the peer's own Python 3.12 venv (``benchmarks/.peers/nhp``), as a subprocess of
``benchmarks/demand.py``, so NHP's pandas 3 / numpy 2.5 / jax stack never meets carelens':

    benchmarks/.peers/nhp/bin/python benchmarks/peers/nhp_runner.py \
        --params PARAMS.json --data ROOT --runs N --out OUT.json [--parquet OUT.parquet]

What it runs is NHP's own code path for a full model run (``nhp.model.run.run_all``): the three
models (inpatients, outpatients, A&E) are built with ``nhp.model.data.Local`` over
``ROOT/{table}/fyear={start_year}/dataset={dataset}/``, the shared
``HealthStatusAdjustmentInterpolated``, run 0 (the baseline) in this process and runs 1..N on a
``multiprocessing`` spawn pool of ``os.cpu_count()`` workers, then ``combine_results`` (which also
patches the inpatient->SDEC conversions into the A&E aggregations). The loop body of
``run_all``/``_run_model`` is repeated here, with the same calls in the same order, only so that
model construction and the Monte Carlo runs can be timed apart (the per-run cost is what grows
with N). ``params["model_runs"]`` is set to N; everything else in the params file is used as is.
The ``dataset`` in the params is replaced by the one found under ROOT when they differ (NHP
itself would fail to find the files).

OUT.json holds, from NHP's ``default`` aggregation (pod x sitetret x measure) summed over sites:
``results``: one record per (pod, measure, model_run) with its value, model_run 0 the baseline;
and ``timings`` (seconds, wall), ``peak_rss_mb`` (the whole process tree, sampled every 0.1 s
with psutil, which NHP's venv has), ``runs``, ``workers``, versions.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import threading
import time
from pathlib import Path


class TreeMemorySampler:
    """Peak resident memory of this process and all its children (NHP's worker pool)."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> int:
        total = 0
        procs = [self._proc]
        try:
            procs += self._proc.children(recursive=True)
        except Exception:  # noqa: BLE001 - a child may vanish while we look
            pass
        for p in procs:
            try:
                total += p.memory_info().rss
            except Exception:  # noqa: BLE001
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> "TreeMemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._sample())


def _dataset_under(root: str, start_year: int) -> list[str]:
    hits = glob.glob(os.path.join(root, "ip", f"fyear={start_year}", "dataset=*"))
    return sorted(Path(h).name.split("=", 1)[1] for h in hits)


def hsa_dump(args: argparse.Namespace) -> None:
    """NHP's own HSA objects: adjusted ages for every run (by sex, ages 55-90) and full factors."""
    from nhp.model.data import Local
    from nhp.model.health_status_adjustment import HealthStatusAdjustmentInterpolated
    from nhp.model.params import load_params

    params = load_params(args.params)
    found = _dataset_under(args.data, params["start_year"])
    dataset = params["dataset"] if params["dataset"] in found else found[0]
    nhp_data = Local.create(args.data)(params["start_year"], dataset)
    runs = max(args.runs, 1)
    hsa = HealthStatusAdjustmentInterpolated(nhp_data, params["start_year"], params["end_year"], params["seed"],
                                             max(runs, 10_000))
    ages = {str(sex): hsa.hsa_params[sex].tolist() for sex in (1, 2)}  # [run-1][age-55]
    factors = []
    for run in (1, 2, 3):
        f = hsa.run({"model_run": run})
        factors.append([{"hsagrp": str(h), "sex": int(sx), "age": int(a), "factor": float(v)}
                        for (h, sx, a), v in f.items()])
    Path(args.out).write_text(json.dumps({"adjusted_ages": ages, "factors": factors,
                                          "start_year": params["start_year"], "end_year": params["end_year"]}),
                              encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", required=True)
    parser.add_argument("--data", required=True, help="NHP data root (folder holding ip/, op/, ...)")
    parser.add_argument("--runs", type=int, default=32)
    parser.add_argument("--seed", type=int, default=None, help="override params['seed']")
    parser.add_argument("--out", required=True)
    parser.add_argument("--parquet", default=None, help="also write NHP's full default aggregation")
    parser.add_argument("--quiet", action="store_true", help="no tqdm progress bars")
    parser.add_argument("--hsa-dump", action="store_true",
                        help="only write NHP's health-status adjustment (adjusted ages per run and the factors of"
                             " the first runs) to --out, for benchmarks/demand.py --hsa-check")
    args = parser.parse_args()
    if args.hsa_dump:
        hsa_dump(args)
        return

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if args.quiet:
        os.environ["TQDM_DISABLE"] = "1"

    t_import = time.perf_counter()
    import multiprocessing

    import pandas as pd
    from nhp.model import _version as nhp_version
    from nhp.model.aae import AaEModel
    from nhp.model.data import Local
    from nhp.model.health_status_adjustment import HealthStatusAdjustmentInterpolated
    from nhp.model.inpatients import InpatientsModel
    from nhp.model.model import Model
    from nhp.model.outpatients import OutpatientsModel
    from nhp.model.params import load_params
    from nhp.model.results import combine_results

    import_s = time.perf_counter() - t_import

    params = load_params(args.params)  # NHP's own JSON-schema validation
    params["model_runs"] = args.runs
    if args.seed is not None:
        params["seed"] = args.seed
    found = _dataset_under(args.data, params["start_year"])
    if not found:
        sys.exit(f"nhp_runner: no {args.data}/ip/fyear={params['start_year']}/dataset=*/ folder")
    if params["dataset"] not in found:
        params["dataset"] = found[0]

    timings: dict[str, float] = {"import": import_s}
    per_model: dict[str, dict[str, float]] = {}
    with TreeMemorySampler() as mem:
        t_all = time.perf_counter()
        # --- nhp.model.run.run_all, step by step -------------------------------------------
        t0 = time.perf_counter()
        run_params = Model.generate_run_params(params)
        nhp_data = Local.create(args.data)(params["start_year"], params["dataset"])
        hsa = HealthStatusAdjustmentInterpolated(
            nhp_data, params["start_year"], params["end_year"], params["seed"], params["model_runs"]
        )
        timings["setup"] = time.perf_counter() - t0

        all_results = []
        for model_type in [InpatientsModel, OutpatientsModel, AaEModel]:
            if not nhp_data.data_exists_for_model_type(model_type):
                continue
            name = model_type.__name__[:-5]
            # --- nhp.model.run._run_model ------------------------------------------------
            t0 = time.perf_counter()
            model = model_type(params, nhp_data, hsa, run_params, False, None)
            init_s = time.perf_counter() - t0
            model_runs = [i + 1 for i in range(params["model_runs"])]
            t0 = time.perf_counter()
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(os.cpu_count()) as pool:
                baseline = model.go(0)
                model_results = list(pool.imap(model.go, model_runs, chunksize=1))
            runs_s = time.perf_counter() - t0
            all_results.append([baseline, *model_results])
            per_model[name] = {"init": init_s, "runs": runs_s}
            print(f"nhp {name}: init {init_s:.1f}s, {args.runs} runs {runs_s:.1f}s", file=sys.stderr)

        t0 = time.perf_counter()
        combined = combine_results(all_results)
        timings["combine"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - t_all

    default = combined["default"]
    by_pod = (
        default.groupby(["pod", "measure", "model_run"], as_index=False, dropna=False)["value"]
        .sum()
        .sort_values(["pod", "measure", "model_run"])
    )
    if args.parquet:
        default.to_parquet(args.parquet)

    timings["init"] = sum(v["init"] for v in per_model.values())
    timings["runs"] = sum(v["runs"] for v in per_model.values())
    out = {
        "peer": "nhp-model",
        "version": getattr(nhp_version, "__version__", getattr(nhp_version, "version", "?")),
        "python": sys.version.split()[0],
        "pandas": pd.__version__,
        "runs": args.runs,
        "workers": os.cpu_count(),
        "seed": params["seed"],
        "dataset": params["dataset"],
        "timings": timings,
        "per_model": per_model,
        "peak_rss_mb": mem.peak_bytes / 2**20,
        "variants": run_params["variant"],
        "results": [
            {
                "pod": r.pod,
                "measure": r.measure,
                "model_run": int(r.model_run),
                "value": float(r.value),
            }
            for r in by_pod.itertuples(index=False)
        ],
    }
    Path(args.out).write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    main()
