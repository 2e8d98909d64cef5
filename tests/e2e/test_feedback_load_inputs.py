"""`carelens feedback load` / `classify` on the awkward files trusts really send: US-style dates,
impossible dates, and files that are not clean UTF-8. Nothing is lost and each is said in one line."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from carelens.cli.app import main


def run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stored_dates(db) -> dict[str, str | None]:
    engine = sa.create_engine(f"duckdb:///{db}")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("select response_id, cast(date as varchar) from fb_responses").fetchall()  # one response per row
    engine.dispose()
    return dict(rows)


def test_us_dates_are_detected_and_implausible_ones_stored_blank_with_a_row_message(tmp_path, capsys):
    export = tmp_path / "us.csv"
    pd.DataFrame({
        "Comment ID": ["1", "2", "3", "4"],
        "Date": ["03/25/2024", "03/04/2024", "0001-01-01", "12/31/2024"],
        "FFT answer": ["Kind staff", "Long wait", "Cold food", "Clean ward"],
    }).to_csv(export, index=False)
    db = tmp_path / "s.duckdb"
    code, out, err = run(["feedback", "load", str(export), "--db", str(db)], capsys)
    assert code == 0, err
    assert "read 4 rows; added 4" in out and "with problems 1" in out
    assert "column 'Date': dates are month first (US style, e.g. '03/25/2024')" in err
    assert "row 4, field 'Date': implausible date '0001-01-01' (expected 2000-01-01 to" in err
    assert stored_dates(db) == {"1": "2024-03-25", "2": "2024-03-04", "3": None, "4": "2024-12-31"}


def test_a_mixed_order_date_column_refuses_the_load_and_stores_nothing(tmp_path, capsys):
    export = tmp_path / "mixed.csv"
    pd.DataFrame({"Date": ["25/03/2024", "03/25/2024"], "FFT answer": ["a", "b"]}).to_csv(export, index=False)
    db = tmp_path / "s.duckdb"
    code, out, err = run(["feedback", "load", str(export), "--db", str(db)], capsys)
    assert code != 0 and "Traceback" not in err
    assert "field 'Date': the column mixes day-first dates (row 2: '25/03/2024') and month-first dates" in err


def test_encoding_fallbacks_are_said_by_load_and_classify(tmp_path, capsys):
    export = tmp_path / "excel.csv"
    export.write_bytes("Comment ID,FFT answer\n1,café was great\n".encode("utf-8")
                       + "2,parking £5 too dear\n".encode("cp1252"))
    db = tmp_path / "s.duckdb"
    code, out, err = run(["feedback", "load", str(export), "--db", str(db)], capsys)
    assert code == 0, err
    assert "added 2" in out
    assert f"warning: {export}: mostly UTF-8, but 1 line(s) held bytes that are not UTF-8 (file line 3)" in err
    code, out, err = run(["feedback", "classify", str(export), "-o", str(tmp_path / "out.csv")], capsys)
    assert code == 0, err
    assert f"warning: {export}: mostly UTF-8" in err
    assert pd.read_csv(tmp_path / "out.csv")["FFT answer"].tolist() == ["café was great", "parking £5 too dear"]
