"""Speed of the demand engine before and after a change, measured in the same conditions.

On a shared machine a before/after pair measured minutes apart compares the neighbours' load, not
the code. This runs ``benchmarks/demand.py``'s carelens side (load, 256 runs on 2 workers; no NHP
peer) alternately on two source trees, swapping which goes first in every pair (so a load that
rises or falls during the measurement favours neither), and keeps wall time, CPU time (user + sys
over the process tree: the figure the neighbours disturb least), run time and peak memory::

    git archive main src | tar -x -C /tmp/before      # the code before the change
    nice .venv/bin/python benchmarks/demand_before_after.py --before /tmp/before/src --after src \\
        --pairs 6 --out benchmarks/results/demand_before_after.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CARELENS_SHARED_DATA") or REPO.parent / "shared" / "data") / "demand"
LINE = re.compile(r"wall ([\d.]+)s \(load ([\d.]+)s, \d+ runs ([\d.]+)s.*peak memory (\d+) MB.*CPU ([\d.]+)s"
                  r".*load average ([\d.]+) before")


def measure(src: Path, params: Path, data: Path, runs: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(src.resolve()))
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "demand.py"), "--skip-peer", "--params",
                           str(params), "--data", str(data), "--runs", str(runs)],
                          env=env, check=True, capture_output=True, text=True, cwd=REPO)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("carelens: wall"))
    match = LINE.search(line)
    assert match is not None, line
    wall, load, runs_s, peak, cpu, loadavg = (float(x) for x in match.groups())
    return {"wall_s": wall, "load_s": load, "runs_s": runs_s, "peak_mb": peak, "cpu_s": cpu,
            "loadavg_before": loadavg}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="src/ folder of the code before the change")
    parser.add_argument("--after", type=Path, required=True, help="src/ folder of the code after it")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--runs", type=int, default=256)
    parser.add_argument("--params", type=Path, default=SHARED / "params-sample.json")
    parser.add_argument("--data", type=Path, default=SHARED / "nhp_synthetic")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sides = {"before": args.before, "after": args.after}
    rows = []
    for pair in range(args.pairs):
        for side in (("before", "after") if pair % 2 == 0 else ("after", "before")):
            row = {"pair": pair, "side": side, **measure(sides[side], args.params, args.data, args.runs)}
            rows.append(row)
            print(row, flush=True)
    summary = {}
    for side in sides:
        mine = [r for r in rows if r["side"] == side]
        summary[side] = {k: {"min": min(r[k] for r in mine), "median": statistics.median(r[k] for r in mine)}
                         for k in ("wall_s", "cpu_s", "runs_s", "peak_mb")}
        print(side, json.dumps(summary[side]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"runs": args.runs, "data": str(args.data), "before": str(args.before),
                                        "after": str(args.after), "rows": rows, "summary": summary}, indent=1),
                            encoding="utf-8")


if __name__ == "__main__":
    main()
