"""``GET /health``: liveness, the one route without a key (load balancers and monitors call it)."""

from __future__ import annotations

from fastapi import APIRouter

from carelens import __version__
from carelens.web.api.errors import responses
from carelens.web.api.models import Health

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health, responses=responses(413))
def health() -> Health:
    """Liveness (no API key needed)."""
    from carelens.feedback.model_cache import is_loaded

    return Health(status="ok", version=__version__, model_loaded=is_loaded())
