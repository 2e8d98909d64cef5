"""Patient feedback's part of the store: its tables, its writes and its queries, on the ``carelens.db`` floor.

- :mod:`~carelens.feedback.store.tables`: ``fb_*`` tables (migration ``0001``).
- Write side: :mod:`~carelens.feedback.store.comments` (one load in one transaction, idempotent;
  driven by :func:`carelens.feedback.ingest.load_comments`) and
  :mod:`~carelens.feedback.store.corrections` (staff flags and corrections).
- Read side for the dashboard, API and exports: :mod:`~carelens.feedback.store.view` (the
  in-memory view of a store, cached per database) and :mod:`~carelens.feedback.store.queries`
  (filters as :class:`CommentFilters`, comment lists, suppressed summaries).
"""

from carelens.feedback.store.filters import CommentFilters

__all__ = ["CommentFilters"]
