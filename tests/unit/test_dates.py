"""The shared date reader: examples a reviewer can read, then properties over any date in range."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.dates import (
    APPOINTMENT_BOUNDS,
    DAY_FIRST,
    FEEDBACK_BOUNDS,
    MONTH_FIRST,
    DateBounds,
    parse_dates,
    problem_lines,
)
from carelens.errors import TableError

TODAY = date(2026, 6, 1)
BOUNDS = DateBounds(earliest=date(2000, 1, 1), days_ahead=31)


def read(values, bounds=BOUNDS, **kw):
    return parse_dates(pd.Series(values, dtype=object), column="Date", bounds=bounds, file="in.csv", today=TODAY, **kw)


def days(parsed):
    return [None if pd.isna(v) else v.date() for v in parsed.values]


def test_uk_text_dates_are_day_first_and_iso_is_iso():
    parsed = read(["25/03/2024", "03/04/2024", "2024-04-03", "2024/4/3", "3.4.24", "25 March 2024", "Mar 4, 2024"])
    assert parsed.order == DAY_FIRST and not parsed.notes
    assert days(parsed) == [date(2024, 3, 25), date(2024, 4, 3), date(2024, 4, 3), date(2024, 4, 3), date(2024, 4, 3),
                            date(2024, 3, 25), date(2024, 3, 4)]


def test_a_column_that_only_makes_sense_month_first_is_read_month_first_with_a_note():
    parsed = read(["03/25/2024", "03/04/2024", ""])
    assert parsed.order == MONTH_FIRST
    assert days(parsed) == [date(2024, 3, 25), date(2024, 3, 4), None]  # 03/04 is 4 March in THIS column
    assert parsed.notes == ["in.csv, column 'Date': dates are month first (US style, e.g. '03/25/2024'), so the whole "
                            "column was read as month/day/year"]
    assert not parsed.problems.any()


def test_a_column_mixing_both_orders_is_refused_naming_file_column_and_rows():
    with pytest.raises(TableError) as caught:
        read(["01/01/2024", "25/03/2024", "03/04/2024", "03/25/2024"])
    message = str(caught.value)
    assert message.startswith("in.csv, row 3, field 'Date': the column mixes day-first dates (row 3: '25/03/2024') "
                              "and month-first dates (row 5: '03/25/2024')")


def test_implausible_and_unreadable_values_are_reported_by_row_and_left_blank():
    raw = ["0001-01-01", "9999-12-31", "1850-06-01", "2024-02-30", "31/02/2024", "soon", "5", "2024-05-01", None]
    parsed = read(raw)
    assert days(parsed) == [None] * 7 + [date(2024, 5, 1), None]
    assert parsed.implausible.tolist() == [True, True, True] + [False] * 6
    assert parsed.unreadable.tolist() == [False] * 3 + [True] * 4 + [False, False]
    lines = problem_lines(parsed, pd.Series(raw), column="Date", bounds=BOUNDS, source="in.csv", then="; stored blank",
                          today=TODAY)
    assert lines[0] == (2, "in.csv, row 2, field 'Date': implausible date '0001-01-01' (expected 2000-01-01 to "
                           "2026-07-02); stored blank")
    assert lines[3] == (5, "in.csv, row 5, field 'Date': unreadable date '2024-02-30'; stored blank")
    assert [row for row, _ in lines] == [2, 3, 4, 5, 6, 7, 8]


def test_times_are_kept_and_time_zone_offsets_keep_the_clock_time_as_written():
    parsed = read(["25/03/2024 9:30pm", "01/04/2024 09:30:00", "2024-03-25T09:30:00Z", "2024-03-25 10:00",
                   "2024-06-01T09:30:00+01:00"])
    assert [str(v) for v in parsed.values] == ["2024-03-25 21:30:00", "2024-04-01 09:30:00", "2024-03-25 09:30:00",
                                               "2024-03-25 10:00:00", "2024-06-01 09:30:00"]
    same_offsets = read(["2024-06-01T09:30:00+01:00", "2024-06-02T10:30:00+01:00"])
    assert [str(v) for v in same_offsets.values] == ["2024-06-01 09:30:00", "2024-06-02 10:30:00"]
    typed = pd.Series(pd.to_datetime(["2024-06-01 09:30"]).tz_localize("Europe/London"))
    assert str(parse_dates(typed, column="d", bounds=BOUNDS, today=TODAY).values[0]) == "2024-06-01 09:30:00"


def test_dates_already_typed_are_checked_against_the_bounds_too():
    values = pd.Series(pd.to_datetime(["2024-01-01", "1901-01-01", None]))
    parsed = parse_dates(values, column="d", bounds=BOUNDS, today=TODAY)
    assert parsed.implausible.tolist() == [False, True, False]
    assert days(parsed) == [date(2024, 1, 1), None, None]


def test_the_bounds_of_each_use():
    assert FEEDBACK_BOUNDS.earliest == date(2000, 1, 1)
    assert APPOINTMENT_BOUNDS.latest(TODAY) > TODAY + timedelta(days=365 * 4)  # appointments are booked ahead
    parsed = read(["2026-06-20", "2026-12-25"])  # a comment cannot be from months ahead
    assert parsed.implausible.tolist() == [False, True]


# ----------------------------------------------------------------- properties
in_range = st.dates(min_value=date(2000, 1, 1), max_value=TODAY)
STYLES = {
    "iso": "%Y-%m-%d",
    "uk": "%d/%m/%Y",
    "uk2": "%d/%m/%y",
    "us": "%m/%d/%Y",
    "us_dash": "%m-%d-%Y",
}


@settings(max_examples=300, deadline=None)
@given(dates=st.lists(in_range, min_size=1, max_size=30), style=st.sampled_from(sorted(STYLES)),
       with_time=st.booleans())
def test_any_date_written_in_one_style_round_trips_or_is_ambiguous_in_every_row(dates, style, with_time):
    fmt = STYLES[style] + (" %H:%M" if with_time else "")
    stamps = [datetime(d.year, d.month, d.day, (d.day * 7) % 24, d.month * 4) if with_time else datetime(d.year, d.month, d.day)
              for d in dates]
    parsed = read([s.strftime(fmt) for s in stamps])
    got = [None if pd.isna(v) else v.to_pydatetime() for v in parsed.values]
    if got == stamps:
        assert not parsed.problems.any()
        return
    # The only allowed difference: a month-first column in which NO value can tell the order (every day is 12 or
    # less) is read day first, the documented UK default, for every row alike; a row whose day-first reading falls
    # outside the bounds is then reported, not returned. Never a mix of swapped and unswapped values.
    assert style.startswith("us")
    assert all(s.day <= 12 for s in stamps)
    swapped = [s.replace(day=s.month, month=s.day) for s in stamps]
    for value, swap, problem in zip(got, swapped, parsed.problems):
        assert value == (None if problem else swap)
        assert problem == (not BOUNDS.earliest <= swap.date() <= BOUNDS.latest(TODAY))


@settings(max_examples=200, deadline=None)
@given(uk=st.lists(in_range.filter(lambda d: d.day > 12), min_size=1, max_size=5),
       us=st.lists(in_range.filter(lambda d: d.day > 12), min_size=1, max_size=5), seed=st.randoms())
def test_a_column_mixing_provable_orders_is_always_refused(uk, us, seed):
    values = [d.strftime("%d/%m/%Y") for d in uk] + [d.strftime("%m/%d/%Y") for d in us]
    seed.shuffle(values)
    with pytest.raises(TableError, match="mixes day-first dates"):
        read(values)


@settings(max_examples=200, deadline=None)
@given(d=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
       style=st.sampled_from(["iso", "uk", "us"]))
def test_a_date_out_of_bounds_is_never_returned_as_a_value(d, style):
    text = d.strftime(STYLES[style]) if d.year >= 1000 else f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    parsed = read([text])
    inside = BOUNDS.earliest <= d <= BOUNDS.latest(TODAY)
    if inside:
        assert not parsed.problems.any()
    else:
        assert parsed.implausible.tolist() == [True]
        assert days(parsed) == [None]


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text(max_size=25), st.from_regex(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}",
                                                                                   fullmatch=True)), max_size=20))
def test_any_text_is_a_date_a_blank_or_a_reported_problem(values):
    try:
        parsed = read(values)
    except TableError as exc:
        assert "mixes day-first dates" in str(exc)
        return
    present = pd.Series(values, dtype=object).map(lambda v: v is not None and str(v).strip() != "").to_numpy(bool)
    has_value = parsed.values.notna().to_numpy()
    assert not (has_value & parsed.problems).any()
    assert ((has_value | parsed.problems) == present).all()
    assert len(parsed.values) == len(values)
