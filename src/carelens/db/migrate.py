"""Alembic, driven from code: the packaged migrations run against the engine carelens passes in.

No ``alembic.ini``: the script location is this package's ``migrations`` folder and the engine
travels in ``Config.attributes``, so ``get_engine`` (first use), ``carelens db upgrade`` and the
tests all run the same history.
"""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa

from carelens.errors import StoreError


_duckdb_registered = False


def register_duckdb() -> None:
    """Teach Alembic DuckDB (its DDL is PostgreSQL-like and transactional); once per process.

    Needed by every Alembic use, not only upgrades: reading the current revision
    (:func:`current_revision`) builds a migration context too (without this, ``carelens db
    current`` once ended in a traceback).
    """
    global _duckdb_registered
    if _duckdb_registered:
        return
    from alembic.ddl.impl import DefaultImpl

    class DuckDBImpl(DefaultImpl):  # defining the class registers it with Alembic
        __dialect__ = "duckdb"
        transactional_ddl = True

    _duckdb_registered = True


def _config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("carelens.db").joinpath("migrations")))
    return cfg


def alembic_config(engine: sa.Engine, *, declared_tables: bool = False):
    """The Alembic ``Config`` for ``engine``.

    ``declared_tables=True`` hands the env every capability's declared tables (for
    ``compare_metadata`` / autogenerate); plain upgrades run the revisions' explicit DDL and do not
    import the capabilities.
    """
    cfg = _config()
    cfg.attributes["engine"] = engine
    cfg.attributes["declared_tables"] = declared_tables
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply the packaged Alembic migrations up to ``revision`` (idempotent)."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except sa.exc.DBAPIError as exc:  # locked file, permissions, a row an adopted table cannot keep
        raise StoreError(f"cannot migrate the database: {exc.orig}".splitlines()[0]) from exc


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the store is at (None: no carelens schema yet)."""
    from alembic.runtime.migration import MigrationContext

    register_duckdb()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision this version of carelens knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every revision this version of carelens knows (a backup from a newer one is refused)."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
