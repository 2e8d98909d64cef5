"""Feedback store: uploads, comments, predictions, comment topics, corrections.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fb_uploads",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_added", sa.Integer, nullable=False),
        sa.Column("rows_skipped", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("loaded_by", sa.String(200)),
    )
    op.create_table(
        "fb_comments",
        sa.Column("comment_key", sa.String(200), primary_key=True),
        sa.Column("comment_id", sa.String(200)),
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("date", sa.Date),
        sa.Column("comment_text", sa.Text, nullable=False),
        sa.Column("text_redacted", sa.Text, nullable=False),
        sa.Column("question", sa.String(500)),
        sa.Column("fft_score", sa.SmallInteger),
        sa.Column("location_1", sa.String(300)),
        sa.Column("location_2", sa.String(300)),
        sa.Column("location_3", sa.String(300)),
        sa.Column("demographics", sa.Text),
    )
    op.create_index("ix_fb_comments_date", "fb_comments", ["date"])
    op.create_table(
        "fb_predictions",
        sa.Column("comment_key", sa.String(200), primary_key=True),
        sa.Column("model_version", sa.String(100), primary_key=True),
        sa.Column("sentiment", sa.SmallInteger),
        sa.Column("probabilities", sa.Text),
        sa.Column("predicted_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "fb_comment_topics",
        sa.Column("comment_key", sa.String(200), primary_key=True),
        sa.Column("model_version", sa.String(100), primary_key=True),
        sa.Column("topic", sa.String(200), primary_key=True),
        sa.Column("category", sa.String(200), nullable=False),
    )
    op.create_index("ix_fb_comment_topics_topic", "fb_comment_topics", ["topic"])
    op.create_table(
        "fb_corrections",
        sa.Column("correction_id", sa.String(32), primary_key=True),
        sa.Column("comment_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("topics", sa.Text),
        sa.Column("sentiment", sa.SmallInteger),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_fb_corrections_comment", "fb_corrections", ["comment_key"])


def downgrade() -> None:
    for index, table in (("ix_fb_corrections_comment", "fb_corrections"), ("ix_fb_comment_topics_topic", "fb_comment_topics"), ("ix_fb_comments_date", "fb_comments")):
        op.drop_index(index, table_name=table)
    for table in ("fb_corrections", "fb_comment_topics", "fb_predictions", "fb_comments", "fb_uploads"):
        op.drop_table(table)
