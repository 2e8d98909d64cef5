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
    """Rows with problems load (the bad cell blank) and are named; an exact repeat of a row is
    skipped; an ID repeated with other content is a different response, kept and said (issue 17:
    two wards' files both numbering from 1 must not lose one ward's comments)."""
    export = tmp_path / "export.csv"
    pd.DataFrame({
        "Ref": ["R1", "R2", "R3", "R3", None, "R1"],
        "Received": ["03/02/2025", "32/13/2024", "04/02/2025", "04/02/2025", "2025-02-06", "03/02/2025"],
        "Score": ["1", "2", "7", "Very good", "Poor", "1"],
        "What you told us": ["Nurse Jane Smith rang me on 07700 900123", "Cold food", "Long wait", "Dup", "Dr Patel was kind",
                             "Nurse Jane Smith rang me on 07700 900123"],
    }).to_csv(export, index=False)
    db = tmp_path / "s.duckdb"
    args = ["feedback", "load", str(export), "--db", str(db), "--column", "comment_text=What you told us",
            "--column", "comment_id=Ref"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert "read 6 rows; added 5" in out and "repeated in file 1" in out and "with problems 2" in out
    assert "1 kept apart" in out
    assert "row 3, field 'Received': unreadable date '32/13/2024'" in err
    assert "row 4, field 'Score': FFT score must be 1 to 6" in err
    assert "row 5: comment ID 'R3' is also on row 4 with a different date, FFT answer" in err
    assert "kept as a separate response" in err
    assert "row 7: same comment ID 'R1' and content as row 2; skipped" in err
    code, out, _ = run(args, capsys)
    assert code == 0 and "added 0; already stored 5" in out and "nothing new" in out

    from carelens.db import get_engine

    engine = get_engine(db)
    with engine.connect() as conn:
        keys = sorted(r[0] for r in conn.exec_driver_sql("select comment_key from fb_comments"))
        texts = [r[0] for r in conn.exec_driver_sql("select text_redacted from fb_comments")]
    engine.dispose()
    assert keys[1:4] == ["id:R1", "id:R2", "id:R3"] and keys[0].startswith("hash:")  # a blank ID is hashed, not "id:nan"
    assert keys[4].startswith("id:R3#")  # the second R3, kept under a key of its own
    assert "Nurse [name] rang me on [phone]" in texts


def test_a_second_wards_file_reusing_ids_is_kept_and_said(tmp_path, capsys):
    """Issue 17 item 3: Ward A's March file (IDs 1-3), then Ward B's April file (IDs 1-3, other
    texts and dates): all six responses are stored, and the second load says what happened."""
    ward_a, ward_b = tmp_path / "ward_a.csv", tmp_path / "ward_b.csv"
    pd.DataFrame({"Comment ID": ["1", "2", "3"], "Date": ["01/03/2025", "02/03/2025", "03/03/2025"],
                  "Ward": ["Ward A"] * 3, "FFT answer": ["Kind staff", "Cold food", "Long wait"]}).to_csv(ward_a, index=False)
    pd.DataFrame({"Comment ID": ["1", "2", "3"], "Date": ["01/04/2025", "02/04/2025", "03/04/2025"],
                  "Ward": ["Ward B"] * 3, "FFT answer": ["Clean ward", "Rude porter", "Quick discharge"]}).to_csv(ward_b, index=False)
    db = tmp_path / "s.duckdb"
    assert run(["feedback", "load", str(ward_a), "--db", str(db)], capsys)[0] == 0
    code, out, err = run(["feedback", "load", str(ward_b), "--db", str(db)], capsys)
    assert code == 0, err
    assert "added 3; already stored 0" in out and "3 kept apart" in out
    assert f"{ward_b}, row 2: comment ID '1' is already stored (from {ward_a}" in err and "kept as a separate response" in err
    code, out, _ = run(["feedback", "load", str(ward_b), "--db", str(db)], capsys)
    assert "added 0; already stored 3" in out  # and Ward B's file again is recognised
    from carelens.db import get_engine

    engine = get_engine(db)
    with engine.connect() as conn:
        wards = dict(conn.exec_driver_sql("select location_3, count(*) from fb_responses group by 1").fetchall())
    engine.dispose()
    assert wards == {"Ward A": 3, "Ward B": 3}


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
