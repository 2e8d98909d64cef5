"""Benchmark: the server-side share of one Overview redraw for every location and for a ward
manager's scope, on the cached store of ``feedback_dashboard.py`` (however far it was built).

    .venv/bin/python benchmarks/feedback_dashboard_scoped.py [--size 1000000]

Results: ``benchmarks/results/feedback_dashboard_scoped.json`` (BENCHMARKS.md, issue 16).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]


def main() -> None:
    import sqlalchemy as sa

    from carelens.access import Scope
    from carelens.db import get_engine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("feedback_dashboard", REPO / "benchmarks" / "feedback_dashboard.py")
    dashboard = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dashboard)
    db = dashboard.CACHE / f"dashboard-{args.size}.duckdb"
    with get_engine(db).connect() as conn:
        n = conn.execute(sa.text("select count(*) from fb_comments")).scalar()
    print("comments", n, flush=True)
    out = {"comments": n, "date": time.strftime("%Y-%m-%d %H:%M"), "loadavg_start": os.getloadavg()}
    out["all locations"] = dashboard.server_side(db, 5)
    out["scoped to Surgery (a division)"] = dashboard.server_side(db, 5, Scope.of("Surgery"))
    out["scoped to Ward 10"] = dashboard.server_side(db, 5, Scope.of("Ward 10"))
    out["loadavg_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    (REPO / "benchmarks" / "results" / "feedback_dashboard_scoped.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
