"""Staff flags and corrections on comments: "interesting", the right topics, the right sentiment.

Corrections are an append-only log (who, when, what), so a retrain can use the latest word on each
comment, the model can be measured against staff, and an audit can see every change. What views
show follows the log: the latest correction not undone wins, for topics and for sentiment
separately, and the model's own output stays in ``fb_predictions``/``fb_comment_topics`` beside it.
Undoing marks a correction undone (who, when) rather than deleting it; taking a flag off marks the
flag undone, so flags toggle and a second click never stores a second flag. A note is redacted
before it is stored (an NHS number or a phone number typed into it is not kept).

Every write here patches the in-memory view in place
(:func:`carelens.feedback.store.view.apply_saved_correction`): the next refresh of any page, export
or API answer shows it, without reading the whole store again.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from carelens.db.schema import new_id, now_utc
from carelens.errors import StoreError
from carelens.feedback.store.tables import comments, corrections

KINDS = ("interesting", "wrong_topics", "sentiment")
CHANGES = ("wrong_topics", "sentiment")  # what undo takes back (a flag is taken off by toggling it)


def _active(conn: sa.Connection, comment_key: str) -> pd.DataFrame:
    """The comment's corrections not undone, oldest first."""
    rows = conn.execute(sa.select(corrections.c.correction_id, corrections.c.comment_key, corrections.c.kind,
                                  corrections.c.topics, corrections.c.sentiment, corrections.c.created_at)
                        .where(corrections.c.comment_key == comment_key, corrections.c.undone_at.is_(None))
                        .order_by(corrections.c.created_at)).mappings().all()
    return pd.DataFrame(rows, columns=["correction_id", "comment_key", "kind", "topics", "sentiment", "created_at"])


class _Write:
    """One write to a comment's corrections in one transaction, and the view patched after it."""

    def __init__(self, engine: sa.Engine, comment_key: str):
        self.engine, self.comment_key = engine, comment_key

    def __enter__(self) -> sa.Connection:
        from carelens.feedback.store.view import data_revision

        self._tx = self.engine.begin()
        self.conn = self._tx.__enter__()
        exists = self.conn.execute(sa.select(comments.c.comment_key).where(comments.c.comment_key == self.comment_key)).first()
        if exists is None:
            self._tx.__exit__(None, None, None)
            raise StoreError(f"no stored comment with key {self.comment_key!r}", field="comment_key")
        self.before = data_revision(self.conn)
        return self.conn

    def __exit__(self, kind, value, tb) -> bool:
        from carelens.feedback.store.view import apply_saved_correction, data_revision

        if kind is None:
            after, active = data_revision(self.conn), _active(self.conn, self.comment_key)
        suppress = self._tx.__exit__(kind, value, tb)
        if kind is None:
            apply_saved_correction(self.engine, self.comment_key, active, self.before, after)
        return bool(suppress)


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
    """Store one flag or correction and return its id; errors name the bad field.

    ``wrong_topics``: the right topics (and optionally the right sentiment); ``sentiment``: the
    right sentiment only; ``interesting``: a flag (a comment already flagged keeps its one flag:
    its id is returned).
    """
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
    if kind == "sentiment" and sentiment is None:
        raise StoreError("a sentiment correction needs the right sentiment (1 to 5)", field="sentiment")
    if note:
        from carelens.feedback.redaction import redact

        note = redact(note)  # a note is free text staff type: kept, like comments, without personal details
    with _Write(engine, comment_key) as conn:
        if kind == "interesting":
            flag = conn.execute(sa.select(corrections.c.correction_id).where(
                corrections.c.comment_key == comment_key, corrections.c.kind == "interesting",
                corrections.c.undone_at.is_(None))).first()
            if flag is not None:
                return flag[0]
        correction_id = new_id()
        conn.execute(corrections.insert(), [{
            "correction_id": correction_id, "comment_key": comment_key, "kind": kind,
            "topics": "; ".join(dict.fromkeys(topics)) or None, "sentiment": sentiment, "note": note,
            "created_by": created_by, "created_at": now_utc(),
        }])
    return correction_id


def set_flag(engine: sa.Engine, comment_key: str, flagged: bool, *, by: str | None = None) -> bool:
    """Flag a comment as interesting, or take its flag off; return whether it is flagged now."""
    if flagged:
        record_correction(engine, comment_key, "interesting", created_by=by)
        return True
    with _Write(engine, comment_key) as conn:
        conn.execute(corrections.update().where(
            corrections.c.comment_key == comment_key, corrections.c.kind == "interesting",
            corrections.c.undone_at.is_(None)).values(undone_at=now_utc(), undone_by=by))
    return False


def toggle_flag(engine: sa.Engine, comment_key: str, *, by: str | None = None) -> bool:
    """Flag the comment if it is not flagged, else take the flag off; return the new state."""
    with engine.connect() as conn:
        flagged = not _active(conn, comment_key).query("kind == 'interesting'").empty
    return set_flag(engine, comment_key, not flagged, by=by)


def undo_correction(engine: sa.Engine, comment_key: str, *, by: str | None = None) -> str | None:
    """Take back the comment's latest topic or sentiment correction not yet undone (who and when
    are recorded); the one before it, or the model's output, shows again. Returns the id undone,
    or None when there was nothing to undo."""
    with _Write(engine, comment_key) as conn:
        active = _active(conn, comment_key)
        changes = active[active["kind"].isin(CHANGES)]
        if changes.empty:
            return None
        correction_id = str(changes["correction_id"].iloc[-1])
        conn.execute(corrections.update().where(corrections.c.correction_id == correction_id)
                     .values(undone_at=now_utc(), undone_by=by))
    return correction_id


def list_corrections(engine: sa.Engine, kind: str | None = None, *, comment_key: str | None = None) -> pd.DataFrame:
    """All corrections (undone ones too, with who undid them and when), oldest first."""
    stmt = sa.select(corrections).order_by(corrections.c.created_at)
    if kind:
        stmt = stmt.where(corrections.c.kind == kind)
    if comment_key:
        stmt = stmt.where(corrections.c.comment_key == comment_key)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in corrections.columns])


def corrected_comments(engine: sa.Engine) -> pd.DataFrame:
    """Latest topic correction not undone per comment with the ORIGINAL text: what retraining uses.

    Columns: comment_key, comment_text, topics (list of names), sentiment (the latest sentiment
    correction not undone, or NA).
    """
    stmt = (
        sa.select(corrections.c.comment_key, comments.c.comment_text, corrections.c.kind, corrections.c.topics,
                  corrections.c.sentiment, corrections.c.created_at)
        .join(comments, comments.c.comment_key == corrections.c.comment_key)
        .where(corrections.c.kind.in_(CHANGES), corrections.c.undone_at.is_(None))
        .order_by(corrections.c.created_at)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["comment_key", "comment_text", "kind", "topics", "sentiment", "created_at"])
    sentiment = frame[frame["sentiment"].notna()].drop_duplicates("comment_key", keep="last")
    frame = frame[frame["kind"] == "wrong_topics"].drop_duplicates("comment_key", keep="last").reset_index(drop=True)
    frame["topics"] = [[t.strip() for t in (s or "").split(";") if t.strip()] for s in frame["topics"]]
    latest = dict(zip(sentiment["comment_key"], sentiment["sentiment"]))
    frame["sentiment"] = pd.array([latest.get(k) for k in frame["comment_key"]], dtype="Int64")
    return frame.drop(columns=["created_at", "kind"])
