"""One ASGI app: the REST API at ``/api`` and the Shiny dashboard at ``/``, in one process.

Why one process: a trust runs ``carelens serve`` (or deploys this app on Posit Connect / any ASGI
host) and gets the dashboard and the API together, sharing settings and the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from carelens.config import Settings, load_settings
from carelens.errors import CarelensError


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
    """The API mounted at ``/api`` and the dashboard at ``/``.

    An API that cannot be imported stops start-up with the reason (a :class:`CarelensError`, one
    line from ``carelens serve``): serving the dashboard alone would be a silent outage for every
    client of the API.
    """
    settings = settings or load_settings()
    try:
        from carelens.web.api import create_api

        api = create_api(settings)  # imports its routes: a missing dependency shows here
    except ImportError as exc:
        raise CarelensError(f"the REST API cannot be loaded, so carelens serve does not start: {exc} "
                            "(reinstall carelens with its dependencies)") from exc
    from carelens.web.dashboard.app import create_dashboard

    app = FastAPI(title="carelens", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_checkpoint_on_shutdown(settings))
    app.mount("/api", api)
    app.mount("/", create_dashboard(settings))
    from starlette.middleware.gzip import GZipMiddleware

    from carelens.web.static_cache import StaticCache

    app.add_middleware(StaticCache)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # added last: it runs first, compressing what comes back
    return app
