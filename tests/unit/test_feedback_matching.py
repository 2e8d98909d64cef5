"""Which rows of an export are new (``feedback.ingest.matching``), without a database: the store's side
is built by hand the way ``stored_for_matching`` reads it."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.feedback.ingest.mapping import detect_mapping
from carelens.feedback.ingest.matching import Stored, plan_load
from carelens.feedback.ingest.validation import answers, prepare_rows

EXPORT = pd.DataFrame({
    "Comment ID": ["1", "2", "3", "3", "1"],
    "Date": ["01/03/2025", "02/03/2025", "03/03/2025", "09/03/2025", "01/03/2025"],
    "Ward": ["Ward 2", "Ward 10", "Ward 1", "Ward 1", "Ward 2"],
    "What was good?": ["Kind staff", "", "Clean", "Quick", "Kind staff"],
    "What could be better?": ["Parking", "Food", "", "", "Parking"],
}).astype("string")


def plan(frame: pd.DataFrame, stored: Stored | None = None, mapping: dict | None = None):
    cmap = detect_mapping(list(frame.columns), mapping)
    rows, _, _ = prepare_rows(frame, cmap, source="f.csv")
    return plan_load(rows, answers(frame, cmap, rows), stored or Stored.empty(), source="f.csv"), rows


def stored_from(result) -> Stored:
    """The store after ``result`` was written (what stored_for_matching would read back)."""
    c = result.comments
    by_id = result.responses[["response_key", "response_id", "date"]].assign(source="f.csv", loaded_at=pd.Timestamp("2025-04-01"))
    return Stored(comments_by_hash=c[["row_hash", "source_column", "response_key"]],
                  responses_by_id=by_id[by_id["response_id"].notna()], texts=c[["response_key", "comment_text"]],
                  taken_keys=set(result.responses["response_key"]))


def test_a_file_is_read_into_responses_and_answers_and_repeats_are_said():
    result, _ = plan(EXPORT)
    assert result.rows_duplicate_in_file == 1 and result.rows_kept_apart == 1
    assert result.responses["response_key"].tolist() == ["id:1", "id:2", "id:3", result.responses["response_key"][3]]
    assert result.responses["response_key"][3].startswith("id:3#")
    assert result.messages == [
        "f.csv, row 6: same comment ID '1' and content as row 2; skipped (the first is kept)",
        "f.csv, row 5: comment ID '3' is also on row 4 with a different date, FFT answer, place or demographics; "
        "kept as a separate response",
    ]
    # one answer per question answered; the first answer of a response has the response's key
    first = result.comments[result.comments["response_key"] == "id:1"]
    assert first["question"].tolist() == ["What was good?", "What could be better?"]
    assert first["comment_key"].iloc[0] == "id:1" and first["comment_key"].iloc[1].startswith("id:1/")
    assert result.comments[result.comments["response_key"] == "id:2"]["comment_text"].tolist() == ["Food"]


def test_the_same_file_again_adds_nothing_and_a_second_column_adds_its_answers():
    first, _ = plan(EXPORT, mapping={"comment_text": "What was good?"})
    assert first.comments["source_column"].unique().tolist() == ["What was good?"]
    again, _ = plan(EXPORT, stored_from(first), mapping={"comment_text": "What was good?"})
    assert (again.rows_added, again.responses_added, len(again.comments)) == (0, 0, 0)
    more, _ = plan(EXPORT, stored_from(first), mapping={"comment_text": ["What was good?", "What could be better?"]})
    assert more.responses_added == 0 and more.comments["comment_text"].tolist() == ["Parking", "Food"]
    assert more.comments["response_key"].tolist() == ["id:1", "id:2"]
    assert all(k.startswith(("id:1/", "id:2/")) for k in more.comments["comment_key"])


def test_an_id_stored_with_other_content_is_a_different_response():
    first, _ = plan(EXPORT.iloc[:2])
    ward_b = pd.DataFrame({"Comment ID": ["1"], "Date": ["01/04/2025"], "Ward": ["Ward B"], "What was good?": ["Tea"],
                           "What could be better?": [""]}).astype("string")
    result, _ = plan(ward_b, stored_from(first))
    assert result.responses_added == 1 and result.rows_kept_apart == 1
    assert result.responses["response_key"][0].startswith("id:1#")
    assert "comment ID '1' is already stored (from f.csv, loaded 01 Apr 2025) with other content" in result.messages[0]
    # the same ID, date and an answer in common (the export saved again as XLSX): the same response
    resaved = EXPORT.iloc[:1].assign(Ward="WARD 2")
    same, _ = plan(resaved, stored_from(first))
    assert (same.responses_added, len(same.comments), same.rows_already_stored) == (0, 0, 1)


columns = st.sets(st.sampled_from(["Comment ID", "Date", "Ward", "What could be better?"]))


@settings(max_examples=40, deadline=None)
@given(columns, st.data())
def test_any_subset_of_optional_columns_loads_each_row_once_and_again_adds_nothing(chosen, data):
    frame = EXPORT[["What was good?", *sorted(chosen)]]
    texts = ["What was good?"] + (["What could be better?"] if "What could be better?" in chosen else [])
    first, rows = plan(frame, mapping={"comment_text": texts})
    assert first.rows_added + first.rows_already_stored + first.rows_duplicate_in_file == len(frame)
    assert first.comments["comment_key"].is_unique and first.responses["response_key"].is_unique
    again, _ = plan(frame, stored_from(first), mapping={"comment_text": data.draw(st.sampled_from([texts, texts[:1]]))})
    assert again.responses_added == 0 and len(again.comments) == 0
