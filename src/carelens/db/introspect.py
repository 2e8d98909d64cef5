"""What a database's tables look like: columns, primary keys, indexes, read the same way on every dialect.

Why not only ``sqlalchemy.inspect``: with SQLAlchemy 2.1, duckdb-engine's column and constraint
reflection fails (it runs PostgreSQL catalog queries DuckDB lacks: ``pg_collation``,
``regclass``). Columns are therefore read from ``information_schema`` (standard SQL: DuckDB,
PostgreSQL, SQL Server), keys and indexes from DuckDB's own catalog functions on DuckDB and from
SQLAlchemy's inspector elsewhere. Migrations use :func:`column_names` to adopt tables an older
release created; tests use :func:`describe` to prove a fresh store and an upgraded one match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa


@dataclass(frozen=True)
class TableShape:
    """One table as the database reports it (types as the database names them)."""

    columns: tuple[tuple[str, str, int | None, bool], ...]  # (name, data type, max length, nullable), in order
    primary_key: tuple[str, ...]
    indexes: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)  # name -> (columns, unique)


def _schema(conn: sa.Connection) -> str | None:
    return sa.inspect(conn).default_schema_name


def _columns_query(conn: sa.Connection, table: str | None = None) -> sa.TextClause:
    where = "table_schema = :schema"
    if conn.dialect.name == "duckdb":
        where += " AND table_catalog = current_database()"
    if table is not None:
        where += " AND table_name = :table"
    return sa.text(
        "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable "
        f"FROM information_schema.columns WHERE {where} ORDER BY table_name, ordinal_position"
    )


def column_names(conn: sa.Connection, table: str) -> list[str]:
    """The columns of ``table`` in the connection's default schema, in order ([] if there is no such table)."""
    rows = conn.execute(_columns_query(conn, table), {"schema": _schema(conn), "table": table}).all()
    return [r.column_name for r in rows]


def has_table(conn: sa.Connection, table: str) -> bool:
    return sa.inspect(conn).has_table(table)


def describe(conn: sa.Connection) -> dict[str, TableShape]:
    """Every table in the connection's default schema: columns, primary key and indexes."""
    columns: dict[str, list] = {}
    for r in conn.execute(_columns_query(conn), {"schema": _schema(conn)}).all():
        columns.setdefault(r.table_name, []).append(
            (r.column_name, str(r.data_type).lower(), r.character_maximum_length, r.is_nullable == "YES"))
    keys, indexes = (_duckdb_keys(conn) if conn.dialect.name == "duckdb" else _inspected_keys(conn, list(columns)))
    return {name: TableShape(columns=tuple(cols), primary_key=keys.get(name, ()), indexes=indexes.get(name, {}))
            for name, cols in sorted(columns.items())}


def _duckdb_keys(conn: sa.Connection) -> tuple[dict, dict]:
    keys = {r[0]: tuple(r[1]) for r in conn.exec_driver_sql(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE constraint_type = 'PRIMARY KEY' AND schema_name = current_schema() "
        "AND database_name = current_database()").all()}
    indexes: dict[str, dict] = {}
    for name, table, unique, expressions in conn.exec_driver_sql(
            "SELECT index_name, table_name, is_unique, expressions FROM duckdb_indexes() "
            "WHERE schema_name = current_schema() AND database_name = current_database()").all():
        cols = tuple(c.strip().strip('"') for c in str(expressions).strip("[]").split(",") if c.strip())
        indexes.setdefault(table, {})[name] = (cols, bool(unique))
    return keys, indexes


def _inspected_keys(conn: sa.Connection, tables: list[str]) -> tuple[dict, dict]:
    inspector = sa.inspect(conn)
    keys, indexes = {}, {}
    for table in tables:
        keys[table] = tuple(inspector.get_pk_constraint(table).get("constrained_columns") or ())
        indexes[table] = {ix["name"]: (tuple(ix["column_names"]), bool(ix["unique"])) for ix in inspector.get_indexes(table)}
    return keys, indexes


def table_shape(conn: sa.Connection, table: str, schema: str | None = None) -> TableShape | None:
    """One table's columns and primary key (``schema`` None: the connection's default), or None when
    there is no such table: how a command checks a user's existing table before writing into it."""
    schema = schema or _schema(conn)
    rows = conn.execute(_columns_query(conn, table), {"schema": schema, "table": table}).all()
    if not rows:
        return None
    columns = tuple((r.column_name, str(r.data_type).lower(), r.character_maximum_length, r.is_nullable == "YES")
                    for r in rows)
    if conn.dialect.name == "duckdb":
        key = conn.exec_driver_sql(
            "SELECT constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
            "AND schema_name = ? AND table_name = ? AND database_name = current_database()", (schema, table)).first()
        primary_key = tuple(key[0]) if key else ()
    else:
        primary_key = tuple(sa.inspect(conn).get_pk_constraint(table, schema=schema).get("constrained_columns") or ())
    return TableShape(columns=columns, primary_key=primary_key)
