"""What every page gets: the app context, one per browser session.

Pages of every capability receive an :class:`AppContext`; feedback pages also receive a
:class:`~carelens.web.dashboard.feedback_context.FeedbackContext` (the comment filters and the
actions on comments), which other capabilities' pages have no use for.

Why per session and not per process: the signed-in user is a property of the session. The app's
server function sets ``user`` (a ``carelens.access.Principal``: name, role, location scope) from
the session's sign-in; feedback pages read through ``FeedbackContext.filters()``, which carries
the user's scope into every query, so what a user sees is scoped where the data is read; other
pages ask ``user.may(...)`` before showing what a role may not see (contact details).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from carelens.access.roles import Permission, Principal
from carelens.config import Settings


@dataclass(frozen=True)
class AppContext:
    """Settings, the store, the page on screen, and the signed-in user."""

    settings: Settings
    engine: sa.Engine  # the carelens store (``carelens.db.get_engine``): one per process, shared
    current_page: Callable[[], str]  # reactive: the id of the page on screen (the navbar's value)
    user: Principal | None = None  # the signed-in user (role, location scope); set for every session

    def may(self, permission: Permission) -> bool:
        return self.user is not None and self.user.may(permission)

    def audit(self, action: str, target: str | None = None, detail: dict[str, Any] | None = None,
              outcome: str = "ok") -> None:
        """Record what this session's user did (viewed, exported, uploaded, corrected, ...) in the audit log."""
        from carelens.access import audit

        audit.record(self.engine, self.user, action, target, detail, outcome)
