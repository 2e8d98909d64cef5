"""``GET /filters``: the values the filter controls offer (what a client can put in a query's filters)."""

from __future__ import annotations

from fastapi import APIRouter

from carelens.web.api.deps import EngineDep
from carelens.web.api.errors import responses
from carelens.web.api.models import FilterOptions
from carelens.web.api.routes import PROTECTED
from carelens.web.api.routes.frames import plain

router = APIRouter(tags=["store"], dependencies=PROTECTED)


@router.get("/filters", response_model=FilterOptions, responses=responses(400, 401, 413))
def filter_options(engine: EngineDep) -> FilterOptions:
    """Values for filter controls: date span, locations, questions, topics by category, demographics."""
    from carelens.feedback.store import queries

    return FilterOptions(**plain(queries.filter_options(engine)))
