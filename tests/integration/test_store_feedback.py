"""The feedback store for real, on DuckDB and on PostgreSQL: load, idempotency, rollback, queries.

Each test gets a fresh store (a DuckDB file in tmp, or a unique PostgreSQL schema dropped after)."""

from __future__ import annotations


import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.db import current_revision, get_engine
from carelens.errors import StoreError
from carelens.feedback.ingest import load_comments
from carelens.feedback.model_cache import cached_model
from carelens.feedback.retraining import corrections_training_frame
from carelens.feedback.synth import generate_comments
from carelens.feedback.store import CommentFilters, queries
from carelens.feedback.store.corrections import list_corrections, record_correction
from carelens.feedback.store.tables import comment_topics, comments, uploads


@pytest.fixture(scope="module")
def model():
    return cached_model()  # the packaged model, loaded once per test process


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return generate_comments(400, seed=3)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_schema_is_created_by_the_migrations_on_first_use(engine):
    from alembic.script import ScriptDirectory

    from carelens.db.migrate import alembic_config

    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert {"fb_uploads", "fb_comments", "fb_predictions", "fb_comment_topics", "fb_corrections"} <= set(sa.inspect(engine).get_table_names())


def test_loading_the_same_export_twice_adds_nothing_the_second_time(engine, model, export):
    first = load_comments(export, engine=engine, model=model, source="export.csv", progress=False)
    assert first.rows_added == len(export) and first.rows_already_stored == 0
    assert first.mapping["location_1"] == "Division" and first.mapping["demographics"] == ["Age band", "Sex", "Ethnicity"]
    topics_before = count(engine, comment_topics)
    second = load_comments(export, engine=engine, model=model, source="export.csv", progress=False)
    assert second.rows_added == 0 and second.rows_already_stored == len(export)
    assert count(engine, comments) == len(export) and count(engine, comment_topics) == topics_before


def test_a_load_that_fails_part_way_leaves_the_store_unchanged(engine, model, export):
    load_comments(export.iloc[:50], engine=engine, model=model, progress=False)
    before = (count(engine, comments), count(engine, uploads), count(engine, comment_topics))
    # A real conflict on the LAST table written: a topic row already stored for a comment being loaded.
    row = export.iloc[60]
    topic = model.classify([row["FFT answer"]])["topics"][0][0]
    with engine.begin() as conn:
        conn.execute(comment_topics.insert(), [{"comment_key": f"id:{row['Comment ID']}", "model_version": model.version,
                                                "topic": topic, "category": "General"}])
    with pytest.raises(StoreError, match="nothing was stored"):
        load_comments(export, engine=engine, model=model, progress=False)
    assert (count(engine, comments), count(engine, uploads), count(engine, comment_topics)) == (before[0], before[1], before[2] + 1)


def test_stored_text_is_original_but_every_view_shows_it_redacted(engine, model):
    frame = pd.DataFrame({"Comment ID": ["a1"], "FFT answer": ["Dr Patel was great, ring me on 07700 900123"]})
    load_comments(frame, engine=engine, model=model, progress=False)
    with engine.connect() as conn:
        assert conn.execute(sa.select(comments.c.comment_text)).scalar() == frame["FFT answer"][0]
    page, total = queries.filtered_comments(engine)
    assert total == 1 and page["text"][0] == "Dr [name] was great, ring me on [phone]"


def test_filters_combine_with_and_and_match_the_frame(engine, model, export):
    load_comments(export, engine=engine, model=model, progress=False)
    f = CommentFilters(location_1=["Medicine"], fft_score=[1, 2], search="staff")
    page, total = queries.filtered_comments(engine, f)
    assert total == len(page) > 0
    assert set(page["location_1"]) == {"Medicine"} and set(page["fft_score"]) <= {1, 2}
    assert page["text"].str.contains("staff", case=False).all()
    expected = export[(export["Division"] == "Medicine") & export["FFT score"].isin([1, 2])
                      & export["FFT answer"].str.contains(r"\bstaff\b", case=False)]
    assert total == len(expected)
    _, n_demo = queries.filtered_comments(engine, CommentFilters(demographics={"Sex": ["Female"]}))
    assert n_demo == int((export["Sex"] == "Female").sum())
    by_topic, _ = queries.filtered_comments(engine, CommentFilters(topic=["Parking"]))
    assert all("Parking" in t for t in by_topic["topics"])


