"""One ASGI app: the REST API at ``/api`` and the Shiny dashboard at ``/``, in one process.

Why one process: a trust runs ``carelens serve`` (or deploys this app on Posit Connect / any ASGI
host) and gets the dashboard and the API together, sharing settings and the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from carelens.config import Settings, load_settings


def _checkpoint_on_shutdown(settings: Settings):
    """On shutdown (SIGTERM from systemd, Ctrl+C, Posit Connect stopping a process), write a
    DuckDB store's WAL into its file, so a copy of the ``.duckdb`` file holds every load."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        from carelens.db import checkpoint, get_engine

        checkpoint(get_engine(settings.database_url, migrate=False))

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    from carelens.web.dashboard.app import create_dashboard

    app = FastAPI(title="carelens", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_checkpoint_on_shutdown(settings))
    try:
        from carelens.web.api import create_api
    except ImportError:  # the API module not installed yet in this checkout
        create_api = None
    if create_api is not None:
        app.mount("/api", create_api(settings))
    app.mount("/", create_dashboard(settings))
    return app
