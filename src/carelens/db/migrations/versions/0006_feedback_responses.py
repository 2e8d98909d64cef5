"""Feedback: responses apart from their comments (a return holds several answers); undoable corrections.

Revision ID: 0006_feedback_responses
Revises: 0005_demand_scenarios

Upgrading a store in place: every stored comment was one export row, so each becomes one response
(same key, its date, FFT answer, place and demographics) with that one comment (same key, so its
predictions, topics and corrections still point at it). ``fb_comments`` is rebuilt without the
columns that moved (copy aside, drop, create, copy back, drop the copy: portable across DuckDB,
PostgreSQL and SQL Server, all in the migration's transaction). Not a rename: DuckDB 2.0 cannot
replay a write-ahead log in which a table created in the same transaction (a fresh store runs
0001 to 0006 in one) was renamed, so a store whose process stopped before a checkpoint would not
open again. ``fb_corrections`` gains ``undone_at``/``undone_by``
and ``fb_uploads`` ``comments_added``; their rows are kept as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_feedback_responses"
down_revision = "0005_demand_scenarios"
branch_labels = None
depends_on = None

OLD_COMMENTS = "fb_comments_before_0006"


def _stash(columns: list[tuple[str, sa.types.TypeEngine]]) -> sa.Table:
    return sa.Table(OLD_COMMENTS, sa.MetaData(), *(sa.Column(name, kind) for name, kind in columns))


def _copy_aside(conn, columns: list[tuple[str, sa.types.TypeEngine]]) -> sa.Table:
    """``fb_comments``' ``columns`` copied into a new table (which the caller drops)."""
    stash = _stash(columns)
    stash.create(conn)
    current = sa.table("fb_comments", *[sa.column(name) for name, _ in columns])
    conn.execute(sa.insert(stash).from_select([n for n, _ in columns], sa.select(*current.c)))
    return stash


def _responses_table() -> sa.Table:
    return sa.Table(
        "fb_responses",
        sa.MetaData(),
        sa.Column("response_key", sa.String(200), primary_key=True),
        sa.Column("response_id", sa.String(200)),
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("date", sa.Date),
        sa.Column("fft_score", sa.SmallInteger),
        sa.Column("location_1", sa.String(300)),
        sa.Column("location_2", sa.String(300)),
        sa.Column("location_3", sa.String(300)),
        sa.Column("demographics", sa.Text),
    )


def _comments_table() -> sa.Table:
    return sa.Table(
        "fb_comments",
        sa.MetaData(),
        sa.Column("comment_key", sa.String(200), primary_key=True),
        sa.Column("response_key", sa.String(200), nullable=False),
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("row_hash", sa.String(64)),
        sa.Column("source_column", sa.String(500)),
        sa.Column("question", sa.String(500)),
        sa.Column("comment_text", sa.Text, nullable=False),
        sa.Column("text_redacted", sa.Text, nullable=False),
    )


def _release_comments_table() -> sa.Table:
    """``fb_comments`` as revision 0001 made it (for the downgrade)."""
    return sa.Table(
        "fb_comments",
        sa.MetaData(),
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


def upgrade() -> None:
    conn = op.get_bind()
    responses = _responses_table()
    responses.create(conn)
    op.create_index("ix_fb_responses_date", "fb_responses", ["date"])
    op.create_index("ix_fb_responses_response_id", "fb_responses", ["response_id"])

    old = sa.table("fb_comments", *[sa.column(c) for c in (
        "comment_key", "comment_id", "upload_id", "date", "comment_text", "text_redacted", "question", "fft_score",
        "location_1", "location_2", "location_3", "demographics")])
    conn.execute(sa.insert(responses).from_select(
        ["response_key", "response_id", "upload_id", "date", "fft_score", "location_1", "location_2", "location_3",
         "demographics"],
        sa.select(old.c.comment_key, old.c.comment_id, old.c.upload_id, old.c.date, old.c.fft_score, old.c.location_1,
                  old.c.location_2, old.c.location_3, old.c.demographics)))
    stash = _copy_aside(conn, [("comment_key", sa.String(200)), ("upload_id", sa.String(32)), ("question", sa.String(500)),
                               ("comment_text", sa.Text), ("text_redacted", sa.Text)])
    op.drop_index("ix_fb_comments_date", table_name="fb_comments")
    op.drop_table("fb_comments")
    comments = _comments_table()
    comments.create(conn)
    conn.execute(sa.insert(comments).from_select(
        ["comment_key", "response_key", "upload_id", "row_hash", "source_column", "question", "comment_text",
         "text_redacted"],
        sa.select(stash.c.comment_key, stash.c.comment_key, stash.c.upload_id, sa.null(), sa.null(), stash.c.question,
                  stash.c.comment_text, stash.c.text_redacted)))
    stash.drop(conn)
    op.create_index("ix_fb_comments_response", "fb_comments", ["response_key"])
    op.create_index("ix_fb_comments_row_hash", "fb_comments", ["row_hash"])

    op.add_column("fb_corrections", sa.Column("undone_at", sa.DateTime))
    op.add_column("fb_corrections", sa.Column("undone_by", sa.String(200)))
    op.add_column("fb_uploads", sa.Column("comments_added", sa.Integer))


def downgrade() -> None:
    """Back to one row per comment: each comment takes its response's fields (a response's second
    answer keeps them too, under its own key). Which export column an answer came from is lost,
    and undone corrections are deleted (the old shape would apply them again)."""
    conn = op.get_bind()
    op.drop_column("fb_uploads", "comments_added")
    # the old shape has no undo: a correction or flag that was undone would count again there
    conn.execute(sa.text("DELETE FROM fb_corrections WHERE undone_at IS NOT NULL"))
    op.drop_index("ix_fb_corrections_comment", table_name="fb_corrections")  # DuckDB drops no indexed table's column
    op.drop_column("fb_corrections", "undone_by")
    op.drop_column("fb_corrections", "undone_at")
    op.create_index("ix_fb_corrections_comment", "fb_corrections", ["comment_key"])

    new = _copy_aside(conn, [("comment_key", sa.String(200)), ("response_key", sa.String(200)), ("upload_id", sa.String(32)),
                             ("question", sa.String(500)), ("comment_text", sa.Text), ("text_redacted", sa.Text)])
    op.drop_index("ix_fb_comments_row_hash", table_name="fb_comments")
    op.drop_index("ix_fb_comments_response", table_name="fb_comments")
    op.drop_table("fb_comments")
    resp = sa.table("fb_responses", *[sa.column(c) for c in (
        "response_key", "response_id", "date", "fft_score", "location_1", "location_2", "location_3", "demographics")])
    comments = _release_comments_table()
    comments.create(conn)
    conn.execute(sa.insert(comments).from_select(
        ["comment_key", "comment_id", "upload_id", "date", "comment_text", "text_redacted", "question", "fft_score",
         "location_1", "location_2", "location_3", "demographics"],
        sa.select(new.c.comment_key, resp.c.response_id, new.c.upload_id, resp.c.date, new.c.comment_text,
                  new.c.text_redacted, new.c.question, resp.c.fft_score, resp.c.location_1, resp.c.location_2,
                  resp.c.location_3, resp.c.demographics)
        .select_from(new.join(resp, resp.c.response_key == new.c.response_key))))
    new.drop(conn)
    op.create_index("ix_fb_comments_date", "fb_comments", ["date"])
    op.drop_index("ix_fb_responses_response_id", table_name="fb_responses")
    op.drop_index("ix_fb_responses_date", table_name="fb_responses")
    op.drop_table("fb_responses")
