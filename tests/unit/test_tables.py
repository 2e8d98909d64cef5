"""read_table / write_table: every row survives, any common encoding, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carelens.errors import TableError
from carelens.tables import ensure_unique, read_table, require_columns, write_table


def test_reads_cp1252_export_with_pound_sign(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("id,comment\n1,Parking cost £5 – too much\n".encode("cp1252"))
    frame = read_table(path)
    assert frame.loc[0, "comment"] == "Parking cost £5 – too much"


def test_reads_utf8_bom_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffFFT answer,score\nlovely staff 😀,1\n".encode("utf-8"))
    frame = read_table(path)
    assert list(frame.columns) == ["FFT answer", "score"]
    assert frame.loc[0, "FFT answer"] == "lovely staff 😀"


def test_keeps_interior_blank_rows_and_drops_only_trailing_blank_rows(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("id,comment\n1,a\n,\n3,c\n,\n,\n")
    frame = read_table(path)
    assert len(frame) == 3
    assert frame["id"].isna().tolist() == [False, True, False]


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(TableError, match="empty"):
        read_table(path)


def test_missing_file_and_bad_suffix(tmp_path):
    with pytest.raises(TableError, match="not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(TableError, match="unsupported file type"):
        read_table(tmp_path / "x.docx")


def test_corrupt_xlsx_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(TableError, match="could not read"):
        read_table(path)


def test_require_columns_lists_what_exists():
    frame = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(TableError, match=r"missing column 'FFT answer'.*'a', 'b'"):
        require_columns(frame, ["FFT answer"], file="in.csv")


def test_ensure_unique_reports_file_row_numbers():
    frame = pd.DataFrame({"id": ["x", "y", "x", None, None]})
    assert ensure_unique(frame, "id") == [4]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_round_trip_each_format(tmp_path, suffix):
    frame = pd.DataFrame({"id": ["1", "2"], "text": ["é ok", "long " * 4000]})
    path = write_table(frame, tmp_path / f"out{suffix}")
    back = read_table(path, dtype_str=True)
    assert back["text"].tolist() == frame["text"].tolist()


text_cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(cells=st.lists(text_cells, min_size=1, max_size=20))
def test_csv_round_trip_keeps_every_row(tmp_path, cells):
    frame = pd.DataFrame({"comment": cells, "n": range(len(cells))})
    path = write_table(frame, tmp_path / "prop.csv")
    back = read_table(path, dtype_str=True)
    assert len(back) == len(cells)
    assert back["comment"].tolist() == cells


def test_text_mode_keeps_words_pandas_would_call_missing(tmp_path):
    path = tmp_path / "na.csv"
    path.write_text("comment\nNA\nNone\nnull\n\nok\n")
    assert read_table(path, dtype_str=True)["comment"].tolist()[:3] == ["NA", "None", "null"]
