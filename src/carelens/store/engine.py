"""Engines for the store: any SQLAlchemy URL, or a path to a DuckDB file, migrated on first use.

Why migrate on first use: a patient-experience lead runs ``carelens serve`` on a laptop with no
set-up, so the embedded DuckDB file must create itself; a trust warehouse gets the same schema
through the same Alembic history (``carelens db upgrade`` when a DBA wants to run it explicitly).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

from carelens.errors import StoreError

_migrated: set[str] = set()
_lock = threading.Lock()


def database_url(target: str | Path | None = None) -> str:
    """A SQLAlchemy URL from ``target``: a URL, a ``.duckdb`` path, or None for the settings' URL."""
    if target is None or str(target) == "":
        from carelens.config import load_settings

        return load_settings().database_url
    text = str(target)
    if "://" in text:
        return text
    return f"duckdb:///{Path(text).expanduser().resolve().as_posix()}"


@lru_cache(maxsize=16)
def _engine_for(url: str) -> sa.Engine:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}", field="database_url") from exc
    if parsed.get_backend_name() == "duckdb" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict = {}
    if parsed.get_backend_name() == "duckdb":
        # One DuckDB file admits one writing process; share one connection pool per process.
        kwargs["poolclass"] = sa.pool.QueuePool
        kwargs["pool_size"] = 4
    try:
        return sa.create_engine(url, **kwargs)
    except Exception as exc:  # missing driver, bad options
        raise StoreError(f"cannot open database {parsed.render_as_string(hide_password=True)}: {exc}".splitlines()[0]) from exc


def get_engine(target: str | Path | None = None, *, migrate: bool = True) -> sa.Engine:
    """The process-wide engine for ``target`` (see :func:`database_url`), schema brought up to date."""
    url = database_url(target)
    engine = _engine_for(url)
    if migrate and url not in _migrated:
        with _lock:
            if url not in _migrated:
                upgrade(engine)
                _migrated.add(url)
    return engine


def alembic_config(engine: sa.Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("carelens.store").joinpath("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply the packaged Alembic migrations up to ``revision`` (idempotent)."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot migrate the database: {exc.orig}".splitlines()[0]) from exc


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
