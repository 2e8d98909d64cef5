"""Benchmark: carelens DNA model vs plain logistic regression vs the same model on leaky features.

    .venv/bin/python benchmarks/appointments.py [--data CSV] [--out benchmarks/results/appointments.json]
        [--skip-speed]

Quality, on ``../shared/data/appointments/appointments_dev.csv``, validated on its last six months
(appointments from the cut-off on), all three sides on the same rows:
- carelens: HistGradientBoosting on as-of features (3-day gap), isotonic calibration on the last
  20 % of the training period; trained on patients never seen in the validation window
  ("grouped"), and also trained on every earlier appointment ("temporal only"), whose figures are
  then shown on all validation rows and on those of never-seen patients.
- peer 1: plain logistic regression, same features, same split, same calibration.
- peer 2: the same booster on *leaky* features (patient history counted over the whole table),
  the mistake behind many published AUROCs above 0.85.
Speed and memory, on carelens' own synthetic generator: training on 200,000 appointments, and
scoring about 1,000,000 upcoming appointments (history plus future rows in one table, read,
validated, featurised, predicted and explained), each in its own subprocess so peak memory is that
step's alone. Wall and CPU seconds are both printed: on a shared, loaded machine wall time
overstates what a dedicated 2-core server needs. The booster runs on one thread (``n_threads=1``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "appointments" / "appointments_dev.csv"
KEYS = ("n", "dna_rate", "mean_predicted", "auroc", "average_precision", "brier", "ece", "top_decile_share_of_dnas")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quality(data: Path) -> dict:
    from carelens.appointments.evaluation import metrics
    from carelens.appointments.features import build_features
    from carelens.appointments.model import DNAModel
    from carelens.appointments.schema import normalise
    from carelens.appointments.training import temporal_split
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
    unseen_rows = np.flatnonzero(temporal.unseen)

    def fit(features, mask, **params):
        rows = np.flatnonzero(mask)
        start = time.perf_counter()
        model = DNAModel(**params).fit(features.iloc[rows], y[rows], time=when[rows], groups=patients[rows])
        return model, time.perf_counter() - start

    out: dict = {"cut": str(grouped.cut.date()), "n_valid": len(valid), "n_valid_unseen_patients": len(unseen_rows)}
    sides = {
        "carelens HGB (grouped)": (honest, grouped.train, {}),
        "carelens HGB (temporal only)": (honest, temporal.train, {}),
        "logistic regression (grouped)": (honest, grouped.train, {"estimator": "logistic"}),
        "HGB on leaky features (grouped)": (leaky, grouped.train, {}),
    }
    for name, (features, mask, params) in sides.items():
        model, seconds = fit(features, mask, **params)
        p_valid = model.predict_proba(features.iloc[valid])[:, 1]
        m_all = metrics(y[valid], p_valid)
        p_unseen = model.predict_proba(features.iloc[unseen_rows])[:, 1]
        m_unseen = metrics(y[unseen_rows], p_unseen)
        out[name] = {
            "train_seconds": round(seconds, 2),
            "n_train": int(mask.sum()),
            "valid": {k: m_all[k] for k in KEYS},
            "valid_never_seen_patients": {k: m_unseen[k] for k in KEYS},
            "net_benefit_per_1000": m_all["net_benefit_per_1000"],
        }
    return out


def speed_train(n_rows: int) -> dict:
    from carelens.appointments.features import build_features
    from carelens.appointments.model import DNAModel
    from carelens.appointments.schema import normalise
    from carelens.appointments.synth import generate_appointments

    raw = generate_appointments(n_rows=n_rows, seed=1)
    start, cpu = time.perf_counter(), time.process_time()
    appts = normalise(raw)
    features = build_features(appts)
    labelled = np.flatnonzero(appts["dna"].notna().to_numpy())
    DNAModel().fit(
        features.iloc[labelled], appts["dna"].to_numpy()[labelled],
        time=appts["appointment_datetime"].to_numpy()[labelled], groups=appts["patient_id"].to_numpy()[labelled],
    )
    seconds = time.perf_counter() - start
    return {"rows": len(raw), "labelled": len(labelled), "seconds": round(seconds, 2), "peak_mb": round(_peak_mb())}


def speed_score(n_future: int, tmp: Path) -> dict:
    from carelens.appointments.model import load_model
    from carelens.appointments.schema import normalise
    from carelens.appointments.scoring import score_upcoming
    from carelens.appointments.synth import generate_appointments
    from carelens.appointments.training import train_and_validate

    # Six months of history, then a year of booked appointments: about 2/3 of rows are future.
    raw = generate_appointments(n_rows=int(n_future * 1.275), seed=2, start="2023-01-01", end="2023-06-30", future_days=365)
    history = normalise(raw.iloc[: len(raw) // 5].reset_index(drop=True))
    model, card = train_and_validate(history, valid_months=1, refit=False)
    model.save(tmp, card)
    loaded = load_model(tmp)
    result = {"rows": len(raw)}
    for explain in ("none", "banded"):
        start, cpu = time.perf_counter(), time.process_time()
        appts = normalise(raw)
        scores = score_upcoming(appts, loaded, explain=explain)
        result[f"seconds_explain_{explain}"] = round(time.perf_counter() - start, 2)
        result[f"cpu_seconds_explain_{explain}"] = round(time.process_time() - cpu, 2)
        result["scored"] = len(scores)
        result["explained"] = int((scores["reasons"] != "").sum())
    result["peak_mb"] = round(_peak_mb())
    return result


def _subprocess(step: str, arg: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--step", step, "--arg", arg], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "appointments.json")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--arg", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        result = {
            "quality": lambda: quality(Path(args.arg)),
            "train": lambda: speed_train(int(args.arg)),
            "score": lambda: speed_score(int(args.arg.split(":")[0]), Path(args.arg.split(":")[1])),
        }[args.step]()
        result["peak_mb"] = round(_peak_mb())
        print(json.dumps(result, default=float))
        return
    import tempfile

    report = {"machine": f"{platform.machine()}, {platform.python_version()}", "quality": _subprocess("quality", str(args.data))}
    if not args.skip_speed:
        report["train_200k"] = _subprocess("train", "200000")
        with tempfile.TemporaryDirectory() as tmp:
            report["score_1m"] = _subprocess("score", f"1000000:{tmp}")
    q = report["quality"]
    print(f"validation from {q['cut']}: {q['n_valid']:,} appointments, {q['n_valid_unseen_patients']:,} of never-seen patients")
    header = f"{'side':34s} {'AUROC':>7s} {'AP':>6s} {'Brier':>7s} {'ECE':>7s} {'top10%':>7s} | {'AUROC unseen':>12s} {'ECE unseen':>10s} | train s"
    print(header)
    for name, side in q.items():
        if not isinstance(side, dict):
            continue
        v, u = side["valid"], side["valid_never_seen_patients"]
        print(
            f"{name:34s} {v['auroc']:7.4f} {v['average_precision']:6.3f} {v['brier']:7.4f} {v['ece']:7.4f} "
            f"{v['top_decile_share_of_dnas']:7.3f} | {u['auroc']:12.4f} {u['ece']:10.4f} | {side['train_seconds']:.1f}"
        )
    ours = q["carelens HGB (grouped)"]["valid"]["auroc"]
    for peer in ("logistic regression (grouped)", "HGB on leaky features (grouped)"):
        print(f"AUROC carelens - {peer}: {ours - q[peer]['valid']['auroc']:+.4f}")
    if "train_200k" in report:
        print(f"train 200k: {report['train_200k']}")
        print(f"score ~1M: {report['score_1m']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
