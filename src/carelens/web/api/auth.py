"""Who is calling: an API key (``X-API-Key: KEY`` or ``Authorization: Bearer KEY``) becomes a :class:`Caller`.

Keys live in configuration only as hashes (``Settings.api_key_hashes``), so a leaked config file
or log does not leak a usable key. With no keys configured every protected call is refused: an
API that patient comments flow through must not be open by accident.

Why a ``Caller`` object rather than a bare string: every route that reads or changes data asks for
it (:func:`current_caller`), records it on what it writes (``loaded_by``, ``created_by``), and
access control (roles, location scopes: issue 16) extends this one object and this one dependency
instead of touching each route's signature.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from carelens.config import Settings, hash_api_key
from carelens.web.api.deps import SettingsDep
from carelens.web.api.errors import ApiError

# Declared as security schemes so the OpenAPI document says how to authenticate and /docs offers
# "Authorize"; the check itself reads the headers (so a malformed Authorization is a 401, not a 403).
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from the carelens settings.")
BEARER = HTTPBearer(auto_error=False, description="The same API key as a Bearer token.")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller. ``key_id`` is a stable, non-secret tag of the key (12 hex digits of its hash)."""

    key_id: str
    via: str = "api_key"

    @property
    def name(self) -> str:
        """What is recorded as the author of a load or a correction."""
        return f"api:{self.key_id}"


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(settings: Settings, key: str | None) -> Caller | None:
    """The caller a key belongs to, or None (constant-time comparison against every configured hash)."""
    if not key:
        return None
    digest = hash_api_key(key)
    if not any(hmac.compare_digest(digest, h) for h in settings.api_key_hashes):
        return None
    return Caller(key_id=digest[:12])


def current_caller(
    request: Request,
    settings: SettingsDep,
    _key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Caller:
    """The dependency every route but ``/health`` carries: the caller, or a 401."""
    key = presented_key(request)
    caller = authenticate(settings, key)
    if caller is None:
        reason = "invalid API key" if key else "missing API key: send header X-API-Key or Authorization: Bearer"
        raise ApiError(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
