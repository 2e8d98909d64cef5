"""Who is calling and what they may do: an API key, or a signed-in browser, becomes a :class:`Caller`.

A caller is a :class:`carelens.access.Principal`: a name (recorded on what they write:
``loaded_by``, ``created_by``), a role and, for a ward manager's key, a location scope.

- API keys (``X-API-Key: KEY`` or ``Authorization: Bearer KEY``) are looked up in the store on
  every request (``carelens keys create``; kept only as hashes), so a revoked key is refused at
  once. Keys still in the settings file (``api_keys`` / ``api_key_hashes``) act as admin keys for
  this release, with a warning.
- A signed-in browser (the dashboard's session cookie, or a trusted proxy's user, put in the
  request by ``web.security.middleware``) may call the API too; its state-changing requests must
  carry the session's CSRF token in ``X-CSRF-Token``.

Every protected route asks for a permission (:func:`require`): a caller without it gets a 403
naming what their role lacks, and nothing else. With no keys and no sign-in every protected call
is refused: an API that patient comments flow through must not be open by accident.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from carelens.access import keys
from carelens.access.roles import Permission, Principal
from carelens.web.api.deps import EngineDep, SettingsDep
from carelens.web.api.errors import ApiError

# Declared as security schemes so the OpenAPI document says how to authenticate and /docs offers
# "Authorize"; the check itself reads the headers (so a malformed Authorization is a 401, not a 403).
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="An API key from `carelens keys create NAME --role ROLE`.")
BEARER = HTTPBearer(auto_error=False, description="The same API key as a Bearer token.")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

Caller = Principal  # what routes are given: name, role, scope

WHAT = {
    Permission.FEEDBACK_READ: "read patient feedback",
    Permission.FEEDBACK_CORRECT: "flag or correct comments",
    Permission.FEEDBACK_UPLOAD: "load comments",
    Permission.CALL_LIST: "see the call list",
    Permission.CONTACTS: "see patients' contact details",
    Permission.DEMAND: "use demand projections",
    Permission.MANAGE_USERS: "manage users",
    Permission.MANAGE_KEYS: "manage API keys",
    Permission.MANAGE_ALIASES: "manage aliases or the trust mix",
    Permission.READ_AUDIT: "read the audit log",
}


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_caller(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    _key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Caller:
    """The dependency every route but ``/health`` carries: the caller, or a 401 (nobody) / 403 (no role)."""
    key = presented_key(request)
    if key:
        caller = keys.authenticate(engine, key) or keys.settings_key(settings.api_key_hashes, key)
        if caller is None:
            raise ApiError(status.HTTP_401_UNAUTHORIZED, "invalid API key (unknown or revoked)",
                           headers={"WWW-Authenticate": "Bearer"})
    else:
        caller = request.scope.get("carelens.principal")
        if caller is None:
            raise ApiError(status.HTTP_401_UNAUTHORIZED, "missing API key: send header X-API-Key or Authorization: Bearer",
                           headers={"WWW-Authenticate": "Bearer"})
        session = request.scope.get("carelens.session")
        if session is not None and request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
                request.state.principal = caller
                raise ApiError(status.HTTP_403_FORBIDDEN, "a signed-in browser's change needs its X-CSRF-Token")
    request.state.principal = caller
    if caller.role is None:
        raise ApiError(status.HTTP_403_FORBIDDEN, f"{caller.name} has no role: ask an administrator for one")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def require(permission: Permission):
    """A dependency: the caller, if their role has ``permission``; else a 403 saying what is missing."""

    def check(caller: CallerDep) -> Caller:
        if not caller.may(permission):
            raise ApiError(status.HTTP_403_FORBIDDEN,
                           f"the role {caller.role.value} may not {WHAT[permission]}", field=None)
        return caller

    return check


def scope_of(caller: Caller):
    """The locations whose feedback ``caller`` reads (None: none)."""
    return caller.feedback_scope()


def audit_detail(request: Request) -> dict:
    """A dict a route fills with what the audit log should say about this request (its filters, counts)."""
    detail = getattr(request.state, "audit_detail", None)
    if detail is None:
        detail = request.state.audit_detail = {}
    return detail


AuditDetail = Annotated[dict, Depends(audit_detail)]
