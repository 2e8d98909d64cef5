"""Browser sessions: a random token in an HttpOnly cookie, only its SHA-256 kept in the store.

A session ends after ``session_idle_minutes`` unused or ``session_max_hours`` after it began,
whichever comes first, when the user signs out, or when the account is disabled or its password
reset. Each session holds its own CSRF token (forms and the API's cookie-authenticated writes
send it back). A session with no user is a sign-in in progress: the login form's CSRF token, or
a single sign-on's state, nonce and PKCE verifier, so nothing about a sign-in lives in the
server's memory and any worker can finish it. Signing in always starts a new session (the
token before sign-in is never the one after: no session fixation).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from carelens.access.tables import sessions
from carelens.db.schema import now_utc

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often (a write per request is waste)
PENDING_MINUTES = 15  # a sign-in in progress (form or single sign-on) lasts this long


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    session_id: str  # the hash: what logs and the audit may name, never the token
    user_id: str | None
    csrf_token: str
    via: str
    data: dict[str, Any]


def start(engine: sa.Engine, *, user_id: str | None, via: str, idle_minutes: int, max_hours: int,
          data: dict[str, Any] | None = None) -> tuple[str, Session]:
    """A new session; returns (the cookie's token, the session)."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    lifetime = timedelta(hours=max_hours) if user_id else timedelta(minutes=PENDING_MINUTES)
    row = {"session_hash": _hash(token), "user_id": user_id, "csrf_token": secrets.token_urlsafe(32), "via": via,
           "created_at": now, "last_seen_at": now, "expires_at": now + lifetime,
           "data": json.dumps(data) if data else None}
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at < now))  # tidy as we go
        conn.execute(sessions.insert(), [row])
    return token, Session(row["session_hash"], user_id, row["csrf_token"], via, data or {})


def lookup(engine: sa.Engine, token: str | None, *, idle_minutes: int) -> Session | None:
    """The live session of ``token``, or None (unknown, expired, or idle too long)."""
    if not token or len(token) > 200:
        return None
    now = now_utc()
    digest = _hash(token)
    with engine.connect() as conn:
        row = conn.execute(sa.select(sessions).where(sessions.c.session_hash == digest)).mappings().first()
    if row is None or row["expires_at"] <= now:
        return None
    idle = timedelta(minutes=idle_minutes if row["user_id"] else PENDING_MINUTES)
    if row["last_seen_at"] + idle <= now:
        end(engine, token)
        return None
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(sessions.update().where(sessions.c.session_hash == digest).values(last_seen_at=now))
    return Session(digest, row["user_id"], row["csrf_token"], row["via"], json.loads(row["data"]) if row["data"] else {})


def is_live(engine: sa.Engine, session_id: str, *, idle_minutes: int) -> bool:
    """Whether the session (by its id, the hash) is still live: the dashboard asks this while its
    websocket stays open, so a session that expired or was ended elsewhere closes the page."""
    now = now_utc()
    with engine.connect() as conn:
        row = conn.execute(sa.select(sessions.c.expires_at, sessions.c.last_seen_at)
                           .where(sessions.c.session_hash == session_id)).first()
    return row is not None and row[0] > now and row[1] + timedelta(minutes=idle_minutes) > now


def touch(engine: sa.Engine, session_id: str) -> None:
    """Mark the session used now (a dashboard page in use over its websocket makes no HTTP requests)."""
    with engine.begin() as conn:
        conn.execute(sessions.update().where(sessions.c.session_hash == session_id).values(last_seen_at=now_utc()))


def end(engine: sa.Engine, token: str | None) -> None:
    if token:
        end_by_id(engine, _hash(token))


def end_by_id(engine: sa.Engine, session_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.session_hash == session_id))
