"""Access control in the web app: the gate every request passes, the sign-in pages, single sign-on.

- :mod:`~carelens.web.security.middleware`: ``SecurityMiddleware`` around the whole app
  (identity, Origin checks for the websocket and every state change, body limit, headers);
- :mod:`~carelens.web.security.identity`: a request's principal from its session cookie or a
  trusted proxy's header;
- :mod:`~carelens.web.security.signin`: ``/auth/login``, ``/auth/logout``, ``/auth/oidc/...``;
- :mod:`~carelens.web.security.oidc`: OpenID Connect (Entra ID) with Authlib;
- :mod:`~carelens.web.security.headers`: security headers and the Content Security Policy.

Who may do what is :mod:`carelens.access` (roles, scopes, users, keys, sessions, audit); the API
asks it in ``web/api/auth.py``, the dashboard per session in ``web/dashboard/app.py``.
docs/security.md describes the whole.
"""
