"""The planner's path through the CLI: make a synthetic trust, validate, run, read the outputs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from carelens.cli.app import main


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    root = tmp_path_factory.mktemp("demand") / "trust"
    assert main(["demand", "synth", "-o", str(root), "--spells", "3000", "--seed", "3"]) == 0
    return root


def test_synth_writes_every_nhp_table_with_populations_to_2047(trust):
    for table in ("ip", "op", "aae", "demographic_factors", "birth_factors", "hsa_activity_tables", "inequalities",
                  "ip_activity_avoidance_strategies", "ip_efficiencies_strategies", "ip_functional_areas_beds",
                  "ip_functional_areas_procedures"):
        assert list((trust / table / "fyear=2023" / "dataset=synthetic").glob("*.parquet")), table
    demo = pd.read_parquet(trust / "demographic_factors")
    assert "2047" in demo.columns
    assert len(pd.read_parquet(trust / "ip")) == 3000


def test_synth_is_seeded(tmp_path, trust):
    assert main(["demand", "synth", "-o", str(tmp_path / "again"), "--spells", "3000", "--seed", "3"]) == 0
    assert pd.read_parquet(tmp_path / "again" / "ip").equals(pd.read_parquet(trust / "ip"))


def test_validate_accepts_the_generated_params(trust, capsys):
    assert main(["demand", "validate", str(trust / "params.json"), "-d", str(trust)]) == 0
    assert "valid" in capsys.readouterr().out


def test_run_writes_summary_with_one_row_per_pod_and_measure(trust, tmp_path):
    out = tmp_path / "out"
    db = tmp_path / "demand.duckdb"
    code = main(["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", str(out), "--runs", "6",
                 "--workers", "2", "--db", str(db)])
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["pod", "measure", "baseline", "principal", "p10", "p50", "p90"]
    assert not summary.duplicated(["pod", "measure"]).any()
    pairs = set(zip(summary.pod, summary.measure))
    for pair in [("ip_elective_admission", "admissions"), ("ip_elective_admission", "beddays"),
                 ("op_first", "attendances"), ("op_first", "tele_attendances"), ("aae_type-01", "ambulance"),
                 ("aae_type-01", "walk-in")]:
        assert pair in pairs
    assert (summary.p10 <= summary.p90).all()
    cap = pd.read_csv(out / "capacity.csv")
    assert {"beds", "theatres", "clinic_rooms"} <= set(cap.resource)
    assert (pd.read_parquet(out / "runs.parquet").model_run.nunique()) == 7
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        n = con.execute("select count(*) from demand_summary").fetchone()[0]
    assert n == len(summary)


def test_bad_params_is_one_line_exit_2(trust, tmp_path, capsys):
    params = json.loads((trust / "params.json").read_text())
    params["expat"]["op"]["Other"] = [1.2, 0.9]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(params))
    assert main(["demand", "run", str(bad), "-d", str(trust), "-o", str(tmp_path / "o"), "--runs", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.json" in err and "expat.op.Other" in err
    assert not (tmp_path / "o").exists()


def test_missing_data_folder_is_one_line_exit_2(trust, tmp_path, capsys):
    assert main(["demand", "run", str(trust / "params.json"), "-d", str(tmp_path / "none"), "-o",
                 str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err
