"""``GET /filters``: the values the filter controls offer (what a client can put in a query's filters)."""

from __future__ import annotations

from fastapi import APIRouter

from carelens.access.roles import Permission
from carelens.web.api.auth import CallerDep
from carelens.web.api.deps import EngineDep, SettingsDep
from carelens.web.api.errors import responses
from carelens.web.api.models import FilterOptions
from carelens.web.api.routes import guarded
from carelens.web.api.routes.frames import plain

router = APIRouter(tags=["store"], dependencies=guarded(Permission.FEEDBACK_READ))


@router.get("/filters", response_model=FilterOptions, responses=responses(400, 401, 403, 413))
def filter_options(engine: EngineDep, settings: SettingsDep, caller: CallerDep) -> FilterOptions:
    """Values for filter controls within the caller's locations: date span, places, questions, topics by
    category, demographic values (each value only when at least the privacy limit of comments have it)."""
    from carelens.feedback.store import queries
    from carelens.feedback.store.filters import CommentFilters

    scoped = CommentFilters().scoped(caller.feedback_scope())
    return FilterOptions(**plain(queries.filter_options(engine, scoped, suppress_below=settings.suppress_below)))
