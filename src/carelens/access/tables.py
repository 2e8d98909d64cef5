"""Access control's tables (SQLAlchemy Core, on the store's one ``MetaData``), created by migration ``0008_access``.

- ``access_users``: staff who sign in (a password hash only for local accounts; single sign-on and
  trusted-header users have none), their role and location scope, lock-out state.
- ``access_keys``: API keys (only the SHA-256 of each key is kept; the key is shown once).
- ``access_sessions``: signed-in browser sessions (only the SHA-256 of the cookie's token is
  kept), with the CSRF token of the session and when it expires.
- ``access_audit``: the append-only log of who viewed, exported, uploaded, changed what, when and
  with what outcome. Nothing in carelens updates or deletes its rows except retention
  (:func:`carelens.access.audit.prune`).
"""

from __future__ import annotations

import sqlalchemy as sa

from carelens.db.schema import metadata

users = sa.Table(
    "access_users",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("username", sa.String(200), nullable=False, unique=True),  # lower case
    sa.Column("display_name", sa.String(200)),
    sa.Column("role", sa.String(40)),  # None: no role, sees nothing
    sa.Column("scope", sa.Text),  # JSON [[level or null, name], ...] (viewers)
    sa.Column("password_hash", sa.Text),  # argon2id; None for single sign-on / trusted-header users
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("failed_sign_ins", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(200)),
    sa.Column("changed_at", sa.DateTime, nullable=False),
    sa.Column("last_sign_in_at", sa.DateTime),
)

keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 hex of the key
    sa.Column("role", sa.String(40)),
    sa.Column("scope", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(200)),
    sa.Column("revoked_at", sa.DateTime),
    sa.Column("revoked_by", sa.String(200)),
)

sessions = sa.Table(
    "access_sessions",
    metadata,
    sa.Column("session_hash", sa.String(64), primary_key=True),  # SHA-256 hex of the cookie's token
    sa.Column("user_id", sa.String(32)),  # None: a sign-in in progress (login form, single sign-on)
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("via", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("data", sa.Text),  # JSON: a single sign-on's state, nonce and code verifier
    sa.Index("ix_access_sessions_user", "user_id"),
)

audit = sa.Table(
    "access_audit",
    metadata,
    sa.Column("event_id", sa.String(32), primary_key=True),
    sa.Column("happened_at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),  # user:alice, key:etl, cli:jsmith, anonymous
    sa.Column("role", sa.String(40)),
    sa.Column("via", sa.String(20)),
    sa.Column("action", sa.String(60), nullable=False),  # view, export, upload, correct, sign_in, ...
    sa.Column("target", sa.String(300)),  # a page, a route, a file, a user or key name
    sa.Column("detail", sa.Text),  # JSON: filters, counts, what changed
    sa.Column("outcome", sa.String(20), nullable=False),  # ok, refused, failed
    sa.Index("ix_access_audit_at", "happened_at"),
    sa.Index("ix_access_audit_actor", "actor"),
)
