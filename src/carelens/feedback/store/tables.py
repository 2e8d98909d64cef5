"""Patient feedback's tables (SQLAlchemy Core, on the store's one ``MetaData``): migrations ``0001``
(first release), ``0006_feedback_responses`` (responses apart from their comments, undoable
corrections), ``0007_feedback_aliases`` (spellings of a place or demographic value merged) and
``0009_feedback_trust_mix`` (the trust's own demographic mix, beside its respondents').

A *response* is one respondent's return: one row of the export, with its date, place, FFT answer
and demographics. A *comment* is one free-text answer in it, with its question (a two-question FFT
return gives a response with two comments). Counts that protect privacy count responses.

Keys are strings chosen by carelens, not database sequences (see :mod:`carelens.db.schema`), so a
load can decide idempotency before it writes: a response's key is ``id:<trust ID>`` when the
export has IDs (``id:<ID>#<row hash>`` when that ID is already taken by a different response),
else ``hash:<sha256 of the row>``. A response's first comment has the response's key; further
comments ``<response key>/<hash of column and question>``.
"""

from __future__ import annotations

import sqlalchemy as sa

from carelens.db.schema import metadata

uploads = sa.Table(
    "fb_uploads",
    metadata,
    sa.Column("upload_id", sa.String(32), primary_key=True),
    sa.Column("source", sa.String(500), nullable=False),  # file name or "api"
    sa.Column("loaded_at", sa.DateTime, nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_added", sa.Integer, nullable=False),  # responses added
    sa.Column("rows_skipped", sa.Integer, nullable=False),
    sa.Column("model_version", sa.String(100), nullable=False),
    sa.Column("loaded_by", sa.String(200)),
    sa.Column("comments_added", sa.Integer),  # free-text answers added (NULL: loads before 0006, one per row)
)

responses = sa.Table(
    "fb_responses",
    metadata,
    sa.Column("response_key", sa.String(200), primary_key=True),
    sa.Column("response_id", sa.String(200)),  # the trust's ID of the return ("Comment ID"), if any
    sa.Column("upload_id", sa.String(32), nullable=False),
    sa.Column("date", sa.Date),
    sa.Column("fft_score", sa.SmallInteger),  # 1 very good .. 5 very poor, 6 don't know
    sa.Column("location_1", sa.String(300)),
    sa.Column("location_2", sa.String(300)),
    sa.Column("location_3", sa.String(300)),
    sa.Column("demographics", sa.Text),  # JSON object {name: value}
    sa.Index("ix_fb_responses_date", "date"),
    sa.Index("ix_fb_responses_response_id", "response_id"),
)

comments = sa.Table(
    "fb_comments",
    metadata,
    sa.Column("comment_key", sa.String(200), primary_key=True),
    sa.Column("response_key", sa.String(200), nullable=False),
    sa.Column("upload_id", sa.String(32), nullable=False),
    # sha256 of the export row it came from (every cell, whatever was mapped) and that row's column:
    # the same file loaded again, with any mapping, finds its answers by these. NULL before 0006.
    sa.Column("row_hash", sa.String(64)),
    sa.Column("source_column", sa.String(500)),
    sa.Column("question", sa.String(500)),
    sa.Column("comment_text", sa.Text, nullable=False),  # the original: never shown, only stored
    sa.Column("text_redacted", sa.Text, nullable=False),  # what every view and export shows
    sa.Index("ix_fb_comments_response", "response_key"),
    sa.Index("ix_fb_comments_row_hash", "row_hash"),
)

predictions = sa.Table(
    "fb_predictions",
    metadata,
    sa.Column("comment_key", sa.String(200), primary_key=True),
    sa.Column("model_version", sa.String(100), primary_key=True),
    sa.Column("sentiment", sa.SmallInteger),
    sa.Column("probabilities", sa.Text),  # JSON {label: probability}
    sa.Column("predicted_at", sa.DateTime, nullable=False),
)

# One row per (comment, model version, topic): filtering by topic is an indexed lookup, not a
# string search through joined names.
comment_topics = sa.Table(
    "fb_comment_topics",
    metadata,
    sa.Column("comment_key", sa.String(200), primary_key=True),
    sa.Column("model_version", sa.String(100), primary_key=True),
    sa.Column("topic", sa.String(200), primary_key=True),
    sa.Column("category", sa.String(200), nullable=False),
    sa.Index("ix_fb_comment_topics_topic", "topic"),
)

corrections = sa.Table(
    "fb_corrections",
    metadata,
    sa.Column("correction_id", sa.String(32), primary_key=True),
    sa.Column("comment_key", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # "interesting", "wrong_topics" or "sentiment"
    sa.Column("topics", sa.Text),  # the right topics, "; "-joined (wrong_topics only)
    sa.Column("sentiment", sa.SmallInteger),  # the right sentiment (a sentiment correction; optional with topics)
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # an undone correction (or a flag taken off) stays in the log; views follow the latest one not undone
    sa.Column("undone_at", sa.DateTime),
    sa.Column("undone_by", sa.String(200)),
    sa.Index("ix_fb_corrections_comment", "comment_key"),
)

# Spellings of a place or demographic value merged across uploads (``feedback.store.aliases``):
# ``field`` is "location_1".."location_3" or "demo:<field>"; ``spelling`` is kept stripped and
# case-folded, so "Ward 10", "ward 10 " and "WARD 10" are one spelling.
aliases = sa.Table(
    "fb_aliases",
    metadata,
    sa.Column("field", sa.String(200), primary_key=True),
    sa.Column("spelling", sa.String(500), primary_key=True),
    sa.Column("canonical", sa.String(500), nullable=False),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The trust's own demographic mix (``feedback.store.trust_mix``): the share of its catchment or
# patient population holding each value of a demographic field, as a trust supplied it (not patient
# data). ``field`` is named as the uploads' demographic column ("Ethnicity"); a load replaces every
# row of its fields, and says where the figures came from (``source``).
trust_mix = sa.Table(
    "fb_trust_mix",
    metadata,
    sa.Column("field", sa.String(200), primary_key=True),
    sa.Column("value", sa.String(500), primary_key=True),
    sa.Column("share", sa.Double, nullable=False),  # a fraction, 0..1
    sa.Column("source", sa.String(500), nullable=False),  # e.g. "ONS Census 2021, our catchment"
    sa.Column("loaded_by", sa.String(200)),
    sa.Column("loaded_at", sa.DateTime, nullable=False),
)
