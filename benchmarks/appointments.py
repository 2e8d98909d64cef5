"""Benchmark: carelens DNA model vs plain logistic regression vs the same model on leaky features.

    flock /tmp/carelens-bench.lock .venv/bin/python benchmarks/appointments.py \
        [--data CSV] [--out benchmarks/results/appointments.json] [--skip-speed] [--threads 2]

Quality, on ``../shared/data/appointments/appointments_dev.csv``, validated on its last six months
(every attended/DNA appointment from the cut-off on), all sides scored on the same rows, with
95 % bootstrap intervals (appointments resampled by patient, 200 draws):
- carelens: HistGradientBoosting on as-of features (3-day gap), Platt calibration on the latest
  20 % of the training period; trained on appointments before the cut of patients never seen
  after it ("grouped"), and, for comparison, on every earlier appointment ("temporal only").
- peer 1: plain logistic regression, same features, same split, same calibration.
- peer 2: the same booster on *leaky* features (history counted over the whole table, this
  appointment's own outcome included): its validation figures as a leaky study would report
  them, and what the same model does when it has to score real upcoming appointments, whose
  outcomes nobody knows yet (as-of features).
- peer 3: the carelens model and features under a random 80/20 split of appointments (the
  "leakage-prone random split" of much published work): same patients on both sides, past and
  future mixed.
Honesty check ("the same figures on appointments the model has never seen"): the full
``carelens appointments train`` procedure is run on the table *before* the cut only (its own
validation: the six months before the cut; then refitted). The figures its model card reports are
set beside what that saved model then does on the last six months, which it never saw.
Speed and memory, on carelens' synthetic generator: training (the whole CLI procedure: validation
fit, then refit) on 200,000 appointments; scoring 1,000,000 upcoming appointments in a
1,275,000-row table (validate, featurise, predict, explain) and writing the scores back to DuckDB;
each step in its own subprocess so peak memory is that step's alone, with wall and CPU seconds and
the load average before and after (the benchmark machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "appointments" / "appointments_dev.csv"
KEYS = ("n", "dna_rate", "mean_predicted", "auroc", "average_precision", "brier", "ece", "top_decile_share_of_dnas")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def quality(data: Path) -> dict:
    from carelens.appointments.evaluation import bootstrap_intervals as bootstrap
    from carelens.appointments.evaluation import fairness_table, metrics
    from carelens.appointments.features import build_features
    from carelens.appointments.model import DNAModel
    from carelens.appointments.schema import normalise
    from carelens.appointments.training import temporal_split, train_and_validate
    from carelens.tables import read_table

    appts = normalise(read_table(data), file=str(data))
    honest = build_features(appts)
    leaky = build_features(appts, leaky=True)
    y = appts["dna"].to_numpy()
    when = appts["appointment_datetime"].to_numpy()
    patients = appts["patient_id"].to_numpy()
    grouped = temporal_split(appts, valid_months=6, group_patients=True)
    temporal = temporal_split(appts, valid_months=6, group_patients=False)
    valid = np.flatnonzero(grouped.valid)

    def fit(features, rows, **params):
        start = time.perf_counter()
        model = DNAModel(**params).fit(features.iloc[rows], y[rows], time=when[rows], groups=patients[rows])
        return model, time.perf_counter() - start

    def figures(model, features, rows):
        p = model.predict_proba(features.iloc[rows])[:, 1]
        m = metrics(y[rows], p)
        return p, {**{k: m[k] for k in KEYS}, **bootstrap(y[rows], p, patients[rows]), "net_benefit_per_1000": m["net_benefit_per_1000"]}

    out: dict = {
        "data": str(data.name),
        "rows": len(appts),
        "cut": str(grouped.cut.date()),
        "n_valid": len(valid),
        "sides": {},
    }
    sides = {
        "carelens HGB (grouped)": (honest, np.flatnonzero(grouped.train), {}, honest),
        "carelens HGB (temporal only)": (honest, np.flatnonzero(temporal.train), {}, honest),
        "logistic regression (grouped)": (honest, np.flatnonzero(grouped.train), {"estimator": "logistic"}, honest),
        "HGB on leaky features, as reported (grouped)": (leaky, np.flatnonzero(grouped.train), {}, leaky),
    }
    models = {}
    for name, (features, rows, params, scored_on) in sides.items():
        model, seconds = fit(features, rows, **params)
        models[name] = model
        p, fig = figures(model, scored_on, valid)
        out["sides"][name] = {"train_seconds": round(seconds, 2), "n_train": len(rows), "valid": fig}
        if name == "carelens HGB (grouped)":
            out["calibration_curve"] = metrics(y[valid], p)["calibration_curve"]
            out["fairness"] = fairness_table(appts.iloc[valid], y[valid], p).to_dict(orient="records")
    # The leaky model has to score real upcoming appointments with features it can compute then.
    leaky_model = models["HGB on leaky features, as reported (grouped)"]
    _, fig = figures(leaky_model, honest, valid)
    out["sides"]["HGB on leaky features, as deployed (grouped)"] = {"train_seconds": None, "n_train": None, "valid": fig}
    # A random split of appointments (no time order, same patients on both sides).
    labelled = np.flatnonzero(~np.isnan(y))
    rng = np.random.default_rng(0)
    test = rng.random(len(labelled)) < 0.2
    for label, features in (("random split, as-of features", honest), ("random split, leaky features", leaky)):
        model, seconds = fit(features, labelled[~test])
        _, fig = figures(model, features, labelled[test])
        out["sides"][f"HGB, {label}"] = {"train_seconds": round(seconds, 2), "n_train": int((~test).sum()), "valid": fig}

    # Honesty check: the CLI procedure on data before the cut, then its saved model on the months after.
    before = appts[appts["appointment_datetime"] < grouped.cut].reset_index(drop=True)
    start = time.perf_counter()
    final, card = train_and_validate(before, valid_months=6)
    seconds = time.perf_counter() - start
    p_outer = final.predict_proba(honest.iloc[valid])[:, 1]
    outer = metrics(y[valid], p_outer)
    seen = np.isin(patients[valid], pd_unique(before["patient_id"]))
    out["honesty_check"] = {
        "procedure_seconds": round(seconds, 2),
        "card_validation_period": card["validation_note"],
        "card": {k: card["validation"][k] for k in (*KEYS, "auroc_ci95", "ece_ci95")},
        "never_seen_months": {**{k: outer[k] for k in KEYS}, **bootstrap(y[valid], p_outer, patients[valid])},
        "never_seen_months_patients_seen_before": {k: metrics(y[valid][seen], p_outer[seen])[k] for k in KEYS},
        "never_seen_months_new_patients": {k: metrics(y[valid][~seen], p_outer[~seen])[k] for k in KEYS},
    }
    return out


def pd_unique(values):
    import pandas as pd

    return pd.unique(values)


def speed_train(n_rows: int, threads: int) -> dict:
    from carelens.appointments.schema import normalise
    from carelens.appointments.synth import generate_appointments
    from carelens.appointments.training import train_and_validate

    raw = generate_appointments(n_rows=n_rows, seed=1)
    load_before = _load()
    start, cpu = time.perf_counter(), time.process_time()
    appts = normalise(raw)
    model, card = train_and_validate(appts, n_threads=threads)
    return {
        "rows": len(raw),
        "labelled": int(appts["dna"].notna().sum()),
        "what": "normalise + features + validation fit + refit on all (the `train` command's work)",
        "threads": threads,
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "validation_auroc": round(card["validation"]["auroc"], 4),
        "load_before": load_before,
        "load_after": _load(),
    }


def speed_score(n_future: int, tmp: Path, threads: int, explains: tuple[str, ...] = ("none", "banded")) -> dict:
    from carelens.appointments.io import write_scores_db
    from carelens.appointments.persistence import load_model
    from carelens.appointments.schema import normalise
    from carelens.appointments.scoring import score_upcoming, with_version
    from carelens.appointments.synth import generate_appointments
    from carelens.appointments.training import train_and_validate

    # A model trained on two years of one trust's history...
    history = normalise(generate_appointments(n_rows=200_000, seed=3, start="2021-01-01", end="2022-12-31"))
    model, card = train_and_validate(history, refit=False)
    model.save(tmp / "model", card)
    loaded = load_model(tmp / "model")
    loaded.model.n_threads = threads
    # ...scores a table of six months' outcomes plus a year of booked appointments (~1M rows).
    raw = generate_appointments(n_rows=int(n_future * 1.275), seed=2, start="2023-01-01", end="2023-06-30", future_days=365)
    result: dict = {"rows": len(raw), "threads": threads}
    for explain in explains:
        load_before = _load()
        start, cpu = time.perf_counter(), time.process_time()
        appts = normalise(raw)
        scores = score_upcoming(appts, loaded, explain=explain)
        result[f"explain_{explain}"] = {
            "seconds": round(time.perf_counter() - start, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "load_before": load_before,
            "load_after": _load(),
        }
        result["scored"] = len(scores)
        result["explained"] = int((scores["reasons"] != "").sum())
    result["bands"] = scores["risk_band"].value_counts().to_dict()
    if "banded" not in explains:
        return result
    load_before = _load()
    start = time.perf_counter()
    write_scores_db(with_version(scores, loaded.version), f"duckdb:///{tmp / 'scores.duckdb'}", "dna_scores")
    first = time.perf_counter() - start
    start = time.perf_counter()
    write_scores_db(with_version(scores, loaded.version), f"duckdb:///{tmp / 'scores.duckdb'}", "dna_scores")
    result["write_back_duckdb"] = {
        "rows": len(scores), "first_seconds": round(first, 2), "rerun_replace_seconds": round(time.perf_counter() - start, 2),
        "load_before": load_before, "load_after": _load(),
    }
    return result


def _subprocess(step: str, arg: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--step", step, "--arg", arg], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt_ci(ci: list[float]) -> str:
    return f"{ci[0]:.3f}-{ci[1]:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "appointments.json")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--arg", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            result = {
                "quality": lambda: quality(Path(args.arg)),
                "train": lambda: speed_train(*map(int, args.arg.split(":"))),
                "score": lambda: speed_score(int(args.arg.split(":")[0]), Path(tmp), int(args.arg.split(":")[1]),
                                             tuple(args.arg.split(":")[2].split(",")) if args.arg.count(":") > 1
                                             else ("none", "banded")),
            }[args.step]()
        result["peak_mb"] = round(_peak_mb())
        print(json.dumps(result, default=float))
        return

    report: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()}",
        "command": "flock /tmp/carelens-bench.lock .venv/bin/python benchmarks/appointments.py " + " ".join(sys.argv[1:]),
    }
    if args.out.exists():  # keep the part not re-run
        report = {**json.loads(args.out.read_text()), **report}
    if not args.skip_quality:
        report["quality"] = _subprocess("quality", str(args.data))
    if not args.skip_speed:
        report["train_200k"] = _subprocess("train", f"200000:{args.threads}")
        report["score_1m"] = _subprocess("score", f"1000000:{args.threads}")
    if "quality" in report:
        q = report["quality"]
        print(f"validation from {q['cut']}: {q['n_valid']:,} appointments")
        print(f"{'side':48s} {'AUROC':>7s} {'95% CI':>12s} {'AP':>6s} {'Brier':>7s} {'ECE':>7s} {'top10%':>7s}")
        for name, side in q["sides"].items():
            v = side["valid"]
            print(
                f"{name:48s} {v['auroc']:7.4f} {_fmt_ci(v['auroc_ci95']):>12s} {v['average_precision']:6.3f} "
                f"{v['brier']:7.4f} {v['ece']:7.4f} {v['top_decile_share_of_dnas']:7.3f}"
            )
        h = q["honesty_check"]
        print(f"honesty check: card AUROC {h['card']['auroc']:.4f} ({_fmt_ci(h['card']['auroc_ci95'])}) ECE {h['card']['ece']:.4f}; never-seen months "
              f"AUROC {h['never_seen_months']['auroc']:.4f} ({_fmt_ci(h['never_seen_months']['auroc_ci95'])}) "
              f"ECE {h['never_seen_months']['ece']:.4f}")
    for key in ("train_200k", "score_1m"):
        if key in report:
            print(f"{key}: {json.dumps(report[key])}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
