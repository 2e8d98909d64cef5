"""Access control: users, API keys, signed-in sessions and the audit log.

Revision ID: 0008_access
Revises: 0007_feedback_aliases
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_access"
down_revision = "0007_feedback_aliases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_users",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(200), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("role", sa.String(40)),
        sa.Column("scope", sa.Text),
        sa.Column("password_hash", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime),
    )
    op.create_table(
        "access_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(40)),
        sa.Column("scope", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("revoked_by", sa.String(200)),
    )
    op.create_table(
        "access_sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32)),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("data", sa.Text),
    )
    op.create_index("ix_access_sessions_user", "access_sessions", ["user_id"])
    op.create_table(
        "access_audit",
        sa.Column("event_id", sa.String(32), primary_key=True),
        sa.Column("happened_at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40)),
        sa.Column("via", sa.String(20)),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target", sa.String(300)),
        sa.Column("detail", sa.Text),
        sa.Column("outcome", sa.String(20), nullable=False),
    )
    op.create_index("ix_access_audit_at", "access_audit", ["happened_at"])
    op.create_index("ix_access_audit_actor", "access_audit", ["actor"])


def downgrade() -> None:
    op.drop_table("access_audit")
    op.drop_table("access_sessions")
    op.drop_table("access_keys")
    op.drop_table("access_users")
