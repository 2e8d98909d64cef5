"""Users, keys and signed-in sessions for tests: a store's staff made as an admin would make them."""

from __future__ import annotations

import sqlalchemy as sa

from carelens.access import Role, Scope, keys, sessions, users
from carelens.web.security.identity import COOKIE

PASSWORD = "a long test passphrase"


def add_user(engine: sa.Engine, name: str, role: Role | None, *places: str, password: str | None = PASSWORD) -> dict:
    existing = users.get_user(engine, name)
    if existing is not None:
        return existing
    return users.add_user(engine, name, role=role, scope=Scope.of(*places), password=password, actor="test")


def session_token(engine: sa.Engine, user: dict, *, idle_minutes: int = 30, max_hours: int = 10) -> tuple[str, str]:
    """(cookie token, CSRF token) of a new signed-in session of ``user``."""
    token, session = sessions.start(engine, user_id=user["user_id"], via="password", idle_minutes=idle_minutes,
                                    max_hours=max_hours)
    return token, session.csrf_token


def sign_in(client, engine: sa.Engine, name: str = "admin", role: Role | None = Role.ADMIN, *places: str) -> str:
    """Give a Starlette/httpx ``client`` the cookie of a signed-in ``name``; returns the session's CSRF token."""
    token, csrf = session_token(engine, add_user(engine, name, role, *places))
    client.cookies.set(COOKIE, token)
    return csrf


def api_key(engine: sa.Engine, name: str, role: Role, *places: str) -> str:
    return keys.create_key(engine, name, role=role, scope=Scope.of(*places), actor="test")
