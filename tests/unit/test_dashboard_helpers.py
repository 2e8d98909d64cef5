"""Dashboard helpers: plain-English filter summaries, chart drill-through, search highlighting,
upload column guesses, and the page registry."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from carelens.feedback.exports import describe_filters
from carelens.feedback.store.filters import CommentFilters
from carelens.web.dashboard.data import (
    element_filters,
    element_title,
    highlight,
    month_bounds,
)


def test_describe_filters_names_every_active_filter_in_plain_english():
    f = CommentFilters(location_1=["Surgery"], fft_score=[1, 5], sentiment=[4], search="parking", topic=["Parking"])
    text = describe_filters(f, ("Division", "Directorate", "Ward / team"))
    assert "Division: Surgery" in text
    assert "FFT: Very good, Very poor" in text
    assert "sentiment: Negative" in text
    assert 'search: "parking"' in text
    assert describe_filters(CommentFilters()) == "all comments"


def test_month_bounds_cover_the_whole_month_including_leap_days():
    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_bounds("2025-12") == (date(2025, 12, 1), date(2025, 12, 31))


def test_clicking_a_sentiment_segment_selects_that_topic_and_sentiment_group():
    [f] = element_filters({"chart": "subcategories", "y": "Parking", "curve": "Negative"})
    assert f.topic == ["Parking"] and f.sentiment == [4, 5]
    assert "parking" in element_title({"chart": "subcategories", "y": "parking", "curve": "Negative"}).lower()


def test_clicking_a_month_point_selects_that_month_and_category():
    [f] = element_filters({"chart": "categories_time", "x": "2024-03", "curve": "Staff"})
    assert (f.date_from, f.date_to, f.category) == (date(2024, 3, 1), date(2024, 3, 31), ["Staff"])


def test_clicking_a_heatmap_cell_requires_both_topics():
    filters = element_filters({"chart": "cooccurrence", "x": "Parking", "y": "Timeliness of care"})
    assert [f.topic for f in filters] == [["Parking"], ["Timeliness of care"]]


def test_unknown_chart_selects_nothing():
    assert element_filters({"chart": "something else"}) == []


def test_highlight_marks_plurals_and_every_term():
    out = highlight("The nurses were kind; one nurse was rude", "nurse kind")
    assert out.count("<mark>") == 3
    assert "<mark>nurses</mark>" in out and "<mark>kind</mark>" in out


@given(st.text(max_size=200), st.text(max_size=30))
def test_highlight_never_lets_html_through(text, search):
    out = highlight(text, search)
    stripped = out.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped


def test_upload_guesses_columns_of_a_typical_export():
    from carelens.web.dashboard.pages.upload import guess_mapping

    guess = guess_mapping(["Comment ID", "Date", "Division", "Ward / team", "FFT question", "FFT score", "FFT answer", "Sex"])
    assert guess["comment_text"] == "FFT answer"
    assert guess["date"] == "Date"
    assert guess["fft_score"] == "FFT score"
    assert "Sex" in guess["demographics"]
    assert guess_mapping(["a", "b"])["comment_text"] is None
    # an unusual comment column still gets the other fields guessed, names compared loosely
    odd = guess_mapping(["Ref", "date received", "SITE", "fft_Score", "What you told us", "age group"])
    assert odd["comment_text"] is None
    assert (odd["date"], odd["fft_score"], odd["location_3"], odd["demographics"]) == (
        "date received", "fft_Score", "SITE", ["age group"])


def test_every_registered_page_has_a_unique_id_ui_and_server():
    from carelens.web.dashboard.registry import pages

    found = pages()
    ids = [p.id for p in found]
    assert len(ids) == len(set(ids))
    assert {"overview", "comments", "complex", "framework", "upload", "export"} <= set(ids)
    for page in found:
        assert callable(page.ui) and callable(page.server)
        page.ui(page.id)  # builds without a session


def test_location_filters_take_the_trusts_own_level_names():
    from carelens.config import Settings
    from carelens.web.dashboard.filters import filters_ui

    from shiny import ui

    html = str(ui.page_sidebar(filters_ui("filters", Settings(location_levels=("Site", "Specialty"))), "main"))
    assert "filters-loc_1" in html and "filters-loc_2" in html and "filters-loc_3" not in html
    assert ">Site<" in html and ">Specialty<" in html and "Division" not in html


def test_sub_category_choices_are_grouped_one_option_per_sub_category():
    from carelens.web.dashboard.filters import topic_choices

    choices = topic_choices({"Activities": ["Activities & access to fresh air", "Electronic entertainment"]})
    assert choices == {"Activities": {"Activities & access to fresh air": "Activities & access to fresh air",
                                      "Electronic entertainment": "Electronic entertainment"}}


def test_an_fft_chart_click_selects_that_answer_in_that_month():
    (extra,) = element_filters({"chart": "fft_time", "x": "2025-01", "y": "60", "curve": "Very poor"})
    assert extra.fft_score == [5] and extra.date_from == date(2025, 1, 1) and extra.date_to == date(2025, 1, 31)
    assert element_title({"chart": "fft_time", "x": "2025-01", "curve": "Very poor"}) == "FFT answer very poor, 2025-01"
