"""The audit log: who viewed, exported, uploaded, corrected, flagged, called, projected, or changed a
user or key, when, and with what outcome; sign-ins and failed sign-ins too.

Append-only by construction: this module only inserts, and deletes only events older than the
retention (setting ``audit_retention_days``, :func:`prune`: ``carelens audit prune``, and
``carelens serve`` when it starts and daily), which is itself recorded. Restoring
an older backup (``carelens db restore``) puts the events since back (:func:`keep_through`). Every other
module writes through :func:`record`, in the same transaction as the change it records where
there is one (a user added and its record commit or fail together).

``detail`` is a small JSON object (filters, counts, what changed), cut to :data:`MAX_DETAIL`
characters; it never holds a password, a key or a comment's text.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from carelens.access.roles import Principal
from carelens.access.tables import audit
from carelens.db.schema import new_id, now_utc

MAX_DETAIL = 4_000
OUTCOMES = ("ok", "refused", "failed")
COLUMNS = ["happened_at", "actor", "role", "via", "action", "target", "outcome", "detail"]


def _detail(detail: dict[str, Any] | None) -> str | None:
    if not detail:
        return None
    text = json.dumps(detail, default=str, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def event_row(who: Principal | str | None, action: str, target: str | None = None,
              detail: dict[str, Any] | None = None, outcome: str = "ok") -> dict[str, Any]:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    if isinstance(who, Principal):
        actor, role, via = who.name, who.role.value if who.role else None, who.via
    else:
        actor, role, via = (who or "anonymous"), None, None
    return {"event_id": new_id(), "happened_at": now_utc(), "actor": actor[:200], "role": role, "via": via,
            "action": action[:60], "target": None if target is None else str(target)[:300],
            "detail": _detail(detail), "outcome": outcome}


def record(where: sa.Engine | sa.Connection, who: Principal | str | None, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None, outcome: str = "ok") -> None:
    """Append one event (on ``where``'s transaction when it is a connection, else in its own)."""
    row = event_row(who, action, target, detail, outcome)
    if isinstance(where, sa.Connection):
        where.execute(audit.insert(), [row])
    else:
        with where.begin() as conn:
            conn.execute(audit.insert(), [row])


def events(engine: sa.Engine, *, since: date | datetime | None = None, until: date | datetime | None = None,
           actor: str | None = None, action: str | None = None, outcome: str | None = None,
           limit: int | None = 10_000) -> pd.DataFrame:
    """Events, newest first, filtered by time (``until`` a date includes that whole day), actor
    (``alice`` matches ``user:alice``), action and outcome."""
    stmt = sa.select(*(audit.c[c] for c in COLUMNS)).order_by(audit.c.happened_at.desc(), audit.c.event_id)
    if since is not None:
        stmt = stmt.where(audit.c.happened_at >= _start(since))
    if until is not None:
        end = _start(until) + timedelta(days=1) if not isinstance(until, datetime) else until
        stmt = stmt.where(audit.c.happened_at < end)
    if actor:
        stmt = stmt.where(sa.or_(audit.c.actor == actor, audit.c.actor.like(f"%:{_like(actor)}", escape="\\")))
    if action:
        stmt = stmt.where(audit.c.action == action)
    if outcome:
        stmt = stmt.where(audit.c.outcome == outcome)
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return pd.DataFrame(rows, columns=COLUMNS)


def _start(day: date | datetime) -> datetime:
    return day if isinstance(day, datetime) else datetime(day.year, day.month, day.day)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def recent_events(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every stored event, as rows (what :func:`keep_through` puts back after a restore)."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(audit)).mappings().all()]


def keep_through(engine: sa.Engine, rows: list[dict[str, Any]]) -> int:
    """Put back the events of ``rows`` the store no longer holds (a restore from an older backup
    replaced the table): the log stays append-only whatever is restored. Returns how many."""
    with engine.begin() as conn:
        present = set(conn.execute(sa.select(audit.c.event_id)).scalars())
        missing = [r for r in rows if r["event_id"] not in present]
        if missing:
            conn.execute(audit.insert(), missing)
    return len(missing)


def prune(engine: sa.Engine, older_than_days: int, who: Principal | str | None, *, record_nothing: bool = True) -> int:
    """Delete events older than ``older_than_days`` days; record the pruning; return how many went.

    ``record_nothing`` False: a pruning that removed nothing is not recorded (the server's daily
    retention run, :func:`enforce_retention`, would otherwise fill the log with itself)."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = now_utc() - timedelta(days=older_than_days)
    with engine.begin() as conn:
        gone = conn.execute(audit.delete().where(audit.c.happened_at < cutoff)).rowcount or 0
        if gone or record_nothing:
            record(conn, who, "audit_prune", "audit log",
                   {"older_than_days": older_than_days, "before": cutoff.isoformat(timespec="seconds"), "removed": gone})
    return int(gone)


RETENTION_ACTOR = "system:retention"


def enforce_retention(engine: sa.Engine, retention_days: int) -> int:
    """What ``carelens serve`` runs when it starts and once a day: events older than the setting
    ``audit_retention_days`` go (recorded when there were any). Returns how many went."""
    return prune(engine, retention_days, RETENTION_ACTOR, record_nothing=False)
