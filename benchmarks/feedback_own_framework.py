"""Benchmark: training on a trust's own framework, carelens vs TF-IDF + logistic regression.

    nice .venv/bin/python benchmarks/feedback_own_framework.py [--rows 10000] [--out benchmarks/results/feedback_own_framework.json]

"Another framework": the 49 codes of NHS England's framework v6 as they stand in
``../shared/data/feedback/fft_v6_train.csv`` (one 0/1 column each; "Labelling not possible" is set by
rule), given to carelens as a trust would: one joined codes column (``--labels-column``) and a flat
framework of those names, through ``train_feedback_model`` exactly as ``carelens feedback train``
calls it (sentiment and FFT score columns included).

1. Time: ``--rows`` comments (default 10,000: the file's 6,326 rows plus 3,674 drawn again from
   them at random, as the file has no more), both sides trained in the same run; carelens'
   progress callback is recorded to show the bar moves (longest gap between updates).
2. Accuracy: a fixed 80/20 split of the file's real rows (seed below, stratified on each row's
   rarest code, as benchmarks/feedback.py), both sides trained on the 80% and scored on the 20%
   (micro F1, and macro F1 over codes with a positive in the test part).

The baseline is what a data scientist would fit first: word (1-2) + char_wb (2-5) TF-IDF, one
balanced logistic regression per code (liblinear), probability >= 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback import DEFAULT_DATA, REPO, fixed_split  # noqa: E402

SPLIT_SEED = 20260521
RESAMPLE_SEED = 7


def load(path: Path) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    from carelens.feedback.labels import parse_flag_column
    from carelens.tables import read_table

    frame = read_table(path, dtype_str=True)
    first = list(frame.columns).index("Not assigned")
    codes = [c for c in frame.columns[first:] if c != "Labelling not possible"]
    Y = np.stack([parse_flag_column(frame[c], column=c, file=path.name) for c in codes], axis=1)
    frame = frame.assign(codes=["; ".join(c for c, v in zip(codes, row) if v) for row in Y])
    return frame, codes, Y


def train_carelens(frame: pd.DataFrame, codes: list[str]):
    from carelens.feedback.framework import Framework
    from carelens.feedback.training import train_feedback_model

    updates: list[tuple[float, float, str]] = []
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    model = train_feedback_model(
        frame, Framework.from_labels(codes, name="v6 codes"), text_column="FFT answer", labels_column="codes",
        source="fft_v6_train.csv (v6 codes)", progress=lambda f, stage: updates.append((time.perf_counter() - t0, f, stage)),
    )
    seconds = time.perf_counter() - t0
    times = [0.0] + [t for t, _, _ in updates] + [seconds]
    return model, seconds, {"cpu_s": round(cpu_seconds() - cpu0, 1), "updates": len(updates), "longest_gap_s": round(max(np.diff(times)), 1),
                            "stages": [(round(t, 1), round(f, 3), s) for t, f, s in updates]}


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children: on a machine shared
    with other jobs, wall-clock time says more about the neighbours than about the code."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class TfidfLogistic:
    """The baseline: TF-IDF + one balanced logistic regression per code."""

    def fit(self, texts, Y):
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        self.word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(texts)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=150_000).fit(texts)
        self._stack = lambda t: sparse.hstack([self.word.transform(t), self.char.transform(t)], format="csr")
        self.present = Y.sum(axis=0) > 0
        self.model = OneVsRestClassifier(LogisticRegression(solver="liblinear", class_weight="balanced", C=1.0), n_jobs=2)
        self.model.fit(self._stack(texts), Y[:, self.present])
        return self

    def predict(self, texts):
        out = np.zeros((len(texts), len(self.present)), dtype=np.int8)
        out[:, self.present] = self.model.predict(self._stack(texts))
        return out


def clean(texts):
    return ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]


def f1s(Y_true: np.ndarray, Y_pred: np.ndarray) -> dict:
    from sklearn.metrics import f1_score

    present = Y_true.sum(axis=0) > 0
    return {"micro_f1": round(float(f1_score(Y_true, Y_pred, average="micro", zero_division=0)), 4),
            "macro_f1": round(float(f1_score(Y_true[:, present], Y_pred[:, present], average="macro", zero_division=0)), 4),
            "codes_scored": int(present.sum())}


def carelens_matrix(model, texts, codes) -> np.ndarray:
    out = model.classify(texts)
    index = {c: j for j, c in enumerate(codes)}
    Y = np.zeros((len(texts), len(codes)), dtype=np.int8)
    for i, topics in enumerate(out["topics"]):
        for t in topics:
            if t in index:
                Y[i, index[t]] = 1
    return Y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "feedback_own_framework.json")
    parser.add_argument("--skip-accuracy", action="store_true", help="only part 1 (time); keeps the file's accuracy figures")
    args = parser.parse_args()
    frame, codes, Y = load(args.data)
    results: dict = {"data": args.data.name, "codes": len(codes), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_start": os.getloadavg()}}

    # 1. time at --rows comments
    rng = np.random.default_rng(RESAMPLE_SEED)
    extra = rng.choice(len(frame), size=max(0, args.rows - len(frame)), replace=True)
    big = pd.concat([frame, frame.iloc[extra]], ignore_index=True)
    Y_big = np.vstack([Y, Y[extra]])
    print(f"training on {len(big):,} comments x {len(codes)} codes ...", flush=True)
    model, seconds, progress = train_carelens(big, codes)
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    TfidfLogistic().fit(clean(big["FFT answer"]), Y_big)
    baseline_s = time.perf_counter() - t0
    results["time"] = {"rows": len(big), "resampled_rows": int(len(extra)), "carelens_s": round(seconds, 1),
                       "carelens_cpu_s": progress["cpu_s"], "carelens_topic_model": model.card["topic_model"],
                       "tfidf_logistic_s": round(baseline_s, 1), "tfidf_logistic_cpu_s": round(cpu_seconds() - cpu0, 1),
                       "load_avg_after": os.getloadavg(), "progress": progress}
    print(f"  carelens {seconds:.1f} s, {progress['cpu_s']} s of CPU ({progress['updates']} progress updates, "
          f"longest gap {progress['longest_gap_s']} s); "
          f"TF-IDF + LR {baseline_s:.1f} s", flush=True)

    if args.skip_accuracy:  # keep the accuracy part of an earlier run, if any
        previous = json.loads(args.out.read_text("utf-8")) if args.out.exists() else {}
        results.update({k: previous[k] for k in ("accuracy",) if k in previous})
        results["accuracy_from_earlier_run"] = "accuracy" in previous
        results["machine"]["load_avg_at_end"] = os.getloadavg()
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(f"wrote {args.out}")
        return

    # 2. accuracy on a held-out 20% of the real rows
    train, test = fixed_split(Y, SPLIT_SEED)
    train_frame, test_frame = frame.iloc[train].reset_index(drop=True), frame.iloc[test].reset_index(drop=True)
    model, seconds, _ = train_carelens(train_frame, codes)
    ours = f1s(Y[test], carelens_matrix(model, clean(test_frame["FFT answer"]), codes))
    t0 = time.perf_counter()
    baseline = TfidfLogistic().fit(clean(train_frame["FFT answer"]), Y[train])
    baseline_fit_s = time.perf_counter() - t0
    theirs = f1s(Y[test], baseline.predict(clean(test_frame["FFT answer"])))
    results["accuracy"] = {"train_rows": len(train), "test_rows": len(test),
                           "carelens": {**ours, "train_s": round(seconds, 1)},
                           "tfidf_logistic": {**theirs, "train_s": round(baseline_fit_s, 1)}}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    print(f"  held-out: carelens micro {ours['micro_f1']:.3f} macro {ours['macro_f1']:.3f} ({seconds:.1f} s); "
          f"TF-IDF + LR micro {theirs['micro_f1']:.3f} macro {theirs['macro_f1']:.3f} ({baseline_fit_s:.1f} s)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
