"""Who a request comes from: a signed-in session's cookie, or the user a trusted proxy names.

API keys are the API's (``web/api/auth.py``); this module serves the whole app (dashboard,
sign-in pages, and the API for a browser that is signed in).

The trusted header (setting ``trusted_header``) is honoured only from ``trusted_proxies``: a
request from anywhere else has it, and Posit Connect's and Shiny Server's own credential headers,
removed before anything reads them (:func:`strip_untrusted_headers`), so naming yourself in a
header gets you nothing.
"""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache

import sqlalchemy as sa

from carelens.access import sessions, users
from carelens.access.roles import Principal
from carelens.config import Settings

COOKIE = "carelens_session"
# Headers that name a user in some deployment (Posit Connect, Shiny Server); never trusted from a client.
CREDENTIAL_HEADERS = (b"rstudio-connect-credentials", b"shiny-server-credentials")


@lru_cache(maxsize=64)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def from_trusted_proxy(scope: dict, settings: Settings) -> bool:
    """Whether the connection's peer is one of ``trusted_proxies``."""
    client = scope.get("client")
    if not client or not settings.trusted_proxies:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    return any(address in net for net in _networks(tuple(settings.trusted_proxies)))


def strip_untrusted_headers(scope: dict, settings: Settings) -> None:
    """Remove identity headers a client could forge, unless the peer is a trusted proxy."""
    if from_trusted_proxy(scope, settings):
        return
    names = set(CREDENTIAL_HEADERS)
    if settings.trusted_header:
        names.add(settings.trusted_header.lower().encode("latin-1"))
    headers = scope.get("headers") or []
    if any(k.lower() in names for k, _ in headers):
        scope["headers"] = [(k, v) for k, v in headers if k.lower() not in names]


def header_user(scope: dict, settings: Settings) -> str | None:
    """The username the trusted proxy's header names (Posit Connect's JSON ``{"user": ...}`` or a plain name)."""
    if not settings.trusted_header or not from_trusted_proxy(scope, settings):
        return None
    wanted = settings.trusted_header.lower().encode("latin-1")
    raw = next((v for k, v in scope.get("headers") or [] if k.lower() == wanted), None)
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("user") or "")
        except (ValueError, AttributeError):
            return None
    return text or None


def cookie_token(scope: dict) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, token = part.strip().partition("=")
                if name == COOKIE and token:
                    return token
    return None


def resolve(scope: dict, settings: Settings, engine: sa.Engine) -> tuple[Principal | None, sessions.Session | None]:
    """The principal of a request (and its session when it came by cookie); (None, session) for a
    sign-in still in progress, (None, None) for nobody."""
    name = header_user(scope, settings)
    if name:
        try:
            user = users.external_user(engine, name, "header")
        except Exception:  # noqa: BLE001 - a name that is not a valid username: nobody
            return None, None
        return (users.principal_for(user, "header") if user else None), None
    session = sessions.lookup(engine, cookie_token(scope), idle_minutes=settings.session_idle_minutes)
    if session is None or session.user_id is None:
        return None, session
    user = users.user_by_id(engine, session.user_id)
    return users.principal_for(user, session.via, session.session_id), session
