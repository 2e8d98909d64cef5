"""A transaction run again when a concurrent writer got there first (a write conflict).

Why: two writers that read the store before either commits can both decide a row is new (two
staff loading the same export, an API client retrying a request that is still running). The
second one then meets the first one's key: DuckDB refuses at once ("Duplicate key"), PostgreSQL
when the first commits (unique violation), and either may report a serialisation failure.
Running the whole transaction again re-reads what is now stored, so the work it repeats decides
on the committed state. Only conflicts are retried: any other error is raised at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")

ATTEMPTS = 6
_ALWAYS_CONFLICTS = {"UniqueViolation", "SerializationFailure", "DeadlockDetected", "TransactionException"}
_CONFLICT_IF_DUPLICATE = {"ConstraintException", "IntegrityError"}


def is_write_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it wraps) is a concurrent writer's key or a serialisation conflict."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        name = type(error).__name__
        if name in _ALWAYS_CONFLICTS:
            return True
        text = str(error).lower()
        if name in _CONFLICT_IF_DUPLICATE and ("duplicate" in text or "unique" in text):
            return True
        error = error.__cause__ or error.__context__ or getattr(error, "orig", None)
    return False


def run_retrying_conflicts(engine: sa.Engine, work: Callable[[sa.Connection], T], *, attempts: int = ATTEMPTS,
                           pause: float = 0.02) -> T:
    """``work(conn)`` in one transaction; run again (up to ``attempts`` times in all, with a short
    random back-off) when it fails on a write conflict. ``work`` must decide what to write from
    ``conn`` itself, so a rerun sees what the other writer committed."""
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return work(conn)
        except Exception as exc:
            if attempt + 1 >= attempts or not is_write_conflict(exc):
                raise
            time.sleep(pause * (2 ** attempt) * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
