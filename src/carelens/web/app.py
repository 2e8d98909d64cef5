"""One ASGI app: the REST API at ``/api`` and the Shiny dashboard at ``/``, in one process.

Why one process: a trust runs ``carelens serve`` (or deploys this app on Posit Connect / any ASGI
host) and gets the dashboard and the API together, sharing settings and the store.
"""

from __future__ import annotations

from fastapi import FastAPI

from carelens.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    from carelens.web.dashboard.app import create_dashboard

    app = FastAPI(title="carelens", docs_url=None, redoc_url=None, openapi_url=None)
    try:
        from carelens.web.api import create_api
    except ImportError:  # the API module not installed yet in this checkout
        create_api = None
    if create_api is not None:
        app.mount("/api", create_api(settings))
    app.mount("/", create_dashboard(settings))
    return app
