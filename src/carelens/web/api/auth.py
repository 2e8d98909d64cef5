"""API keys: ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``, compared by SHA-256 hash.

Keys live in configuration only as hashes (``Settings.api_key_hashes``), so a leaked config file
or log does not leak a usable key. With no keys configured every protected call is refused: an
API that patient comments flow through must not be open by accident.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from carelens.config import Settings, hash_api_key


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_api_key(settings: Settings):
    """A FastAPI dependency that admits only a configured key (constant-time comparison)."""

    # Declared as a security scheme so the OpenAPI spec documents it and /docs offers "Authorize";
    # the check itself also accepts a Bearer token.
    header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from the carelens settings.")

    def check(request: Request, _declared: str | None = Security(header)) -> str:
        key = presented_key(request)
        if not key:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key: send header X-API-Key or "
                                "Authorization: Bearer", headers={"WWW-Authenticate": "Bearer"})
        digest = hash_api_key(key)
        if not any(hmac.compare_digest(digest, h) for h in settings.api_key_hashes):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
        return digest[:12]  # who: a stable, non-secret tag of the key

    return check
