"""Alembic environment: run against the engine carelens passes in (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context
from alembic.ddl.impl import DefaultImpl

from carelens.store.tables import metadata


class DuckDBImpl(DefaultImpl):
    """Alembic knows no DuckDB; its DDL is PostgreSQL-like and transactional."""

    __dialect__ = "duckdb"
    transactional_ddl = True


config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
