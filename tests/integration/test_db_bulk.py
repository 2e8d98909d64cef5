"""The floor's bulk writes for real on each path: DuckDB (registered frame), PostgreSQL (COPY) and the
generic batched statements (SQLite stands in for any other database, e.g. SQL Server)."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.db import open_engine
from carelens.db.bulk import insert_frame, read_frame, upsert_frame
from carelens.errors import StoreError


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def database(request, tmp_path):
    """(engine, schema): a database of each kind with an empty schema to write into (None on SQLite)."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
        yield engine, None
        engine.dispose()
        return
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if request.param == "duckdb" else request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    schema = f"w_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield engine, schema
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _table(schema: str | None) -> sa.Table:
    # a reserved word and a space in column names: quoting is the floor's job
    return sa.Table(
        "scores", sa.MetaData(),
        sa.Column("appointment_id", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(32), primary_key=True),
        sa.Column("order", sa.Integer),
        sa.Column("risk score", sa.Double),
        sa.Column("seen_at", sa.DateTime),
        schema=schema,
    )


def _frame(ids, version: str, p: float) -> pd.DataFrame:
    return pd.DataFrame({"appointment_id": [str(i) for i in ids], "model_version": version,
                         "order": pd.array(list(range(len(ids))), dtype="Int64"), "risk score": p,
                         "seen_at": pd.Timestamp("2026-11-02 10:00")})


def _stored(engine, table) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = read_frame(conn, sa.select(table))
    return frame.sort_values(["model_version", "appointment_id"]).reset_index(drop=True)


def test_insert_writes_every_row_and_missing_values_as_null(database):
    engine, schema = database
    table = _table(schema)
    frame = _frame(range(12), "v1", 0.5)
    frame.loc[3, "risk score"] = np.nan
    frame.loc[4, "order"] = pd.NA
    frame.loc[5, "seen_at"] = pd.NaT
    with engine.begin() as conn:
        table.metadata.create_all(conn)
        assert insert_frame(conn, table, frame) == 12
    stored = _stored(engine, table).set_index("appointment_id")
    assert len(stored) == 12 and stored.loc["0", "risk score"] == 0.5
    with engine.connect() as conn:
        nulls = conn.execute(sa.select(sa.func.count()).select_from(table).where(
            sa.or_(table.c["risk score"].is_(None), table.c["order"].is_(None), table.c.seen_at.is_(None)))).scalar()
    assert nulls == 3  # NaN, pd.NA and NaT are NULL, not NaN


def test_upsert_replaces_rows_with_the_same_key_and_keeps_the_others(database):
    engine, schema = database
    table = _table(schema)
    with engine.begin() as conn:
        table.metadata.create_all(conn)
        upsert_frame(conn, table, pd.concat([_frame(range(30), "v1", 0.1), _frame(range(5), "v2", 0.2)]))
    with engine.begin() as conn:  # one frame with two versions: only these keys are replaced
        upsert_frame(conn, table, pd.concat([_frame(range(10), "v1", 0.9), _frame(range(3, 5), "v2", 0.8)]))
    stored = _stored(engine, table)
    assert len(stored) == 35
    assert not stored.duplicated(["appointment_id", "model_version"]).any()
    by_key = stored.set_index(["model_version", "appointment_id"])["risk score"]
    assert by_key[("v1", "9")] == 0.9 and by_key[("v1", "10")] == 0.1
    assert by_key[("v2", "0")] == 0.2 and by_key[("v2", "4")] == 0.8


def test_a_failed_write_leaves_the_table_as_it_was(database):
    engine, schema = database
    table = _table(schema)
    with engine.begin() as conn:
        table.metadata.create_all(conn)
        insert_frame(conn, table, _frame(range(5), "v1", 0.1))
    with pytest.raises(StoreError):
        with engine.begin() as conn:
            insert_frame(conn, table, _frame(range(5, 10), "v1", 0.2))  # new rows ...
            insert_frame(conn, table, _frame(range(3), "v1", 0.3))  # ... then a key already stored
    stored = _stored(engine, table)
    assert len(stored) == 5 and (stored["risk score"] == 0.1).all()


def test_bad_frames_are_refused_before_anything_is_written(database):
    engine, schema = database
    table = _table(schema)
    with engine.begin() as conn:
        table.metadata.create_all(conn)
        with pytest.raises(StoreError, match="no column 'colour'"):
            insert_frame(conn, table, _frame(range(2), "v1", 0.1).assign(colour="red"))
        with pytest.raises(StoreError, match="repeat"):
            upsert_frame(conn, table, pd.concat([_frame(range(2), "v1", 0.1)] * 2))
        assert insert_frame(conn, table, _frame([], "v1", 0.1)) == 0
    assert _stored(engine, table).empty


def test_sql_server_gets_batched_statements_bracket_quoting_and_short_in_lists():
    """No SQL Server runs here: what can be checked without one (the dialect's choices, compiled)."""
    from types import SimpleNamespace

    from sqlalchemy.dialects import mssql

    from carelens.db import bulk
    from carelens.db.schema import quoted, quoted_column

    conn = SimpleNamespace(dialect=mssql.dialect())
    assert bulk._writer(conn) == (bulk._batched_insert, bulk._batched_upsert)  # never COPY
    assert quoted(conn, _table("dbo")) == "dbo.scores" and quoted_column(conn, "order") == "[order]"
    assert quoted_column(conn, "risk score") == "[risk score]"
    table = _table("dbo")
    chunk = [str(i) for i in range(bulk.in_list_chunk(conn))]
    stmt = sa.delete(table).where(table.c.model_version == "v1", table.c.appointment_id.in_(chunk))
    compiled = stmt.compile(dialect=mssql.dialect(), compile_kwargs={"render_postcompile": True})
    assert len(compiled.params) < 2_100  # SQL Server's limit on parameters per statement
