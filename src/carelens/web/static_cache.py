"""Static assets sent compressed and cached (issue 12: plotly.js, 4.8 MB, went uncompressed with no
cache headers on every page view, 1.7 s of the first one on loopback).

Starlette's ``GZipMiddleware`` compresses every HTTP answer over 1 kB the browser accepts gzip for
(the websocket Shiny talks over is left alone); :class:`StaticCache` adds ``Cache-Control``:
plotly.js (``dashboard/vendor``: its content changes only with a carelens upgrade that moves
plotly's version, after which a browser may keep the old bundle for up to a day) for a day;
carelens' own CSS and JavaScript revalidated on each view (a 304 when unchanged, so an upgrade
shows at once).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHE_RULES = (("/vendor/", "public, max-age=86400"), ("/www/", "no-cache"))


class StaticCache:
    """ASGI middleware setting ``Cache-Control`` on answers under the paths of :data:`CACHE_RULES`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = next((value for prefix, value in CACHE_RULES if scope["type"] == "http"
                     and scope.get("path", "").startswith(prefix)), None)
        if rule is None:
            await self.app(scope, receive, send)
            return

        async def with_cache_header(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") in (200, 304):
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", rule.encode())]}
            await send(message)

        await self.app(scope, receive, with_cache_header)
