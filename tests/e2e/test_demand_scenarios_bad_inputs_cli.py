"""A planner's mistakes with kept scenarios, from the command line: each gets one line naming what
is wrong (exit 2, no traceback), and the store is exactly as it was (issue 15; rules of issue 17).
Also what --replace keeps when the new run fails, and a mistyped --db that is not made a store."""

from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa

from carelens.cli.app import main


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_inputs") / "trust"
    assert main(["demand", "synth", "-o", str(root), "--spells", "1200", "--seed", "7"]) == 0
    return root


@pytest.fixture(scope="module")
def kept(trust, tmp_path_factory):
    """A store with two kept scenarios."""
    work = tmp_path_factory.mktemp("bad_inputs_store")
    db = work / "store.duckdb"
    for name in ("Base", "Other"):
        assert main(["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", str(work / name),
                     "--runs", "4", "--workers", "1", "--name", name, "--db", str(db)]) == 0
    return db, work


def snapshot(db) -> dict:
    """Everything demand keeps: every row of every demand_* table, in a fixed order."""
    from carelens.db import get_engine, release

    engine = get_engine(db)
    try:
        with engine.connect() as conn:
            names = sorted(n for n in sa.inspect(conn).get_table_names() if n.startswith("demand_"))
            return {n: sorted(map(repr, conn.execute(sa.text(f'SELECT * FROM "{n}"')).all())) for n in names}
    finally:
        release(engine)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    return errors[0]


def _broken_copy(trust, tmp_path):
    bad = tmp_path / "broken-trust"
    shutil.copytree(trust, bad)
    next((bad / "ip").rglob("*.parquet")).write_bytes(b"not parquet")
    return bad


def _params_lo_above_hi(trust, tmp_path):
    raw = json.loads((trust / "params.json").read_text(encoding="utf-8"))
    raw["expat"]["op"]["Other"] = [0.99, 0.97]
    path = tmp_path / "lo-above-hi.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_mistakes_are_one_line_and_leave_the_store_as_it_was(kept, trust, tmp_path, capsys):
    db, _ = kept
    before = snapshot(db)
    assert before["demand_scenarios"] and before["demand_run_totals"]
    folder_named_xlsx = tmp_path / "looks-like.xlsx"
    folder_named_xlsx.mkdir()
    run = ["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", str(tmp_path / "out"), "--runs", "2",
           "--workers", "1", "--db", str(db)]
    cases = [
        ([*run, "--name", "Base"], "'Base' is already stored"),
        ([*run, "--name", "x" * 121], "at most 120 characters"),
        ([*run, "--name", "New", "--years", "31"], "--years"),
        (["demand", "run", str(_params_lo_above_hi(trust, tmp_path)), "-d", str(trust), "-o", str(tmp_path / "out"),
          "--name", "New", "--db", str(db)], "expat.op.Other"),
        (["demand", "run", str(trust / "params.json"), "-d", str(_broken_copy(trust, tmp_path)), "-o",
          str(tmp_path / "out"), "--name", "New", "--db", str(db)], "could not read the parquet file"),
        (["demand", "run", str(trust / "params.json"), "-d", str(tmp_path / "no-such-trust"), "-o",
          str(tmp_path / "out"), "--name", "New", "--db", str(db)], "data folder not found"),
        (["demand", "compare", "Base", "Nope", "--db", str(db)], "no scenario named 'Nope'; stored: 'Base', 'Other'"),
        (["demand", "compare", "Base", "--db", str(db)], "at least two"),
        (["demand", "compare", "Base", "Base", "--db", str(db)], "'Base' is named twice"),
        (["demand", "compare", "Base", "Other", "-o", str(tmp_path / "c.docx"), "--db", str(db)],
         "write .xlsx, .html, .pdf; not .docx"),
        (["demand", "compare", "Base", "Other", "-o", str(folder_named_xlsx), "--db", str(db)], "is a folder"),
        (["demand", "export", "Nope", "-o", str(tmp_path / "x.xlsx"), "--db", str(db)], "no scenario named 'Nope'"),
        (["demand", "export", "Base", "-o", str(tmp_path / "x.csv"), "--db", str(db)], "not .csv"),
        (["demand", "export", "Base", "-o", str(tmp_path / "x"), "--db", str(db)], "without an extension"),
        (["demand", "delete", "Base", "--db", str(db)], "not deleted: 'Base' is kept; add --yes"),  # not a terminal
        (["demand", "delete", "Nope", "--yes", "--db", str(db)], "no scenario named 'Nope'"),
    ]
    for args, words in cases:
        assert main(args) == 2, args
        assert words in one_line_error(capsys), args
        assert snapshot(db) == before, args
    assert not (tmp_path / "out" / "summary.csv").exists()
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "c.docx").exists()


