from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.appointments.schema import Columns, normalise
from carelens.errors import TableError


def _table(**overrides) -> pd.DataFrame:
    base = {
        "appointment_id": ["A1", "A2", "A3"],
        "patient_id": ["P1", "P1", "P2"],
        "appointment_datetime": ["2024-01-10 09:00", "2024-02-10 10:00", "2024-03-01 11:00"],
        "booked_datetime": ["2023-12-01 12:00", "2024-01-20 12:00", "2024-02-01 12:00"],
        "attendance_status": ["5", "3", None],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_blank_status_marks_a_future_appointment_and_dna_codes_become_labels():
    out = normalise(_table())
    assert out["is_future"].tolist() == [False, False, True]
    assert out["dna"].tolist()[:2] == [0.0, 1.0]
    assert pd.isna(out["dna"].iloc[2])
    assert out["row"].tolist() == [2, 3, 4]


def test_unknown_status_code_names_the_row_and_the_code():
    with pytest.raises(TableError) as err:
        normalise(_table(attendance_status=["5", "9", None]), file="appts.csv")
    assert err.value.row == 3 and err.value.field == "attendance_status"
    assert "'9'" in str(err.value) and "appts.csv" in str(err.value)


def test_duplicate_appointment_ids_are_reported_with_the_repeated_row():
    with pytest.raises(TableError, match="duplicated appointment ID") as err:
        normalise(_table(appointment_id=["A1", "A2", "A1"]))
    assert err.value.row == 4


def test_missing_columns_are_listed():
    with pytest.raises(TableError, match="missing column 'attendance_status'"):
        normalise(_table().drop(columns=["attendance_status"]))


def test_booking_after_the_appointment_is_kept_with_a_warning_or_refused_when_strict():
    table = _table(booked_datetime=["2024-01-11 12:00", "2024-01-20 12:00", "2024-02-01 12:00"])
    out = normalise(table)
    assert len(out) == 3
    assert out["booked_datetime"].iloc[0] == out["appointment_datetime"].iloc[0]
    assert "booked after" in out.attrs["warnings"][0]
    with pytest.raises(TableError, match="booked after") as err:
        normalise(table, allow_booking_after=False)
    assert err.value.row == 2


def test_configurable_column_names_are_mapped_to_roles():
    table = _table().rename(columns={"attendance_status": "AttendCode", "patient_id": "NHSNo"})
    out = normalise(table, Columns.from_mapping({"attendance_status": "AttendCode", "patient_id": "NHSNo"}))
    assert out["patient_id"].tolist() == ["P1", "P1", "P2"]
    with pytest.raises(TableError, match="unknown column role"):
        Columns.from_mapping({"status": "AttendCode"})


def test_unparseable_appointment_date_is_an_error_naming_the_row():
    with pytest.raises(TableError, match="not dates") as err:
        normalise(_table(appointment_datetime=["2024-01-10 09:00", "soon", "2024-03-01 11:00"]))
    assert err.value.row == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["2", "3", "4", "5", "6", "7", " 5 ", "5.0"]), st.text(max_size=4)), min_size=1, max_size=8))
def test_any_status_column_either_parses_to_known_codes_or_fails_with_a_row(statuses):
    n = len(statuses)
    table = pd.DataFrame(
        {
            "appointment_id": [f"A{i}" for i in range(n)],
            "patient_id": ["P"] * n,
            "appointment_datetime": ["2024-01-10 09:00"] * n,
            "booked_datetime": ["2024-01-01 09:00"] * n,
            "attendance_status": statuses,
        }
    )
    try:
        out = normalise(table)
    except TableError as exc:
        assert exc.row is not None and 2 <= exc.row <= n + 1
    else:
        assert len(out) == n
        assert set(out["attendance_status"].dropna().astype(int)) <= {2, 3, 4, 5, 6, 7}


def test_us_dates_are_read_month_first_with_a_warning_never_half_swapped():
    out = normalise(_table(appointment_datetime=["03/25/2024 09:00", "03/04/2024 10:00", "04/01/2024 11:00"],
                           booked_datetime=["03/01/2024", "02/29/2024", "03/15/2024"]), file="appts.csv")
    assert out["appointment_datetime"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2024-03-25 09:00", "2024-03-04 10:00", "2024-04-01 11:00"]
    assert out["booked_datetime"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-01", "2024-02-29", "2024-03-15"]
    assert "column 'appointment_datetime': dates are month first (US style, e.g. '03/25/2024 09:00'), so the whole column " \
           "was read as month/day/year" in out.attrs["warnings"]


def test_a_column_mixing_day_first_and_month_first_dates_is_refused():
    with pytest.raises(TableError, match="mixes day-first dates") as err:
        normalise(_table(appointment_datetime=["25/03/2024", "03/25/2024", "01/01/2024"]), file="appts.csv")
    assert err.value.field == "appointment_datetime" and err.value.row == 2


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31 00:00", "1900-01-01"])
def test_implausible_dates_are_refused_naming_row_and_field(value):
    with pytest.raises(TableError, match=r"1 date\(s\) are outside 1950-01-01 to") as err:
        normalise(_table(booked_datetime=["2023-12-01 12:00", value, "2024-02-01 12:00"]), file="appts.csv")
    assert (err.value.row, err.value.field) == (3, "booked_datetime")
    assert f"(first: row 3, {value!r})" in str(err.value)


def test_how_the_file_was_read_travels_into_the_warnings(tmp_path):
    from carelens.tables import read_table

    path = tmp_path / "appts.csv"
    _table(site=["Café Royal", "Main", "Main"]).to_csv(path, index=False, encoding="cp1252")
    out = normalise(read_table(path), file=str(path))
    assert out.attrs["warnings"][0] == "not UTF-8; read as Windows-1252 (cp1252, Excel's usual CSV encoding)"
    assert "Café Royal" in list(out["site"].cat.categories)
