"""Patient feedback's tables (SQLAlchemy Core, on the store's one ``MetaData``), created by migration ``0001``.

Keys are strings chosen by carelens, not database sequences (see :mod:`carelens.db.schema`), so a
load can decide idempotency before it writes: a comment's key is ``id:<trust comment ID>`` when the
export has IDs, else ``hash:<sha256 of its mapped fields>``.
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
    sa.Column("rows_added", sa.Integer, nullable=False),
    sa.Column("rows_skipped", sa.Integer, nullable=False),
    sa.Column("model_version", sa.String(100), nullable=False),
    sa.Column("loaded_by", sa.String(200)),
)

comments = sa.Table(
    "fb_comments",
    metadata,
    sa.Column("comment_key", sa.String(200), primary_key=True),
    sa.Column("comment_id", sa.String(200)),
    sa.Column("upload_id", sa.String(32), nullable=False),
    sa.Column("date", sa.Date),
    sa.Column("comment_text", sa.Text, nullable=False),  # the original: never shown, only stored
    sa.Column("text_redacted", sa.Text, nullable=False),  # what every view and export shows
    sa.Column("question", sa.String(500)),
    sa.Column("fft_score", sa.SmallInteger),  # 1 very good .. 5 very poor, 6 don't know
    sa.Column("location_1", sa.String(300)),
    sa.Column("location_2", sa.String(300)),
    sa.Column("location_3", sa.String(300)),
    sa.Column("demographics", sa.Text),  # JSON object {name: value}
    sa.Index("ix_fb_comments_date", "date"),
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
    sa.Column("kind", sa.String(20), nullable=False),  # "interesting" or "wrong_topics"
    sa.Column("topics", sa.Text),  # the right topics, "; "-joined (wrong_topics only)
    sa.Column("sentiment", sa.SmallInteger),  # the right sentiment, optional
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index("ix_fb_corrections_comment", "comment_key"),
)
