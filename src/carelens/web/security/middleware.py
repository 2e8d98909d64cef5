"""The gate every request to ``carelens serve`` passes: identity, Origin, security headers, body limit.

One ASGI middleware around the whole app (the dashboard at ``/``, the API at ``/api``, the
sign-in pages at ``/auth``), so no part of it can be reached around the gate:

- identity headers a client could forge are removed unless the peer is a trusted proxy
  (:func:`~carelens.web.security.identity.strip_untrusted_headers`); the request's principal
  (a signed-in session's cookie, or the trusted proxy's user) goes into the ASGI scope as
  ``carelens.principal`` (and its session as ``carelens.session``) for the API and the dashboard;
- the dashboard (every path but ``/api`` and ``/auth``) needs a principal: a page is redirected to
  the sign-in page, anything else (a script, a download) is a 401. Its websocket needs a
  principal and an ``Origin`` that is this site (or in ``allowed_origins``): a page on another
  site cannot open it and read patients' comments through a signed-in browser;
- every state-changing request (POST, PUT, PATCH, DELETE) from a browser must come from an
  allowed ``Origin``; the dashboard's (file uploads) must carry one;
- request bodies to the dashboard (file uploads) are held to ``max_request_bytes``, as the API's;
- every response gets the security headers (:mod:`~carelens.web.security.headers`).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
import sqlalchemy as sa

from carelens.access import sessions
from carelens.config import Settings
from carelens.web.security import identity
from carelens.web.security.headers import security_headers

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
TOUCH_SECONDS = 60  # a websocket in use marks its session used at most this often


def route_path(scope: dict) -> str:
    """The path inside the app (without ``root_path``, which a proxy's path prefix puts there)."""
    path, root = scope.get("path", ""), scope.get("root_path", "").rstrip("/")
    return path[len(root):] or "/" if root and path.startswith(root) else path


def area(scope: dict) -> str:
    path = route_path(scope)
    for name in ("api", "auth"):
        if path == f"/{name}" or path.startswith(f"/{name}/"):
            return name
    return "dashboard"


def header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def origin_allowed(scope: dict, settings: Settings, origin: str) -> bool:
    """Same origin as the request's own host (``Host``, or ``X-Forwarded-Host`` from a trusted
    proxy), or listed in ``allowed_origins``. ``null`` and anything unparsable are refused."""
    origin = origin.strip().rstrip("/").lower()
    if origin in settings.allowed_origins:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    hosts = {(header(scope, b"host") or "").lower()}
    if identity.from_trusted_proxy(scope, settings):
        forwarded = header(scope, b"x-forwarded-host")
        if forwarded:
            hosts.add(forwarded.split(",")[0].strip().lower())
    default = {"http": "80", "https": "443"}[parts.scheme]
    return any(parts.netloc == h or parts.netloc == f"{h}:{default}" or f"{parts.netloc}:{default}" == h
               for h in hosts if h)


def login_url(scope: dict, next_path: str | None = None) -> str:
    root = scope.get("root_path", "").rstrip("/")
    url = f"{root}/auth/login"
    return f"{url}?next={quote(next_path, safe='/')}" if next_path else url


class SecurityMiddleware:
    def __init__(self, app, *, settings: Settings, engine: sa.Engine, dashboard_csp: str) -> None:
        self.app, self.settings, self.engine, self.dashboard_csp = app, settings, engine, dashboard_csp
        self._touched: dict[str, float] = {}

    async def _resolve(self, scope: dict):
        return await anyio.to_thread.run_sync(identity.resolve, scope, self.settings, self.engine)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            return await self._websocket(scope, receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        identity.strip_untrusted_headers(scope, self.settings)
        where = area(scope)
        send = self._with_headers(scope, send, where)
        method = scope.get("method", "GET")
        origin = header(scope, b"origin")
        if method not in SAFE_METHODS and origin is not None and not origin_allowed(scope, self.settings, origin):
            return await _plain(403, "refused: this request came from another site (Origin)")(scope, receive, send)
        principal, session = await self._resolve(scope)
        scope["carelens.principal"], scope["carelens.session"] = principal, session
        if where == "dashboard":
            if principal is None:
                if method in ("GET", "HEAD") and "text/html" in (header(scope, b"accept") or ""):
                    return await _redirect(login_url(scope, _next(scope)))(scope, receive, send)
                return await _plain(401, "sign in first")(scope, receive, send)
            if method not in SAFE_METHODS:
                if origin is None:
                    return await _plain(403, "refused: a change to the dashboard must say where it comes from (Origin)")(
                        scope, receive, send)
                from carelens.web.api.errors import BodyLimit

                return await BodyLimit(self.app, self.settings.max_request_bytes)(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _websocket(self, scope, receive, send):
        identity.strip_untrusted_headers(scope, self.settings)
        origin = header(scope, b"origin")
        principal, session = (None, None)
        if origin is not None and origin_allowed(scope, self.settings, origin):
            principal, session = await self._resolve(scope)
        if principal is None:
            message = await receive()  # websocket.connect
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})  # refused before the handshake: an HTTP 403
            return
        scope["carelens.principal"], scope["carelens.session"] = principal, session
        return await self.app(scope, self._touching(session, receive), send)

    def _touching(self, session, receive):
        """Each message from the browser (a click, a filter) keeps its session alive, so the idle
        timeout counts time without use, not time since the page was loaded."""
        if session is None:
            return receive

        async def wrapped():
            message = await receive()
            if message["type"] == "websocket.receive":
                now = time.monotonic()
                if now - self._touched.get(session.session_id, 0.0) >= TOUCH_SECONDS:
                    self._touched[session.session_id] = now
                    await anyio.to_thread.run_sync(sessions.touch, self.engine, session.session_id)
            return message

        return wrapped

    def _with_headers(self, scope, send, where: str):
        extra = security_headers(scope, self.settings, csp=self.dashboard_csp if where == "dashboard" else None)

        async def sending(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                for name, value in extra:
                    if name not in present:
                        headers.append((name, value))
                if b"cache-control" not in present and (content_type.startswith(b"text/html")
                                                        or content_type.startswith(b"application/json")):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        return sending


def _next(scope: dict) -> str:
    path = route_path(scope)
    query = scope.get("query_string", b"").decode("latin-1")
    return path + (f"?{query}" if query else "")


def _plain(status: int, text: str) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(text, status_code=status)


def _redirect(url: str) -> Any:
    from starlette.responses import RedirectResponse

    return RedirectResponse(url, status_code=303)