def test_breakdowns_under_ten_comments_are_suppressed(engine, model, export):
    load_comments(export, engine=engine, model=model, progress=False)
    topics = queries.topic_summary(engine)
    # issue 16: a row under the threshold is not returned at all (no count and no label of it)
    every = queries.topic_summary(engine, suppress_below=0)
    small = every[every["comments"] < 10]
    assert len(small) and not set(small["topic"]) & set(topics["topic"])
    assert set(topics["topic"]) == set(every.loc[every["comments"] >= 10, "topic"])
    big = topics[~topics["suppressed"]]
    assert len(big) == len(topics) and (big["comments"] >= 10).all()
    assert (big["positive"].fillna(0) + big["neutral"].fillna(0) + big["negative"].fillna(0) <= big["comments"]).all()
    # inside a shown row, a count under 10 is hidden, and never alone (or it is the total minus the rest)
    parts = topics[["positive", "neutral", "negative"]]
    assert ((parts >= 10) | parts.isna()).all().all()
    assert (parts.isna().sum(axis=1) != 1).all() and parts.isna().any().any()
    tiny = CommentFilters(location_3=["Labour Ward"], fft_score=[5])
    assert queries.summary_totals(engine, tiny)["positive"] is None
    for frame in (queries.categories_by_month(engine), queries.sentiment_by_month(engine), queries.fft_by_month(engine),
                  queries.topic_cooccurrence(engine)):
        assert "suppressed" in frame and frame.loc[~frame["suppressed"]].iloc[:, 2].ge(0).all()


def test_corrections_are_recorded_and_become_training_rows(engine, model, export):
    load_comments(export.iloc[:20], engine=engine, model=model, progress=False)
    key = f"id:{export['Comment ID'].iloc[1]}"
    record_correction(engine, key, "interesting", created_by="pxlead")
    record_correction(engine, key, "wrong_topics", topics=["Parking", "Food & drink provision & facilities"], sentiment=4,
                      valid_topics=model.framework.label_names)
    with pytest.raises(StoreError) as err:
        record_correction(engine, "id:nope", "interesting")
    assert err.value.field == "comment_key"
    with pytest.raises(StoreError):
        record_correction(engine, key, "wrong_topics", topics=["Not a topic"], valid_topics=model.framework.label_names)
    assert len(list_corrections(engine)) == 2
    page, _ = queries.filtered_comments(engine, CommentFilters(flagged_only=True))
    assert page["comment_key"].tolist() == [key] and bool(page["corrected"][0])
    rows, notes = corrections_training_frame(engine, model.framework, text_column="FFT answer", columns=["FFT answer"])
    assert len(rows) == 1 and rows["Parking"][0] == 1 and rows["Discharge"][0] == 0 and notes == []
    assert rows["FFT answer"][0] == export["FFT answer"].iloc[1] and rows["Comment sentiment"][0] == "4"
    # a training file of joined labels gets the corrected topics joined into its labels column
    joined, _ = corrections_training_frame(engine, model.framework, text_column="comment", columns=["comment", "codes", "mood"],
                                           labels_column="codes", sentiment_column="mood")
    assert joined["codes"][0] == "Parking; Food & drink provision & facilities" and joined["mood"][0] == "4"


def test_rows_without_an_id_are_keyed_by_content_and_load_once(engine, model):
    frame = pd.DataFrame({"Comment ID": ["k1", None, ""], "FFT answer": ["Kind staff", "Cold food", "Long wait"],
                          "Date": ["01/02/2025", "02/02/2025", "03/02/2025"]}).astype("string")
    first = load_comments(frame, engine=engine, model=model, progress=False)
    again = load_comments(frame, engine=engine, model=model, progress=False)
    assert (first.rows_added, again.rows_added, again.rows_already_stored) == (3, 0, 3)
    with engine.connect() as conn:
        keys = sorted(conn.execute(sa.select(comments.c.comment_key)).scalars())
    assert keys[-1] == "id:k1" and all(k.startswith("hash:") for k in keys[:2]) and "id:nan" not in keys


def test_fft_by_month_counts_each_answer(engine, model, export):
    load_comments(export, engine=engine, model=model, progress=False)
    fft = queries.fft_by_month(engine, suppress_below=0)
    scores = [f"score_{k}" for k in range(1, 6)]
    assert (fft[scores].sum(axis=1) == fft["respondents"]).all()
    month = pd.to_datetime(export["Date"], dayfirst=True).dt.strftime("%Y-%m")
    assert int(fft["score_6"].sum()) == int((export["FFT score"].astype(str) == "6")[month.notna()].sum())


