"""The REST API (FastAPI): classify, load, read comments and summaries, record corrections.

``create_api(settings)`` returns an app meant to be mounted at ``/api`` (``carelens.web.app``
does); paths below are relative to that mount. Layout:

- ``routes/``: one ``APIRouter`` per resource (``health``, ``classify``, ``comments``,
  ``summaries``, ``filters``, ``corrections``), each route with a response model and its refusals
  declared (``errors.responses``);
- ``deps.py``: what routes are given (settings, the store's engine, the feedback model, the JSON
  body's Unicode check); ``auth.py``: the caller (:class:`~carelens.web.api.auth.Caller`: name,
  role, locations) from an API key or a signed-in browser, required by every route but
  ``GET /health``, and the permission each route needs (``require``); ``audit.py``: every request
  of a known caller in the audit log;
- ``errors.py``: error bodies, handlers, the request-body limit; ``models.py``: request and
  response models; ``docs.py``: ``/openapi.json`` (needs a key), ``/docs`` and ``/redoc``.
"""

from __future__ import annotations

from fastapi import FastAPI

from carelens import __version__
from carelens.config import Settings, load_settings


def create_api(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (default: :func:`carelens.config.load_settings`)."""
    from carelens.web.api.audit import AuditTrail
    from carelens.web.api.docs import mount_docs
    from carelens.web.api.errors import BodyLimit, install_error_handlers
    from carelens.web.api.routes import routers

    api = FastAPI(
        title="carelens API",
        version=__version__,
        description="Patient feedback: classify comments by the NHS England patient experience framework, "
        "load trust exports, read stored comments and privacy-suppressed summaries, record corrections. "
        "Authenticate with header `X-API-Key` or `Authorization: Bearer` (a key from `carelens keys create`); what "
        "a key may read and do is its role's, and a ward manager's key reads only its locations.",
        docs_url=None, redoc_url=None, openapi_url=None,  # served by docs.py, behind the key
    )
    api.state.settings = settings or load_settings()
    api.add_middleware(BodyLimit, limit=api.state.settings.max_request_bytes)
    api.add_middleware(AuditTrail, settings=api.state.settings)
    install_error_handlers(api)
    for router in routers():
        api.include_router(router)
    mount_docs(api, api.state.settings)
    return api


__all__ = ["create_api"]
