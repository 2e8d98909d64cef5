"""The feedback store: uploads, comments, predictions, topics and corrections in any SQLAlchemy
database (an embedded DuckDB file by default), under Alembic migrations.

Read side for the dashboard and API: :mod:`carelens.store.queries` with :class:`CommentFilters`.
Write side: :func:`carelens.feedback.loading.load_comments` (one transaction, idempotent) and
:func:`carelens.store.corrections.record_correction`.
"""

from carelens.store.engine import database_url, get_engine, upgrade
from carelens.store.filters import CommentFilters

__all__ = ["get_engine", "database_url", "upgrade", "CommentFilters"]
