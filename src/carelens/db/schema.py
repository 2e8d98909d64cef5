"""The store's one ``MetaData``, the registry of modules that declare tables on it, and table names.

Every table of the store is declared once, with SQLAlchemy Core, by the capability that owns it
(``carelens.feedback.store.tables``, ``carelens.appointments.store``, ``carelens.demand.store``),
on :data:`metadata`. Each table is created by an Alembic revision in ``carelens/db/migrations``;
``tests/integration/test_db_migrations.py`` checks that what the revisions create is exactly
what the modules declare.

Why a registry of module *names* (:data:`TABLE_MODULES`) rather than imports: the floor must not
import capabilities (they import the floor, to register their tables on :data:`metadata`), and a
plain upgrade does not need the declarations at all (revisions hold explicit DDL), so a first CLI
use of the store does not pay for importing every capability. Only comparing the schema with the
declarations (tests, Alembic autogenerate) calls :func:`load_all_tables`.

Keys are strings chosen by carelens, not database sequences, so the same code runs on DuckDB
(whose SQLAlchemy dialect has no SERIAL), PostgreSQL and SQL Server.
"""

from __future__ import annotations

import importlib
import re
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from carelens.errors import TableError

metadata = sa.MetaData()

# One line per module that declares store tables on ``metadata``. A new capability store adds its
# module here (and a migration that creates its tables).
TABLE_MODULES = (
    "carelens.feedback.store.tables",
    "carelens.appointments.store",
    "carelens.demand.store",
    "carelens.access.tables",
)


def load_all_tables() -> sa.MetaData:
    """:data:`metadata` with every registered module's tables declared on it."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return metadata


def new_id() -> str:
    """A new key for a row carelens creates (an upload, a correction, a call): 32 hex characters."""
    return uuid.uuid4().hex


def now_utc() -> datetime:
    """Now, as the store keeps times: UTC without a zone (DuckDB and SQL Server DATETIME have none)."""
    return datetime.now(UTC).replace(tzinfo=None)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def split_table_name(name: str) -> tuple[str | None, str]:
    """``"schema.table"`` or ``"table"`` typed by a user -> (schema or None, table).

    Only letters, digits and ``_``: the name is then safe to quote and never carries SQL.
    """
    if not _NAME.match(name or ""):
        raise TableError(f"invalid table name {name!r}: use letters, digits and _ (optionally schema.table)")
    schema, _, table = name.rpartition(".")
    return (schema or None), table


def quoted(conn: sa.Connection, table: sa.Table | sa.TableClause) -> str:
    """The table's name as this dialect writes it in SQL: schema-qualified and quoted where needed."""
    return conn.dialect.identifier_preparer.format_table(table)


def quoted_column(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)
