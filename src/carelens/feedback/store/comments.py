"""Writing comments, their predictions and topics: one transaction per load, idempotent by key.

The rows go in through the floor's bulk insert (:func:`carelens.db.bulk.insert_frame`: DuckDB
reads the frame itself, PostgreSQL takes ``COPY``), inside the caller's transaction, so a failure
still rolls the whole load back. :func:`add_new_comments` is what a load calls: it decides which
comments are new inside its own transaction and runs again on a write conflict, so loads of the
same rows at the same time store each comment once.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from carelens.db.bulk import in_list_chunk, insert_frame
from carelens.db.retry import run_retrying_conflicts
from carelens.errors import StoreError
from carelens.feedback.store.tables import comment_topics, comments, predictions, uploads

COMMENT_COLUMNS = [c.name for c in comments.columns]
PREDICTION_COLUMNS = [c.name for c in predictions.columns]
TOPIC_COLUMNS = [c.name for c in comment_topics.columns]


def existing_keys(conn: sa.Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are already stored (checked in chunks so any number of keys works)."""
    found: set[str] = set()
    stmt = sa.select(comments.c.comment_key).where(comments.c.comment_key.in_(sa.bindparam("keys", expanding=True)))
    keys = list(keys)
    chunk = min(1_000, in_list_chunk(conn))
    for i in range(0, len(keys), chunk):
        found.update(conn.execute(stmt, {"keys": keys[i:i + chunk]}).scalars())
    return found


def add_new_comments(
    engine: sa.Engine,
    *,
    upload: dict,
    comment_rows: pd.DataFrame,
    prediction_rows: pd.DataFrame,
    topic_rows: pd.DataFrame,
) -> int:
    """Store ``upload`` with those of its comments (and their predictions and topics) whose key is not
    stored yet, in one transaction; return how many comments were added.

    Why the keys are checked again here although the caller skipped stored keys before classifying:
    another load of the same rows may have committed since. The check and the insert share one
    transaction, and a write conflict (the other load committing between them) reruns both
    (:func:`carelens.db.retry.run_retrying_conflicts`). ``upload``'s ``rows_added`` and
    ``rows_skipped`` are set to what was written.
    """
    keys = comment_rows["comment_key"]

    def write(conn: sa.Connection) -> int:
        stored = existing_keys(conn, keys.tolist())
        fresh = comment_rows[~keys.isin(stored)] if stored else comment_rows
        if stored:
            prediction = prediction_rows[~prediction_rows["comment_key"].isin(stored)]
            topic = topic_rows[~topic_rows["comment_key"].isin(stored)]
        else:
            prediction, topic = prediction_rows, topic_rows
        row = {**upload, "rows_added": len(fresh), "rows_skipped": int(upload["rows_read"]) - len(fresh)}
        write_load(conn, upload=row, comment_rows=fresh, prediction_rows=prediction, topic_rows=topic)
        return len(fresh)

    try:
        return run_retrying_conflicts(engine, write)
    except sa.exc.DBAPIError as exc:  # at commit
        raise StoreError(f"the load failed and nothing was stored: {exc.orig}".splitlines()[0]) from exc


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
        insert_frame(conn, comments, comment_rows[COMMENT_COLUMNS])
        insert_frame(conn, predictions, prediction_rows[PREDICTION_COLUMNS])
        insert_frame(conn, comment_topics, topic_rows[TOPIC_COLUMNS])
    except sa.exc.DBAPIError as exc:
        raise StoreError(f"the load failed and nothing was stored: {exc.orig}".splitlines()[0]) from exc
    except StoreError as exc:
        raise StoreError(f"the load failed and nothing was stored: {exc.message}".splitlines()[0]) from exc
