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


# one part of a table name: plain (letters, digits, _), or SQL Server's [brackets] / standard "quotes"
# around any printable name but the closing delimiter (spaces allowed: [Outpatient Appointments])
_PART = r'(?:[A-Za-z_][A-Za-z0-9_]*|\[[^\]\x00-\x1f]+\]|"[^"\x00-\x1f]+")'
_NAME = re.compile(rf"^(?P<schema>{_PART}\.)?(?P<table>{_PART})$")


def _unquote(part: str) -> str:
    return part[1:-1] if part[:1] in '["' else part


def split_table_name(name: str) -> tuple[str | None, str]:
    """``"schema.table"`` or ``"table"`` typed by a user -> (schema or None, table), unquoted.

    SQL Server spellings are accepted as users copy them from their tools: ``[dbo].[Outpatients]``,
    ``dbo.[Outpatient Appointments]``, ``"dbo"."Outpatients"``. The parts are kept as names, never
    as SQL: SQLAlchemy quotes them for the database at hand (``[dbo].[Outpatients]`` on SQL Server).
    """
    match = _NAME.match((name or "").strip())
    if not match or not _unquote(match["table"]).strip():
        raise TableError(f"invalid table name {name!r}: use letters, digits and _, optionally schema.table; "
                         "a name with other characters in [brackets] or \"quotes\" (e.g. [dbo].[Outpatients])")
    schema = match["schema"]
    return (_unquote(schema[:-1]) if schema else None), _unquote(match["table"])


def quoted(conn: sa.Connection, table: sa.Table | sa.TableClause) -> str:
    """The table's name as this dialect writes it in SQL: schema-qualified and quoted where needed."""
    return conn.dialect.identifier_preparer.format_table(table)


def quoted_column(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)
