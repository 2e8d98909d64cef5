"""Demand and capacity: scenario runs and their result tables under Alembic.

Up to release 0.1.0 ``carelens demand run --db`` created these tables itself with pandas
``to_sql`` (no keys, no indexes, column types guessed from each frame: a first scenario with no
activity avoidance made the number columns of ``demand_avoided_activity`` text). This revision
creates them on a fresh store and, on a store that already has them, rebuilds each into the
declared shape keeping every row (``create_or_adopt``), so both end with the same schema.

The columns are those ``to_sql`` wrote (text dimensions, double figures, big-integer counts;
``created`` stays the ISO 8601 UTC text it has always been), plus ``run_id`` required and
indexed on every result table and the primary key of ``demand_scenario_runs``.

Revision ID: 0003_demand_results
Revises: 0002_appointments
"""

import sqlalchemy as sa
from alembic import op

from carelens.db.migrations.helpers import create_or_adopt

revision = "0003_demand_results"
down_revision = "0002_appointments"
branch_labels = None
depends_on = None

STATS = ("baseline", "principal", "p10", "p50", "p90")
QUANTILES = ("principal", "p10", "p50", "p90")
RESULTS = {  # table suffix -> (text dimensions, double figures)
    "summary": (("pod", "measure"), STATS),
    "summary_by_site": (("pod", "measure", "sitetret"), STATS),
    "summary_by_age_sex": (("pod", "measure", "age_group", "sex"), STATS),
    "summary_by_specialty": (("pod", "measure", "tretspef_grouped"), STATS),
    "waterfall": (("activity", "measure", "step"), QUANTILES),
    "avoided_activity": (("activity", "strategy", "measure"), QUANTILES),
    "capacity": (("resource", "sitetret", "ward_type", "functional_area"), STATS),
    "capacity_totals": (("resource", "ward_type"), STATS),
}


def _tables() -> list[sa.Table]:
    metadata = sa.MetaData()
    tables = [sa.Table(
        "demand_scenario_runs", metadata,
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("created", sa.Text),
        sa.Column("scenario", sa.Text),
        sa.Column("seed", sa.BigInteger),
        sa.Column("runs", sa.BigInteger),
    )]
    for name, (dims, figures) in RESULTS.items():
        tables.append(sa.Table(
            f"demand_{name}", metadata,
            *[sa.Column(d, sa.Text) for d in dims],
            *[sa.Column(f, sa.Double) for f in figures],
            sa.Column("run_id", sa.String(32), nullable=False),
            sa.Index(f"ix_demand_{name}_run", "run_id"),
        ))
    tables.append(sa.Table(
        "demand_runs", metadata,
        sa.Column("model_run", sa.BigInteger),
        sa.Column("pod", sa.Text),
        sa.Column("measure", sa.Text),
        sa.Column("value", sa.Double),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Index("ix_demand_runs_run", "run_id"),
    ))
    return tables


def upgrade() -> None:
    for table in _tables():
        create_or_adopt(table, revision="0003")


def downgrade() -> None:
    # Release 0.1.0 kept these tables outside Alembic: going back leaves them (and their rows) in
    # place for its ``to_sql`` to append to, and drops only what this revision added.
    for table in _tables():
        for index in table.indexes:
            op.drop_index(index.name, table_name=table.name)
