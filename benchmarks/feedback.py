"""Benchmark: carelens feedback model vs pxtextmining 1.0.1 on one fixed held-out split.

    .venv/bin/python benchmarks/feedback.py [--data CSV] [--out benchmarks/results/feedback.json]
        [--embedder packaged|none|PATH] [--topic-kernel auto|linear|rbf] [--skip-peer]
    .venv/bin/python benchmarks/feedback.py --behaviour-only [--model DIR] --out benchmarks/results/feedback_behaviour.json

Both sides train on the same 80% of ``../shared/data/feedback/fft_v6_train.csv`` (labels mapped
to framework v7) and predict the same 20%. The split is fixed (seed below, stratified on each
row's rarest label) and was chosen once; nothing is tuned on it: carelens picks its thresholds by
cross-validation inside the training part. Each side runs in its own subprocess, so peak memory
is that side's alone. The peer runs under its own Python 3.10 venv (see benchmarks/peers/).

Scoring, identical for both sides:
- topics: F1 over the 32 v7 labels (31 learned + "Labelling not possible"); macro F1 averages
  the labels with at least one positive in the test part (a label absent from the test part has
  no defined F1); rows whose text is blank/content-free count too (both label them by rule).
- sentiment: test rows with a coder's sentiment and text both sides can read; 5-class macro F1,
  and 3-class (1-2 / 3 / 4-5).
- speed: training time of both models; batch comments/s over the test part repeated to
  ~10,000 comments (carelens) or the test part once (the peer: ~10 minutes otherwise);
  single-comment latency is the median of 20 one-comment calls.
- behavioural suite (``carelens.feedback.behaviour``): pass rate per test type on its dev and
  held-out parts, for the model trained on the training part; ``--behaviour-only`` runs it on a
  saved model (the packaged one by default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
# the shared data folder: $CARELENS_SHARED_DATA (as the tests use it), else ../shared/data
DEFAULT_DATA = Path(os.environ.get("CARELENS_SHARED_DATA", REPO.parent / "shared" / "data")) / "feedback" / "fft_v6_train.csv"
PEER_PYTHON = REPO / "benchmarks" / ".peers" / "pxtextmining" / "bin" / "python"
PEER_RUNNER = REPO / "benchmarks" / "peers" / "pxtextmining_runner.py"
SPLIT_SEED = 20260521  # chosen once, before any result was seen; never changed
TEST_FRACTION = 0.2
LATENCY_REPEATS = 20


# ---------------------------------------------------------------------------------------- data
def load_data(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The raw frame (text kept as read), its v7 label matrix (32 columns) and the label names."""
    from carelens.feedback import load_framework
    from carelens.feedback.labels import parse_flag_column, wide_labels
    from carelens.tables import read_table

    frame = read_table(path, dtype_str=True)
    framework = load_framework()
    learned = wide_labels(frame, framework, file=path.name)
    lnp = framework.labelling_not_possible
    names = framework.label_names
    Y = np.zeros((len(frame), len(names)), dtype=np.int8)
    for j, name in enumerate(framework.learnable_labels):
        Y[:, names.index(name)] = learned[:, j]
    Y[:, names.index(lnp)] = parse_flag_column(frame[lnp], column=lnp, file=path.name)
    return frame, Y, names


