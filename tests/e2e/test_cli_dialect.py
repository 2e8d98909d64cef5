"""The CLI speaks one dialect (docs/cli.md): the same option for the same idea in every command,
help on every option, an example in every command's help, and the old spellings still working for
one release with a warning on stderr that names the new spelling."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
import typer.main

from carelens.cli.app import app, main

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
OLD_SPELLINGS = {"--out", "--store", "--map", "--mapping-file", "--report-dir", "--json", "--html", "--out-db",
                 "--out-table", "--threads", "--strict-dates", "--valid-months", "--gap-days", "--score-column",
                 "--id-column", "--labels-column", "--sentiment-column"}


def _commands() -> list[tuple[list[str], object]]:
    def walk(command, path):
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    return list(walk(typer.main.get_command(app), []))


COMMANDS = _commands()
IDS = [" ".join(path) for path, _ in COMMANDS]


def _options(command, *, hidden: bool = False):
    return [p for p in command.params if p.opts[0].startswith("-") and bool(getattr(p, "hidden", False)) == hidden]


def run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_command_is_in_the_docs():
    assert set(IDS) == {
        "feedback classify", "feedback train", "feedback evaluate", "feedback load", "feedback alias add",
        "feedback alias remove", "feedback alias list", "feedback mix load", "feedback mix list",
        "feedback mix remove", "appointments train",
        "appointments evaluate", "appointments score", "appointments call-list", "demand run", "demand synth",
        "demand validate", "demand scenarios", "demand compare", "demand export", "demand delete",
        "db upgrade", "db current", "db backup", "db restore", "demo", "serve", "config show",
        "users add", "users list", "users set", "users disable", "users enable", "users reset-password",
        "keys create", "keys list", "keys revoke", "audit list", "audit prune",
    }
    for name in IDS:
        assert f"carelens {name}" in DOCS, name


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_and_argument_has_help(path, command):
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        assert (getattr(param, "help", None) or "").strip(), f"carelens {' '.join(path)}: {param.opts} has no help"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_help_shows_an_example(path, command, capsys):
    code, out, _ = run([*path, "--help"], capsys)
    assert code == 0
    example = out.split("Example:", 1)
    assert len(example) == 2, f"carelens {' '.join(path)} --help has no example"
    assert f"carelens {' '.join(path)}" in example[1]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_one_spelling_for_one_idea(path, command):
    visible = _options(command)
    names = {name for p in visible for name in p.opts}
    assert not names & OLD_SPELLINGS, f"an old spelling is still shown: {names & OLD_SPELLINGS}"
    for p in visible:
        if "--output" in p.opts or "-o" in p.opts:
            assert set(p.opts) == {"-o", "--output"}
        if "--db" in p.opts:
            assert p.opts == ["--db"] and p.help.startswith("The carelens store"), p.help
        if "--model" in p.opts:
            assert p.metavar == "DIR"
    column_options = {n for n in names if n.endswith("-column") and n != "--column"}  # roles: --column ROLE=NAME
    assert column_options <= {"--text-column", "--contact-column"}, column_options  # a list of columns for a purpose
    if "--text-column" in names:
        assert "--column" in names  # the shorthand is for one of the --column roles


def test_roles_listed_by_the_cli_are_the_capabilities_roles():
    from carelens.appointments.schema import Columns
    from carelens.cli import appointments as appointments_cli
    from carelens.cli import feedback as feedback_cli
    from carelens.feedback.ingest.mapping import FIELDS

    assert appointments_cli.ROLES == tuple(f.name for f in fields(Columns))
    assert feedback_cli.LOAD_ROLES == (*FIELDS, "demographics")


def test_the_docs_list_every_old_spelling():
    old_section = DOCS.split("## Old spellings", 1)[1]
    hidden = {name for _, command in COMMANDS for p in _options(command, hidden=True) for name in p.opts}
    assert hidden == OLD_SPELLINGS | {"--db"}  # --db: appointments' old name for --source-db
    for name in sorted(hidden):
        assert f"`{name}" in old_section, name


# --- demand and demo: -o/--output, with --out still accepted ---------------------------------

@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    root = tmp_path_factory.mktemp("dialect") / "trust"
    assert main(["demand", "synth", "-o", str(root), "--spells", "2000", "--seed", "3"]) == 0
    return root


def test_demand_out_still_works_with_a_warning(trust, tmp_path, capsys):
    code, _, err = run(["demand", "synth", "--out", str(tmp_path / "t2"), "--spells", "2000", "--seed", "3"], capsys)
    assert code == 0 and (tmp_path / "t2" / "params.json").exists()
    assert "--out is deprecated" in err and "use -o/--output" in err
    code, _, err = run(["demand", "run", str(trust / "params.json"), "-d", str(trust), "--out", str(tmp_path / "p"),
                        "--runs", "2"], capsys)
    assert code == 0 and (tmp_path / "p" / "summary.csv").exists()
    assert "--out is deprecated" in err
    assert "demand model runs" not in err  # no progress bar when stderr is not a terminal


def test_both_spellings_at_once_are_refused(trust, tmp_path, capsys):
    code, _, err = run(["demand", "synth", "-o", str(tmp_path / "a"), "--out", str(tmp_path / "b")], capsys)
    assert code == 2 and "give -o/--output only" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_demo_out_still_works_with_a_warning(tmp_path, capsys):
    code, _, err = run(["demo", "--out", str(tmp_path / "demo"), "--db", str(tmp_path / "s.duckdb"), "--only", "demand",
                        "--spells", "2000", "--runs", "2"], capsys)
    assert code == 0, err
    assert (tmp_path / "demo" / "demand-projection" / "summary.csv").exists()
    assert "--out is deprecated" in err


# --- feedback: --column roles, with --map, --score-column, ... still accepted ------------------

def test_feedback_load_map_and_mapping_file_still_work_with_a_warning(tmp_path, capsys):
    export = tmp_path / "export.csv"
    pd.DataFrame({"Ref": ["R1", "R2"], "What you told us": ["Cold food", "Lovely nurses"]}).to_csv(export, index=False)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("comment_id: Ref\n")
    db = tmp_path / "s.duckdb"
    code, out, err = run(["feedback", "load", str(export), "--db", str(db), "--map", "comment_text=What you told us",
                          "--mapping-file", str(mapping)], capsys)
    assert code == 0, err
    assert "added 2" in out
    assert "--map is deprecated" in err and "use --column" in err
    assert "--mapping-file is deprecated" in err and "use --column-file" in err
    from carelens.db import get_engine

    with get_engine(db).connect() as conn:
        keys = sorted(conn.execute(sa.text("select comment_key from fb_comments")).scalars())
    assert keys == ["id:R1", "id:R2"]  # the file's comment_id role was used


def test_feedback_column_roles_and_an_unknown_role(tmp_path, capsys):
    export = tmp_path / "export.csv"
    pd.DataFrame({"Ref": ["R1", "R1"], "Said": ["Cold food", "Lovely nurses"], "Mark": ["5", "1"]}).to_csv(export, index=False)
    out_file = tmp_path / "tagged.csv"
    code, out, err = run(["feedback", "classify", str(export), "-o", str(out_file), "--column", "comment_text=Said",
                          "--column", "comment_id=Ref", "--column", "fft_score=Mark"], capsys)
    assert code == 0, err
    assert "duplicate value(s) in 'Ref'" in err and "deprecated" not in err
    assert len(pd.read_csv(out_file)) == 2
    code, _, err = run(["feedback", "classify", str(export), "-o", str(out_file), "--text-column", "Said",
                        "--score-column", "Mark", "--id-column", "Ref"], capsys)
    assert code == 0, err
    assert "--score-column is deprecated" in err and "use --column fft_score=NAME" in err
    assert "--id-column is deprecated" in err and "duplicate value(s) in 'Ref'" in err
    code, _, err = run(["feedback", "classify", str(export), "-o", str(out_file), "--column", "text=Said"], capsys)
    assert code == 2 and "unknown column role 'text' in --column; roles are: comment_text" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(["feedback", "classify", str(export), "-o", str(tmp_path / "tagged.txt"), "--text-column", "Said"],
                       capsys)
    assert code == 2 and "cannot write '.txt'" in err  # refused before classifying


def test_feedback_evaluate_old_spellings_still_work(tmp_path, capsys):
    from carelens.feedback.model import FeedbackModel

    labels = FeedbackModel.load().framework.learnable_labels
    frame = pd.DataFrame({"ward": ["A", "B", "C"],
                          "comment": ["The food was cold and tasteless", "The nurses were kind and caring", ""],
                          "codes": [labels[0], labels[1], ""], "mood": ["4", "1", ""]})
    data = tmp_path / "labelled.csv"
    frame.to_csv(data, index=False)
    code, _, err = run(["feedback", "evaluate", str(data), "--text-column", "comment", "--labels-column", "codes",
                        "--sentiment-column", "mood", "--report-dir", str(tmp_path / "r")], capsys)
    assert code == 0, err
    for old, new in (("--labels-column", "--column labels=NAME"), ("--sentiment-column", "--column sentiment=NAME"),
                     ("--report-dir", "-o/--output")):
        assert f"{old} is deprecated" in err and new in err
    result = json.loads((tmp_path / "r" / "evaluation.json").read_text())
    assert result["topics"]["rows"] == 3 and result["sentiment"]["rows"] == 2
    code, _, err = run(["feedback", "evaluate", str(data), "--text-column", "comment", "--column", "labels=codes",
                        "-o", str(tmp_path / "only.html")], capsys)
    assert code == 0 and err == ""
    assert (tmp_path / "only.html").read_text().startswith("<!doctype html>")
    assert not (tmp_path / "only.json").exists()


# --- appointments: --source-db, --db the store, --target-*, lengths, with old spellings -----

@pytest.fixture(scope="module")
def appts(tmp_path_factory):
    from carelens.appointments.synth import generate_appointments

    root = tmp_path_factory.mktemp("dialect_appts")
    table = root / "appointments.csv"
    generate_appointments(1_500, seed=5, start="2022-06-01", end="2023-12-31", future_days=21).to_csv(table, index=False)
    model = root / "model"
    assert main(["appointments", "train", str(table), "-o", str(model), "--valid", "4m", "--gap", "3d",
                 "--workers", "1", "--seed", "0"]) == 0
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create table appts as select * from read_csv_auto(?)", [str(table)])
    return root, table, model, warehouse


def test_appointments_train_old_spellings_give_the_same_settings(appts, tmp_path, capsys):
    root, table, model, warehouse = appts
    old = tmp_path / "old"
    code, _, err = run(["appointments", "train", "--db", f"duckdb:///{warehouse}", "--table", "appts", "-o", str(old),
                        "--valid-months", "4", "--gap-days", "3", "--threads", "1", "--strict-dates"], capsys)
    assert code == 0, err
    for spelling, new in (("--db", "--source-db"), ("--valid-months", "--valid"), ("--gap-days", "--gap"),
                          ("--threads", "--workers"), ("--strict-dates", "--strict")):
        assert f"{spelling} is deprecated" in err and f"use {new}" in err
    new_card = json.loads((model / "card.json").read_text())
    old_card = json.loads((old / "card.json").read_text())
    for key in ("gap_days", "validation_window", "n_training", "training_period"):
        assert old_card[key] == new_card[key], key
    assert old_card["validation"]["auroc"] == pytest.approx(new_card["validation"]["auroc"])
    assert new_card["gap_days"] == 3.0 and new_card["validation_window"] == "4 months"


def test_appointments_validation_window_in_weeks_and_bad_lengths(appts, tmp_path, capsys):
    _, table, _, _ = appts
    code, _, err = run(["appointments", "train", str(table), "-o", str(tmp_path / "m"), "--valid", "10w",
                        "--refit", "--estimator", "logistic"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "m" / "card.json").read_text())["validation_window"] == "10 weeks"
    for args, message in ((["--valid", "6"], "--valid takes a number and a unit"),
                          (["--gap", "1m"], "--gap takes days or weeks"),
                          (["--gap", "-2d"], "--gap takes a number and a unit")):
        code, _, err = run(["appointments", "train", str(table), "-o", str(tmp_path / "x"), *args], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_appointments_evaluate_output_and_old_json_html(appts, tmp_path, capsys):
    _, table, model, warehouse = appts
    code, _, err = run(["appointments", "evaluate", str(table), "--model", str(model), "--since", "2023-09-01",
                        "-o", str(tmp_path / "one.json"), "--allow-in-sample"], capsys)  # the model's own months
    assert code == 0, err
    assert json.loads((tmp_path / "one.json").read_text())["n"] > 50
    code, _, err = run(["appointments", "evaluate", "--db", f"duckdb:///{warehouse}", "--table", "appts",
                        "--model", str(model), "--json", str(tmp_path / "ev.json"), "--html", str(tmp_path / "ev.html"),
                        "--allow-in-sample"], capsys)
    assert code == 0, err
    assert "--json is deprecated" in err and "--html is deprecated" in err and "use --source-db" in err
    assert json.loads((tmp_path / "ev.json").read_text())["n"] > 50 and "plotly" in (tmp_path / "ev.html").read_text()
    code, _, err = run(["appointments", "evaluate", str(table), "--model", str(model), "--since", "01/09/2023"], capsys)
    assert code == 2 and "--since takes a date as YYYY-MM-DD" in err


def _count(url_or_path, sql):
    from carelens.db import get_engine

    with get_engine(url_or_path).connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def test_appointments_score_old_style_db_table_store_and_out_table(appts, tmp_path, capsys):
    """Before 0.2 `--db` was the warehouse (with --table) and `--store` the store; a script of that
    time still reads, writes and publishes to the same places."""
    _, table, model, _ = appts
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create table appts as select * from read_csv_auto(?)", [str(table)])
    store = tmp_path / "store.duckdb"
    code, out, err = run(["appointments", "score", "--db", f"duckdb:///{warehouse}", "--table", "appts",
                          "--model", str(model), "--out-table", "dna_scores", "--publish", "--store", str(store)], capsys)
    assert code == 0, err
    assert "--db with --table names the warehouse" in err and "--source-db" in err
    assert "--store is deprecated" in err and "--out-table is deprecated" in err
    future = int((pd.read_csv(table)["attendance_status"].isna()).sum())
    with duckdb.connect(str(warehouse), read_only=True) as conn:  # scores went back to the source warehouse
        assert conn.execute("select count(*) from dna_scores").fetchone()[0] == future
    assert _count(store, "select count(*) from dna_scored_appointments") == future


def test_appointments_score_new_style_db_is_the_store(appts, tmp_path, capsys):
    _, table, model, warehouse = appts
    store = tmp_path / "store.duckdb"
    code, out, err = run(["appointments", "score", "--source-db", f"duckdb:///{warehouse}", "--table", "appts",
                          "--model", str(model), "--publish", "--db", str(store), "--target-table", "dna_scores",
                          "--target-db", f"duckdb:///{tmp_path / 'scores.duckdb'}"], capsys)
    assert code == 0, err
    assert "deprecated" not in err and "published to the call list" in out
    future = int((pd.read_csv(table)["attendance_status"].isna()).sum())
    assert _count(store, "select count(*) from dna_scored_appointments") == future
    with duckdb.connect(str(tmp_path / "scores.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from dna_scores").fetchone()[0] == future
    # a file in, --target-table without --target-db: the scores table goes into the store (--db)
    code, _, err = run(["appointments", "score", str(table), "--model", str(model), "--db", str(store),
                        "--target-table", "my_scores"], capsys)
    assert code == 0, err
    assert _count(store, "select count(*) from my_scores") == future
