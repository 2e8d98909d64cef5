"""Patient feedback: spellings merged across uploads (``fb_aliases``).

A new table only: one row per (field, spelling) naming the value it stands for, e.g.
("location_3", "ward 10 ", "Ward 10") or ("demo:Ethnicity", "White - British", "White British").
Stored values are never rewritten: the aliases apply when the store is read, so removing one
brings the spelling back.

Revision ID: 0007_feedback_aliases
Revises: 0006_feedback_responses
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_feedback_aliases"
down_revision = "0006_feedback_responses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fb_aliases",
        sa.Column("field", sa.String(200), primary_key=True),
        sa.Column("spelling", sa.String(500), primary_key=True),
        sa.Column("canonical", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fb_aliases")
