"""carelens.db.retry on real databases: a concurrent writer's key reruns the transaction, nothing else does."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from carelens.db.retry import is_write_conflict, run_retrying_conflicts

TABLE = sa.Table("retry_probe", sa.MetaData(), sa.Column("k", sa.String(20), primary_key=True),
                 sa.Column("v", sa.String(20), nullable=False))


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "duckdb":
        eng = sa.create_engine(f"duckdb:///{tmp_path / 'retry.duckdb'}")
    else:
        eng = sa.create_engine(request.getfixturevalue("postgres_schema_url"))
    TABLE.metadata.create_all(eng)
    yield eng
    eng.dispose()


def insert_new(conn: sa.Connection, keys: list[str]) -> int:
    stored = set(conn.execute(sa.select(TABLE.c.k)).scalars())
    new = [k for k in keys if k not in stored]
    if new:
        conn.execute(TABLE.insert(), [{"k": k, "v": "mine"} for k in new])
    return len(new)


def test_a_key_committed_by_another_writer_meanwhile_reruns_the_transaction(engine):
    attempts = []

    def work(conn: sa.Connection) -> int:
        attempts.append(1)
        stored = set(conn.execute(sa.select(TABLE.c.k)).scalars())
        if len(attempts) == 1:  # another writer commits "b" after this transaction has looked
            with engine.begin() as other:
                other.execute(TABLE.insert(), [{"k": "b", "v": "theirs"}])
        new = [k for k in ("a", "b") if k not in stored]
        conn.execute(TABLE.insert(), [{"k": k, "v": "mine"} for k in new])
        return len(new)

    assert run_retrying_conflicts(engine, work) == 1  # the rerun adds only "a"
    assert len(attempts) == 2
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(TABLE.c.k, TABLE.c.v)).all()) == {"a": "mine", "b": "theirs"}


def test_an_error_that_is_not_a_conflict_is_raised_at_once(engine):
    attempts = []

    def work(conn: sa.Connection) -> None:
        attempts.append(1)
        conn.execute(TABLE.insert(), [{"k": "x", "v": None}])  # NOT NULL

    with pytest.raises(sa.exc.DBAPIError) as raised:
        run_retrying_conflicts(engine, work)
    assert len(attempts) == 1 and not is_write_conflict(raised.value)
    assert run_retrying_conflicts(engine, lambda conn: insert_new(conn, ["x"])) == 1
