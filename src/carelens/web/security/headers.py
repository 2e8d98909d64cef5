"""Security headers on every response, and the Content Security Policy.

The CSP allows scripts only from this site and, inline, only scripts whose exact text is known
in advance (by their SHA-256): no ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts, so a
comment that somehow became markup still could not run. What Shiny needs, and why each
exception is there (docs/security.md):

- Shiny and bslib write a few fixed inline scripts into the page (start the busy indicator, set up
  cards and sidebars, the date picker's no-conflict line). Their hashes are taken from the
  dashboard's own page when the app is built (:func:`inline_script_hashes`), so exactly those
  run and nothing else.
- ``style-src 'unsafe-inline'``: Shiny, bslib and plotly.js set styles inline (bslib's layout
  attributes, plotly's injected stylesheet). Styles cannot run code; a policy without it breaks
  every chart.
- ``img-src data: blob:``: plotly's "download as PNG" and bootstrap's icons.
- ``connect-src 'self'``: the dashboard's websocket to this site only (a browser counts ws: and
  wss: on the same host as 'self').
- ``frame-ancestors 'none'`` (and ``X-Frame-Options: DENY``): no other site can frame a page.
"""

from __future__ import annotations

import base64
import hashlib
import re

from carelens.config import Settings

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.S | re.I)


def script_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def inline_script_hashes(html: str) -> list[str]:
    """The CSP hashes of the executable inline scripts in ``html`` (JSON data blocks are not run)."""
    found = []
    for attrs, body in _INLINE_SCRIPT.findall(html):
        kind = re.search(r"\btype=[\"']?([^\"'\s>]+)", attrs)
        if kind and kind.group(1).lower() not in ("text/javascript", "module", "application/javascript"):
            continue
        found.append(script_hash(body))
    return sorted(set(found))


def csp(script_hashes: list[str] = (), *, workers: bool = False) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    parts = [
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if workers:
        parts.append("worker-src 'self' blob:")
    return "; ".join(parts)


BASE_CSP = csp()


def security_headers(scope: dict, settings: Settings, *, csp: str | None = None) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", (csp or BASE_CSP).encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers
