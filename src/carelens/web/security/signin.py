"""The sign-in pages at ``/auth``: a local account's form, single sign-on, signing out.

- ``GET /auth/login``: the form (when ``password_sign_in``) and a "Sign in with ..." link (when
  single sign-on is set up). Opening it starts a sign-in-in-progress session, whose CSRF token
  the form carries back (login CSRF).
- ``POST /auth/login``: checks the CSRF token, then the password (lock-out after
  ``lockout_attempts`` failures); success starts a new session (a new cookie: the one before
  sign-in is never the one after) and goes back to the page asked for.
- ``GET /auth/oidc/start`` -> the provider -> ``GET /auth/oidc/callback``: single sign-on
  (:mod:`~carelens.web.security.oidc`).
- ``POST /auth/logout``: ends the session (needs its CSRF token).

Every outcome is in the audit log. Messages never say whether a username exists.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from htmltools import HTMLDocument, tags

from carelens import __version__
from carelens.access import audit, sessions, users
from carelens.config import Settings
from carelens.errors import AccessError
from carelens.web.security import oidc
from carelens.web.security.identity import COOKIE

STATIC = Path(__file__).parent / "static"
MESSAGES = {
    "wrong": "The username or password is not right.",
    "locked": "This account is locked after too many failed sign-ins. Try again later, or ask an administrator.",
    "expired": "The sign-in form had expired. Please try again.",
    "sso": "Single sign-on did not complete. Please try again.",
    "disabled": "This account is disabled. Ask an administrator.",
    "signed_out": "You have signed out.",
    "timed_out": "Your session ended. Please sign in again.",
}


def safe_next(value: str | None) -> str:
    """A path inside this app to go to after sign-in (never another site: ``//evil``, ``https://``)."""
    text = (value or "/").strip()
    if (not text.startswith("/") or text.startswith("//") or "\\" in text
            or any(ord(c) < 32 for c in text) or len(text) > 2000):
        return "/"
    return text


def root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def set_session_cookie(response: Response, request: Request, settings: Settings, token: str) -> None:
    secure = settings.cookie_secure == "always" or (settings.cookie_secure == "auto" and request.url.scheme == "https")
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path=root(request) or "/")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=root(request) or "/", httponly=True, samesite="lax")


def _page(request: Request, *body, title: str = "Sign in") -> HTMLResponse:
    base = root(request)
    doc = HTMLDocument(
        tags.html(
            tags.head(tags.meta(charset="utf-8"), tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
                      tags.title(f"carelens: {title.lower()}"),
                      tags.link(rel="stylesheet", href=f"{base}/auth/static/signin.css")),
            tags.body(tags.main(tags.h1(tags.span("carelens", class_="brand"), " ", title), *body, class_="signin"),
                      tags.footer(f"carelens {__version__}")),
            lang="en-GB",
        )
    )
    return HTMLResponse(doc.render()["html"])


