"""Demand and capacity: scenarios a planner keeps, their year-by-year totals, and their data.

New tables only; the tables of ``0003`` keep their shape and rows:

- ``demand_scenarios``: one row per kept scenario (same ``run_id`` as its row in
  ``demand_scenario_runs``): a unique name, its params and capacity assumptions (JSON), the data's
  fingerprint and description, the carelens version, who ran it, its years and warnings.
- ``demand_run_totals``: every run's activity and capacity totals in every projection year.
- ``demand_datasets`` and ``demand_dataset_tables``: the trust data scenarios ran on, each table
  as parquet, once per fingerprint.

A store that already has projections (stored by release 0.1.0 or before this revision) keeps
them; they are listed under a name made from their scenario and run id.

Revision ID: 0005_demand_scenarios
Revises: 0004_appointments_calls
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_demand_scenarios"
down_revision = "0004_appointments_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demand_scenarios",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("carelens_version", sa.Text),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("capacity", sa.Text, nullable=False),
        sa.Column("data_fingerprint", sa.String(64)),
        sa.Column("data_label", sa.Text),
        sa.Column("start_year", sa.BigInteger),
        sa.Column("end_year", sa.BigInteger),
        sa.Column("years", sa.Text),
        sa.Column("warnings", sa.Text),
    )
    op.create_index("ux_demand_scenarios_name", "demand_scenarios", ["name"], unique=True)
    op.create_table(
        "demand_run_totals",
        sa.Column("year", sa.BigInteger),
        sa.Column("activity", sa.Text),
        sa.Column("measure", sa.Text),
        sa.Column("model_run", sa.BigInteger),
        sa.Column("value", sa.Double),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_demand_run_totals_run", "demand_run_totals", ["run_id"])
    op.create_table(
        "demand_datasets",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("label", sa.Text),
        sa.Column("fyear", sa.BigInteger),
        sa.Column("dataset", sa.Text),
        sa.Column("created", sa.Text),
        sa.Column("created_by", sa.Text),
    )
    op.create_table(
        "demand_dataset_tables",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("demand_dataset_tables")
    op.drop_table("demand_datasets")
    op.drop_index("ix_demand_run_totals_run", table_name="demand_run_totals")
    op.drop_table("demand_run_totals")
    op.drop_index("ux_demand_scenarios_name", table_name="demand_scenarios")
    op.drop_table("demand_scenarios")
