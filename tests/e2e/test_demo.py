"""`carelens demo`, the README's first command: every capability end to end into one store."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from carelens.cli.app import main
from carelens.db import get_engine


def count(store, sql: str):
    # the store's own (cached) engine: DuckDB admits one configuration per file per process
    with get_engine(store).connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def test_demo_runs_every_capability_and_fills_the_store(tmp_path, capsys):
    out, store = tmp_path / "demo", tmp_path / "store.duckdb"
    code = main(["demo", "-o", str(out), "--db", str(store), "--comments", "300", "--patients", "900",
                 "--spells", "3000", "--runs", "4"])
    assert code == 0, capsys.readouterr().err

    export = pd.read_csv(out / "fft_export.csv")
    classified = pd.read_csv(out / "fft_classified.csv")
    assert len(classified) == len(export) == 300  # one output row per input row
    assert {"topics", "sentiment", "categories"} <= set(classified.columns)
    scores = pd.read_csv(out / "dna_scores.csv")
    assert scores["dna_probability"].between(0, 1).all() and len(scores) > 0
    summary = pd.read_csv(out / "demand-projection" / "summary.csv")
    assert {"pod", "measure", "baseline", "principal", "p10", "p50", "p90"} <= set(summary.columns)

    assert count(store, "select count(*) from fb_comments") == export["Comment ID"].nunique()
    assert count(store, "select count(*) from dna_scored_appointments") == len(scores)
    assert count(store, "select count(*) from demand_scenario_runs") == 1
    from carelens.demand.scenario import DEMO_SCENARIO
    from carelens.demand.store import list_scenarios, load_scenario

    kept = list_scenarios(store).set_index("name").loc[DEMO_SCENARIO]  # the page opens it first
    assert kept.has_data and kept.can_open and kept.runs == 4
    assert load_scenario(store, DEMO_SCENARIO).years == [2023, 2026, 2029, 2032, 2035]

    # an admin account to sign in with, its password printed once (and it works)
    from carelens.access import users

    printed = capsys.readouterr().out
    password = printed.split("with password ", 1)[1].split()[0]
    signed_in = users.sign_in(get_engine(store), "admin", password, attempts=5, lock_minutes=15)
    assert signed_in.user is not None and signed_in.user["role"] == "admin"


def test_demo_twice_adds_no_comments_and_rejects_an_unknown_part(tmp_path, capsys):
    out, store = tmp_path / "demo", tmp_path / "store.duckdb"
    args = ["demo", "-o", str(out), "--db", str(store), "--comments", "120", "--only", "feedback"]
    assert main(args) == 0
    assert "with password" in capsys.readouterr().out
    assert main(args) == 0
    with get_engine(store).connect() as conn:
        added = list(conn.execute(sa.text("select rows_added from fb_uploads order by loaded_at")).scalars())
    stored = count(store, "select count(*) from fb_comments")
    assert added == [stored, 0] and stored > 100
    # the second run keeps the admin account and prints no password
    printed = capsys.readouterr().out
    assert "with password" not in printed and "reset-password admin" in printed
    assert main(["demo", "-o", str(out), "--only", "parking"]) == 2
    assert "unknown part 'parking'" in capsys.readouterr().err
