"""Staff accounts: add, list, change role or scope, disable, reset a password, sign in with lock-out.

Every change is recorded in the audit log in the same transaction as the change. A user is read
again on every request (:func:`principal_for`), so a role taken away or an account disabled
takes effect at once, in every open browser session and without a restart.

Local accounts have a password (argon2id, :mod:`carelens.access.passwords`); users who sign in by
single sign-on or through an authenticating proxy have none and are matched by username
(:func:`external_user`): the first time such a user arrives they are added with no role, so they
see nothing until an admin gives them one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from carelens.access import audit
from carelens.access.passwords import hash_password, needs_rehash, verify_password
from carelens.access.roles import Principal, Role, Scope
from carelens.access.tables import sessions, users
from carelens.db.schema import new_id, now_utc
from carelens.errors import AccessError

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,199}$")
UNSET: Any = object()
LIST_COLUMNS = ["username", "display_name", "role", "scope", "sign_in", "disabled", "locked_until",
                "last_sign_in_at", "created_at", "created_by"]


def normalise_username(name: str) -> str:
    """Lower case, trimmed; letters, digits and ``. _ @ + -`` (an email or UPN fits)."""
    text = (name or "").strip().lower()
    if not _USERNAME.match(text):
        raise AccessError(f"invalid username {name!r}: use letters, digits and . _ @ + - (up to 200)", field="username")
    return text


def _row(conn: sa.Connection, username: str) -> dict | None:
    found = conn.execute(sa.select(users).where(users.c.username == normalise_username(username))).mappings().first()
    return dict(found) if found else None


def get_user(engine: sa.Engine, username: str) -> dict | None:
    with engine.connect() as conn:
        return _row(conn, username)


def add_user(engine: sa.Engine, username: str, *, role: Role | None, scope: Scope = Scope(),
             password: str | None = None, display_name: str | None = None, actor: Principal | str | None = None) -> dict:
    """Add a user (a local account when ``password`` is given); refuse a name already taken."""
    name = normalise_username(username)
    now = now_utc()
    row = {"user_id": new_id(), "username": name, "display_name": (display_name or "").strip()[:200] or None,
           "role": role.value if role else None, "scope": scope.to_json() if scope.places else None,
           "password_hash": hash_password(password, username=name) if password is not None else None,
           "disabled": False, "failed_sign_ins": 0, "locked_until": None, "created_at": now,
           "created_by": _actor_name(actor), "changed_at": now, "last_sign_in_at": None}
    with engine.begin() as conn:
        if _row(conn, name) is not None:
            raise AccessError(f"a user named {name!r} already exists", field="username")
        conn.execute(users.insert(), [row])
        audit.record(conn, actor, "user_add", name, {"role": row["role"], "scope": _scope_text(row["scope"]),
                                                     "local_password": password is not None})
    return row


def change_user(engine: sa.Engine, username: str, *, role: Role | None = UNSET, scope: Scope = UNSET,
                disabled: bool = UNSET, display_name: str | None = UNSET, actor: Principal | str | None = None) -> dict:
    """Change a user's role, scope, display name or disabled state; disabling ends their sessions."""
    changes: dict[str, Any] = {}
    if role is not UNSET:
        changes["role"] = role.value if role else None
    if scope is not UNSET:
        changes["scope"] = scope.to_json() if scope.places else None
    if disabled is not UNSET:
        changes["disabled"] = bool(disabled)
    if display_name is not UNSET:
        changes["display_name"] = (display_name or "").strip()[:200] or None
    with engine.begin() as conn:
        row = _require(conn, username)
        if not changes:
            return row
        before = {k: row[k] for k in changes}
        conn.execute(users.update().where(users.c.user_id == row["user_id"]).values(**changes, changed_at=now_utc()))
        if changes.get("disabled"):
            conn.execute(sessions.delete().where(sessions.c.user_id == row["user_id"]))
        audit.record(conn, actor, "user_change", row["username"],
                     {"before": _readable(before), "after": _readable(changes)})
        row.update(changes)
    return row


def set_password(engine: sa.Engine, username: str, password: str, *, actor: Principal | str | None = None) -> None:
    """Set (reset) a local password; unlocks the account and ends its sessions."""
    with engine.begin() as conn:
        row = _require(conn, username)
        conn.execute(users.update().where(users.c.user_id == row["user_id"]).values(
            password_hash=hash_password(password, username=row["username"]), failed_sign_ins=0, locked_until=None,
            changed_at=now_utc()))
        conn.execute(sessions.delete().where(sessions.c.user_id == row["user_id"]))
        audit.record(conn, actor, "user_password", row["username"], {"reset": True})


