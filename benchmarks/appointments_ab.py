"""Speed before and after a change, measured in turns on the same (shared, loaded) machine.

    nice .venv/bin/python benchmarks/appointments_ab.py --before /tmp/main_src --rounds 2 \\
        [--out benchmarks/results/appointments_ab.json]

``--before`` is the ``src`` folder of the code to compare against (e.g. ``git archive main src |
tar -x -C /tmp/main``, then ``/tmp/main/src``); "after" is this checkout's ``src``. Each round runs
the training step (200,000 appointments: the ``train`` command's work) and the scoring step
(1,000,000 upcoming appointments, no reasons) of ``benchmarks/appointments.py`` once for each
side, alternating which goes first, each in its own process, one booster thread. Wall seconds on
a machine other jobs share move with their load, so CPU seconds are reported beside them, with
the load average before and after each step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEPS = {"train_200k": ("train", "200000:1"), "score_1m_no_reasons": ("score", "1000000:1:none")}


def _run(src: Path, step: str, arg: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "appointments.py"), "--step", step, "--arg", arg],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{step} under {src} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "appointments_ab.json")
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": (REPO / "src").resolve()}
    runs: list[dict] = []
    for round_ in range(args.rounds):
        order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
        for name, (step, arg) in STEPS.items():
            for side in order:
                result = _run(sides[side], step, arg)
                timing = result if step == "train" else result["explain_none"]
                row = {"round": round_ + 1, "step": name, "side": side, "seconds": timing["seconds"],
                       "cpu_seconds": timing["cpu_seconds"], "load_before": timing["load_before"],
                       "load_after": timing["load_after"], "peak_mb": result.get("peak_mb")}
                runs.append(row)
                print(json.dumps(row), flush=True)
    summary = {}
    for name in STEPS:
        for side in sides:
            mine = [r for r in runs if r["step"] == name and r["side"] == side]
            summary[f"{name} {side}"] = {"seconds": [r["seconds"] for r in mine], "cpu_seconds": [r["cpu_seconds"] for r in mine]}
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": "nice .venv/bin/python benchmarks/appointments_ab.py " + " ".join(sys.argv[1:]),
              "before": str(args.before), "runs": runs, "summary": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    for key, value in summary.items():
        print(f"{key:40s} wall {value['seconds']}  cpu {value['cpu_seconds']}")


if __name__ == "__main__":
    main()