def fixed_split(Y: np.ndarray, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test): 80/20, stratified on each row's rarest label.

    Full multi-label stratification is not possible with labels this rare; stratifying on the
    rarest label a row carries puts rare labels on both sides whenever they have 2+ examples.
    """
    from sklearn.model_selection import train_test_split

    freq = Y.sum(axis=0)
    key = np.array(
        [str(int(np.argmin(np.where(row > 0, freq, np.inf)))) if row.any() else "none" for row in Y], dtype=object
    )
    counts = pd.Series(key).value_counts()
    rare = np.isin(key, counts[counts < 5].index)
    key[rare] = "rare" if rare.sum() >= 2 else "none"
    idx = np.arange(len(Y))
    train, test = train_test_split(idx, test_size=TEST_FRACTION, random_state=seed, stratify=key)
    return np.sort(train), np.sort(test)


def sentiment_values(frame: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(frame["Comment sentiment"], errors="coerce").to_numpy()


# ------------------------------------------------------------------------------------- scoring
def score(Y_true: np.ndarray, Y_pred: np.ndarray, s_true: np.ndarray, s_pred: np.ndarray) -> dict:
    from sklearn.metrics import f1_score

    from carelens.feedback.sentiment import to_three_classes

    present = Y_true.sum(axis=0) > 0
    ok = ~np.isnan(s_true) & ~np.isnan(s_pred)
    return {
        "topic_macro_f1": float(f1_score(Y_true[:, present], Y_pred[:, present], average="macro", zero_division=0)),
        "topic_micro_f1": float(f1_score(Y_true, Y_pred, average="micro", zero_division=0)),
        "topic_labels_scored": int(present.sum()),
        "sentiment_macro_f1_5": float(f1_score(s_true[ok], s_pred[ok], average="macro")),
        "sentiment_macro_f1_3": float(f1_score(to_three_classes(s_true[ok]), to_three_classes(s_pred[ok]), average="macro")),
        "sentiment_rows": int(ok.sum()),
    }


# ------------------------------------------------------------------------------------- workers
def run_carelens(data: Path, embedder: str, topic_kernel: str = "auto") -> dict:
    """Train via the public API on the training part; predict the test part (in this process)."""
    from carelens.feedback import load_framework, train_feedback_model

    frame, Y, names = load_data(data)
    train, test = fixed_split(Y)
    train_frame = frame.iloc[train].reset_index(drop=True)
    test_frame = frame.iloc[test].reset_index(drop=True)

    t0 = time.perf_counter()
    model = train_feedback_model(train_frame, load_framework(), embedder=embedder, topic_kernel=topic_kernel, source=data.name)
    train_s = time.perf_counter() - t0

    texts = test_frame["FFT answer"].tolist()
    scores = test_frame["FFT categorical answer"].tolist()
    model.classify(texts[:50], fft_scores=scores[:50])  # warm-up: lazy imports, embedder load
    out = model.classify(texts, fft_scores=scores)
    reps = max(1, 10_000 // len(texts))
    # the timed batch starts cold: forget the words whose character n-grams the runs above left
    # behind (a long-running server keeps them, which is faster still)
    model.topics.features_.__dict__.pop("_char_cache", None)
    t0, cpu0 = time.perf_counter(), time.process_time()
    model.classify(texts * reps, fft_scores=scores * reps)
    batch_s, batch_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0  # CPU: all threads
    singles = []
    for i in range(LATENCY_REPEATS):
        t0 = time.perf_counter()
        model.classify([texts[i]], fft_scores=[scores[i]])
        singles.append(time.perf_counter() - t0)
    no_score = model.classify(texts)  # sentiment when the export has no FFT score
    from carelens.feedback.behaviour import run_suite

    behaviour = run_suite(model).to_dict()  # the model trained on the training part, as scored above

    index = {n: j for j, n in enumerate(names)}
    pred = np.zeros((len(texts), len(names)), dtype=np.int8)
    for i, topics in enumerate(out["topics"]):
        for t in topics:
            pred[i, index[t]] = 1
    return {
        "topics": pred.tolist(),
        "sentiment": [None if pd.isna(v) else int(v) for v in out["sentiment"]],
        "sentiment_without_score": [None if pd.isna(v) else int(v) for v in no_score["sentiment"]],
        "train_s": train_s,
        "batch_s": batch_s,
        "batch_cpu_s": batch_cpu_s,
        "batch_n": len(texts) * reps,
        "single_latency_ms": 1000 * float(np.median(singles)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cv_metrics": model.card.get("cv_metrics"),
        "behaviour": behaviour,
        "embedder": embedder,
        "topic_kernel": topic_kernel,
        "topic_kernel_used": model.card.get("topic_model", {}).get("kernel"),
    }


def run_peer(data: Path, workdir: Path) -> dict:
    if not PEER_PYTHON.exists():
        raise SystemExit(
            f"peer venv missing: {PEER_PYTHON}\n  ~/.pyenv/versions/3.10.13/bin/python -m venv benchmarks/.peers/pxtextmining"
            " && benchmarks/.peers/pxtextmining/bin/pip install pxtextmining==1.0.1"
        )
    frame, Y, names = load_data(data)
    train, test = fixed_split(Y)
    sent = sentiment_values(frame)

    def part(rows: np.ndarray, with_targets: bool) -> dict:
        d = {
            "ids": frame["Comment ID"].iloc[rows].tolist(),
            "text": frame["FFT answer"].iloc[rows].fillna("").tolist(),
            "question": frame["FFT question"].iloc[rows].fillna("nonspecific").tolist(),
        }
        if with_targets:
            d["Y"] = Y[rows].tolist()
            d["sentiment"] = [None if np.isnan(v) else int(v) for v in sent[rows]]
        return d

    spec = {"labels": names, "train": part(train, True), "test": part(test, False), "latency_repeats": LATENCY_REPEATS}
    in_path, out_path = workdir / "peer_in.json", workdir / "peer_out.json"
    in_path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([str(PEER_PYTHON), str(PEER_RUNNER), str(in_path), str(out_path)], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"pxtextmining runner failed:\n{proc.stderr[-3000:]}")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    if result["ids"] != spec["test"]["ids"]:
        raise SystemExit("pxtextmining runner returned rows in another order")
    return result


def _worker(side: str, data: Path, out: Path, embedder: str, topic_kernel: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = run_carelens(data, embedder, topic_kernel) if side == "carelens" else run_peer(data, Path(tmp))
    out.write_text(json.dumps(result), encoding="utf-8")


def _spawn(side: str, data: Path, embedder: str, workdir: Path, topic_kernel: str = "auto") -> dict:
    out = workdir / f"{side}.json"
    cmd = [sys.executable, __file__, "--worker", side, "--data", str(data), "--worker-out", str(out), "--embedder", embedder,
           "--topic-kernel", topic_kernel]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def print_behaviour(behaviour: dict | None, title: str) -> None:
    """Pass rate per test type of the behavioural suite (carelens.feedback.behaviour), per part."""
    if not behaviour:
        return
    from carelens.feedback.behaviour import TEST_TYPES

    print(f"behavioural suite, {title}:")
    print(f"  {'test type':<24}{'dev':>16}{'held-out':>16}")
    for test in TEST_TYPES:
        cells = []
        for part in ("dev", "heldout"):
            r = behaviour["rates"][part].get(test)
            cells.append(f"{r['rate']:.0%} ({r['passed']}/{r['n']})" if r else "-")
        print(f"  {test:<24}{cells[0]:>16}{cells[1]:>16}")


def run_behaviour_only(model_dir: str | None, out: Path) -> None:
    """The behavioural suite on a saved model (default: the packaged one); no training, no peer."""
    from carelens.feedback.behaviour import run_suite
    from carelens.feedback.model import FeedbackModel

    model = FeedbackModel.load(model_dir)
    behaviour = run_suite(model).to_dict()
    print_behaviour(behaviour, f"model {model.version}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": model_dir or "packaged", "model_version": model.version, "behaviour": behaviour},
                              indent=2), encoding="utf-8")
    print(f"wrote {out}")


# ---------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "feedback.json")
    parser.add_argument("--embedder", default="packaged", help="carelens embedder: packaged, none or a model folder")
    parser.add_argument("--topic-kernel", default="auto", choices=["auto", "linear", "rbf"], help="carelens topic model (auto: the default, RBF at this size)")
    parser.add_argument("--skip-peer", action="store_true", help="carelens only (e.g. while researching)")
    parser.add_argument("--behaviour-only", action="store_true",
                        help="only the behavioural suite, on --model (default: the packaged model)")
    parser.add_argument("--model", default=None, help="model folder for --behaviour-only")
    parser.add_argument("--worker", choices=["carelens", "peer"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.behaviour_only:
        run_behaviour_only(args.model, args.out)
        return
    if not args.data.exists():
        raise SystemExit(f"data not found: {args.data} (the shared data folder is needed)")
    if args.worker:
        _worker(args.worker, args.data, args.worker_out, args.embedder, args.topic_kernel)
        return

    frame, Y, _ = load_data(args.data)
    train, test = fixed_split(Y)
    s_true = sentiment_values(frame)[test]
    Y_test = Y[test]
    results: dict = {
        "data": args.data.name,
        "split": {"seed": SPLIT_SEED, "train_rows": len(train), "test_rows": len(test)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_start": os.getloadavg()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"carelens": _spawn("carelens", args.data, args.embedder, Path(tmp), args.topic_kernel)}
        if not args.skip_peer:
            sides["pxtextmining"] = _spawn("peer", args.data, args.embedder, Path(tmp))
    results["machine"]["load_avg_at_end"] = os.getloadavg()

    # sentiment is scored on rows both sides could read (the peer skips rows its cleaning empties)
    def as_float(values) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    readable = np.ones(len(test), dtype=bool)
    for side in sides.values():
        readable &= ~np.isnan(as_float(side["sentiment"]))
    for name, side in sides.items():
        s_pred = np.where(readable, as_float(side["sentiment"]), np.nan)
        metrics = score(Y_test, np.asarray(side["topics"]), s_true, s_pred)
        if "sentiment_without_score" in side:
            no_score = score(Y_test, np.asarray(side["topics"]), s_true, np.where(readable, as_float(side["sentiment_without_score"]), np.nan))
            metrics["sentiment_macro_f1_5_without_fft_score"] = no_score["sentiment_macro_f1_5"]
            metrics["sentiment_macro_f1_3_without_fft_score"] = no_score["sentiment_macro_f1_3"]
        metrics.update(
            train_s=side["train_s"],
            comments_per_s=side["batch_n"] / side["batch_s"],
            **({"comments_per_cpu_s": side["batch_n"] / side["batch_cpu_s"]} if "batch_cpu_s" in side else {}),
            single_latency_ms=side["single_latency_ms"],
            peak_rss_mb=side["peak_rss_mb"],
        )
        results[name] = metrics
    results["carelens_cv_metrics"] = sides["carelens"].get("cv_metrics")
    results["carelens_behaviour"] = sides["carelens"].get("behaviour")
    results["embedder"] = args.embedder
    results["topic_kernel"] = args.topic_kernel

    rows = [
        ("topic macro F1", "topic_macro_f1", "{:.3f}", "higher"),
        ("topic micro F1", "topic_micro_f1", "{:.3f}", "higher"),
        ("sentiment macro F1 (5)", "sentiment_macro_f1_5", "{:.3f}", "higher"),
        ("sentiment macro F1 (3)", "sentiment_macro_f1_3", "{:.3f}", "higher"),
        ("train time, s", "train_s", "{:.1f}", "lower"),
        ("batch comments/s", "comments_per_s", "{:,.0f}", "higher"),
        ("one comment, ms", "single_latency_ms", "{:.1f}", "lower"),
        ("peak memory, MB", "peak_rss_mb", "{:,.0f}", "lower"),
    ]
    peer = results.get("pxtextmining")
    print(f"split: {len(train)} train / {len(test)} test rows (seed {SPLIT_SEED}); carelens embedder: {args.embedder}, "
          f"topic kernel: {args.topic_kernel}")
    print(f"{'metric':<26}{'carelens':>12}{'pxtextmining':>14}{'ratio':>9}")
    ratios = {}
    for label, key, fmt, better in rows:
        ours = results["carelens"][key]
        theirs = peer[key] if peer else None
        ratio = (ours / theirs if better == "higher" else theirs / ours) if theirs else None
        ratios[key] = ratio
        print(f"{label:<26}{fmt.format(ours):>12}{(fmt.format(theirs) if theirs is not None else '-'):>14}"
              f"{(f'{ratio:.2f}x' if ratio else '-'):>9}")
    if "sentiment_macro_f1_5_without_fft_score" in results["carelens"]:
        c = results["carelens"]
        print(f"carelens sentiment without the FFT score: 5-class {c['sentiment_macro_f1_5_without_fft_score']:.3f}, "
              f"3-class {c['sentiment_macro_f1_3_without_fft_score']:.3f}")
    print("ratio: carelens better by this factor (>1 = carelens better; time/memory inverted)")
    print_behaviour(results["carelens_behaviour"], "carelens trained on the training part")
    print(f"load average start/end: {results['machine']['load_avg_at_start']} / {results['machine']['load_avg_at_end']}")
    results["ratios"] = ratios
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
