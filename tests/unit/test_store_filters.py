"""Column mapping, row validation and search terms: the parts of loading and querying with no database."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from carelens.errors import TableError
from carelens.feedback.ingest.mapping import detect_mapping, parse_mapping_args
from carelens.feedback.ingest.matching import candidate_keys
from carelens.feedback.ingest.validation import parse_fft_score, prepare_rows
from carelens.feedback.store.filters import CommentFilters
from carelens.feedback.store.queries import _term_pattern, search_terms


def test_common_export_columns_are_detected_and_explicit_mapping_wins():
    cols = ["Comment ID", "Date", "FFT answer", "My text", "FFT score", "Division", "Directorate", "Ward / team", "Age band"]
    m = detect_mapping(cols)
    assert (m.comment_text, m.comment_id, m.fft_score, m.location_3, m.demographics) == ("FFT answer", "Comment ID", "FFT score", "Ward / team", ["Age band"])
    assert detect_mapping(cols, {"comment_text": "My text"}).comment_text == "My text"


def test_mapping_to_a_missing_column_names_it_and_lists_the_columns():
    with pytest.raises(TableError) as err:
        detect_mapping(["a", "b"], {"comment_text": "FFT answer"}, file="x.csv")
    assert err.value.field == "FFT answer" and "'a', 'b'" in str(err.value)


def test_no_text_column_at_all_is_a_clear_error():
    with pytest.raises(TableError, match="comment_text"):
        detect_mapping(["Date", "Score"])


def test_map_arguments_parse_and_reject_a_pair_without_equals():
    assert parse_mapping_args(["comment_text=FFT answer", "date = When"]) == {"comment_text": "FFT answer", "date": "When"}
    with pytest.raises(TableError, match="field=column"):
        parse_mapping_args(["comment_text"])


def test_bad_dates_and_scores_get_row_level_messages_and_the_rows_are_kept():
    frame = pd.DataFrame({"FFT answer": ["good", "bad", "ok", ""], "Date": ["01/02/2024", "31/02/2024", "2024-03-05", ""],
                          "FFT score": ["1", "9", "Very poor", ""]})
    rows, messages, problems = prepare_rows(frame, detect_mapping(list(frame.columns)), source="f.csv")
    assert len(rows) == 4 and list(rows["comment_text"]) == ["good", "bad", "ok", ""]
    assert problems.tolist() == [False, True, False, False]
    assert any("row 3, field 'Date'" in m for m in messages) and any("row 3, field 'FFT score'" in m for m in messages)
    assert [str(d) for d in rows["date"]] == ["2024-02-01", "None", "2024-03-05", "None"]
    assert rows["fft_score"].tolist()[0] == 1 and rows["fft_score"].tolist()[2] == 5


def test_strict_validation_fails_naming_row_and_field():
    frame = pd.DataFrame({"FFT answer": ["a", "b"], "FFT score": ["2", "0"]})
    with pytest.raises(TableError) as err:
        prepare_rows(frame, detect_mapping(list(frame.columns)), source="f.csv", strict=True)
    assert (err.value.row, err.value.field) == (3, "FFT score")


def test_rows_without_ids_are_keyed_by_content_so_a_reload_matches():
    frame = pd.DataFrame({"FFT answer": ["same", "same", "other"]})
    rows, _, _ = prepare_rows(frame, detect_mapping(list(frame.columns)))
    again, _, _ = prepare_rows(frame.copy(), detect_mapping(list(frame.columns)))
    keys, keys_again = candidate_keys(rows), candidate_keys(again)  # keys moved to ingest.matching
    assert keys == keys_again
    assert keys[0] == keys[1] != keys[2]


@given(st.integers(1, 6))
def test_every_valid_fft_score_parses(score):
    assert parse_fft_score(str(score)) == score == parse_fft_score(f"{score}.0")


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=7)))
def test_fft_scores_out_of_range_are_refused(score):
    with pytest.raises(ValueError):
        parse_fft_score(str(score))


@pytest.mark.parametrize("term,text", [("nurse", "the nurses were kind"), ("nurses", "a nurse came"), ("wait", "long waits"),
                                       ("delays", "one delay"), ("boxes", "a box"), ("reply", "no replies")])
def test_search_terms_match_singular_and_plural(term, text):
    assert re.search(_term_pattern(term), text, re.IGNORECASE)


def test_search_terms_are_whole_words():
    assert not re.search(_term_pattern("car"), "the carer was kind", re.IGNORECASE)
    assert search_terms('  "rude"  staff! ') == ["rude", "staff"]


def test_filters_refuse_scores_out_of_range_naming_the_field():
    with pytest.raises(ValidationError, match="fft_score"):
        CommentFilters(fft_score=[7])
    with pytest.raises(ValidationError, match="sentiment"):
        CommentFilters(sentiment=[0])


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400", "Infinity", "NAN"])  # "nan" itself reads as blank
def test_an_infinite_or_not_a_number_fft_score_is_a_value_error_not_an_overflow(value):
    with pytest.raises(ValueError):
        parse_fft_score(value)


def test_a_repeated_search_word_is_searched_once_and_punctuation_around_words_is_dropped():
    assert search_terms("nurse Nurse  nurse, staff") == ["nurse", "staff"]
    assert search_terms("«kind» “staff” don't x-ray") == ["kind", "staff", "don't", "x-ray"]


@given(st.text(max_size=120))
def test_a_search_is_accepted_exactly_when_its_words_are_within_the_bound(text):
    """The published pattern (read with ASCII classes, as JSON Schema does, or Unicode ones, as Python
    does) agrees with the count of words, and every search term is one of those words."""
    from carelens.feedback.store.filters import MAX_SEARCH_WORDS, SEARCH_PATTERN, search_words

    words = search_words(text)
    assert len(search_terms(text)) <= len(words)
    within = len(words) <= MAX_SEARCH_WORDS
    assert bool(re.fullmatch(SEARCH_PATTERN, text)) is within
    assert bool(re.fullmatch(SEARCH_PATTERN, text, re.ASCII)) is within
    try:
        CommentFilters(search=text)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is within


def test_the_dashboard_search_is_cut_to_what_a_search_may_hold():
    from hypothesis import given, settings, strategies as st

    from carelens.feedback.store.filters import MAX_SEARCH_WORDS, bounded_search, search_words

    @settings(max_examples=100, deadline=None)
    @given(st.text(max_size=600))
    def check(text):
        cut = bounded_search(text)
        assert text.startswith(cut)
        assert len(search_words(cut)) <= MAX_SEARCH_WORDS
        CommentFilters(search=cut)  # never refused

    check()
    assert bounded_search(" ".join(f"w{i}" for i in range(30))) == " ".join(f"w{i}" for i in range(10))
