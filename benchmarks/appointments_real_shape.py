"""Benchmark: carelens on exports shaped like a real one from another health system, against a
gradient-boosting model on the same columns plus as-of prior-DNA counts, fitted in the same run.

    nice .venv/bin/python benchmarks/appointments_real_shape.py \\
        [--data ../shared/data/appointments/appointments_dev.csv] [--windows 12] \\
        [--out benchmarks/results/appointments_real_shape.json]

The real public no-show table (about 110,000 appointments over six weeks) cannot be downloaded on
the benchmark machine, so its *shape* is rebuilt from the shared table,
``carelens.appointments.synth.reshape_like_foreign_export`` (its docstring says exactly how):
six weeks of appointments, no history before them, its column names, "No-show" Yes/No, dates
without times, specialty/site/medium/first/ethnic group/IMD/distance dropped, and the table's own
0/1 columns (SMS reminder, welfare benefit, hypertension, diabetes, alcoholism) and neighbourhood,
each built from facts known before the appointment and chance (the SMS reminder prevents 30 % of
would-be DNAs; alcoholism turns 15 % of attendances into DNAs).

``--windows`` disjoint six-week exports are cut from the shared table (starting on Mondays, ten
weeks apart). On each, carelens runs as a user would run ``carelens appointments train`` with
``--column`` renames, ``--status-map "Yes=DNA,No=attended"`` and every extra column as
``--feature``: the validation window is chosen from the history (the last fifth: 8 days), the
validation patients are unseen in training. The peer is scikit-learn's
``HistGradientBoostingClassifier`` (default settings, categorical neighbourhood and sex) on the
same columns (age, sex, the six extra columns, lead time, weekday) plus as-of counts of the
patient's earlier appointments and DNAs (known 3 days before the appointment, as carelens'),
trained on the same rows and scored on the same validation rows. Also shown: carelens without the
extra columns (what ``--feature`` adds). Figures per window, and pooled over every window's
validation rows with 95 % intervals from 200 bootstrap draws of (window, patient) clusters;
the AUROC difference is paired (the same draws for both sides).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("CARELENS_SHARED_DATA", REPO.parent / "shared" / "data")) / "appointments" / "appointments_dev.csv"
STATUS_MAP = "Yes=DNA,No=attended"
PEER_COLUMNS = ["age", "sex", "lead_time_days", "weekday", "prior_appointments", "prior_dnas"]


def _peer_matrix(features: pd.DataFrame, appointments: pd.DataFrame) -> pd.DataFrame:
    """The peer's inputs: the table's columns (as normalised), lead time, weekday, as-of counts."""
    from carelens.appointments.features import trust_feature_names

    out = pd.DataFrame({
        "age": appointments["age"].to_numpy(dtype=float),
        "sex": pd.Categorical(appointments["sex"].astype(str)),
        "lead_time_days": features["lead_time_days"].to_numpy(dtype=float),
        "weekday": features["weekday"].to_numpy(dtype=float),
        "prior_appointments": features["prior_appointments"].to_numpy(dtype=float),
        "prior_dnas": features["prior_dnas"].to_numpy(dtype=float),
    })
    for name in trust_feature_names(appointments):
        values = appointments[name]
        categorical = isinstance(values.dtype, pd.CategoricalDtype)
        out[name] = pd.Categorical(values.astype(str)) if categorical else values.to_numpy(dtype=float)
    return out


def one_window(raw: pd.DataFrame, start: pd.Timestamp, seed: int) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from carelens.appointments.evaluation import metrics
    from carelens.appointments.features import build_features
    from carelens.appointments.schema import Columns, normalise
    from carelens.appointments.synth import FOREIGN_COLUMNS, FOREIGN_FEATURES, reshape_like_foreign_export
    from carelens.appointments.training import choose_window, temporal_split, train_and_validate

    export = reshape_like_foreign_export(raw, start=start, weeks=6, seed=seed)
    columns = Columns.from_mapping(FOREIGN_COLUMNS)
    with_features = normalise(export, columns, status_map=STATUS_MAP, features=FOREIGN_FEATURES)
    without = normalise(export, columns, status_map=STATUS_MAP)
    y = with_features["dna"].to_numpy()
    window = choose_window(with_features, None)
    split = temporal_split(with_features, valid=window)
    valid = np.flatnonzero(split.valid)
    train = np.flatnonzero(split.train)
    result: dict = {"start": f"{start:%Y-%m-%d}", "rows": len(export), "labelled": int(np.isfinite(y).sum()),
                    "dna_rate": float(np.nanmean(y)), "window": window.describe(), "n_train": len(train),
                    "n_valid": len(valid), "sides": {}}
    predictions = {}
    for name, table in (("carelens, extra columns as --feature", with_features), ("carelens, without the extra columns", without)):
        began, cpu = time.perf_counter(), time.process_time()
        model, card = train_and_validate(table, refit=False)  # the window: chosen from the history, as above
        seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
        p = model.predict_proba(build_features(table).iloc[valid])[:, 1]
        assert abs(card["validation"]["auroc"] - metrics(y[valid], p)["auroc"]) < 1e-9  # the card's own figures
        predictions[name] = p
        result["sides"][name] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2)}
    features = build_features(with_features)
    X = _peer_matrix(features, with_features)
    began, cpu = time.perf_counter(), time.process_time()
    peer = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(X.iloc[train], y[train])
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    predictions["gradient boosting, same columns + as-of prior-DNA counts"] = peer.predict_proba(X.iloc[valid])[:, 1]
    result["sides"]["gradient boosting, same columns + as-of prior-DNA counts"] = {
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2)}
    for name, p in predictions.items():
        m = metrics(y[valid], p)
        result["sides"][name].update({k: m[k] for k in ("auroc", "average_precision", "brier", "ece", "mean_predicted")})
    result["ece_noise_floor"] = ece_noise_floor(predictions["carelens, extra columns as --feature"])
    result["_y"] = y[valid]
    result["_p"] = predictions
    result["_patients"] = with_features["patient_id"].to_numpy()[valid]
    return result


def ece_noise_floor(p: np.ndarray, draws: int = 50, seed: int = 0) -> float:
    """The ECE a *perfectly* calibrated model would show on this many rows at these risks (outcomes
    drawn from the risks themselves): below it, a smaller ECE is noise, not better calibration."""
    from carelens.appointments.evaluation import expected_calibration_error

    rng = np.random.default_rng(seed)
    return float(np.mean([expected_calibration_error((rng.random(len(p)) < p).astype(float), p) for _ in range(draws)]))


def pooled(windows: list[dict], draws: int = 200, seed: int = 0) -> dict:
    """Every window's validation rows together, with cluster-bootstrap intervals ((window, patient))."""
    from carelens.appointments.evaluation import expected_calibration_error, metrics
    from sklearn.metrics import roc_auc_score

    y = np.concatenate([w["_y"] for w in windows])
    names = list(windows[0]["_p"])
    p = {n: np.concatenate([w["_p"][n] for w in windows]) for n in names}
    clusters = np.concatenate([np.char.add(f"{i}:", w["_patients"].astype(str)) for i, w in enumerate(windows)])
    _, codes = np.unique(clusters, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(codes.max() + 1))
    sizes = np.diff(np.append(starts, len(codes)))
    rng = np.random.default_rng(seed)
    boot: dict[str, list[float]] = {f"{n} auroc": [] for n in names} | {f"{n} ece": [] for n in names}
    diff: list[float] = []
    peer = names[-1]
    for _ in range(draws):
        pick = rng.integers(0, len(starts), len(starts))
        lengths = sizes[pick]
        within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = order[np.repeat(starts[pick], lengths) + within]
        aucs = {n: roc_auc_score(y[rows], p[n][rows]) for n in names}
        for n in names:
            boot[f"{n} auroc"].append(aucs[n])
            boot[f"{n} ece"].append(expected_calibration_error(y[rows], p[n][rows]))
        diff.append(aucs[names[0]] - aucs[peer])
    out = {"n": int(len(y)), "dna_rate": float(y.mean()), "sides": {}}
    for n in names:
        m = metrics(y, p[n])
        out["sides"][n] = {
            **{k: m[k] for k in ("auroc", "average_precision", "brier", "ece", "mean_predicted")},
            "auroc_ci95": [float(np.quantile(boot[f"{n} auroc"], q)) for q in (0.025, 0.975)],
            "ece_ci95": [float(np.quantile(boot[f"{n} ece"], q)) for q in (0.025, 0.975)],
        }
    out["ece_noise_floor"] = ece_noise_floor(p[names[0]])
    out["per_window_mean"] = {n: {k: float(np.mean([w["sides"][n][k] for w in windows])) for k in ("auroc", "ece")}
                              for n in names}
    out["windows_carelens_at_least_peer"] = int(sum(w["sides"][names[0]]["auroc"] >= w["sides"][peer]["auroc"] for w in windows))
    out["auroc_difference_carelens_minus_peer"] = {
        "value": float(out["sides"][names[0]]["auroc"] - out["sides"][peer]["auroc"]),
        "ci95": [float(np.quantile(diff, q)) for q in (0.025, 0.975)],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--windows", type=int, default=12)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "appointments_real_shape.json")
    args = parser.parse_args()
    from carelens.tables import read_table

    raw = read_table(args.data)
    first = pd.Timestamp(raw["appointment_datetime"].min()).normalize()
    first += pd.Timedelta(days=(7 - first.weekday()) % 7)  # a Monday
    last = pd.Timestamp(raw["appointment_datetime"].max()) - pd.Timedelta(weeks=6)
    starts = [first + pd.Timedelta(weeks=10 * i) for i in range(args.windows)]
    starts = [s for s in starts if s <= last]
    windows = []
    for i, start in enumerate(starts):
        w = one_window(raw, start, seed=i)
        windows.append(w)
        sides = "; ".join(f"{n}: AUROC {s['auroc']:.3f} ECE {s['ece']:.4f}" for n, s in w["sides"].items())
        print(f"{w['start']} ({w['labelled']:,} labelled, {w['n_valid']:,} validated): {sides}", flush=True)
    together = pooled(windows)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()}",
        "command": "nice .venv/bin/python benchmarks/appointments_real_shape.py " + " ".join(sys.argv[1:]),
        "data": args.data.name,
        "pooled": together,
        "windows": [{k: v for k, v in w.items() if not k.startswith("_")} for w in windows],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float))
    print(f"pooled over {len(windows)} windows ({together['n']:,} validation appointments, DNA rate {together['dna_rate']:.3f}):")
    for name, side in together["sides"].items():
        print(f"  {name:58s} AUROC {side['auroc']:.4f} ({side['auroc_ci95'][0]:.3f}-{side['auroc_ci95'][1]:.3f})  "
              f"ECE {side['ece']:.4f} ({side['ece_ci95'][0]:.4f}-{side['ece_ci95'][1]:.4f})")
    print(f"  ECE of a perfectly calibrated model on these rows (noise floor): {together['ece_noise_floor']:.4f}; "
          f"per window: mean {np.mean([w['ece_noise_floor'] for w in windows]):.4f}")
    for name, m in together["per_window_mean"].items():
        print(f"  mean over windows, {name:45s} AUROC {m['auroc']:.4f} ECE {m['ece']:.4f}")
    print(f"  carelens at least as good as the peer (AUROC) in {together['windows_carelens_at_least_peer']} of {len(windows)} windows")
    d = together["auroc_difference_carelens_minus_peer"]
    print(f"  AUROC difference carelens - peer: {d['value']:+.4f} (95 % CI {d['ci95'][0]:+.4f} to {d['ci95'][1]:+.4f})")


if __name__ == "__main__":
    main()
