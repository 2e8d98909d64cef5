"""Writing comments, their predictions and topics: one transaction per load, idempotent by key.

Why a bulk path for DuckDB: SQLAlchemy's executemany runs row by row on duckdb-engine (seconds
for 10,000 comments); DuckDB reads a registered pandas frame in one columnar ``INSERT ... SELECT``
inside the same transaction, so a failure still rolls everything back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timezone

import pandas as pd
import sqlalchemy as sa

from carelens.errors import StoreError
from carelens.store.tables import comment_topics, comments, predictions, uploads

COMMENT_COLUMNS = [c.name for c in comments.columns]
PREDICTION_COLUMNS = [c.name for c in predictions.columns]
TOPIC_COLUMNS = [c.name for c in comment_topics.columns]
_CHUNK = 1_000


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_id() -> str:
    return uuid.uuid4().hex


def existing_keys(conn: sa.Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are already stored (checked in chunks so any number of keys works)."""
    found: set[str] = set()
    stmt = sa.select(comments.c.comment_key).where(comments.c.comment_key.in_(sa.bindparam("keys", expanding=True)))
    keys = list(keys)
    for i in range(0, len(keys), _CHUNK):
        found.update(conn.execute(stmt, {"keys": keys[i:i + _CHUNK]}).scalars())
    return found


def _insert_frame(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    if conn.dialect.name == "duckdb":
        duck = conn.connection.driver_connection
        name = f"carelens_{table.name}_{uuid.uuid4().hex[:8]}"
        import duckdb

        duck.register(name, frame)
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        try:
            duck.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{name}"')
        except duckdb.Error as exc:
            raise StoreError(f"the load failed and nothing was stored: {exc}".splitlines()[0]) from exc
        finally:
            try:
                duck.unregister(name)
            except duckdb.Error:
                pass  # the transaction is aborted; the rollback drops the view with it
        return
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for i in range(0, len(records), 5_000):
        conn.execute(table.insert(), records[i:i + 5_000])


def write_load(
    conn: sa.Connection,
    *,
    upload: dict,
    comment_rows: pd.DataFrame,
    prediction_rows: pd.DataFrame,
    topic_rows: pd.DataFrame,
) -> None:
    """Insert one upload with its comments, predictions and topics on ``conn`` (caller's transaction)."""
    try:
        conn.execute(uploads.insert(), [upload])
        _insert_frame(conn, comments, comment_rows[COMMENT_COLUMNS])
        _insert_frame(conn, predictions, prediction_rows[PREDICTION_COLUMNS])
        _insert_frame(conn, comment_topics, topic_rows[TOPIC_COLUMNS])
    except sa.exc.DBAPIError as exc:
        raise StoreError(f"the load failed and nothing was stored: {exc.orig}".splitlines()[0]) from exc


def list_uploads(engine: sa.Engine) -> pd.DataFrame:
    """Every upload, newest first (for the dashboard's upload history)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(uploads).order_by(uploads.c.loaded_at.desc())).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in uploads.columns])


def comment_text(engine: sa.Engine, comment_key: str) -> str | None:
    """The ORIGINAL text of one comment (for retraining only; never show it)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(comments.c.comment_text).where(comments.c.comment_key == comment_key)).scalar()
