"""Check that a change to the demand engine leaves every result bit for bit the same.

A refactoring of ``carelens.demand`` must not change one number for the same seed. This saves every
array a projection produces (``Results.values``, the waterfall, beds and theatres by area, avoided
activity, the output keys, the warnings) for a few scenarios, so the saved file of the code before the
change can be compared with the code after it, by exact equality::

    PYTHONPATH=<old checkout>/src .venv/bin/python benchmarks/demand_same_results.py save /tmp/before.npz
    PYTHONPATH=src .venv/bin/python benchmarks/demand_same_results.py save /tmp/after.npz
    .venv/bin/python benchmarks/demand_same_results.py compare /tmp/before.npz /tmp/after.npz

Scenarios: the shared NHP-layout trust with its sample params (``--runs`` runs, 2 forked workers:
the parallel path), a synthetic trust from carelens' generator with its own params (1 worker: the
in-process path), and a fan-chart projection to three horizon years on that trust (``for_year``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("CARELENS_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
               ) / "demand"


def _columns(prefix: str, frame) -> dict[str, np.ndarray]:
    """A frame's columns as arrays that load without pickle (text and categories as str)."""
    out = {}
    for col in frame.columns:
        values = np.asarray(frame[col].to_numpy())
        out[f"{prefix}.{col}"] = values.astype(str) if values.dtype.kind == "O" else values
    return out


def _arrays(prefix: str, result) -> dict[str, np.ndarray]:
    out = {
        "values": result.values, "waterfall": result.waterfall, "model_runs": result.model_runs,
        "beddays_by_area": result.beddays_by_area, "procedures_by_area": result.procedures_by_area,
        "variants": np.asarray(result.variants, dtype=str), "warnings": np.asarray(result.warnings, dtype=str),
    }
    for name, frame in (("keys", result.keys), ("beds_areas", result.beds_areas),
                        ("theatre_areas", result.theatre_areas), ("avoided", result.avoided)):
        out |= _columns(name, frame)
    return {f"{prefix}/{k}": np.asarray(v) for k, v in out.items()}


def save(path: Path, runs: int, shared: Path) -> None:
    from carelens.demand import load_data, load_params, run_model
    from carelens.demand.runner import project_years
    from carelens.demand.synth import synthesise

    arrays: dict[str, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = load_params(shared / "params-sample.json")
        data = load_data(shared / "nhp_synthetic")
        arrays |= _arrays("shared", run_model(params, data, runs=runs, workers=2, progress=False))
        with tempfile.TemporaryDirectory() as tmp:
            synthesise(Path(tmp) / "trust", spells=20_000, seed=11)
            params = load_params(Path(tmp) / "trust" / "params.json")
            data = load_data(Path(tmp) / "trust")
            arrays |= _arrays("synthetic", run_model(params, data, runs=runs, workers=1, progress=False))
            years = [params.start_year, params.start_year + 4, params.end_year]
            last, fan = project_years(params, data, years, runs=max(2, runs // 2), workers=1)
            arrays |= _arrays("fan_last", last)
            arrays |= _columns("fan/frame", fan)
    np.savez_compressed(path, **arrays)
    print(f"{path}: {len(arrays)} arrays")


def compare(a: Path, b: Path) -> int:
    left, right = np.load(a), np.load(b)
    problems = [f"only in {a}: {k}" for k in sorted(set(left.files) - set(right.files))]
    problems += [f"only in {b}: {k}" for k in sorted(set(right.files) - set(left.files))]
    same = 0
    for key in sorted(set(left.files) & set(right.files)):
        x, y = left[key], right[key]
        if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():  # bit for bit
            problems.append(f"differs: {key} ({x.dtype}{x.shape} vs {y.dtype}{y.shape})")
        else:
            same += 1
    for line in problems:
        print(line)
    print(f"{same} arrays identical, {len(problems)} problems")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save")
    s.add_argument("out", type=Path)
    s.add_argument("--runs", type=int, default=16)
    s.add_argument("--shared", type=Path, default=SHARED)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "save":
        save(args.out, args.runs, args.shared)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
