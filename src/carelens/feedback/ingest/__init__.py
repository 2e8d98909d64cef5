"""Getting a trust's FFT export into the store, in three steps kept apart.

- :mod:`~carelens.feedback.ingest.mapping`: which column feeds which field (explicit choices,
  else common export names);
- :mod:`~carelens.feedback.ingest.validation`: every row checked, problems said by row and field;
- :mod:`~carelens.feedback.ingest.load`: :func:`load_comments`, the orchestration (read, map,
  validate, classify with :mod:`carelens.feedback.model_cache`'s model, redact, write in one
  transaction through :mod:`carelens.feedback.store.comments`).
"""

from carelens.feedback.ingest.load import LoadResult, load_comments

__all__ = ["LoadResult", "load_comments"]