def signin_router(settings: Settings, engine: sa.Engine) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def _start_pending(data: dict | None = None) -> tuple[str, sessions.Session]:
        return sessions.start(engine, user_id=None, via="pending", idle_minutes=settings.session_idle_minutes,
                              max_hours=settings.session_max_hours, data=data)

    def _signed_in(request: Request, user: dict, via: str, next_path: str) -> RedirectResponse:
        sessions.end(engine, request.cookies.get(COOKIE))
        token, _ = sessions.start(engine, user_id=user["user_id"], via=via, idle_minutes=settings.session_idle_minutes,
                                  max_hours=settings.session_max_hours)
        response = RedirectResponse(root(request) + safe_next(next_path), status_code=303)
        set_session_cookie(response, request, settings, token)
        return response

    def _back(request: Request, message: str, next_path: str = "/") -> RedirectResponse:
        url = f"{root(request)}/auth/login?message={message}&next={safe_next(next_path)}"
        return RedirectResponse(url, status_code=303)

    @router.get("/static/signin.css")
    def signin_css() -> FileResponse:
        return FileResponse(STATIC / "signin.css", media_type="text/css")

    @router.get("/login")
    def login_page(request: Request, next: str = "/", message: str = "") -> Response:
        if request.scope.get("carelens.principal") is not None:
            return RedirectResponse(root(request) + safe_next(next), status_code=303)
        session = request.scope.get("carelens.session")
        token = None
        if session is None or session.user_id is not None:
            token, session = _start_pending()
        body = []
        if message in MESSAGES:
            body.append(tags.p(MESSAGES[message], class_="notice", role="alert"))
        if settings.password_sign_in:
            body.append(tags.form(
                tags.input(type="hidden", name="csrf", value=session.csrf_token),
                tags.input(type="hidden", name="next", value=safe_next(next)),
                tags.label("Username", tags.input(type="text", name="username", autocomplete="username", required=True,
                                                  autofocus=True, maxlength=200, id="username")),
                tags.label("Password", tags.input(type="password", name="password", autocomplete="current-password",
                                                  required=True, maxlength=1000, id="password")),
                tags.button("Sign in", type="submit", id="sign-in"),
                method="post", action=f"{root(request)}/auth/login",
            ))
        if oidc.enabled(settings):
            body.append(tags.p(tags.a(f"Sign in with {settings.oidc_provider_name}", id="sso",
                                      href=f"{root(request)}/auth/oidc/start?next={safe_next(next)}", class_="sso")))
        if not settings.password_sign_in and not oidc.enabled(settings):
            body.append(tags.p("No way to sign in is set up: ask the administrator of this server."))
        response = _page(request, *body)
        if token:
            set_session_cookie(response, request, settings, token)
        return response

    @router.post("/login")
    def login(request: Request, username: str = Form("", max_length=200), password: str = Form("", max_length=1000),
              csrf: str = Form("", max_length=200), next: str = Form("/", max_length=2000)) -> Response:
        session = request.scope.get("carelens.session")
        if (not settings.password_sign_in or session is None or session.user_id is not None
                or not secrets.compare_digest(csrf.encode(), session.csrf_token.encode())):
            audit.record(engine, "anonymous", "sign_in_failed", username[:100] or None, {"reason": "form expired or forged"},
                         outcome="refused")
            return _back(request, "expired", next)
        result = users.sign_in(engine, username, password, attempts=settings.lockout_attempts,
                               lock_minutes=settings.lockout_minutes)
        if result.user is None:
            return _back(request, "locked" if result.locked else "wrong", next)
        return _signed_in(request, result.user, "password", next)

    @router.post("/logout")
    def logout(request: Request, csrf: str = Form("", max_length=200)) -> Response:
        session = request.scope.get("carelens.session")
        principal = request.scope.get("carelens.principal")
        if session is None or not secrets.compare_digest(csrf.encode(), session.csrf_token.encode()):
            return RedirectResponse(root(request) + "/", status_code=303)  # a forged sign-out does nothing
        sessions.end_by_id(engine, session.session_id)
        audit.record(engine, principal, "sign_out", principal.label if principal else None)
        response = _back(request, "signed_out")
        clear_session_cookie(response, request)
        return response

    @router.get("/oidc/start")
    def oidc_start(request: Request, next: str = "/") -> Response:
        if not oidc.enabled(settings):
            return _back(request, "sso", next)
        redirect_uri = str(request.url_for("oidc_callback"))
        try:
            url, pending = oidc.start(settings, redirect_uri)
        except AccessError as exc:
            audit.record(engine, "anonymous", "sign_in_failed", None, {"via": "oidc", "reason": exc.message},
                         outcome="failed")
            return _back(request, "sso", next)
        token, _ = _start_pending({**pending, "next": safe_next(next)})
        response = RedirectResponse(url, status_code=303)
        set_session_cookie(response, request, settings, token)
        return response

    @router.get("/oidc/callback", name="oidc_callback")
    def oidc_callback(request: Request) -> Response:
        session = request.scope.get("carelens.session")
        pending = session.data if session is not None and session.user_id is None else {}
        next_path = pending.get("next", "/")
        try:
            if not pending:
                raise AccessError("no sign-in in progress in this browser (or it took too long)")
            claims = oidc.finish(settings, str(request.url_for("oidc_callback")), pending, dict(request.query_params))
            name = oidc.username(settings, claims)
            user = users.external_user(engine, name, "oidc", display_name=claims.get("name"))
        except AccessError as exc:
            audit.record(engine, "anonymous", "sign_in_failed", None, {"via": "oidc", "reason": exc.message},
                         outcome="refused")
            return _back(request, "sso", next_path)
        if user is None:
            audit.record(engine, f"user:{name.lower()}", "sign_in_failed", name, {"via": "oidc", "reason": "account disabled"},
                         outcome="refused")
            return _back(request, "disabled", next_path)
        users.mark_signed_in(engine, user, "oidc")
        return _signed_in(request, user, "oidc", next_path)

    return router
