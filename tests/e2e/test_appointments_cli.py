"""The analyst's path through the CLI: train, evaluate, score (file and database), and bad input."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from carelens.appointments.synth import generate_appointments
from carelens.cli.app import main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("appts")
    table = root / "appointments.csv"
    generate_appointments(4_000, seed=5, start="2022-06-01", end="2023-12-31", future_days=21).to_csv(table, index=False)
    model = root / "model"
    assert main(["appointments", "train", str(table), "-o", str(model), "--valid", "4m"]) == 0
    return root, table, model


def test_train_writes_a_safe_model_with_a_card(workspace):
    _, _, model = workspace
    card = json.loads((model / "card.json").read_text())
    assert card["validation"]["auroc"] > 0.58
    assert (model / "model.skops").exists()
    assert "never" in (model / "MODEL_CARD.md").read_text().lower()


def test_evaluate_writes_json_and_an_html_report(workspace, capsys):
    root, table, model = workspace
    # The workspace model was refitted on every appointment: these months are in-sample, and say so.
    code = main(["appointments", "evaluate", str(table), "--model", str(model), "--since", "2023-09-01",
                 "-o", str(root / "ev"), "--allow-in-sample"])
    assert code == 0
    result = json.loads((root / "ev" / "evaluation.json").read_text())
    assert result["n"] > 100 and 0 <= result["ece"] < 0.1
    assert "plotly" in (root / "ev" / "evaluation.html").read_text()
    assert "In-sample" in (root / "ev" / "evaluation.html").read_text() and result["in_sample"] == result["n"]
    assert "auroc" in capsys.readouterr().out


def test_score_writes_one_row_per_future_appointment_and_reruns_replace_in_the_db(workspace):
    root, table, model = workspace
    out, db = root / "scores.csv", root / "store.duckdb"
    args = ["appointments", "score", str(table), "--model", str(model), "-o", str(out),
            "--target-db", f"duckdb:///{db}", "--target-table", "dna_scores"]
    assert main(args) == 0
    assert main(args) == 0
    scores = pd.read_csv(out)
    source = pd.read_csv(table)
    assert list(scores.columns) == ["appointment_id", "dna_probability", "risk_band", "reasons"]
    assert scores["appointment_id"].tolist() == source.loc[source["attendance_status"].isna(), "appointment_id"].tolist()
    with duckdb.connect(str(db)) as conn:
        n, distinct = conn.execute("select count(*), count(distinct appointment_id) from dna_scores").fetchone()
    assert n == distinct == len(scores)


def test_score_reads_the_table_from_a_database(workspace, tmp_path):
    _, table, model = workspace
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as conn:
        conn.execute("create table appts as select * from read_csv_auto(?)", [str(table)])
    out = tmp_path / "scores.parquet"
    assert main(["appointments", "score", "--source-db", f"duckdb:///{db}", "--table", "appts", "--model", str(model), "-o", str(out)]) == 0
    assert len(pd.read_parquet(out)) > 0


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.assign(attendance_status=f["attendance_status"].astype("Int64").astype("string").fillna("").str.replace("5", "8")), "unknown attendance status"),
        (lambda f: pd.concat([f, f.iloc[[3]]], ignore_index=True), "duplicated appointment ID"),
        (lambda f: f.drop(columns=["booked_datetime"]), "missing column 'booked_datetime'"),
        (lambda f: f[f["attendance_status"].notna()], "no appointments to score"),
    ],
)
def test_bad_input_gives_one_clear_line_and_exit_code_2(workspace, tmp_path, capsys, mutate, message):
    _, table, model = workspace
    bad = tmp_path / "bad.csv"
    mutate(pd.read_csv(table)).to_csv(bad, index=False)
    out = tmp_path / "scores.csv"
    assert main(["appointments", "score", str(bad), "--model", str(model), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_renamed_columns_are_accepted_with_column_options(workspace, tmp_path):
    _, table, model = workspace
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(table).rename(columns={"attendance_status": "AttendCode"}).to_csv(renamed, index=False)
    out = tmp_path / "scores.csv"
    assert main(["appointments", "score", str(renamed), "--model", str(model), "-o", str(out),
                 "--column", "attendance_status=AttendCode"]) == 0
    assert len(pd.read_csv(out)) > 0


def _warehouse(url: str, name: str, table) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    pd.read_csv(table, parse_dates=["appointment_datetime", "booked_datetime"]).to_sql(name, engine, index=False, if_exists="replace")
    engine.dispose()


def _train_evaluate_score_in_a_database(url: str, source: str, scores_table: str, tmp_path, capsys) -> None:
    import sqlalchemy as sa

    model = tmp_path / "db_model"
    assert main(["appointments", "train", "--source-db", url, "--table", source, "-o", str(model), "--valid", "4m"]) == 0
    assert "saved" in capsys.readouterr().out
    assert main(["appointments", "evaluate", "--source-db", url, "--table", source, "--model", str(model),
                 "-o", str(tmp_path / "ev.json"), "--allow-in-sample"]) == 0
    assert json.loads((tmp_path / "ev.json").read_text())["auroc"] > 0.55
    score = ["appointments", "score", "--source-db", url, "--table", source, "--model", str(model),
             "--target-table", scores_table]
    assert main(score) == 0 and main(score) == 0  # a re-run replaces its rows
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n, distinct, versions = conn.execute(
            sa.text(f"select count(*), count(distinct appointment_id), count(distinct model_version) from {scores_table}")
        ).one()
        future = conn.execute(sa.text(f"select count(*) from {source} where attendance_status is null")).scalar()
    engine.dispose()
    assert n == distinct == future and versions == 1


def test_train_evaluate_and_score_against_a_duckdb_table(workspace, tmp_path, capsys):
    _, table, _ = workspace
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    _warehouse(url, "outpatients", table)
    _train_evaluate_score_in_a_database(url, "outpatients", "dna_scores", tmp_path, capsys)


@pytest.mark.postgres
def test_train_evaluate_and_score_against_a_postgres_table(workspace, tmp_path, capsys, postgres_url):
    import uuid

    _, table, _ = workspace
    suffix = uuid.uuid4().hex[:8]
    _warehouse(postgres_url, f"outpatients_{suffix}", table)
    _train_evaluate_score_in_a_database(postgres_url, f"outpatients_{suffix}", f"dna_scores_{suffix}", tmp_path, capsys)


def test_bookings_after_the_appointment_are_kept_with_a_warning_and_still_scored(workspace, tmp_path, capsys):
    _, table, model = workspace
    frame = pd.read_csv(table)
    future = frame.index[frame["attendance_status"].isna()][:3]
    frame.loc[future, "booked_datetime"] = "2030-01-01 09:00:00"  # booked after it takes place
    bad = tmp_path / "late.csv"
    frame.to_csv(bad, index=False)
    out = tmp_path / "scores.csv"
    assert main(["appointments", "score", str(bad), "--model", str(model), "-o", str(out)]) == 0
    assert "3 appointment(s) are booked after they take place" in capsys.readouterr().err
    assert len(pd.read_csv(out)) == frame["attendance_status"].isna().sum()  # nothing lost
    assert main(["appointments", "score", str(bad), "--model", str(model), "-o", str(tmp_path / "s2.csv"), "--strict"]) == 2


def test_a_missing_optional_column_is_named_and_scoring_goes_on(workspace, tmp_path, capsys):
    _, table, model = workspace
    thin = tmp_path / "thin.csv"
    pd.read_csv(table).drop(columns=["distance_km"]).to_csv(thin, index=False)
    out = tmp_path / "scores.csv"
    assert main(["appointments", "score", str(thin), "--model", str(model), "-o", str(out)]) == 0
    assert "missing and treated as unknown: distance_km" in capsys.readouterr().err
    assert pd.read_csv(out)["dna_probability"].between(0, 1).all()


def test_a_patient_with_no_history_and_a_table_without_outcomes(workspace, tmp_path, capsys):
    _, table, model = workspace
    frame = pd.read_csv(table)
    newcomer = frame[frame["attendance_status"].isna()].iloc[[0]].assign(appointment_id="NEW-1", patient_id=999_999_999)
    extended = tmp_path / "new.csv"
    pd.concat([frame, newcomer]).to_csv(extended, index=False)
    out = tmp_path / "scores.csv"
    assert main(["appointments", "score", str(extended), "--model", str(model), "-o", str(out)]) == 0
    assert "NEW-1" in set(pd.read_csv(out)["appointment_id"])
    only_future = tmp_path / "future.csv"
    frame[frame["attendance_status"].isna()].to_csv(only_future, index=False)
    assert main(["appointments", "train", str(only_future), "-o", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "outcome" in err and "Traceback" not in err
