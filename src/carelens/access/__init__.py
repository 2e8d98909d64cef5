"""Access control on the floor: who may do what, to which locations, and the record of what they did.

Nothing here knows a capability's meaning; capabilities and entry points ask it:

- :mod:`~carelens.access.roles`: roles, permissions (:data:`~carelens.access.roles.PERMISSIONS`),
  location scopes and the :class:`~carelens.access.roles.Principal` every read and write carries.
- :mod:`~carelens.access.users` (accounts, sign-in with lock-out; passwords argon2id in
  :mod:`~carelens.access.passwords`), :mod:`~carelens.access.keys` (API keys, hashed, revocable at
  once), :mod:`~carelens.access.sessions` (browser sessions, expiring, with CSRF tokens).
- :mod:`~carelens.access.audit`: the append-only audit log.
- :mod:`~carelens.access.tables`: their tables (migration ``0008_access``).

How the web app uses them (sign-in pages, the trusted header, single sign-on, Origin checks) is
``carelens.web.security``; see docs/security.md.
"""

from carelens.access.roles import Permission, Principal, Role, Scope, cli_principal

__all__ = ["Permission", "Principal", "Role", "Scope", "cli_principal"]
