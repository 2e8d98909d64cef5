"""Missed appointments: published models, scored upcoming appointments, recorded calls.

Revision ID: 0002_appointments
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_appointments"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dna_models",
        sa.Column("model_version", sa.String(32), primary_key=True),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "dna_scored_appointments",
        sa.Column("appointment_id", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("appointment_datetime", sa.DateTime, nullable=False),
        sa.Column("specialty", sa.String(200)),
        sa.Column("site", sa.String(200)),
        sa.Column("consultation_medium", sa.String(100)),
        sa.Column("dna_probability", sa.Double, nullable=False),
        sa.Column("risk_band", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text),
        sa.Column("scored_at", sa.DateTime, nullable=False),
        sa.Column("attendance_status", sa.SmallInteger),
    )
    op.create_index("ix_dna_scored_when", "dna_scored_appointments", ["appointment_datetime"])
    op.create_index("ix_dna_scored_patient", "dna_scored_appointments", ["patient_id"])
    op.create_table(
        "dna_calls",
        sa.Column("call_id", sa.String(40), primary_key=True),
        sa.Column("appointment_id", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("called_at", sa.DateTime, nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("recorded_by", sa.String(200)),
    )
    op.create_index("ix_dna_calls_patient", "dna_calls", ["patient_id"])


def downgrade() -> None:
    op.drop_table("dna_calls")
    op.drop_table("dna_scored_appointments")
    op.drop_table("dna_models")
