"""The persistence floor: engines, migrations, the one ``MetaData``, bulk writes. No capability meaning.

- :mod:`carelens.db.engine`: the only place that creates engines (the store, migrated on first
  use: :func:`get_engine`; a warehouse: :func:`open_engine`); how a DuckDB store is shared
  between processes (short-lived connections, waiting for the file, checkpoints).
- :mod:`carelens.db.migrate` + ``migrations/``: Alembic history of every table of the store.
- :mod:`carelens.db.schema`: :data:`metadata`, the registry of modules declaring tables on it,
  table names and quoting, keys and timestamps as the store keeps them.
- :mod:`carelens.db.bulk`: frame inserts/upserts per dialect (DuckDB, PostgreSQL ``COPY``, batches).
- :mod:`carelens.db.introspect`: what a database's tables look like (tests, migrations).

Capabilities own their tables, writes and queries (``carelens.feedback.store``,
``carelens.appointments.store``, ``carelens.demand.store``) and use this floor.
"""

from carelens.db.engine import checkpoint, database_url, get_engine, open_engine, release, store_wait
from carelens.db.migrate import current_revision, upgrade
from carelens.db.schema import metadata, new_id, now_utc

__all__ = ["checkpoint", "database_url", "get_engine", "open_engine", "release", "store_wait", "current_revision",
           "upgrade", "metadata", "new_id", "now_utc"]
