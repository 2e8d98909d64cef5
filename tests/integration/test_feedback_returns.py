"""Whole FFT returns in the store, on DuckDB and PostgreSQL (issue 12): several answers per respondent,
loads that recognise what is stored whatever the mapping, counts and suppression per respondent,
and staff corrections that every view follows, can be undone, and keep the model's answer beside them.
"""

from __future__ import annotations


import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.feedback.exports import build_report, comments_for_export
from carelens.feedback.ingest import load_comments
from carelens.feedback.model_cache import cached_model
from carelens.feedback.store import CommentFilters, queries
from carelens.feedback.store.corrections import (
    corrected_comments,
    list_corrections,
    record_correction,
    set_flag,
    toggle_flag,
    undo_correction,
)
from carelens.feedback.store.view import store_view
from carelens.feedback.synth import BETTER_QUESTION, GOOD_QUESTION, generate_returns

TEXTS = [GOOD_QUESTION, BETTER_QUESTION]


@pytest.fixture(scope="module")
def model():
    return cached_model()


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return generate_returns(240, seed=4)


def scalar(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def answered(frame: pd.DataFrame, column: str) -> int:
    return int(frame[column].astype(str).str.strip().ne("").sum())


def test_a_two_question_return_is_one_response_with_an_answer_per_question(engine, model, returns):
    result = load_comments(returns, engine=engine, model=model, progress=False)
    n_good, n_better = answered(returns, GOOD_QUESTION), answered(returns, BETTER_QUESTION)
    both_blank = int(((returns[GOOD_QUESTION] == "") & (returns[BETTER_QUESTION] == "")).sum())
    assert result.mapping["comment_text"] == TEXTS
    assert (result.rows_added, result.responses_added) == (len(returns), len(returns))
    assert result.comments_added == n_good + n_better + both_blank  # a return with no text keeps one blank answer
    assert scalar(engine, "select count(*) from fb_responses") == len(returns)
    page, total = queries.filtered_comments(engine)
    assert total == result.comments_added and set(page["question"].dropna()) == set(TEXTS)
    # each answer keeps its respondent: both answers of the first return share its response and ID
    for _, row in returns.head(20).iterrows():
        mine = page[page["comment_id"] == row["Comment ID"]]
        assert mine["response_key"].nunique() == 1
        assert len(mine) == max(1, int((row[TEXTS] != "").sum()))
    # FFT answers count once per respondent, not once per comment
    rated = returns["Overall, how was your experience of our service?"].isin(["Very good", "Good", "Neither good nor poor",
                                                                             "Poor", "Very poor"])
    assert queries.fft_totals(engine, suppress_below=0)["respondents"] == int(rated.sum())
    assert queries.summary_totals(engine, suppress_below=0)["respondents"] == len(returns)
    # filters still pick answers: the "What could be better?" question alone
    _, better = queries.filtered_comments(engine, CommentFilters(question=[BETTER_QUESTION]))
    assert better == n_better


def test_suppression_counts_people_not_comments(engine, model):
    """Five respondents with two answers each are ten comments but five people: under the limit of ten."""
    five = pd.DataFrame({"Comment ID": [f"p{i}" for i in range(5)], "Date": ["01/03/2025"] * 5, "Ward": ["Ward 3"] * 5,
                         "FFT score": ["1"] * 5, GOOD_QUESTION: ["The nurses were kind and caring"] * 5,
                         BETTER_QUESTION: ["The food was cold"] * 5})
    load_comments(five, engine=engine, model=model, progress=False)
    ward = CommentFilters(location_3=["Ward 3"])
    totals = queries.summary_totals(engine, ward, suppress_below=10)
    # a suppressed total gives no count at all (issue 16: no count of a suppressed cell leaves the store)
    assert (totals["comments"], totals["respondents"], totals["suppressed"]) == (None, None, True)
    assert totals["positive"] is None
    unsuppressed = queries.summary_totals(engine, ward, suppress_below=0)
    assert (unsuppressed["comments"], unsuppressed["respondents"]) == (10, 5)
    topics = queries.topic_summary(engine, ward, suppress_below=10)
    assert topics.empty  # rows of fewer people than the limit are not returned at all
    assert queries.fft_totals(engine, ward, suppress_below=10)["share_good"] is None
    month = queries.sentiment_by_month(engine, ward, suppress_below=10)
    assert month.empty
    frame, total, withheld = queries.comments_behind(engine, ward, [CommentFilters()], suppress_below=10)
    assert total is None and withheld and frame.empty
    # with a limit of five the same cells show, and count the people
    shown = queries.topic_summary(engine, ward, suppress_below=5)
    staff = shown[shown["topic"] == "Staff manner & personal attributes"]
    assert not staff.empty and int(staff["respondents"].iloc[0]) == 5


def test_a_second_text_column_added_later_is_added_to_the_stored_returns(engine, model, returns):
    part = returns.iloc[:60]
    first = load_comments(part, engine=engine, model=model, progress=False, mapping={"comment_text": GOOD_QUESTION})
    assert first.responses_added == 60 and first.mapping["comment_text"] == GOOD_QUESTION
    before = scalar(engine, "select count(*) from fb_comments")
    both = load_comments(part, engine=engine, model=model, progress=False, mapping={"comment_text": TEXTS})
    assert (both.rows_added, both.rows_already_stored, both.responses_added) == (0, 60, 0)
    assert both.comments_added == answered(part, BETTER_QUESTION) and not both.added_nothing
    assert scalar(engine, "select count(*) from fb_comments") == before + both.comments_added
    assert scalar(engine, "select count(*) from fb_responses") == 60
    # the same file again, with yet another mapping (a guess taken away), adds nothing
    again = load_comments(part, engine=engine, model=model, progress=False,
                          mapping={"comment_text": TEXTS, "location_3": None, "date": None})
    assert again.added_nothing and (again.rows_already_stored, again.comments_added) == (60, 0)
    assert "nothing new" in again.summary()


def test_not_in_this_file_means_not_in_this_file(engine, model, returns):
    result = load_comments(returns.iloc[:20], engine=engine, model=model, progress=False,
                           mapping={"location_3": None, "demographics": []})
    assert result.mapping["location_3"] is None and result.mapping["location_1"] == "Division"
    assert scalar(engine, "select count(location_3) from fb_responses") == 0
    assert scalar(engine, "select count(demographics) from fb_responses") == 0


def test_an_export_with_a_row_per_question_is_grouped_by_respondent(engine, model):
    long = pd.DataFrame({
        "Comment ID": ["L1", "L1", "L2", "L2"],
        "Date": ["02/03/2025", "02/03/2025", "03/03/2025", "05/03/2025"],
        "FFT score": ["2", "2", "4", "4"],
        "FFT question": [GOOD_QUESTION, BETTER_QUESTION, GOOD_QUESTION, BETTER_QUESTION],
        "FFT answer": ["Kind staff", "Parking is too dear", "Clean ward", "Long wait"],
    })
    result = load_comments(long, engine=engine, model=model, progress=False)
    # L1: one respondent, two answers; L2's rows differ in date: two returns sharing an ID, said
    assert (result.responses_added, result.comments_added, result.rows_kept_apart) == (3, 4, 1)
    assert any("comment ID 'L2' is also on row 4" in m for m in result.messages)
    assert queries.fft_totals(engine, suppress_below=0)["respondents"] == 3
    assert load_comments(long, engine=engine, model=model, progress=False).added_nothing


def test_title_rows_above_the_header_are_skipped_when_the_header_row_is_given(engine, model, tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text("Friends and Family Test\nExported 30/11/2026\nComment ID,Date,FFT answer\n"
                    "T1,01/11/2026,Lovely staff\nT2,31/11/2026,Cold food\n", encoding="utf-8")
    result = load_comments(path, engine=engine, model=model, progress=False, header_row=3)
    assert result.responses_added == 2
    assert result.messages == [f"titled.csv, row 5, field 'Date': unreadable date '31/11/2026'; stored blank"]


def test_a_correction_shows_everywhere_is_recorded_and_can_be_undone(engine, model, returns):
    load_comments(returns.iloc[:80], engine=engine, model=model, progress=False)
    page, _ = queries.filtered_comments(engine, CommentFilters(question=[GOOD_QUESTION]), limit=1)
    key = page["comment_key"][0]
    model_topics, model_sentiment = list(page["model_topics"][0]), page["model_sentiment"][0]
    assert "Parking" not in model_topics
    view = store_view(engine)
    parking_before = int(queries.topic_summary(engine, suppress_below=0).set_index("topic").get("comments", {}).get("Parking", 0))

    record_correction(engine, key, "wrong_topics", topics=["Parking"], sentiment=5, created_by="pxlead",
                      valid_topics=model.framework.label_names)

    assert store_view(engine) is view  # patched in place, not read again
    labels = queries.comment_labels(engine, key)
    assert (labels["topics"], labels["sentiment"], labels["corrected"]) == (["Parking"], 5, True)
    assert labels["model_topics"] == model_topics and labels["model_sentiment"] == model_sentiment
    by_topic, _ = queries.filtered_comments(engine, CommentFilters(topic=["Parking"]))
    assert key in set(by_topic["comment_key"])
    assert key in set(queries.filtered_comments(engine, CommentFilters(sentiment=[5]))[0]["comment_key"])
    summary = queries.topic_summary(engine, suppress_below=0).set_index("topic")
    assert int(summary.loc["Parking", "comments"]) == parking_before + 1
    exported = comments_for_export(engine, CommentFilters(topic=["Parking"]), ("Division", "Directorate", "Ward"), 0)
    assert "Parking" in exported.loc[exported["comment_key"] == key, "topics"].iloc[0]
    report = build_report(engine, CommentFilters(topic=["Parking"]), (), 0)
    assert report.total_comments == len(by_topic)
    log = list_corrections(engine, comment_key=key)
    assert log["created_by"].tolist() == ["pxlead"] and log["created_at"].notna().all()
    assert corrected_comments(engine)["comment_key"].tolist() == [key]  # what retraining takes

    undone = undo_correction(engine, key, by="pxlead")

    assert undone == log["correction_id"].iloc[0] and store_view(engine) is view
    labels = queries.comment_labels(engine, key)
    assert (labels["topics"], labels["sentiment"], labels["corrected"]) == (model_topics, model_sentiment, False)
    assert key not in set(queries.filtered_comments(engine, CommentFilters(topic=["Parking"]))[0]["comment_key"])
    log = list_corrections(engine, comment_key=key)
    assert log["undone_by"].tolist() == ["pxlead"] and log["undone_at"].notna().all()
    assert corrected_comments(engine).empty
    assert undo_correction(engine, key) is None  # nothing left to undo
    # a sentiment correction alone leaves the topics as they are; another process sees it too
    record_correction(engine, key, "sentiment", sentiment=1, created_by="ward manager")
    from carelens.feedback.store.view import invalidate

    invalidate(engine)  # as a fresh process would read the store
    labels = queries.comment_labels(engine, key)
    assert (labels["topics"], labels["sentiment"]) == (model_topics, 1)


def test_flags_toggle_and_are_never_stored_twice(engine, model, returns):
    load_comments(returns.iloc[:30], engine=engine, model=model, progress=False)
    key = queries.filtered_comments(engine, limit=1)[0]["comment_key"][0]
    assert toggle_flag(engine, key, by="a") is True
    assert set_flag(engine, key, True, by="b") is True  # already flagged: still one flag
    flagged = queries.filtered_comments(engine, CommentFilters(flagged_only=True))[0]
    assert flagged["comment_key"].tolist() == [key]
    assert len(list_corrections(engine, "interesting")) == 1
    assert toggle_flag(engine, key, by="a") is False
    assert queries.filtered_comments(engine, CommentFilters(flagged_only=True))[1] == 0
    log = list_corrections(engine, "interesting")
    assert log["undone_by"].tolist() == ["a"]
    assert toggle_flag(engine, key) is True and len(list_corrections(engine, "interesting")) == 2


def plain_overview_counts(view, mask) -> dict[str, dict]:
    """The Overview's per-cell respondents counted the plain way, from the view's rows: distinct
    (respondent, cell) pairs among the comments under ``mask``."""
    from itertools import combinations

    f = view.frame.loc[mask, ["response_key", "month", "sentiment", "topics", "categories"]]

    def distinct(frame: pd.DataFrame, cell: str) -> dict:
        frame = frame.dropna(subset=[cell])
        return frame.drop_duplicates(["response_key", cell]).groupby(cell).size().to_dict()

    topics = f.explode("topics")
    cats = f.dropna(subset=["month"]).explode("categories")
    cats["cell"] = cats["month"] + " " + cats["categories"].astype(str)
    order = {t: i for i, t in enumerate(view.topics)}
    f = f.assign(pair=[[f"{a} & {b}" for a, b in combinations(sorted(ts, key=order.get), 2)] for ts in f["topics"]])
    return {"topic": distinct(topics, "topics"), "month x category": distinct(cats, "cell"),
            "pair": distinct(f.explode("pair"), "pair"), "month": distinct(f.dropna(subset=["month"]), "month")}


def overview_counts(engine, filters) -> dict[str, dict]:
    topic = queries.topic_summary(engine, filters, suppress_below=0)
    months = queries.categories_by_month(engine, filters, suppress_below=0)
    pairs = queries.topic_cooccurrence(engine, filters, suppress_below=0)
    by_month = queries.sentiment_by_month(engine, filters, suppress_below=0)
    return {"topic": dict(zip(topic["topic"], topic["respondents"])),
            "month x category": dict(zip(months["month"] + " " + months["category"], months["respondents"])),
            "pair": dict(zip(pairs["topic_a"] + " & " + pairs["topic_b"], pairs["respondents"])),
            "month": dict(zip(by_month["month"], by_month["respondents"]))}


def test_respondents_per_topic_month_and_pair_match_a_plain_count_for_any_filter(engine, model, returns):
    """Each return counts once per cell (topic, month x category, pair of topics, month) whatever
    the filter picks, response-level (a place) or comment-level (a sentiment, a search, a
    question), and still after a correction changes a comment's topics."""
    from carelens.feedback.store.queries import filter_mask

    load_comments(returns, engine=engine, model=model, progress=False)
    view = store_view(engine)
    assert not view.one_comment_each  # two questions: several comments per respondent
    both = view.frame.groupby("response_key")["topics"].transform("size") > 1
    key = view.frame.loc[both, "comment_key"].iloc[0]
    filter_sets = (CommentFilters(), CommentFilters(sentiment=[4, 5]), CommentFilters(search="staff"),
                   CommentFilters(question=[BETTER_QUESTION]), CommentFilters(location_1=[str(returns.iloc[0, 2])]))
    for corrected in (False, True):
        if corrected:  # both of a return's comments about one topic now: the return is one respondent of it
            first, second = view.topics[:2]  # topics the view knows, so the correction is patched in
            record_correction(engine, key, "wrong_topics", topics=[first, second], created_by="a",
                              valid_topics=model.framework.label_names)
            other = view.frame.loc[(view.frame["response_key"] == view.frame.loc[view.position(key), "response_key"])
                                   & (view.frame["comment_key"] != key), "comment_key"].iloc[0]
            record_correction(engine, other, "wrong_topics", topics=[first], created_by="a",
                              valid_topics=model.framework.label_names)
            queries.sentiment_by_month(engine, suppress_below=0)  # built from the labels so far
            shown = view.frame.loc[view.position(other), "sentiment"]
            record_correction(engine, other, "sentiment", sentiment=1 if shown != 1 else 5, created_by="a")  # alone, too
            assert store_view(engine) is view  # patched, so what was kept from the old labels must not be used
        for filters in filter_sets:
            mask = filter_mask(view, filters)
            expected, got = plain_overview_counts(view, mask), overview_counts(engine, filters)
            for cell, counts in expected.items():
                assert got[cell] == counts, (filters, cell)
            by_month = queries.sentiment_by_month(engine, filters, suppress_below=0).set_index("month")
            plain = view.frame.loc[mask].dropna(subset=["month"]).assign(s=lambda f: f["sentiment"].astype(float))
            groups = pd.cut(plain["s"], [0, 2, 3, 5], labels=["positive", "neutral", "negative"])
            split = plain.groupby(["month", groups], observed=False).size().unstack(fill_value=0)
            assert by_month[["positive", "neutral", "negative"]].astype(int).to_dict() == \
                split.loc[by_month.index, ["positive", "neutral", "negative"]].astype(int).to_dict(), filters
            assert by_month["mean_sentiment"].to_numpy() == pytest.approx(
                plain.groupby("month")["s"].mean().loc[by_month.index].to_numpy()), filters
    everything = overview_counts(engine, CommentFilters())["topic"]
    assert everything[first] == plain_overview_counts(view, filter_mask(view, CommentFilters()))["topic"][first] >= 1
