"""Alembic environment: run against the engine carelens passes in (no alembic.ini needed).

The revisions hold explicit DDL, so a plain upgrade needs no declared tables; the capabilities'
table modules are imported only when the caller asks to compare with them
(``alembic_config(engine, declared_tables=True)``: ``compare_metadata``, autogenerate).
"""

from __future__ import annotations

from alembic import context

from carelens.db.migrate import register_duckdb
from carelens.db.schema import load_all_tables, metadata

register_duckdb()

config = context.config
engine = config.attributes["engine"]
target_metadata = load_all_tables() if config.attributes.get("declared_tables") else metadata

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=target_metadata, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
