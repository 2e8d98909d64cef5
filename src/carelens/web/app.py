"""One ASGI app: the REST API at ``/api``, the sign-in pages at ``/auth`` and the Shiny dashboard at
``/``, in one process, behind one gate (``web.security.middleware.SecurityMiddleware``).

Why one process: a trust runs ``carelens serve`` (or deploys this app on Posit Connect / any ASGI
host) and gets the dashboard and the API together, sharing settings and the store. Why one gate
around all of it: nothing can be reached around it (the dashboard's websocket, its static files,
its downloads and uploads, the API) without an identity, and every state change is checked for
where it comes from (docs/security.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from carelens.config import Settings, load_settings
from carelens.errors import CarelensError

RETENTION_EVERY_SECONDS = 24 * 3600


def _checkpoint_on_shutdown(settings: Settings):
    """While the server runs, the audit log's retention (:func:`_audit_retention`); on shutdown
    (SIGTERM from systemd, Ctrl+C, Posit Connect stopping a process), write a DuckDB store's WAL
    into its file, so a copy of the ``.duckdb`` file holds every load."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        retention = asyncio.create_task(_audit_retention(settings))
        try:
            yield
        finally:
            retention.cancel()
        from carelens.db import checkpoint, get_engine

        checkpoint(get_engine(settings.database_url, migrate=False))

    return lifespan


async def _audit_retention(settings: Settings) -> None:
    """The audit log's retention, enforced while the server runs: at start and then daily
    (``audit_retention_days``); a store that cannot be written now is tried again the next day."""
    import anyio

    from carelens.access.audit import enforce_retention
    from carelens.db import get_engine

    while True:
        try:
            await anyio.to_thread.run_sync(enforce_retention, get_engine(settings.database_url),
                                           settings.audit_retention_days)
        except Exception:  # noqa: BLE001 - never stop the server over housekeeping; the log says why
            logging.getLogger("carelens").warning("audit retention could not run", exc_info=True)
        await asyncio.sleep(RETENTION_EVERY_SECONDS)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API mounted at ``/api``, sign-in at ``/auth``, the dashboard at ``/``, behind the security gate.

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
    from carelens.db import get_engine
    from carelens.web.dashboard.app import create_dashboard
    from carelens.web.security.headers import csp
    from carelens.web.security.middleware import SecurityMiddleware
    from carelens.web.security.signin import signin_router

    engine = get_engine(settings.database_url)
    dashboard = create_dashboard(settings)
    app = FastAPI(title="carelens", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_checkpoint_on_shutdown(settings))
    app.mount("/api", api)
    app.include_router(signin_router(settings, engine), prefix="/auth")
    app.mount("/", dashboard)
    from starlette.middleware.gzip import GZipMiddleware

    from carelens.web.static_cache import StaticCache

    app.add_middleware(StaticCache)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # compresses what comes back
    # added last, so it runs first: nothing reaches the app (or its compression) past the gate
    app.add_middleware(SecurityMiddleware, settings=settings, engine=engine,
                       dashboard_csp=csp(dashboard.carelens_script_hashes))
    return app
