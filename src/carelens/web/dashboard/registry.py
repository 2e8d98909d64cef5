"""A small page registry, so each capability adds its dashboard page with one line.

A page is a module exposing ``PAGE = Page(...)``: an id, a menu title, a ``ui()`` function returning
the page's content, and a ``server(input, output, session, ctx)`` function. Register it by adding its
module path to ``PAGES`` below (or call ``register_page`` from your own code before the app is
built). Pages share ``ctx`` (:class:`carelens.web.dashboard.context.DashboardContext`): settings,
the filtered comments and helpers for showing comments behind a chart element.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Order is the menu order. Appointments and demand engineers: append "carelens.web.dashboard.pages.<x>".
PAGES: list[str] = [
    "carelens.web.dashboard.pages.overview",
    "carelens.web.dashboard.pages.comments",
    "carelens.web.dashboard.pages.complex",
    "carelens.web.dashboard.pages.framework",
    "carelens.web.dashboard.pages.upload",
    "carelens.web.dashboard.pages.export",
    "carelens.web.dashboard.appointments",
    "carelens.web.dashboard.demand",
]


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    ui: Callable[[], Any]
    server: Callable[..., None]
    uses_feedback_filters: bool = True  # show the feedback filter sidebar with this page


_extra: list[Page] = []


def register_page(page: Page) -> None:
    """Add a page at run time (e.g. from a plug-in); module-path registration is preferred."""
    _extra.append(page)


def pages() -> list[Page]:
    found = [importlib.import_module(path).PAGE for path in PAGES]
    return found + [p for p in _extra if p.id not in {f.id for f in found}]
