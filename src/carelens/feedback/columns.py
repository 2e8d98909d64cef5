"""Which column of a comments file plays which role, for classify, train and evaluate.

A role the user names (``--column comment_text=Feedback``) must exist, else a one-line error lists
the file's columns; a role not named is found by the common export names below. Loading into the
store maps a whole trust export (dates, locations, demographics) with its own, looser rules in
``ingest/mapping.py``; these files are the narrower ones people label and classify.
"""

from __future__ import annotations

import pandas as pd

from carelens.tables import require_columns

TEXT_COLUMNS = ("FFT answer", "comment_text", "Comment", "comment", "Comments", "Feedback", "text", "Text")
ID_COLUMNS = ("Comment ID", "comment_id", "ID", "id")


def text_column(frame: pd.DataFrame, requested: str | None, file: str | None) -> str:
    """The user's column, else the first common name present; else a clear error listing columns."""
    if requested:
        require_columns(frame, [requested], file=file, purpose="the comment text (--text-column)")
        return requested
    found = next((c for c in TEXT_COLUMNS if c in frame.columns), None)
    if found is None:
        require_columns(frame, ["FFT answer"], file=file, purpose="the comment text (set --text-column)")
    return found  # type: ignore[return-value]


def text_columns(frame: pd.DataFrame, requested: list[str] | str | None, file: str | None) -> list[str]:
    """The text columns to classify: the user's (each must exist); else the first common comment
    column; else every column named like an FFT free-text question ("What was good?", "What could
    be better?" ...); else a clear error listing the columns."""
    from carelens.feedback.ingest.mapping import QUESTION_COLUMNS, _norm

    names = [requested] if isinstance(requested, str) else list(requested or [])
    if names:
        require_columns(frame, names, file=file, purpose="the comment text (--text-column)")
        return names
    if any(c in frame.columns for c in TEXT_COLUMNS):
        return [text_column(frame, None, file)]
    questions = {_norm(q) for q in QUESTION_COLUMNS}
    found = [str(c) for c in frame.columns if _norm(c) in questions]
    return found or [text_column(frame, None, file)]


def optional_column(frame: pd.DataFrame, requested: str | None, candidates: tuple[str, ...],
                    file: str | None) -> str | None:
    """The user's column (which must exist), else the first of ``candidates`` present, else None."""
    if requested:
        require_columns(frame, [requested], file=file)
        return requested
    return next((c for c in candidates if c in frame.columns), None)
