"""Every API request with a known caller goes into the audit log: who, which route, what it asked
(filters, counts: routes put them in ``AuditDetail``), and the outcome.

An ASGI middleware rather than a line in each route, so a new route is recorded without asking.
Requests with no identity (a missing or wrong key: 401) are not recorded, since nobody can be
named and a scanner could otherwise fill the log; a known caller refused (403) is.
"""

from __future__ import annotations

import anyio

from carelens.config import Settings


def action_of(method: str, path: str, detail: dict) -> str:
    if "action" in detail:
        return detail.pop("action")
    if method == "POST" and (path == "/comments" or path.startswith("/comments/upload")):
        return "upload"
    if path.startswith("/classify"):
        return "classify"
    return "view"


def outcome_of(status: int) -> str:
    return "ok" if status < 400 else "refused" if status in (401, 403, 404) else "failed"


class AuditTrail:
    def __init__(self, app, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = {"code": 500}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            state = scope.get("state") or {}
            principal = state.get("principal")
            if principal is not None:
                await anyio.to_thread.run_sync(self._record, scope, principal, dict(state.get("audit_detail") or {}),
                                               status["code"])

    def _record(self, scope, principal, detail: dict, code: int) -> None:
        from carelens.access import audit
        from carelens.db import get_engine

        root = scope.get("root_path", "")
        path = scope.get("path", "")
        path = path[len(root):] if root and path.startswith(root) else path
        action = action_of(scope.get("method", ""), path, detail)
        detail["status"] = code
        audit.record(get_engine(self.settings.database_url), principal, action, f"api {scope.get('method')} {path}",
                     detail, outcome_of(code))