def test_a_mistyped_store_is_not_made_into_an_empty_one(tmp_path, capsys):
    missing = tmp_path / "typo" / "stor.duckdb"
    for args in (["scenarios"], ["compare", "A", "B"], ["export", "A", "-o", str(tmp_path / "a.xlsx")]):
        assert main(["demand", *args, "--db", str(missing)]) == 2
        assert "no carelens store here" in one_line_error(capsys)
    assert not missing.exists() and not missing.parent.exists()
    not_a_store = tmp_path / "params.json"
    not_a_store.write_text("{}", encoding="utf-8")
    assert main(["demand", "scenarios", "--db", str(not_a_store)]) == 2
    assert "is not a DuckDB store" in one_line_error(capsys)
    assert not_a_store.read_text(encoding="utf-8") == "{}"


def test_replace_keeps_the_old_scenario_until_the_new_one_is_kept(kept, trust, tmp_path, capsys):
    db, _ = kept
    assert main(["demand", "export", "Other", "-o", str(tmp_path / "other-before.xlsx"), "--db", str(db)]) == 0
    before = snapshot(db)
    broken = _broken_copy(trust, tmp_path)
    assert main(["demand", "run", str(trust / "params.json"), "-d", str(broken), "-o", str(tmp_path / "o"),
                 "--name", "Other", "--replace", "--db", str(db)]) == 2
    one_line_error(capsys)
    assert snapshot(db) == before  # a failed replacement keeps the old one
    assert main(["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", str(tmp_path / "o"),
                 "--runs", "6", "--workers", "1", "--name", "Other", "--replace", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["demand", "scenarios", "--db", str(db)]) == 0
    listing = capsys.readouterr().out.splitlines()
    others = [line for line in listing if line.strip().startswith("Other ")]
    assert len(others) == 1 and " 6 " in others[0]  # one 'Other', the new one with 6 runs


def test_delete_removes_one_scenario_and_keeps_the_data(kept, trust, tmp_path, capsys):
    db, _ = kept
    assert main(["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", str(tmp_path / "s"),
                 "--runs", "2", "--workers", "1", "--name", "Scratch", "--db", str(db)]) == 0
    before = snapshot(db)
    capsys.readouterr()
    assert main(["demand", "delete", "Scratch", "--yes", "--db", str(db)]) == 0
    assert "deleted scenario 'Scratch'" in capsys.readouterr().out
    after = snapshot(db)
    assert not [row for row in after["demand_scenarios"] if "'Scratch'" in row]
    assert after["demand_datasets"] == before["demand_datasets"]  # the data other scenarios ran on stays
    assert after["demand_dataset_tables"] == before["demand_dataset_tables"]
    assert len(after["demand_scenarios"]) == len(before["demand_scenarios"]) - 1
    from carelens.access import audit
    from carelens.db import get_engine

    deleted = audit.events(get_engine(db), action="delete")  # recorded as the OS user (issue 16)
    assert deleted["target"].tolist() == ["demand scenario Scratch"] and deleted["actor"].str.startswith("cli:").all()
    assert main(["demand", "export", "Base", "-o", str(tmp_path / "base.xlsx"), "--db", str(db)]) == 0
