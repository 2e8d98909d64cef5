"""What every page gets: the app context, one per browser session.

Pages of every capability receive an :class:`AppContext`; feedback pages also receive a
:class:`~carelens.web.dashboard.feedback_context.FeedbackContext` (the comment filters and the
actions on comments), which other capabilities' pages have no use for.

Why per session and not per process: the signed-in user is a property of the session. When access
control lands (issue 16) the app's server function sets ``user`` from the session's sign-in, and
pages pass it to every query so that what a user sees is scoped where the data is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from carelens.config import Settings


@dataclass(frozen=True)
class AppContext:
    """Settings, the store, the page on screen, and (once sign-in exists) the user."""

    settings: Settings
    engine: sa.Engine  # the carelens store (``carelens.db.get_engine``): one per process, shared
    current_page: Callable[[], str]  # reactive: the id of the page on screen (the navbar's value)
    user: Any = None  # the signed-in user; None until access control lands (issue 16)
