"""Single sign-on by OpenID Connect (Microsoft Entra ID, or any OpenID provider), with Authlib.

The authorization-code flow with PKCE, ``state`` and ``nonce``: :func:`start` makes the
provider's sign-in URL and what must come back (kept in a sign-in-in-progress session in the
store, not in memory, so any worker can finish it); :func:`finish` trades the code for tokens
(Authlib's ``OAuth2Session``) and checks the ID token's signature against the provider's
published keys, its issuer, audience, expiry and nonce (``joserfc``, Authlib's JOSE library).
The username is the claim ``oidc_username_claim`` (Entra ID: ``preferred_username``, the UPN).
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from carelens.config import Settings
from carelens.errors import AccessError

TIMEOUT = 10  # seconds for each call to the provider
_CACHE_SECONDS = 3600
_cache: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _get_json(url: str) -> dict:
    import requests

    try:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise AccessError(f"the sign-in provider could not be reached ({type(exc).__name__})") from None


def _cached(url: str) -> dict:
    with _lock:
        hit = _cache.get(url)
        if hit and time.monotonic() - hit[0] < _CACHE_SECONDS:
            return hit[1]
    value = _get_json(url)
    with _lock:
        _cache[url] = (time.monotonic(), value)
    return value


def metadata(settings: Settings) -> dict:
    """The provider's discovery document (``/.well-known/openid-configuration``), cached for an hour."""
    return _cached(settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration")


def _client(settings: Settings, redirect_uri: str):
    from authlib.integrations.requests_client import OAuth2Session

    secret = settings.oidc_client_secret.get_secret_value() or None
    return OAuth2Session(settings.oidc_client_id, secret, scope="openid profile email", redirect_uri=redirect_uri,
                         code_challenge_method="S256", default_timeout=TIMEOUT,
                         token_endpoint_auth_method="client_secret_post" if secret else "none")


def start(settings: Settings, redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """(the provider's sign-in URL, what the callback must check: state, nonce, code verifier)."""
    from authlib.common.security import generate_token

    meta = metadata(settings)
    verifier = generate_token(64)
    nonce = secrets.token_urlsafe(24)
    client = _client(settings, redirect_uri)
    url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    return url, {"state": state, "nonce": nonce, "verifier": verifier}


def finish(settings: Settings, redirect_uri: str, pending: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """The checked ID token's claims for the provider's answer ``query`` (``code``, ``state``)."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet
    from joserfc.jwt import JWTClaimsRegistry

    if query.get("error"):
        raise AccessError(f"the sign-in provider refused: {query.get('error_description') or query['error']}"[:300])
    if not pending.get("state") or not secrets.compare_digest(str(query.get("state", "")), pending["state"]):
        raise AccessError("the sign-in answer does not match this browser's sign-in (state): start again")
    if not query.get("code"):
        raise AccessError("the sign-in provider sent no code")
    meta = metadata(settings)
    try:
        token = _client(settings, redirect_uri).fetch_token(meta["token_endpoint"], code=query["code"],
                                                             code_verifier=pending["verifier"])
    except Exception as exc:  # noqa: BLE001 - Authlib's and requests' errors alike: one line, no detail leaked
        raise AccessError(f"the sign-in provider did not issue a token ({type(exc).__name__})") from None
    id_token = token.get("id_token")
    if not id_token:
        raise AccessError("the sign-in provider sent no ID token")
    try:
        keys = KeySet.import_key_set(_cached(meta["jwks_uri"]))
        decoded = jwt.decode(id_token, keys, algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"])
        JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": meta.get("issuer", settings.oidc_issuer)},
            aud={"essential": True, "value": settings.oidc_client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": pending["nonce"]},
        ).validate(decoded.claims)
    except (JoseError, ValueError, KeyError) as exc:
        raise AccessError(f"the ID token was not valid ({type(exc).__name__})") from None
    return decoded.claims


def username(settings: Settings, claims: dict[str, Any]) -> str:
    name = claims.get(settings.oidc_username_claim) or claims.get("email")
    if not name:
        raise AccessError(f"the ID token has no {settings.oidc_username_claim!r} claim naming the user")
    return str(name)
