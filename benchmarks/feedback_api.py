"""Benchmark: the feedback REST API, loading, and filter latency of the store's queries.

    .venv/bin/python benchmarks/feedback_api.py [--sizes 100000 1000000] [--no-peer] [--parts api store]

What it measures, in one run:
1. API throughput and latency: a real uvicorn server on loopback, ``POST /api/classify`` with
   batches of 1, 100 and 1,000 synthetic comments (HTTP + JSON + model), comments/s and median/p95.
   Peer (when ``../shared`` data and ``benchmarks/.peers/pxtextmining`` exist): pxtextmining 1.0.1's
   own TF-IDF + SVC pipelines trained on the shared file, predicting the SAME comments in one batch
   and one at a time, through ``benchmarks/peers/pxtextmining_runner.py`` (its prediction functions
   only, no HTTP: that favours the peer).
2. Load time for 10,000 comments (CSV -> validate -> classify -> redact -> one transaction), warm
   model, into DuckDB (and PostgreSQL when ``CARELENS_TEST_POSTGRES_URL`` is set).
3. Filter latency at each store size: the store is filled by repeating classified comments under
   new keys and dates (the queries do not care that texts repeat), then for each of several filter
   changes we time what the dashboard recomputes: a page of comments plus every summary.
   No peer runs here: experiencesdashboard is an R Shiny app not installed on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CARELENS_SHARED_DATA", REPO.parent / "shared" / "data"))
PEER_PYTHON = REPO / "benchmarks" / ".peers" / "pxtextmining" / "bin" / "python"
PEER_RUNNER = REPO / "benchmarks" / "peers" / "pxtextmining_runner.py"
KEY = "benchmark-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(settings) -> tuple[object, str]:
    import uvicorn
    from fastapi import FastAPI

    from carelens.web.api import create_api

    root = FastAPI()
    root.mount("/api", create_api(settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning", workers=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}/api"


def bench_api(texts: list[str], settings) -> dict:
    import httpx

    server, base = start_server(settings)
    out: dict = {}
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=120) as client:
            t0 = time.perf_counter()
            r = client.post("/classify", json=[{"comment_id": "warm", "comment_text": "warm up"}])
            r.raise_for_status()
            out["first_call_s"] = time.perf_counter() - t0  # includes loading the model once
            for batch, repeats in ((1, 100), (100, 20), (1000, 6)):
                lat = []
                for rep in range(repeats):
                    start = (rep * batch) % max(1, len(texts) - batch)
                    items = [{"comment_id": str(i), "comment_text": t} for i, t in enumerate(texts[start:start + batch])]
                    t0 = time.perf_counter()
                    r = client.post("/classify", json=items)
                    lat.append(time.perf_counter() - t0)
                    r.raise_for_status()
                    assert len(r.json()) == len(items)
                out[f"batch_{batch}"] = {
                    "comments_per_s": batch * repeats / sum(lat),
                    "median_ms": 1000 * statistics.median(lat),
                    "p95_ms": 1000 * float(np.percentile(lat, 95)),
                }
    finally:
        server.should_exit = True
        time.sleep(0.3)
    return out


def bench_peer(texts: list[str], workdir: Path) -> dict | None:
    train = SHARED / "feedback" / "fft_v6_train.csv"
    if not (PEER_PYTHON.exists() and train.exists()):
        print("peer skipped: needs ../shared/data/feedback and benchmarks/.peers/pxtextmining", file=sys.stderr)
        return None
    from carelens.feedback.framework import load_framework
    from carelens.feedback.labels import wide_labels
    from carelens.feedback.training import SENTIMENT_COLUMNS
    from carelens.tables import read_table

    frame = read_table(train, dtype_str=True)
    fw = load_framework()
    labels = list(fw.learnable_labels) + [fw.labelling_not_possible]
    Y = np.column_stack([wide_labels(frame, fw), (frame[fw.labelling_not_possible].fillna("0").astype(str).str.strip() == "1").astype(int)])
    sent_col = next(c for c in SENTIMENT_COLUMNS if c in frame.columns)
    sentiment = [None if str(s).strip() in ("", "nan", "None") else int(float(s)) for s in frame[sent_col]]
    spec = {
        "labels": labels,
        "train": {"ids": frame["Comment ID"].tolist(), "text": frame["FFT answer"].fillna("").tolist(),
                  "question": frame["FFT question"].tolist(), "Y": Y.tolist(), "sentiment": sentiment},
        "test": {"ids": [f"b{i}" for i in range(len(texts))], "text": texts, "question": ["What was good?"] * len(texts)},
        "latency_repeats": 50,
    }
    inp, outp = workdir / "peer_in.json", workdir / "peer_out.json"
    inp.write_text(json.dumps(spec), encoding="utf-8")
    proc = subprocess.run([str(PEER_PYTHON), str(PEER_RUNNER), str(inp), str(outp)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"peer failed: {proc.stderr[-2000:]}", file=sys.stderr)
        return None
    res = json.loads(outp.read_text("utf-8"))
    return {"comments_per_s": res["batch_n"] / res["batch_s"], "batch_n": res["batch_n"],
            "single_ms": res["single_latency_ms"], "train_s": res["train_s"]}


def bench_load(n: int, targets: dict[str, str], workdir: Path) -> dict:
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.model_cache import cached_model
    from carelens.feedback.synth import generate_comments
    from carelens.db import get_engine

    path = workdir / f"export_{n}.csv"
    generate_comments(n, seed=11).to_csv(path, index=False)
    t0 = time.perf_counter()
    model = cached_model()
    out = {"model_load_s": time.perf_counter() - t0}
    for name, url in targets.items():
        engine = get_engine(url)
        t0 = time.perf_counter()
        result = load_comments(path, engine=engine, model=model, progress=False)
        out[f"{name}_s"] = time.perf_counter() - t0
        assert result.rows_added == n, result.summary()
        t0 = time.perf_counter()
        again = load_comments(path, engine=engine, model=model, progress=False)
        out[f"{name}_reload_s"] = time.perf_counter() - t0
        assert again.rows_added == 0
    return out


def fill_store(engine, size: int) -> None:
    """Repeat the stored responses and their comments under new keys (and dates shifted by whole
    years) up to ``size`` comments."""
    import sqlalchemy as sa

    from carelens.db import new_id, now_utc
    from carelens.feedback.store.comments import add_new_rows
    from carelens.feedback.store.tables import comment_topics, comments, predictions, responses

    with engine.connect() as conn:  # the rows as loaded (copies have "#" in their keys)
        have = int(conn.execute(sa.select(sa.func.count()).select_from(comments)).scalar())
        base_r = pd.read_sql(sa.select(responses).where(~responses.c.response_key.contains("#")), conn)
        base_c = pd.read_sql(sa.select(comments).where(~comments.c.comment_key.contains("#")), conn)
        base_p = pd.read_sql(sa.select(predictions).where(~predictions.c.comment_key.contains("#")), conn)
        base_t = pd.read_sql(sa.select(comment_topics).where(~comment_topics.c.comment_key.contains("#")), conn)
    copy = (have - len(base_c)) // max(len(base_c), 1)
    run = uuid.uuid4().hex[:6]  # keys stay unique when a filled store is filled further
    while have < size:
        copy += 1
        take = min(len(base_c), size - have)
        suffix = f"#r{copy}-{run}"
        upload_id = new_id()
        c = base_c.iloc[:take].copy()
        keys, answered = set(c["comment_key"]), set(c["response_key"])
        c["comment_key"] += suffix
        c["response_key"] += suffix
        c["upload_id"] = upload_id
        c["row_hash"] = None  # a copy is no export row: loads never take it for one
        r = base_r[base_r["response_key"].isin(answered)].copy()
        r["response_key"] += suffix
        r["date"] = (pd.to_datetime(r["date"]) - pd.DateOffset(years=copy % 4)).dt.date
        r["upload_id"] = upload_id
        p = base_p[base_p["comment_key"].isin(keys)].copy()
        p["comment_key"] += suffix
        t = base_t[base_t["comment_key"].isin(keys)].copy()
        t["comment_key"] += suffix
        upload = {"upload_id": upload_id, "source": f"bench copy {copy}", "loaded_at": now_utc(), "rows_read": take,
                  "rows_added": take, "rows_skipped": 0, "model_version": base_p["model_version"].iloc[0],
                  "loaded_by": "bench"}
        add_new_rows(engine, upload=upload, response_rows=r, comment_rows=c, prediction_rows=p, topic_rows=t)
        have += take


def bench_filters(engine) -> dict:
    from carelens.feedback.store import CommentFilters, queries
    from carelens.feedback.store.view import store_view

    t0 = time.perf_counter()
    view = store_view(engine)
    cold = time.perf_counter() - t0
    opts = queries.filter_options(engine)
    cats = list(opts["categories"])
    scenarios = {
        "no filter": CommentFilters(),
        "date range": CommentFilters(date_from=opts["date_max"][:4] + "-01-01"),
        "division": CommentFilters(location_1=opts["location_1"][:1]),
        "ward + score": CommentFilters(location_3=opts["location_3"][:2], fft_score=[4, 5]),
        "category": CommentFilters(category=cats[:1]),
        "sub-category + sentiment": CommentFilters(topic=["Timeliness of care"], sentiment=[4, 5]),
        "demographics": CommentFilters(demographics={"Age band": ["75+"]}),
        "search 2 words": CommentFilters(search="waited hours"),
        "everything": CommentFilters(location_1=opts["location_1"][:2], category=cats[:3], sentiment=[1, 2, 3],
                                     search="staff", demographics={"Sex": ["Female"]}),
    }
    steps = {
        "comments": lambda f: queries.filtered_comments(engine, f, limit=100),
        "totals": lambda f: queries.summary_totals(engine, f),
        "topics": lambda f: queries.topic_summary(engine, f),
        "categories_by_month": lambda f: queries.categories_by_month(engine, f),
        "sentiment_by_month": lambda f: queries.sentiment_by_month(engine, f),
        "fft_by_month": lambda f: queries.fft_by_month(engine, f),
        "cooccurrence": lambda f: queries.topic_cooccurrence(engine, f),
        "complex": lambda f: queries.complex_comments(engine, f),
    }
    per_scenario = {}
    per_step: dict[str, list[float]] = {k: [] for k in steps}
    for name, f in scenarios.items():
        total = 0.0
        for step, fn in steps.items():
            t0 = time.perf_counter()
            fn(f)
            dt = time.perf_counter() - t0
            per_step[step].append(dt)
            total += dt
        per_scenario[name] = total
    return {"rows": len(view.frame), "cold_view_s": cold, "filter_change_s": per_scenario,
            "median_change_s": statistics.median(per_scenario.values()), "max_change_s": max(per_scenario.values()),
            "step_median_ms": {k: 1000 * statistics.median(v) for k, v in per_step.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--load-rows", type=int, default=10_000)
    parser.add_argument("--parts", nargs="+", choices=["api", "store"], default=["api", "store"],
                        help="api: classify throughput (+ peer); store: 10,000-comment load and filter latency. "
                        "Results of parts not run are kept in the JSON file.")
    args = parser.parse_args()

    from carelens.config import Settings, hash_api_key
    from carelens.db import get_engine
    from carelens.feedback.synth import generate_comments

    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "loadavg": {"start": loadavg()}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        texts = generate_comments(3_000, seed=21)["FFT answer"].fillna("").astype(str).tolist()
        settings = Settings(home=work, database_url=f"duckdb:///{work / 'api.duckdb'}", api_key_hashes=[hash_api_key(KEY)])
        if "api" in args.parts:
            run_api(args, texts, settings, work, results)
        if "store" in args.parts:
            run_load_and_filters(args, work, results)
    out = REPO / "benchmarks" / "results" / "feedback_api.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update({k: v for k, v in results.items() if k != "loadavg"})
    previous.setdefault("loadavg_by_run", []).append({"date": results["date"], "parts": args.parts, **results["loadavg"]})
    out.write_text(json.dumps(previous, indent=2, default=float))
    print(f"\nload average {results['loadavg']}; written {out.relative_to(REPO)}")


def run_api(args, texts, settings, work, results) -> None:
    print("== API: POST /api/classify (uvicorn on loopback, 1 worker)")
    api = bench_api(texts, settings)
    results["api"] = api
    results["loadavg"]["after_api"] = loadavg()
    peer = None if args.no_peer else bench_peer(texts[:1000], work)
    results["peer_pxtextmining"] = peer
    results["loadavg"]["after_peer"] = loadavg()
    print(f"first call (loads the model once): {api['first_call_s']:.1f} s")
    print(f"{'batch':>6}{'comments/s':>14}{'median ms':>12}{'p95 ms':>10}")
    for b in (1, 100, 1000):
        r = api[f"batch_{b}"]
        print(f"{b:>6}{r['comments_per_s']:>14,.0f}{r['median_ms']:>12.1f}{r['p95_ms']:>10.1f}")
    if peer:
        big = api["batch_1000"]["comments_per_s"]
        one = api["batch_1"]["median_ms"]
        print(f"peer pxtextmining 1.0.1 (in-process predict, no HTTP; trained {peer['train_s']:.0f} s): "
              f"{peer['comments_per_s']:,.0f} comments/s on {peer['batch_n']:,}; one comment {peer['single_ms']:.0f} ms")
        print(f"ratio carelens/peer: throughput x{big / peer['comments_per_s']:.1f}; single-comment latency "
              f"x{peer['single_ms'] / one:.1f} faster")


def run_load_and_filters(args, work, results) -> None:
    from carelens.db import get_engine

    print(f"\n== Load {args.load_rows:,} comments (warm model)")
    targets = {"duckdb": f"duckdb:///{work / 'load.duckdb'}"}
    pg = os.environ.get("CARELENS_TEST_POSTGRES_URL")
    schema = None
    if pg:
        import sqlalchemy as sa
        from urllib.parse import quote

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        targets["postgresql"] = f"{pg}{'&' if '?' in pg else '?'}options={quote(f'-csearch_path={schema}')}"
    try:
        load = bench_load(args.load_rows, targets, work)
    finally:
        if schema:
            get_engine(targets["postgresql"]).dispose()
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    results["load"] = {"rows": args.load_rows, **load}
    results["loadavg"]["after_load"] = loadavg()
    print(f"model load (once per process): {load['model_load_s']:.1f} s")
    for name in targets:
        print(f"{name}: load {load[f'{name}_s']:.2f} s; same file again (adds nothing) {load[f'{name}_reload_s']:.2f} s")

    engine = get_engine(targets["duckdb"])
    for size in sorted(args.sizes):
        fill_store(engine, size)
        res = bench_filters(engine)
        res["loadavg"] = loadavg()
        results.setdefault("filters", {})[str(size)] = res
        print(f"\n== Filter latency, {res['rows']:,} stored comments (DuckDB, in-memory view)")
        print(f"first read into memory (after a load): {res['cold_view_s']:.2f} s")
        for name, s in res["filter_change_s"].items():
            print(f"  {name:<26}{1000 * s:>8.0f} ms")
        print(f"  median filter change {1000 * res['median_change_s']:.0f} ms, worst {1000 * res['max_change_s']:.0f} ms")
        print("  per query (median ms): " + ", ".join(f"{k} {v:.0f}" for k, v in res["step_median_ms"].items()))


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


if __name__ == "__main__":
    main()
