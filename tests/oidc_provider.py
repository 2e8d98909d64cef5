"""A tiny OpenID Connect provider for the tests, on loopback: what Entra ID does for carelens, no more.

Discovery, ``/authorize`` (signs in ``provider.user`` at once, as a provider does once the person
has typed their password), ``/token`` (authorization code with PKCE S256, checked with Authlib's
``create_s256_code_challenge``; client secret; each code once), ``/jwks``. ID tokens are RS256
JWTs made with ``joserfc`` (Authlib's JOSE library). ``provider.tamper`` makes the next tokens
wrong in one way (another audience, issuer or nonce, expired, signed with a key not published),
so the tests can check each is refused.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

CLIENT_ID = "carelens-test"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Provider:
    issuer: str = ""
    user: str = "alice@trust.nhs.uk"
    name: str = "Alice Example"
    tamper: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    tokens_issued: int = 0

    def __post_init__(self) -> None:
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "test-1"})  # same kid, not published

    def app(self):
        from authlib.oauth2.rfc7636 import create_s256_code_challenge
        from joserfc import jwt
        from joserfc.jwk import KeySet
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, RedirectResponse
        from starlette.routing import Route

        async def discovery(request):
            return JSONResponse({
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"]})

        async def authorize(request):
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return JSONResponse({"error": "invalid_request", "error_description": "PKCE required"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": q.get("nonce"), "redirect_uri": q["redirect_uri"],
                                "challenge": q["code_challenge"], "user": self.user}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}",
                                    status_code=302)

        async def token(request):
            form = await request.form()
            grant = self.codes.pop(form.get("code"), None)  # a code is good once
            if (grant is None or form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or create_s256_code_challenge(form.get("code_verifier", "")) != grant["challenge"]):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": f"sub-{grant['user']}", "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"], "preferred_username": grant["user"], "name": self.name}
            claims.update({k: v for k, v in self.tamper.items() if k in claims})
            signer = self.other_key if self.tamper.get("sign_with_other_key") else self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, signer)
            self.tokens_issued += 1
            return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                                 "id_token": id_token})

        async def jwks(request):
            return JSONResponse(KeySet([self.key]).as_dict(private=False))

        return Starlette(routes=[Route("/.well-known/openid-configuration", discovery), Route("/authorize", authorize),
                                 Route("/token", token, methods=["POST"]), Route("/jwks", jwks)])


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider on a free loopback port, in a thread, while the block runs."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = Provider(issuer=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test OIDC provider did not start")
        time.sleep(0.05)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
