"""Engines: the only place that turns settings, a URL or a DuckDB path into a SQLAlchemy engine.

Two kinds of database are opened, and only here:

- **the store** (:func:`get_engine`): carelens's own tables, one engine per URL per process,
  migrated on first use. Why migrate on first use: a patient-experience lead runs
  ``carelens serve`` on a laptop with no set-up, so the embedded DuckDB file must create itself;
  a trust warehouse gets the same schema through the same Alembic history (``carelens db
  upgrade`` when a DBA wants to run it explicitly).
- **a warehouse** (:func:`open_engine`): a database carelens reads appointments from or writes
  scores to. Not migrated (carelens does not own it) and not cached (the caller disposes it), so a
  one-off read leaves nothing open.

Keeping both here means a change in how connections are held (for example short-lived DuckDB
connections so a CLI import can write while ``carelens serve`` runs) is made once.
"""

from __future__ import annotations

import threading
from functools import lru_cache
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


def _parse(url: str) -> sa.URL:
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}", field="database_url") from exc


def _create(url: str, **kwargs) -> sa.Engine:
    """``create_engine`` with the DuckDB file's folder made first and driver problems in one line."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "duckdb" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        return sa.create_engine(url, **kwargs)
    except Exception as exc:  # missing driver (NoSuchModuleError, ImportError), bad options
        where = parsed.render_as_string(hide_password=True)
        raise StoreError(f"cannot open database {where}: {exc}".splitlines()[0]) from exc


@lru_cache(maxsize=16)
def _store_engine(url: str) -> sa.Engine:
    kwargs: dict = {}
    if _parse(url).get_backend_name() == "duckdb":
        # One DuckDB file admits one writing process; share one connection pool per process.
        kwargs["poolclass"] = sa.pool.QueuePool
        kwargs["pool_size"] = 4
    return _create(url, **kwargs)


def get_engine(target: str | Path | None = None, *, migrate: bool = True) -> sa.Engine:
    """The process-wide engine of the store at ``target`` (see :func:`database_url`), schema up to date."""
    url = database_url(target)
    engine = _store_engine(url)
    if migrate and url not in _migrated:
        with _lock:
            if url not in _migrated:
                from carelens.db.migrate import upgrade

                upgrade(engine)
                _migrated.add(url)
    return engine


def open_engine(url: str) -> sa.Engine:
    """An engine on a database carelens does not own (a warehouse table to read or write scores to).

    Not migrated and not shared: dispose it when done (``engine.dispose()``).
    """
    return _create(url)


def release(engine: sa.Engine) -> None:
    """Close this process's idle connections to ``engine``'s database.

    Why: a DuckDB file admits one writing process, so a command that has finished writing lets the
    file go (a dashboard or another command can then open it). The engine stays usable and
    reconnects on its next use.
    """
    engine.dispose()