def list_users(engine: sa.Engine, level_names: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every user (no password hashes), locations described with the trust's ``level_names``."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.username)).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in users.columns]).astype(object)
    frame["scope"] = [_scope_text(s, level_names) for s in frame["scope"]]
    frame["sign_in"] = ["password" if h else "single sign-on / proxy" for h in frame["password_hash"]]
    return frame[LIST_COLUMNS]


@dataclass(frozen=True)
class SignIn:
    """The outcome of a password sign-in: ``user`` when it succeeded, else ``reason`` (for the log;
    the page tells the person only that the name or password was wrong, or that the account is locked)."""

    user: dict | None
    reason: str
    locked: bool = False


def sign_in(engine: sa.Engine, username: str, password: str, *, attempts: int, lock_minutes: int) -> SignIn:
    """Check a local account's password; ``attempts`` failures in a row lock it for ``lock_minutes``.

    Every attempt is recorded in the audit log (``sign_in`` ok / ``sign_in_failed``).
    """
    try:
        name = normalise_username(username)
    except AccessError:
        verify_password(None, password)  # same time as a wrong password
        audit.record(engine, "anonymous", "sign_in_failed", (username or "")[:100], {"reason": "invalid username"},
                     outcome="refused")
        return SignIn(None, "invalid username")
    now = now_utc()
    with engine.begin() as conn:
        row = _row(conn, name)
        ok = verify_password(row["password_hash"] if row else None, password)
        reason = ""
        if row is None:
            reason = "no such user"
        elif row["disabled"]:
            reason = "account disabled"
        elif row["locked_until"] is not None and row["locked_until"] > now:
            reason = "account locked"
        elif not row["password_hash"]:
            reason = "no local password (single sign-on user)"
        elif not ok:
            reason = "wrong password"
        if reason:
            detail: dict[str, Any] = {"reason": reason}
            locked = reason == "account locked"
            if row is not None and reason == "wrong password":
                failures = int(row["failed_sign_ins"]) + 1
                values: dict[str, Any] = {"failed_sign_ins": failures}
                if failures >= attempts:
                    values.update(locked_until=now + timedelta(minutes=lock_minutes), failed_sign_ins=0)
                    detail["locked_for_minutes"] = lock_minutes
                    locked = True
                conn.execute(users.update().where(users.c.user_id == row["user_id"]).values(**values))
            audit.record(conn, f"user:{name}" if row else "anonymous", "sign_in_failed", name, detail, outcome="refused")
            return SignIn(None, reason, locked)
        values = {"failed_sign_ins": 0, "locked_until": None, "last_sign_in_at": now}
        if needs_rehash(row["password_hash"]):
            values["password_hash"] = hash_password(password)
        conn.execute(users.update().where(users.c.user_id == row["user_id"]).values(**values))
        audit.record(conn, _principal(row, "password"), "sign_in", name, {"via": "password"})
    return SignIn(row, "")


def external_user(engine: sa.Engine, username: str, via: str, *, display_name: str | None = None) -> dict | None:
    """The user a single sign-on or trusted proxy names, added with no role the first time; None if disabled."""
    name = normalise_username(username)
    with engine.begin() as conn:
        row = _row(conn, name)
        if row is None:
            now = now_utc()
            row = {"user_id": new_id(), "username": name, "display_name": (display_name or "")[:200] or None,
                   "role": None, "scope": None, "password_hash": None, "disabled": False, "failed_sign_ins": 0,
                   "locked_until": None, "created_at": now, "created_by": via, "changed_at": now, "last_sign_in_at": None}
            conn.execute(users.insert(), [row])
            audit.record(conn, via, "user_add", name, {"role": None, "first_sign_in_via": via})
        if row["disabled"]:
            return None
    return row


def mark_signed_in(engine: sa.Engine, user: dict, via: str) -> None:
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.user_id == user["user_id"]).values(last_sign_in_at=now_utc()))
        audit.record(conn, _principal(user, via), "sign_in", user["username"], {"via": via})


def user_by_id(engine: sa.Engine, user_id: str) -> dict | None:
    with engine.connect() as conn:
        found = conn.execute(sa.select(users).where(users.c.user_id == user_id)).mappings().first()
    return dict(found) if found else None


def principal_for(user: dict, via: str, session_id: str | None = None) -> Principal | None:
    """The principal of a user row, or None when the account is disabled."""
    if user is None or user["disabled"]:
        return None
    return _principal(user, via, session_id)


def _principal(user: dict, via: str, session_id: str | None = None) -> Principal:
    role = Role(user["role"]) if user.get("role") else None
    return Principal(name=f"user:{user['username']}", role=role, scope=Scope.from_json(user.get("scope")), via=via,
                     user_id=user["user_id"], session_id=session_id)


def _require(conn: sa.Connection, username: str) -> dict:
    row = _row(conn, username)
    if row is None:
        raise AccessError(f"no user named {normalise_username(username)!r}", field="username")
    return row


def _actor_name(actor: Principal | str | None) -> str | None:
    return actor.name if isinstance(actor, Principal) else actor


def _scope_text(text: str | None, level_names: tuple[str, ...] = ()) -> str:
    return Scope.from_json(text).describe(level_names) if isinstance(text, str) and text else ""


def _readable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (_scope_text(v) if k == "scope" else v) for k, v in values.items()}
