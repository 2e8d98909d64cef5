"""Redaction measured on the labelled set (tests/data/redaction_eval.txt): recall floors per kind of
detail and a ceiling on words wrongly blanked. benchmarks/redaction.py prints the same figures."""

from __future__ import annotations

import pytest

from carelens.feedback.redaction import _first_names, find_personal_details
from tests.redaction_eval import KINDS, load_items, parse_line, score

FLOORS = {"nhs": 1.0, "phone": 1.0, "email": 1.0, "postcode": 1.0, "titled": 0.95, "untitled": 0.80}


@pytest.fixture(scope="module")
def result():
    items = load_items()
    predicted = [[(m.start, m.end) for m in find_personal_details(item.text)] for item in items]
    return score(items, predicted, lambda word: word.lower() in _first_names())


def test_the_labelled_set_is_big_and_varied():
    items = load_items()
    assert len(items) >= 300
    counts = {k: sum(1 for i in items for d in i.details if d[2] == k) for k in KINDS}
    assert counts["titled"] >= 60 and counts["untitled"] >= 60 and min(counts.values()) >= 8
    assert sum(1 for i in items if not i.details) >= 150  # comments with no personal data at all


def test_the_markup_is_read_exactly():
    item = parse_line("Dr [[titled:van der Berg]] rang [[phone:07700 900123]].")
    assert item.text == "Dr van der Berg rang 07700 900123."
    assert [(item.text[s:e], k) for s, e, k in item.details] == [("van der Berg", "titled"), ("07700 900123", "phone")]


@pytest.mark.parametrize("kind", KINDS)
def test_recall_per_kind_is_above_its_floor(result, kind):
    assert result["recall"][kind] >= FLOORS[kind], result["leaked"]


def test_names_outside_the_first_name_list_are_still_found_by_their_context(result):
    outside = result["untitled_not_in_name_list"]
    assert outside["total"] >= 15 and outside["recall"] >= 0.80, result["leaked"]


def test_few_ordinary_words_are_blanked(result):
    assert result["false_positive_rate"] <= 0.005, result["false_positive_examples"]
    assert result["of_those_changed"] <= 0.04 * result["comments_without_personal_data"], result["false_positive_examples"]
