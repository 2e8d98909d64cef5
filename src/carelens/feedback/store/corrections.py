"""Staff flags on comments: "interesting", or "wrongly categorised" with the right topics.

Corrections are kept as an append-only log (who, when, what), so a retrain can use the latest
word on each comment and an audit can see every change. A note is redacted before it is stored
(an NHS number or a phone number typed into it is not kept).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from carelens.db.schema import new_id, now_utc
from carelens.errors import StoreError
from carelens.feedback.store.tables import comments, corrections

KINDS = ("interesting", "wrong_topics")


def record_correction(
    engine: sa.Engine,
    comment_key: str,
    kind: str,
    *,
    topics: Sequence[str] | None = None,
    sentiment: int | None = None,
    note: str | None = None,
    created_by: str | None = None,
    valid_topics: Sequence[str] | None = None,
) -> str:
    """Store one flag or correction and return its id; errors name the bad field."""
    if kind not in KINDS:
        raise StoreError(f"kind must be one of {', '.join(KINDS)}", field="kind")
    topics = [t.strip() for t in (topics or []) if t and t.strip()]
    if kind == "wrong_topics" and not topics:
        raise StoreError("a wrong-topics correction needs the right topics", field="topics")
    if valid_topics is not None:
        unknown = [t for t in topics if t not in set(valid_topics)]
        if unknown:
            raise StoreError(f"unknown topic {unknown[0]!r}", field="topics")
    if sentiment is not None and sentiment not in (1, 2, 3, 4, 5):
        raise StoreError("sentiment must be 1 to 5", field="sentiment")
    if note:
        from carelens.feedback.redaction import redact

        note = redact(note)  # a note is free text staff type: kept, like comments, without personal details
    correction_id = new_id()
    with engine.begin() as conn:
        exists = conn.execute(sa.select(comments.c.comment_key).where(comments.c.comment_key == comment_key)).first()
        if exists is None:
            raise StoreError(f"no stored comment with key {comment_key!r}", field="comment_key")
        conn.execute(corrections.insert(), [{
            "correction_id": correction_id, "comment_key": comment_key, "kind": kind,
            "topics": "; ".join(topics) or None, "sentiment": sentiment, "note": note,
            "created_by": created_by, "created_at": now_utc(),
        }])
    from carelens.feedback.store.view import invalidate

    invalidate(engine)
    return correction_id


def list_corrections(engine: sa.Engine, kind: str | None = None) -> pd.DataFrame:
    """All corrections, oldest first."""
    stmt = sa.select(corrections).order_by(corrections.c.created_at)
    if kind:
        stmt = stmt.where(corrections.c.kind == kind)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in corrections.columns])


def corrected_comments(engine: sa.Engine) -> pd.DataFrame:
    """Latest wrong-topics correction per comment with the ORIGINAL text: what retraining uses.

    Columns: comment_key, comment_text, topics (list of names), sentiment (or NA).
    """
    stmt = (
        sa.select(corrections.c.comment_key, comments.c.comment_text, corrections.c.topics,
                  corrections.c.sentiment, corrections.c.created_at)
        .join(comments, comments.c.comment_key == corrections.c.comment_key)
        .where(corrections.c.kind == "wrong_topics")
        .order_by(corrections.c.created_at)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["comment_key", "comment_text", "topics", "sentiment", "created_at"])
    frame = frame.drop_duplicates("comment_key", keep="last").reset_index(drop=True)
    frame["topics"] = [[t.strip() for t in (s or "").split(";") if t.strip()] for s in frame["topics"]]
    frame["sentiment"] = pd.array(frame["sentiment"], dtype="Int64")
    return frame.drop(columns="created_at")
