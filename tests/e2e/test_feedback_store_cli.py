"""Through the CLI: `carelens feedback load` (row messages, idempotency, one-line errors) and
`carelens feedback train --include-corrections` really learning from staff corrections."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from carelens.cli.app import main
from tests.unit.test_feedback_core import TRUST_FRAMEWORK, trust_training_frame


def run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def trust_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("trust")
    (d / "fw.yaml").write_text(yaml.safe_dump(TRUST_FRAMEWORK))
    trust_training_frame(240, seed=5).to_csv(d / "train.csv", index=False)
    return d


TRAIN_ARGS = ["--text-column", "comment", "--column", "labels=codes", "--column", "sentiment=mood"]


def test_load_reports_bad_rows_by_number_and_field_and_adds_nothing_twice(tmp_path, capsys):
    export = tmp_path / "export.csv"
    pd.DataFrame({
        "Ref": ["R1", "R2", "R3", "R3", None],
        "Received": ["03/02/2025", "32/13/2024", "04/02/2025", "04/02/2025", "2025-02-06"],
        "Score": ["1", "2", "7", "Very good", "Poor"],
        "What you told us": ["Nurse Jane Smith rang me on 07700 900123", "Cold food", "Long wait", "Dup", "Dr Patel was kind"],
    }).to_csv(export, index=False)
    db = tmp_path / "s.duckdb"
    args = ["feedback", "load", str(export), "--db", str(db), "--column", "comment_text=What you told us",
            "--column", "comment_id=Ref"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert "read 5 rows; added 4" in out and "repeated in file 1" in out and "with problems 2" in out
    assert "row 3, field 'Received': unreadable date '32/13/2024'" in err
    assert "row 4, field 'Score': FFT score must be 1 to 6" in err
    assert "row 5: same comment ID 'R3' as row 4; skipped" in err
    code, out, _ = run(args, capsys)
    assert code == 0 and "added 0; already stored 4" in out

    from carelens.db import get_engine

    engine = get_engine(db)
    with engine.connect() as conn:
        keys = sorted(r[0] for r in conn.exec_driver_sql("select comment_key from fb_comments"))
        texts = [r[0] for r in conn.exec_driver_sql("select text_redacted from fb_comments")]
    engine.dispose()
    assert keys[1:] == ["id:R1", "id:R2", "id:R3"] and keys[0].startswith("hash:")  # a blank ID is hashed, not "id:nan"
    assert "Nurse [name] rang me on [phone]" in texts


def test_load_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "no_text.csv"
    bad.write_text("a,b\n1,x\n")
    code, _, err = run(["feedback", "load", str(bad), "--db", str(tmp_path / "s.duckdb")], capsys)
    assert code == 2 and "field 'comment_text'" in err and "'a', 'b'" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = run(["feedback", "load", str(tmp_path / "missing.csv"), "--db", str(tmp_path / "s.duckdb")], capsys)
    assert code == 2 and "not found" in err and len(err.strip().splitlines()) == 1


def test_train_include_corrections_learns_what_staff_corrected(trust_files, tmp_path, capsys):
    d = trust_files
    fw = ["--framework", str(d / "fw.yaml")]
    code, _, err = run(["feedback", "train", str(d / "train.csv"), "-o", str(tmp_path / "m0"), *fw, *TRAIN_ARGS], capsys)
    assert code == 0, err
    # comments about something the training file never mentions; staff say they are about Kindness
    new = pd.DataFrame({"Comment ID": [f"n{i}" for i in range(16)],
                        "FFT answer": [f"the porter {w} grumpy today {i}" for i, w in enumerate(["was", "seemed"] * 8)]})
    new.to_csv(tmp_path / "new.csv", index=False)
    db = tmp_path / "s.duckdb"
    code, _, err = run(["feedback", "load", str(tmp_path / "new.csv"), "--db", str(db), "--model", str(tmp_path / "m0")], capsys)
    assert code == 0, err
    from carelens.db import get_engine
    from carelens.feedback.store.corrections import record_correction

    engine = get_engine(db)
    for i in range(16):
        record_correction(engine, f"id:n{i}", "wrong_topics", topics=["Kindness", "Not in this framework"], sentiment=4)
    engine.dispose()

    code, out, err = run(["feedback", "train", str(d / "train.csv"), "-o", str(tmp_path / "m1"), *fw, *TRAIN_ARGS,
                          "--include-corrections", "--db", str(db)], capsys)
    assert code == 0, err
    assert "adding 16 corrected comments" in err and "'Not in this framework'" in err
    assert "trained on 256 comments" in out

    from carelens.feedback.model import FeedbackModel

    probe = ["the porter was grumpy", "the porter seemed grumpy on the ward"]
    before = FeedbackModel.load(tmp_path / "m0").classify(probe)["topics"].tolist()
    after = FeedbackModel.load(tmp_path / "m1").classify(probe)["topics"].tolist()
    assert all("Kindness" not in t for t in before)
    assert all("Kindness" in t for t in after)
