"""Writing responses, their comments, predictions and topics: one transaction per load, idempotent by key.

The rows go in through the floor's bulk insert (:func:`carelens.db.bulk.insert_frame`: DuckDB
reads the frame itself, PostgreSQL takes ``COPY``), inside one transaction, so a failure still
rolls the whole load back. :func:`stored_for_matching` reads what a load needs to recognise rows
already stored (:mod:`carelens.feedback.ingest.matching` decides); :func:`add_new_rows` writes,
checking the keys again inside its transaction and running again on a write conflict
(:func:`carelens.db.retry.run_retrying_conflicts`), so two loads of the same rows at the same time
store each response and comment once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
import sqlalchemy as sa

from carelens.db.bulk import in_list_chunk, insert_frame
from carelens.db.retry import run_retrying_conflicts
from carelens.errors import StoreError
from carelens.feedback.store.tables import comment_topics, comments, predictions, responses, uploads

RESPONSE_COLUMNS = [c.name for c in responses.columns]
COMMENT_COLUMNS = [c.name for c in comments.columns]
PREDICTION_COLUMNS = [c.name for c in predictions.columns]
TOPIC_COLUMNS = [c.name for c in comment_topics.columns]


def _in_chunks(conn: sa.Connection, stmt, values: Iterable[str]) -> list[pd.DataFrame]:
    """``stmt`` (with an expanding bind ``values``) run over ``values`` in chunks: any number works."""
    values = list(dict.fromkeys(v for v in values if v is not None))
    chunk = min(1_000, in_list_chunk(conn))
    out = []
    for i in range(0, len(values), chunk):  # bound parameters, never values written into the SQL
        result = conn.execute(stmt, {"values": values[i:i + chunk]})
        out.append(pd.DataFrame(list(map(tuple, result.fetchall())), columns=list(result.keys())))
    return out


def _frame(parts: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(columns))


def existing_keys(conn: sa.Connection, keys: Sequence[str], table: sa.Table = comments) -> set[str]:
    """Which of ``keys`` are already stored in ``table`` (``fb_comments`` or ``fb_responses``)."""
    key = table.c.comment_key if table is comments else table.c.response_key
    stmt = sa.select(key.label("key")).where(key.in_(sa.bindparam("values", expanding=True)))
    return {k for part in _in_chunks(conn, stmt, keys) for k in part["key"]}


def stored_for_matching(conn: sa.Connection, row_hashes: Sequence[str], ids: Sequence[str],
                        candidate_keys: Sequence[str], legacy_keys: Sequence[str] | None):
    """What the store holds that a file with these row hashes, IDs and keys may repeat (a
    :class:`~carelens.feedback.ingest.matching.Stored`)."""
    from carelens.feedback.ingest.matching import Stored

    values = sa.bindparam("values", expanding=True)
    by_hash = _frame(_in_chunks(conn, sa.select(comments.c.row_hash, comments.c.source_column, comments.c.response_key)
                                .where(comments.c.row_hash.in_(values)), row_hashes),
                     ["row_hash", "source_column", "response_key"])
    by_id = _frame(_in_chunks(conn, sa.select(responses.c.response_key, responses.c.response_id, responses.c.date,
                                              uploads.c.source, uploads.c.loaded_at)
                              .join(uploads, uploads.c.upload_id == responses.c.upload_id)
                              .where(responses.c.response_id.in_(values)), ids),
                   ["response_key", "response_id", "date", "source", "loaded_at"])
    legacy: set[str] = set()
    if legacy_keys is not None:
        legacy = existing_keys(conn, legacy_keys, responses)
    keys = list(by_id["response_key"]) + sorted(legacy)
    texts = _frame(_in_chunks(conn, sa.select(comments.c.response_key, comments.c.comment_text)
                              .where(comments.c.response_key.in_(values)), keys), ["response_key", "comment_text"])
    taken = existing_keys(conn, candidate_keys, responses)
    return Stored(comments_by_hash=by_hash, responses_by_id=by_id, texts=texts, legacy_keys=legacy, taken_keys=taken)


def has_rows_from_before_responses(conn: sa.Connection) -> bool:
    """Whether the store holds comments loaded before revision 0006 (no row hash): a load then also
    checks the keys those comments were stored under."""
    return conn.execute(sa.select(comments.c.comment_key).where(comments.c.row_hash.is_(None)).limit(1)).first() is not None


def add_new_rows(engine: sa.Engine, *, upload: dict, response_rows: pd.DataFrame, comment_rows: pd.DataFrame,
                 prediction_rows: pd.DataFrame, topic_rows: pd.DataFrame) -> tuple[int, int]:
    """Store ``upload`` with its responses and comments (and the comments' predictions and topics)
    whose keys are not stored yet, in one transaction; return (responses, comments) added.

    Why the keys are checked again here although the load skipped stored rows before classifying:
    another load of the same rows may have committed since. ``upload``'s counts are set to what
    was written.
    """
    def write(conn: sa.Connection) -> tuple[int, int]:
        have_r = existing_keys(conn, response_rows["response_key"].tolist(), responses)
        have_c = existing_keys(conn, comment_rows["comment_key"].tolist(), comments)
        fresh_r = response_rows[~response_rows["response_key"].isin(have_r)] if have_r else response_rows
        fresh_c = comment_rows[~comment_rows["comment_key"].isin(have_c)] if have_c else comment_rows
        prediction, topic = prediction_rows, topic_rows
        if have_c:
            prediction = prediction_rows[~prediction_rows["comment_key"].isin(have_c)]
            topic = topic_rows[~topic_rows["comment_key"].isin(have_c)]
        try:
            conn.execute(uploads.insert(), [{**upload, "rows_added": len(fresh_r), "comments_added": len(fresh_c)}])
            insert_frame(conn, responses, fresh_r[RESPONSE_COLUMNS])
            insert_frame(conn, comments, fresh_c[COMMENT_COLUMNS])
            insert_frame(conn, predictions, prediction[PREDICTION_COLUMNS])
            insert_frame(conn, comment_topics, topic[TOPIC_COLUMNS])
        except sa.exc.DBAPIError as exc:  # the cause is kept: a write conflict still reruns the whole transaction
            raise StoreError(f"the load failed and nothing was stored: {exc.orig}".splitlines()[0]) from exc
        except StoreError as exc:
            raise StoreError(f"the load failed and nothing was stored: {exc.message}".splitlines()[0]) from exc
        return len(fresh_r), len(fresh_c)

    try:
        return run_retrying_conflicts(engine, write)
    except sa.exc.DBAPIError as exc:  # at commit
        raise StoreError(f"the load failed and nothing was stored: {exc.orig}".splitlines()[0]) from exc
