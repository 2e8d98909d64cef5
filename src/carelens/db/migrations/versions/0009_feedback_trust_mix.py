"""Patient feedback: the trust's own demographic mix (``fb_trust_mix``).

A new table only: one row per (demographic field, value) with the share of the trust's catchment
or patient population holding it, where the figures came from, who loaded them and when. The
"Who we hear from" page shows it beside the respondents' own mix.

Revision ID: 0009_feedback_trust_mix
Revises: 0008_access
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_feedback_trust_mix"
down_revision = "0008_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fb_trust_mix",
        sa.Column("field", sa.String(200), primary_key=True),
        sa.Column("value", sa.String(500), primary_key=True),
        sa.Column("share", sa.Double, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("loaded_by", sa.String(200)),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fb_trust_mix")
