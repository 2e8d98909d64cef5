"""API keys: created with a name, a role and a scope, shown once, kept only as a SHA-256 hash.

Why SHA-256 and not argon2 as for passwords: a key is 256 random bits, so no dictionary attack
applies, and the API looks a key up on every request by its hash. Every request reads the key's
row again (:func:`authenticate`), so a revoked key is refused at once, in every worker, with no
restart.

Keys in the settings file (``api_keys`` / ``api_key_hashes``, from before keys lived in the store)
are still honoured for this release as admin keys, with a warning (:func:`settings_key`); create
store keys with ``carelens keys create`` and remove them from the settings.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sys

import pandas as pd
import sqlalchemy as sa

from carelens.access import audit
from carelens.access.roles import Principal, Role, Scope
from carelens.access.tables import keys
from carelens.db.schema import new_id, now_utc
from carelens.errors import AccessError

PREFIX = "clk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
LIST_COLUMNS = ["name", "role", "scope", "created_at", "created_by", "revoked_at", "revoked_by"]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(engine: sa.Engine, name: str, *, role: Role | None, scope: Scope = Scope(),
               actor: Principal | str | None = None) -> str:
    """Create a key and return it: the only time it is ever shown."""
    if not _NAME.match(name or ""):
        raise AccessError(f"invalid key name {name!r}: letters, digits and . _ - (up to 100)", field="name")
    if role is None:
        raise AccessError("a key needs a role (a key without one could do nothing)", field="role")
    key = PREFIX + secrets.token_urlsafe(32)
    row = {"key_id": new_id(), "name": name, "key_hash": key_hash(key), "role": role.value,
           "scope": scope.to_json() if scope.places else None, "created_at": now_utc(),
           "created_by": actor.name if isinstance(actor, Principal) else actor, "revoked_at": None, "revoked_by": None}
    with engine.begin() as conn:
        if conn.execute(sa.select(keys.c.key_id).where(keys.c.name == name)).first() is not None:
            raise AccessError(f"a key named {name!r} already exists (revoked keys keep their names)", field="name")
        conn.execute(keys.insert(), [row])
        audit.record(conn, actor, "key_create", name, {"role": role.value, "scope": scope.describe()})
    return key


def revoke_key(engine: sa.Engine, name: str, *, actor: Principal | str | None = None) -> None:
    """Revoke a key: refused from the next request on."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(keys).where(keys.c.name == name)).mappings().first()
        if row is None:
            raise AccessError(f"no key named {name!r}", field="name")
        if row["revoked_at"] is not None:
            raise AccessError(f"key {name!r} was already revoked on {row['revoked_at']:%Y-%m-%d %H:%M}", field="name")
        conn.execute(keys.update().where(keys.c.key_id == row["key_id"]).values(
            revoked_at=now_utc(), revoked_by=actor.name if isinstance(actor, Principal) else actor))
        audit.record(conn, actor, "key_revoke", name, {"role": row["role"]})


def list_keys(engine: sa.Engine, level_names: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every key's name, role, scope and history (never the key or its hash)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(keys).order_by(keys.c.name)).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in keys.columns]).astype(object)
    frame["scope"] = [Scope.from_json(s).describe(level_names) if isinstance(s, str) and s else "" for s in frame["scope"]]
    return frame[LIST_COLUMNS]


def authenticate(engine: sa.Engine, key: str | None) -> Principal | None:
    """The principal of a live (not revoked) store key, or None."""
    if not key or not key.startswith(PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(sa.select(keys).where(keys.c.key_hash == key_hash(key))).mappings().first()
    if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["key_hash"], key_hash(key)):
        return None
    return Principal(name=f"key:{row['name']}", role=Role(row["role"]) if row["role"] else None,
                     scope=Scope.from_json(row["scope"]), via="api_key", key_id=row["key_id"])


_warned = False


def settings_key(hashes: list[str], key: str | None) -> Principal | None:
    """A key configured in the settings file (deprecated): an admin key named ``api:<12 hex>``."""
    global _warned
    if not key or not hashes:
        return None
    digest = key_hash(key)
    if not any(hmac.compare_digest(digest, h) for h in hashes):
        return None
    if not _warned:
        _warned = True
        sys.stderr.write("warning: an API key from the settings file (api_keys / api_key_hashes) was used: such keys "
                         "act as admin keys and will stop working in carelens 0.3; create keys with "
                         "`carelens keys create NAME --role ROLE` and remove them from the settings\n")
    return Principal(name=f"api:{digest[:12]}", role=Role.ADMIN, scope=Scope.all(), via="settings_key",
                     key_id=digest[:12])
