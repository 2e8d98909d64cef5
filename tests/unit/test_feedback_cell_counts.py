"""Comments and respondents per cell (carelens.feedback.store.cell_counts) against a plain count:
for any returns (one to three comments each), any incidence of comments and cells, any mask."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.feedback.store.cell_counts import CellEntries


@st.composite
def returns_and_cells(draw):
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=25))  # comments per response
    response_code = np.repeat(np.arange(len(sizes)), sizes)
    n, n_cells = len(response_code), draw(st.integers(1, 6))
    incidence = np.array(draw(st.lists(st.lists(st.booleans(), min_size=n_cells, max_size=n_cells),
                                       min_size=n, max_size=n)), dtype=bool)
    mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return response_code, incidence, mask


def plain_counts(response_code: np.ndarray, incidence: np.ndarray, mask: np.ndarray) -> tuple[list, list]:
    rows, cells = np.nonzero(incidence & mask[:, None])
    pairs = pd.DataFrame({"response": response_code[rows], "cell": cells})
    n_cells = incidence.shape[1]
    comments = pairs["cell"].value_counts().reindex(range(n_cells), fill_value=0)
    people = pairs.drop_duplicates()["cell"].value_counts().reindex(range(n_cells), fill_value=0)
    return comments.tolist(), people.tolist()


def view_of(response_code: np.ndarray) -> SimpleNamespace:
    return SimpleNamespace(response_code=response_code,
                           one_comment_each=len(np.unique(response_code)) == len(response_code))


@settings(max_examples=200, deadline=None)
@given(returns_and_cells())
def test_counts_per_cell_match_a_plain_count_of_distinct_respondents(case):
    response_code, incidence, mask = case
    rows, cells = np.nonzero(incidence)
    # entries given in any order (pairs of topics are built grouped by how many topics a comment has)
    shuffle = np.random.default_rng(len(rows)).permutation(len(rows))
    entries = CellEntries.build(view_of(response_code), rows[shuffle], cells[shuffle], incidence.shape[1])
    comments, people = entries.counts(mask)
    assert (comments.tolist(), people.tolist()) == plain_counts(response_code, incidence, mask)


def test_a_respondent_with_a_topic_in_both_answers_counts_once_and_in_one_answer_once():
    # response 0: two comments, both about cell 0; response 1: two comments, cell 0 in the second only
    response_code = np.array([0, 0, 1, 1])
    incidence = np.array([[1, 0], [1, 1], [0, 0], [1, 0]], dtype=bool)
    rows, cells = np.nonzero(incidence)
    entries = CellEntries.build(view_of(response_code), rows, cells, 2)
    comments, people = entries.counts(np.ones(4, dtype=bool))
    assert comments.tolist() == [3, 1] and people.tolist() == [2, 1]
    # the filter keeps only the first comment of each return (a question filter, say)
    comments, people = entries.counts(np.array([True, False, True, False]))
    assert comments.tolist() == [1, 0] and people.tolist() == [1, 0]


def test_with_one_comment_each_respondents_are_comments():
    response_code = np.arange(5)
    incidence = np.eye(5, 3, dtype=bool)
    rows, cells = np.nonzero(incidence)
    entries = CellEntries.build(view_of(response_code), rows, cells, 3)
    assert entries.keys is None
    comments, people = entries.counts(np.array([True, True, False, True, True]))
    assert comments.tolist() == people.tolist() == [1, 1, 0]
