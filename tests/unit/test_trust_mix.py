"""The trust mix file's checks (``feedback.trust_mix``): fractions or percents, any order of rows, and
every problem one line naming the file, row and column (issue 12, item 6)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carelens.errors import TableError
from carelens.feedback.trust_mix import parse_mix, read_mix


def table(rows: list[tuple], columns=("field", "value", "share")) -> pd.DataFrame:
    return pd.DataFrame([[str(c) for c in r] for r in rows], columns=list(columns), dtype="string")


def shares(mix) -> dict[tuple[str, str], float]:
    return {(f, v): s for f, v, s in zip(mix.rows["field"], mix.rows["value"], mix.rows["share"])}


def test_fractions_and_percents_read_as_fractions_with_the_file_s_rows():
    mix = parse_mix(table([("Ethnicity", "White British", "0.8"), ("Ethnicity", "Asian", "0.2"),
                           ("Age group", "18-34", "40%"), ("Age group", "35+", "60 %"),
                           ("Sex", "Female", "51.5"), ("Sex", "Male", "48.5")]), "mix.csv")
    assert shares(mix) == {("Ethnicity", "White British"): 0.8, ("Ethnicity", "Asian"): 0.2,
                           ("Age group", "18-34"): 0.4, ("Age group", "35+"): 0.6,
                           ("Sex", "Female"): pytest.approx(0.515), ("Sex", "Male"): pytest.approx(0.485)}
    assert mix.scales == {"Ethnicity": "fraction", "Age group": "percent", "Sex": "percent"}
    assert mix.rows["row"].tolist() == [2, 3, 4, 5, 6, 7] and mix.fields == ["Ethnicity", "Age group", "Sex"]


def test_column_names_in_any_case_extra_columns_and_blank_lines_are_fine():
    frame = pd.DataFrame({" Field ": ["Sex", None, "sex "], "VALUE": ["Female", None, " Male"],
                          "Share": ["0.5", None, "0.5"], "Notes": ["census", None, ""]}, dtype="string")
    mix = parse_mix(frame, "mix.csv")
    assert shares(mix) == {("Sex", "Female"): 0.5, ("Sex", "Male"): 0.5}  # one field, spelt as first given


def test_shares_a_little_off_one_are_accepted_as_rounding():
    mix = parse_mix(table([("Sex", "F", "33.3"), ("Sex", "M", "33.3"), ("Sex", "X", "33.3")]), "mix.csv")
    assert sum(shares(mix).values()) == pytest.approx(0.999)


@pytest.mark.parametrize(("rows", "row", "field", "words"), [
    ([("Sex", "F", "half"), ("Sex", "M", "0.5")], 2, "share", "'half' is not a number"),
    ([("Sex", "F", "0.5"), ("Sex", "M", "-0.5"), ("Sex", "X", "1")], 3, "share", "below 0"),
    ([("Sex", "F", "inf"), ("Sex", "M", "0")], 2, "share", "is not a share"),
    ([("Sex", "F", "nan"), ("Sex", "M", "1")], 2, "share", "is not a share"),
    ([("Sex", "F", "0.5"), ("Sex", "", "0.5")], 3, "value", "no value"),
    ([("", "F", "0.5"), ("Sex", "M", "0.5")], 2, "field", "no field"),
    ([("Sex", "F", "0.5"), ("Sex", "M", "")], 3, "share", "no share"),
    ([("Sex", "F", "0.5"), ("sex", " f ", "0.5")], 3, "value", "given twice for Sex (rows 2 and 3)"),
    ([("Sex", "F", "101%"), ("Sex", "M", "0%")], 2, "share", "101% is over 100%"),
    ([("Sex", "F", "1.01"), ("Sex", "M", "0")], 2, "share", "1.01 is over 1"),
    ([("Sex", "F", "0.5"), ("Sex", "M", "0.3")], None, "share", "shares of Sex (rows 2-3) add up to 0.8"),
    ([("Sex", "F", "50%"), ("Sex", "M", "40%")], None, "share", "add up to 90%, not 100%"),
    ([("Sex", "F", "0.5%"), ("Sex", "M", "0.5%")], None, "share", "add up to 1%, not 100%"),
    ([("Sex", "F", "0.5"), ("Sex", "x" * 501, "0.5")], 3, "value", "501 characters"),
    ([("S" * 201, "F", "1")], 2, "field", "201 characters"),
    ([("Sex", "F\x00", "1")], 2, "value", "NUL"),
])
def test_a_bad_row_is_one_line_naming_the_file_row_and_column(rows, row, field, words):
    with pytest.raises(TableError) as error:
        parse_mix(table(rows), "census.csv")
    message = str(error.value)
    assert error.value.file == "census.csv" and error.value.row == row and error.value.field == field, message
    assert words in message and "\n" not in message and message.startswith("census.csv")


def test_a_file_without_the_three_columns_or_rows_says_so():
    with pytest.raises(TableError, match="no 'share' column: a trust mix has columns field, value and share; "
                                         "the file has 'field', 'value', 'percent'"):
        parse_mix(table([("Sex", "F", "1")], columns=("field", "value", "percent")), "mix.csv")
    with pytest.raises(TableError, match="no rows"):
        parse_mix(table([]), "mix.csv")


def test_read_mix_names_rows_as_the_file_numbers_them(tmp_path):
    path = tmp_path / "mix.csv"
    path.write_text("field,value,share\nSex,F,0.5\n\nSex,M,oops\n", encoding="utf-8")
    with pytest.raises(TableError) as error:
        read_mix(path)
    assert error.value.row == 4 and str(path) in str(error.value)
    with pytest.raises(TableError) as error:
        read_mix(path, name="sent.csv")  # as a client sent it (the API), not the server's temporary path
    assert str(error.value).startswith("sent.csv, row 4")


# --- properties -------------------------------------------------------------------------------
VALUES = st.lists(st.text("abcdefgh -", min_size=1, max_size=8).filter(str.strip), min_size=1, max_size=6,
                  unique_by=lambda v: " ".join(v.split()).casefold())


@st.composite
def mixes(draw):
    """Fields with values and positive whole-number weights; the shares are weight / total."""
    fields = draw(st.lists(st.sampled_from(["Sex", "Ethnicity", "Age group", "Religion"]), min_size=1, max_size=3,
                           unique=True))
    out = {}
    for f in fields:
        values = draw(VALUES)
        weights = draw(st.lists(st.integers(1, 50), min_size=len(values), max_size=len(values)))
        total = sum(weights)
        out[f] = {" ".join(v.split()): w / total for v, w in zip(values, weights)}
    return out


def _written(mix: dict, scale: str, order: list[int]) -> pd.DataFrame:
    rows = [(f, v, s) for f, values in mix.items() for v, s in values.items()]
    shown = {"fraction": lambda s: repr(s), "percent": lambda s: repr(100 * s), "percent sign": lambda s: f"{100 * s}%"}
    return table([(rows[i][0], rows[i][1], shown[scale](rows[i][2])) for i in order])


@given(mixes(), st.sampled_from(["fraction", "percent", "percent sign"]), st.randoms())
def test_any_order_of_rows_and_either_scale_gives_the_same_mix(mix, scale, rnd):
    n = sum(len(v) for v in mix.values())
    order = list(range(n))
    rnd.shuffle(order)
    got = shares(parse_mix(_written(mix, scale, order), "mix.csv"))
    assert got == pytest.approx({(f, v): s for f, values in mix.items() for v, s in values.items()})


@given(mixes(), st.sampled_from(["fraction", "percent", "percent sign"]), st.data())
def test_any_subset_of_rows_is_loaded_whole_or_refused_naming_a_field(mix, scale, data):
    """Dropping rows leaves fields that may no longer add up: the file is then refused, naming such a
    field; or loaded with exactly the rows kept, each field's shares its written numbers over one
    scale (1 or 100) and adding up to 1 within 2%. (Percents without a sign that add up to about 1
    are read as fractions: the format cannot tell them apart.)"""
    n = sum(len(v) for v in mix.values())
    kept = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    frame = _written(mix, scale, kept)
    numbers = frame["share"].str.rstrip("%").astype(float)
    totals = numbers.groupby(frame["field"]).sum()
    try:
        got = parse_mix(frame, "mix.csv")
    except TableError as error:
        message = str(error)
        assert "\n" not in message and message.startswith("mix.csv") and error.field == "share"
        adds_up = {f for f, t in totals.items() if abs(t - 100) <= 2 or (abs(t - 1) <= 0.02 and scale != "percent sign")}
        wrong = [f for f in totals.index if f not in adds_up]
        assert any(f"shares of {f} " in message for f in wrong), message
        return
    assert list(zip(got.rows["field"], got.rows["value"])) == list(zip(frame["field"], frame["value"]))
    for f, part in got.rows.groupby("field"):
        assert abs(part["share"].sum() - 1) <= 0.02 + 1e-9
        written = numbers[frame["field"] == f].to_numpy()
        scale_used = written / part["share"].to_numpy()
        assert scale_used == pytest.approx([scale_used[0]] * len(written)) and scale_used[0] in (
            pytest.approx(1.0), pytest.approx(100.0))
