"""The page registry: each capability adds its dashboard page with one line.

A page is a Shiny for Python module (``@module.ui`` / ``@module.server``) in a module of ``pages/``
exposing ``PAGE = Page(...)``. The app calls ``ui(page.id)`` and ``server(page.id, app)`` (feedback
pages: ``server(page.id, app, feedback)``), so every input and output id of a page is namespaced
by its page id (``overview-measure``) without any naming convention. Register a page by adding its
module path to ``PAGES`` below (or call :func:`register_page` before the app is built).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from carelens.access.roles import Permission

# Order is the menu order. A new page: append "carelens.web.dashboard.pages.<name>".
PAGES: list[str] = [
    "carelens.web.dashboard.pages.overview",
    "carelens.web.dashboard.pages.compare",
    "carelens.web.dashboard.pages.comments",
    "carelens.web.dashboard.pages.complex",
    "carelens.web.dashboard.pages.demographics",
    "carelens.web.dashboard.pages.framework",
    "carelens.web.dashboard.pages.upload",
    "carelens.web.dashboard.pages.spellings",
    "carelens.web.dashboard.pages.trust_mix",
    "carelens.web.dashboard.pages.export",
    "carelens.web.dashboard.pages.appointments",
    "carelens.web.dashboard.pages.demand",
    "carelens.web.dashboard.pages.admin",
]


@dataclass(frozen=True)
class Page:
    """One menu entry.

    ``ui`` is a ``@module.ui`` function (called with the page id); ``server`` a ``@module.server``
    function taking ``(input, output, session, app)``, or ``(..., app, feedback)`` when ``feedback``
    is True: a patient-feedback page, which gets the :class:`FeedbackContext` too. ``filters``
    (default: the same as ``feedback``) shows the comment filter sidebar beside the page.

    ``permission`` is what a user needs to see the page at all (``carelens.access.Permission``):
    by default reading feedback for a feedback page, and managing users (admins) for any other,
    so a page registered without thinking about access is shown to admins only. A page a user
    may not see is not in their menu and its server never runs in their session.
    """

    id: str
    title: str
    ui: Callable[..., Any]
    server: Callable[..., None]
    feedback: bool = False
    filters: bool | None = None
    permission: Permission | None = None

    @property
    def required_permission(self) -> Permission:
        if self.permission is not None:
            return self.permission
        return Permission.FEEDBACK_READ if self.feedback else Permission.MANAGE_USERS

    def allowed(self, principal: Any) -> bool:
        return principal is not None and principal.may(self.required_permission)

    @property
    def shows_filters(self) -> bool:
        return self.feedback if self.filters is None else self.filters

    def start(self, app: Any, feedback: Any) -> None:
        """Run the page's server for one browser session."""
        if self.feedback:
            self.server(self.id, app, feedback)
        else:
            self.server(self.id, app)


_extra: list[Page] = []


def register_page(page: Page) -> None:
    """Add a page at run time (e.g. from a plug-in); module-path registration is preferred."""
    _extra.append(page)


def pages() -> list[Page]:
    found = [importlib.import_module(path).PAGE for path in PAGES]
    return found + [p for p in _extra if p.id not in {f.id for f in found}]