def test_drill_through_headline_fft_and_topic_pairs_come_from_the_store(engine, model, export):
    """What the dashboard's feedback pages ask (comments behind a chart element, a comment's topics,
    the FFT headline, the topic-pairs grid), worked out again from the export and the plain queries."""
    load_comments(export, engine=engine, model=model, progress=False)
    # the FFT headline over every month: dated answers 1-5, share of 1-2
    dated = pd.to_datetime(export["Date"], dayfirst=True).notna()
    scores = pd.to_numeric(export["FFT score"], errors="coerce")[dated]
    rated = scores[scores.between(1, 5)]
    fft = queries.fft_totals(engine, suppress_below=10)
    assert fft["respondents"] == len(rated) and not fft["suppressed"]
    assert fft["share_good"] == pytest.approx(float(rated.le(2).mean()))
    few = queries.fft_totals(engine, suppress_below=len(rated) + 1)
    assert few["suppressed"] and few["share_good"] is None

    # a heatmap square: the comments with both topics, under the sidebar's filters
    grid = queries.cooccurrence_grid(engine, top=5, suppress_below=10)
    assert list(grid.index) == list(grid.columns) and len(grid) <= 5
    assert grid.isna().to_numpy().diagonal().all() and grid.equals(grid.T)
    a, b = grid.stack().idxmax()
    both = [CommentFilters(topic=[a]), CommentFilters(topic=[b])]
    frame, total, withheld = queries.comments_behind(engine, None, both, limit=5, suppress_below=10)
    with_a = set(queries.filtered_comments(engine, CommentFilters(topic=[a]))[0]["comment_key"])
    with_b = set(queries.filtered_comments(engine, CommentFilters(topic=[b]))[0]["comment_key"])
    assert total == len(with_a & with_b) == int(grid.loc[a, b]) and not withheld
    assert len(frame) == min(5, total) and set(frame["comment_key"]) <= with_a & with_b
    # the same square for a division where it covers fewer than the threshold: neither listed nor
    # counted (issue 16: no count of a suppressed cell leaves the store)
    frame, small, withheld = queries.comments_behind(engine, CommentFilters(location_1=["Medicine"]), both,
                                                     suppress_below=total + 1)
    assert withheld and frame.empty and small is None

    # a comment's topics, as every view shows them (what the correction dialog starts from)
    listed = queries.filtered_comments(engine, CommentFilters(topic=[a]), limit=1)[0]
    assert queries.comment_topics(engine, listed["comment_key"][0]) == list(listed["topics"][0])
    assert a in queries.comment_topics(engine, listed["comment_key"][0])
    assert queries.comment_topics(engine, "id:no-such-comment") == []


def test_filter_choices_are_kept_until_a_load_changes_them(engine, model, export):
    """Every page view asks for the filters' choices (at 1,000,000 comments ~0.17 s to count): they
    are kept with the in-memory view, survive a correction (which changes no choice) and are
    counted again after a load."""
    load_comments(export.iloc[:100], engine=engine, model=model, source="first.csv", progress=False)
    first = queries.filter_options(engine, suppress_below=1)
    assert first["comments"] == 100
    assert queries.filter_options(engine, suppress_below=1) == first  # the kept answer, equal
    key = queries.filtered_comments(engine, CommentFilters(), limit=1)[0]["comment_key"].iloc[0]
    record_correction(engine, key, "wrong_topics", topics=["Parking"], created_by="user:test")
    assert queries.filter_options(engine, suppress_below=1) == first
    load_comments(export.iloc[100:160], engine=engine, model=model, source="second.csv", progress=False)
    assert queries.filter_options(engine, suppress_below=1)["comments"] == 160


def test_a_kept_topic_summary_is_a_copy_and_a_correction_changes_it(engine, model, export):
    """The Overview's chart and table share one topic summary per redraw (kept beside the filter's
    mask): a caller changing its copy changes nothing kept, and a correction is counted at once."""
    load_comments(export.iloc[:120], engine=engine, model=model, source="kept.csv", progress=False)
    first = queries.topic_summary(engine, suppress_below=1)
    first.loc[:, "comments"] = -1  # a caller's own copy
    again = queries.topic_summary(engine, suppress_below=1)
    assert (again["comments"] > 0).all()
    parking = int(again.loc[again["topic"] == "Parking", "comments"].sum())
    key = queries.filtered_comments(engine, CommentFilters(), limit=200)[0]
    key = key[~key["topics"].apply(lambda t: "Parking" in list(t))]["comment_key"].iloc[0]
    record_correction(engine, key, "wrong_topics", topics=["Parking"], created_by="user:test")
    after = queries.topic_summary(engine, suppress_below=1)
    assert int(after.loc[after["topic"] == "Parking", "comments"].sum()) == parking + 1


def test_the_data_part_of_the_revision_ignores_corrections_but_not_loads(engine, model, export):
    """The dashboard recounts the filters' choices only when the data part of the store's revision
    changes: a correction (any session's) leaves it, a load changes it."""
    from carelens.feedback.store.view import data_part, poll_revision

    load_comments(export.iloc[:40], engine=engine, model=model, source="part.csv", progress=False)
    before = poll_revision(engine)
    key = queries.filtered_comments(engine, CommentFilters(), limit=1)[0]["comment_key"].iloc[0]
    record_correction(engine, key, "wrong_topics", topics=["Parking"], created_by="user:test")
    after_correction = poll_revision(engine)
    assert after_correction != before and data_part(after_correction) == data_part(before)
    load_comments(export.iloc[40:60], engine=engine, model=model, source="part2.csv", progress=False)
    assert data_part(poll_revision(engine)) != data_part(before)
    assert data_part("error:StoreBusyError: busy") == "error:StoreBusyError: busy"
