"""Missed appointments: undoing a call, patients' groups for call-list quotas, contact details.

New tables only (no existing table changes): ``dna_call_undos`` (a call taken back, kept beside
the call it undoes), ``dna_patients`` (age band and IMD quintile per scored patient) and
``dna_contacts`` (contact details for callers, kept apart so access control can gate them).

Revision ID: 0004_appointments_calls
Revises: 0003_demand_results
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_appointments_calls"
down_revision = "0003_demand_results"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dna_call_undos",
        sa.Column("call_id", sa.String(40), primary_key=True),
        sa.Column("undone_at", sa.DateTime, nullable=False),
        sa.Column("undone_by", sa.String(200)),
    )
    op.create_table(
        "dna_patients",
        sa.Column("patient_id", sa.String(64), primary_key=True),
        sa.Column("age_band", sa.String(16)),
        sa.Column("imd_quintile", sa.String(16)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "dna_contacts",
        sa.Column("patient_id", sa.String(64), primary_key=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dna_contacts")
    op.drop_table("dna_patients")
    op.drop_table("dna_call_undos")
