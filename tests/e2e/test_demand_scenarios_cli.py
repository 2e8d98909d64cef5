"""A planner's scenarios from the command line: keep one with --name, list them, compare two into a
workbook, export one; impossible inputs get one line and exit 2 (issues 15 and 17)."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from carelens.cli.app import main


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    root = tmp_path_factory.mktemp("demand_scenarios") / "trust"
    assert main(["demand", "synth", "-o", str(root), "--spells", "1500", "--seed", "4"]) == 0
    return root


@pytest.fixture(scope="module")
def store(trust, tmp_path_factory):
    """A store with two kept scenarios that differ in overnight occupancy only."""
    work = tmp_path_factory.mktemp("kept")
    db = work / "store.duckdb"
    common = ["-d", str(trust), "--runs", "6", "--workers", "1", "--years", "2", "--db", str(db)]
    assert main(["demand", "run", str(trust / "params.json"), "-o", str(work / "base"), "--name", "Base", *common]) == 0
    (work / "capacity.json").write_text(json.dumps({"target_occupancy": {"adult_nonelective": 0.8}}), encoding="utf-8")
    assert main(["demand", "run", str(trust / "params.json"), "-o", str(work / "low"), "--name", "Occupancy 80%",
                 "--capacity", str(work / "capacity.json"), *common]) == 0
    return db, work


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    return errors[0]


def test_run_with_a_name_keeps_the_scenario_and_writes_rounded_files(store, capsys):
    db, work = store
    assert main(["demand", "scenarios", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "Base" in listing and "Occupancy 80%" in listing and "2023-2035" in listing
    summary = pd.read_csv(work / "base" / "summary.csv")
    assert list(summary.columns) == ["pod", "measure", "baseline", "principal", "p10", "p50", "p90"]
    assert all(float(v).is_integer() for v in summary[["principal", "p10", "p90"]].to_numpy().ravel())
    capacity = (work / "base" / "capacity_totals.csv").read_text(encoding="utf-8")
    assert all(len(cell.split(".")[1]) <= 1 for line in capacity.splitlines()[1:] for cell in line.split(",")[2:]
               if "." in cell)
    years = pd.read_csv(work / "base" / "trajectories.csv")
    assert sorted(years.year.unique()) == [2023, 2029, 2035]
    info = json.loads((work / "base" / "run_info.json").read_text(encoding="utf-8"))
    assert info["name"] == "Base" and len(info["data_fingerprint"]) == 64 and info["years"] == [2023, 2029, 2035]


def test_a_name_already_taken_is_refused_before_running(store, trust, tmp_path, capsys):
    db, _ = store
    code = main(["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", str(tmp_path / "again"),
                 "--runs", "6", "--name", "Base", "--db", str(db)])
    assert code == 2
    assert "'Base' is already stored" in _one_line_error(capsys)
    assert not (tmp_path / "again" / "summary.csv").exists()


def test_compare_writes_a_workbook_with_what_differs_first(store, tmp_path, capsys):
    db, _ = store
    out = tmp_path / "compare.xlsx"
    assert main(["demand", "compare", "Base", "Occupancy 80%", "-o", str(out), "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    assert "1 of" in printed and "capacity.target_occupancy.adult_nonelective: Base 0.92 | Occupancy 80% 0.8" in printed
    assert "Adult non-elective wards" in printed
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    assert book.sheetnames == ["About", "Differences", "Activity", "Beds theatres rooms", "Waterfall", "Year by year"]
    first = list(book["Differences"].iter_rows(min_row=4, max_row=5, values_only=True))
    assert first[0] == ("capacity.target_occupancy.adult_nonelective", "0.92", "0.8", "differs")
    assert first[1][3] in (None, "")
    about = [row for row in book["About"].iter_rows(values_only=True) if row[0]]
    assert about[0][0] == "carelens demand and capacity: Base vs Occupancy 80%"
    beds = {row[1]: row for row in book["Beds theatres rooms"].iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in book["Beds theatres rooms"][1]]
    base_col = header.index("Base: Principal (mean of runs)")
    low_col = header.index("Occupancy 80%: Principal (mean of runs)")
    assert beds["Adult non-elective wards"][low_col] > beds["Adult non-elective wards"][base_col]
    assert beds["Day case units"][low_col] == beds["Day case units"][base_col]


def test_export_a_stored_scenario_as_workbook_and_report(store, tmp_path, capsys):
    db, _ = store
    assert main(["demand", "export", "Base", "-o", str(tmp_path / "base.xlsx"), "--db", str(db)]) == 0
    book = openpyxl.load_workbook(tmp_path / "base.xlsx")
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row[0]}
    assert about["Scenario"] == "Base" and about["Monte Carlo runs"] == 6
    assert len(about["Data fingerprint (SHA-256)"]) == 64
    assert main(["demand", "export", "Base", "-o", str(tmp_path / "base.html"), "--db", str(db)]) == 0
    html = (tmp_path / "base.html").read_text(encoding="utf-8")
    assert "Scenario: Base" in html and "Beds, theatres and clinic rooms" in html
    assert main(["demand", "export", "Base", "-o", str(tmp_path / "base.pdf"), "--db", str(db)]) == 0
    assert (tmp_path / "base.pdf").read_bytes()[:5] == b"%PDF-"


def test_progress_counts_the_runs_asked_for_and_only_on_a_terminal(trust, tmp_path, capsys, monkeypatch):
    args = ["demand", "run", str(trust / "params.json"), "-d", str(trust), "--runs", "8", "--workers", "1",
            "--years", "2"]
    assert main([*args, "-o", str(tmp_path / "quiet")]) == 0
    assert "demand model runs" not in capsys.readouterr().err
    import carelens.progress

    monkeypatch.setattr(carelens.progress, "interactive", lambda: True)  # as if stderr were a terminal
    assert main([*args, "-o", str(tmp_path / "bar")]) == 0
    err = capsys.readouterr().err
    assert "demand model runs" in err and "16/16" in err and "17/17" not in err


@pytest.mark.parametrize(("args", "words"), [
    (["compare", "Base", "Nope"], "no scenario named 'Nope'"),
    (["compare", "Base"], "at least two"),
    (["compare", "Base", "Occupancy 80%", "-o", "x.docx"], "write .xlsx, .html, .pdf"),
    (["export", "Nope", "-o", "x.xlsx"], "no scenario named 'Nope'"),
])
def test_bad_compare_and_export_requests_are_one_line(store, args, words, capsys):
    db, _ = store
    assert main(["demand", *args, "--db", str(db)]) == 2
    assert words in _one_line_error(capsys)


def _params_with(trust, tmp_path, **changes):
    raw = json.loads((trust / "params.json").read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / f"params-{len(list(tmp_path.glob('params-*.json')))}.json"  # one file per case
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_impossible_values_and_broken_files_are_one_line(trust, tmp_path, capsys):
    out = str(tmp_path / "out")
    cases = [
        (["demand", "synth", "-o", str(tmp_path / "t"), "--spells", "-5"], "spells"),
        (["demand", "run", str(_params_with(trust, tmp_path, model_runs=1_000_000_000)), "-d", str(trust), "-o", out],
         "model_runs"),
        (["demand", "run", str(_params_with(trust, tmp_path, capacity={"target_occupancy": {"maternity": 0}})),
          "-d", str(trust), "-o", out], "infinite"),
        (["demand", "run", str(_params_with(trust, tmp_path, capacity={"theatre": {"utilisation": "high"}})),
          "-d", str(trust), "-o", out], "capacity.theatre.utilisation"),
        (["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", out, "--seed", "-1"], "--seed"),
        (["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", out, "--years", "0"], "--years"),
        (["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", out, "--name", " "], "name"),
    ]
    for args, words in cases:
        assert main(args) == 2, args
        assert words in _one_line_error(capsys), args
    assert not (tmp_path / "out").exists()


def test_output_onto_a_file_or_into_new_folders(trust, tmp_path, capsys):
    a_file = tmp_path / "taken.txt"
    a_file.write_text("keep me", encoding="utf-8")
    args = ["demand", "run", str(trust / "params.json"), "-d", str(trust), "--runs", "2", "--workers", "1"]
    assert main([*args, "-o", str(a_file)]) == 2
    assert "is a file, not a folder" in _one_line_error(capsys)
    assert a_file.read_text(encoding="utf-8") == "keep me"
    assert main([*args, "-o", str(tmp_path / "new" / "deeper" / "out")]) == 0
    assert (tmp_path / "new" / "deeper" / "out" / "summary.csv").exists()


def test_broken_data_is_one_line_in_run_and_validate(trust, tmp_path, capsys):
    import shutil

    bad = tmp_path / "trust"
    shutil.copytree(trust, bad)
    part = next((bad / "aae").rglob("*.parquet"))
    part.write_bytes(b"not parquet at all")
    for command in (["run", str(bad / "params.json"), "-d", str(bad), "-o", str(tmp_path / "o")],
                    ["validate", str(bad / "params.json"), "-d", str(bad)]):
        assert main(["demand", *command]) == 2
        assert "could not read the parquet file" in _one_line_error(capsys)
    shutil.rmtree(bad)
    shutil.copytree(trust, bad)
    op_part = next((bad / "op").rglob("*.parquet"))
    op = pd.read_parquet(op_part)
    op.loc[3, "attendances"] = -2
    op.to_parquet(op_part, index=False)
    assert main(["demand", "run", str(bad / "params.json"), "-d", str(bad), "-o", str(tmp_path / "o")]) == 2
    line = _one_line_error(capsys)
    assert "row 4" in line and "attendances" in line and "cannot be negative" in line
