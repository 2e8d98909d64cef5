"""Benchmark: `carelens feedback classify` end to end on 50,000 comments (process start and model load included).

    nice .venv/bin/python benchmarks/feedback_cli.py [--rows 50000] [--repeats 3] [--out benchmarks/results/feedback_cli.json]

The comments are the real ones of ``../shared/data/feedback/fft_v6_train.csv`` (text and FFT score
columns), repeated in order to ``--rows``; the CLI runs as a user would run it, in its own process,
writing a CSV with every input column plus topics, categories, sentiment, topic_sentiment and
topic_evidence. Reported: comments per second of each run (wall clock of the whole command), its
CPU time (on a machine shared with other jobs the wall clock mostly measures the neighbours; two
cores can at best halve the CPU time), and the command's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback import DEFAULT_DATA, REPO  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "feedback_cli.json")
    args = parser.parse_args()
    source = pd.read_csv(args.data, dtype=str, usecols=["Comment ID", "FFT categorical answer", "FFT answer"])
    reps = -(-args.rows // len(source))
    frame = pd.concat([source] * reps, ignore_index=True).iloc[: args.rows]
    frame["Comment ID"] = [f"c{i}" for i in range(len(frame))]
    carelens = Path(sys.executable).with_name("carelens")
    command = [str(carelens)] if carelens.exists() else [sys.executable, "-m", "carelens.cli.app"]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "comments.csv", Path(tmp) / "tagged.csv"
        frame.to_csv(src, index=False)
        for _ in range(args.repeats):
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            proc = subprocess.run([*command, "feedback", "classify", str(src), "-o", str(out)], capture_output=True, text=True,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False)
            seconds = time.perf_counter() - t0
            if proc.returncode != 0:
                raise SystemExit(f"classify failed:\n{proc.stderr[-2000:]}")
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = usage.ru_utime + usage.ru_stime - cpu_before
            runs.append({"seconds": round(seconds, 1), "comments_per_s": round(len(frame) / seconds), "cpu_s": round(cpu, 1),
                         "comments_per_cpu_s": round(len(frame) / cpu), "load_avg_1min": round(load, 2),
                         "peak_rss_mb_so_far": round(max(usage.ru_maxrss, before) / 1024)})
            print(f"{len(frame):,} comments in {seconds:.1f} s: {len(frame) / seconds:,.0f} comments/s; {cpu:.1f} s of CPU "
                  f"({len(frame) / cpu:,.0f} comments per CPU second; load {load:.1f})", flush=True)
        columns = list(pd.read_csv(out, nrows=1).columns)
    result = {"rows": len(frame), "runs": runs, "output_columns": columns,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
