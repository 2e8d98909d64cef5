"""End to end through the CLI: classify a trust export, train on a trust framework, evaluate."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from carelens.cli.app import main
from carelens.tables import read_table
from tests.conftest import shared_file
from tests.unit.test_feedback_core import TRUST_FRAMEWORK, trust_training_frame


def run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_classify_keeps_every_row_and_column_in_order(tmp_path, capsys, suffix):
    frame = pd.DataFrame({
        "Comment ID": ["a", "b", "c", "d", "a"],
        "Ward": ["W1", "W2", "W3", "W4", "W5"],
        "FFT answer": ["The food was cold", "Did not answer", None, "Nurses were lovely 😀", "x" * 20_000],
    })
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / f"out{suffix}"
    code, stdout, err = run(["feedback", "classify", str(src), "-o", str(out)], capsys)
    assert code == 0, err
    assert "duplicate" in err and "rows 6" in err  # warned, not dropped
    result = read_table(out, dtype_str=True)
    assert list(result.columns) == ["Comment ID", "Ward", "FFT answer", "topics", "categories", "sentiment",
                                    "topic_sentiment", "topic_evidence"]
    assert result["Ward"].tolist() == ["W1", "W2", "W3", "W4", "W5"]
    assert result.loc[1, "topics"] == "Labelling not possible" and pd.isna(result.loc[1, "sentiment"])
    assert result.loc[2, "topics"] == "Labelling not possible"
    assert "Food & drink provision & facilities" in result.loc[0, "topics"]
    assert "classified 5 comments" in stdout


def test_classify_gives_each_topic_its_own_sentiment_and_words(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"FFT answer": ["The food was cold but the nurses were lovely.", "Did not answer"],
                  "FFT categorical answer": ["1", ""]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, _, err = run(["feedback", "classify", str(src), "-o", str(out)], capsys)
    assert code == 0, err
    result = read_table(out, dtype_str=True)
    evidence = dict(part.split(": ", 1) for part in result.loc[0, "topic_evidence"].split(" | "))
    sentiment = dict(part.split(": ") for part in result.loc[0, "topic_sentiment"].split("; "))
    food = "Food & drink provision & facilities"
    assert evidence[food] == '"The food was cold"'
    assert int(sentiment[food]) >= 4  # the patient's "very good" score does not make cold food praise
    assert any(int(s) <= 2 for topic, s in sentiment.items() if topic != food)
    assert pd.isna(result.loc[1, "topic_sentiment"]) and pd.isna(result.loc[1, "topic_evidence"])


def test_classify_reads_cp1252_exports_with_bom_and_blank_rows(tmp_path, capsys):
    src = tmp_path / "export.csv"
    src.write_bytes("Comment,Score\nParking cost £5 – awful,5\n,\nStaff were great,1\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    code, _, err = run(["feedback", "classify", str(src), "-o", str(out)], capsys)
    assert code == 0, err
    assert len(read_table(out)) == 3


def test_missing_text_column_lists_the_columns(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,remarks\n1,hello\n")
    code, _, err = run(["feedback", "classify", str(src), "-o", str(tmp_path / "o.csv")], capsys)
    assert code == 2
    assert "missing column 'FFT answer'" in err and "'id', 'remarks'" in err
    assert "Traceback" not in err


def test_empty_file_and_bad_model_folder_are_one_line_errors(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(["feedback", "classify", str(empty), "-o", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "empty" in err and len(err.strip().splitlines()) == 1
    src = tmp_path / "in.csv"
    src.write_text("FFT answer\nhello\n")
    (tmp_path / "notamodel").mkdir()
    code, _, err = run(["feedback", "classify", str(src), "-o", str(tmp_path / "o.csv"), "--model", str(tmp_path / "notamodel")], capsys)
    assert code == 2 and "not a carelens feedback model" in err


def test_trust_framework_trains_classifies_and_evaluates_end_to_end(tmp_path, capsys):
    fw = tmp_path / "framework.json"
    fw.write_text(json.dumps(TRUST_FRAMEWORK))
    data = trust_training_frame(240, seed=5)
    train_file = tmp_path / "labelled.xlsx"
    data.iloc[:200].to_excel(train_file, index=False)
    test_file = tmp_path / "holdout.csv"
    data.iloc[200:].to_csv(test_file, index=False)
    model_dir = tmp_path / "model"
    code, out, err = run(["feedback", "train", str(train_file), "-o", str(model_dir), "--text-column", "comment",
                          "--framework", str(fw), "--column", "labels=codes", "--label-sep", ";",
                          "--column", "sentiment=mood"], capsys)
    assert code == 0, err
    assert "trained on 200 comments" in out
    code, out, err = run(["feedback", "classify", str(test_file), "-o", str(tmp_path / "pred.csv"),
                          "--text-column", "comment", "--model", str(model_dir)], capsys)
    assert code == 0, err
    pred = read_table(tmp_path / "pred.csv", dtype_str=True)
    assert set("; ".join(pred["categories"]).split("; ")) <= {"Care", "Hotel", "General"}
    reports = tmp_path / "reports"
    code, out, err = run(["feedback", "evaluate", str(test_file), "--model", str(model_dir), "--text-column", "comment",
                          "--column", "labels=codes", "--column", "sentiment=mood", "-o", str(reports)], capsys)
    assert code == 0, err
    result = json.loads((reports / "evaluation.json").read_text())
    assert result["topics"]["micro_f1"] > 0.8  # the synthetic phrases are unambiguous
    assert {row["label"] for row in result["topics"]["per_label"]} >= {"Kindness", "Meals", "Car park"}
    assert result["sentiment"]["accuracy_5"] > 0.8
    assert (reports / "evaluation.html").read_text().startswith("<!doctype html>")
    assert "macro F1" in out


def test_console_script_runs_as_a_subprocess(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("FFT answer\nThe parking was awful\n")
    proc = subprocess.run([sys.executable, "-m", "carelens.cli.app", "feedback", "classify", str(src), "-o", str(tmp_path / "o.csv")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Parking" in (tmp_path / "o.csv").read_text(encoding="utf-8-sig")


@pytest.mark.shared_data
def test_quality_floor_on_the_shared_labelled_data(tmp_path, capsys):
    """Train on 80% of the public QDC data and evaluate on the rest: a floor, not the benchmark."""
    from sklearn.model_selection import train_test_split

    frame = read_table(shared_file("feedback", "fft_v6_train.csv"), dtype_str=True)
    train, test = train_test_split(frame, test_size=0.2, random_state=7)
    train.to_parquet(tmp_path / "train.parquet")
    test.to_parquet(tmp_path / "test.parquet")
    code, _, err = run(["feedback", "train", str(tmp_path / "train.parquet"), "-o", str(tmp_path / "m")], capsys)
    assert code == 0, err
    code, _, err = run(["feedback", "evaluate", str(tmp_path / "test.parquet"), "--model", str(tmp_path / "m"),
                        "-o", str(tmp_path / "r")], capsys)
    assert code == 0, err
    result = json.loads((tmp_path / "r" / "evaluation.json").read_text())
    assert result["topics"]["macro_f1"] >= 0.50
    assert result["topics"]["micro_f1"] >= 0.70
    assert result["sentiment"]["macro_f1_5"] >= 0.50
