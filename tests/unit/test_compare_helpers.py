"""The comparison page's helpers: natural sort of places, location levels narrowing each other,
clicks on comparison elements becoming the comments behind them, period words, and board-report
quotes that keep what staff flagged."""

from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from carelens.feedback.comparison import Period, period_words
from carelens.feedback.store.filters import CommentFilters, natural_sorted
from carelens.reports.render import select_quotes
from carelens.web.dashboard.data import element_filters, element_title, place_element
from carelens.web.dashboard.filters import narrowed_places

PLACES = [("Medicine", "Acute", "Ward 1"), ("Medicine", "Acute", "Ward 10"), ("Medicine", "Elderly", "Ward 2"),
          ("Surgery", "General", "Ward 20"), ("Surgery", "General", "Day Surgery Unit"),
          ("Women & Children", "Maternity", "Labour Ward"), ("Surgery", None, None)]


def test_places_sort_with_numbers_as_numbers_and_without_case():
    assert natural_sorted(["Ward 10", "ward 2", "Ward 1", "AMU", "Ward 2a"]) == ["AMU", "Ward 1", "ward 2", "Ward 2a",
                                                                                "Ward 10"]


@given(st.lists(st.text(max_size=8), max_size=20))
def test_natural_sort_keeps_every_value(values):
    assert sorted(natural_sorted(values)) == sorted(values)


def test_a_chosen_division_offers_only_its_directorates_and_wards():
    every = narrowed_places(PLACES, [[], [], []])
    assert every[2] == ["Day Surgery Unit", "Labour Ward", "Ward 1", "Ward 2", "Ward 10", "Ward 20"]
    surgery = narrowed_places(PLACES, [["Surgery"], [], []])
    assert surgery[0] == ["Medicine", "Surgery", "Women & Children"]  # the top level is never narrowed
    assert surgery[1] == ["General"] and surgery[2] == ["Day Surgery Unit", "Ward 20"]
    both = narrowed_places(PLACES, [["Medicine"], ["Elderly"], []])
    assert both[2] == ["Ward 2"]
    # a directorate chosen alone narrows the wards too
    assert narrowed_places(PLACES, [[], ["Acute"], []])[2] == ["Ward 1", "Ward 10"]


def test_a_comparison_element_opens_that_place_period_and_measure():
    custom = place_element(3, "Ward 10", date(2025, 12, 1), date(2025, 12, 31), "topic_negative:Parking")
    click = {"chart": "spc", "x": "2025-12", "y": "", "curve": "", "custom": custom}
    [filters] = element_filters(click)
    assert filters == CommentFilters(date_from=date(2025, 12, 1), date_to=date(2025, 12, 31), location_3=["Ward 10"],
                                     topic=["Parking"], sentiment=[4, 5])
    assert element_title(click) == "Ward 10, 1 to 31 December 2025: Parking (negative)"
    trust = place_element(None, None, date(2025, 12, 1), date(2025, 12, 31), "fft_good")
    assert element_filters({"chart": "signal", "custom": trust}) == [CommentFilters(date_from=date(2025, 12, 1),
                                                                                     date_to=date(2025, 12, 31))]


def test_a_forged_comparison_click_selects_nothing():
    for custom in ("", "not json", '{"level": 9, "place": "x", "start": "2025-01-01", "end": "2025-01-31", '
                   '"measure": "fft_good"}', '{"level": 3, "place": "x", "start": "2025-13-01", "end": "2025-01-31", '
                   '"measure": "fft_good"}', '{"level": 3, "place": "x", "start": "2025-01-01", "end": "2025-01-31", '
                   '"measure": "nonsense"}'):
        assert element_filters({"chart": "spc", "custom": custom}) == []


def test_periods_in_words_and_the_period_before():
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert november.name == "1 to 30 November 2026"
    assert november.previous() == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert Period(date(2026, 1, 1), date(2026, 3, 31)).previous() == Period(date(2025, 10, 1), date(2025, 12, 31))
    assert Period(date(2026, 11, 5), date(2026, 11, 11)).previous() == Period(date(2026, 10, 29), date(2026, 11, 4))
    assert period_words(date(2025, 12, 1), date(2026, 1, 31)) == "1 December 2025 to 31 January 2026"
    assert period_words(date(2026, 11, 1), None) == "from 1 November 2026"


def test_a_short_comment_staff_flagged_is_quoted_and_an_empty_one_is_not():
    frame = pd.DataFrame({"text": ["Brilliant midwives", "", "ok"], "sentiment": [1, 1, 1],
                          "flagged": [True, True, False], "date": pd.to_datetime(["2024-01-01"] * 3),
                          "topics": [[]] * 3})
    assert select_quotes(frame)["text"].tolist() == ["Brilliant midwives"]


def test_a_view_round_trips_through_the_address_bar():
    from carelens.web.dashboard.bookmark import from_query, to_query

    view = CommentFilters(location_1=["Surgery"], location_3=["Ward 10", "Day Surgery Unit"], date_from=date(2025, 11, 1),
                          date_to=date(2025, 11, 30), sentiment=[4, 5], fft_score=[5], topic=["Parking"],
                          demographics={"Age group": ["65-74"]}, search="rude staff")
    query = to_query(view, "compare")
    assert query.startswith("?page=compare&q=rude+staff&from=2025-11-01&to=2025-11-30&l1=Surgery&l3=Ward+10")
    back = from_query(query)
    assert back["page"] == "compare" and back["search"] == "rude staff"
    assert back["dates"] == (date(2025, 11, 1), date(2025, 11, 30))
    assert back["lists"] == {"loc_1": ["Surgery"], "loc_3": ["Ward 10", "Day Surgery Unit"], "fft": ["5"],
                             "topic": ["Parking"], "sentiment": ["4", "5"]}
    assert back["demographics"] == {"Age group": ["65-74"]}
    assert to_query(CommentFilters()) == ""


def test_a_mangled_address_opens_without_filters_instead_of_failing():
    from carelens.web.dashboard.bookmark import from_query

    back = from_query("?from=2025-13-45&to=yesterday&d.=x&l3=&unknown=1&q=" + "w" * 500)
    assert back["dates"] == (None, None) and back["lists"] == {} and back["demographics"] == {}
    assert len(back["search"]) == 200


def test_comment_pages_stay_within_the_list():
    from carelens.web.dashboard.pages.comments import page_span

    assert page_span(0, 450) == (0, 1, 200)
    assert page_span(2, 450) == (2, 401, 450)
    assert page_span(9, 450) == (2, 401, 450)  # past the end: the last page
    assert page_span(-1, 450) == (0, 1, 200)
    assert page_span(0, 0) == (0, 0, 0)
    assert page_span(1, 400) == (1, 201, 400)


def test_age_bands_sort_as_ages():
    from carelens.feedback.store.demographics import _band
    from carelens.feedback.store.filters import natural_key

    bands = ["75+", "18-34", "Under 18", "35-54", "<16", "55-74"]
    assert sorted(bands, key=lambda v: natural_key(_band(v))) == ["<16", "Under 18", "18-34", "35-54", "55-74", "75+"]


def test_a_client_without_an_address_opens_without_a_bookmark():
    from types import SimpleNamespace

    from carelens.web.dashboard.bookmark import address_query

    def missing():
        raise ValueError("ClientData value 'url_search' not found. Please report this issue.")

    assert address_query(SimpleNamespace(clientdata=SimpleNamespace(url_search=missing))) == ""
    given = SimpleNamespace(clientdata=SimpleNamespace(url_search=lambda: "?page=compare"))
    assert address_query(given) == "?page=compare"
