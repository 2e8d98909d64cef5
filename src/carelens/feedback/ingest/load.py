"""Loading a trust's FFT export into the store: map columns, validate rows, classify, write once.

The same :func:`load_comments` serves ``carelens feedback load``, the dashboard's upload and the
API's load endpoints, and returns a :class:`LoadResult` with counts and row-level messages.
Mapping is :mod:`~carelens.feedback.ingest.mapping`, validation
:mod:`~carelens.feedback.ingest.validation`, recognising what is already stored
:mod:`~carelens.feedback.ingest.matching`, the model :mod:`carelens.feedback.model_cache`.

- Each row of the export is a response (one respondent's return); each mapped text column that
  holds an answer is a comment of it, classified on its own with the response's FFT answer.
- Loading the same file again adds nothing, whatever columns were mapped either time; with a text
  column more, it adds that column's answers to the responses already stored.
- One transaction: responses, comments, predictions, topics and the upload record commit together
  or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from carelens.errors import TableError
from carelens.feedback.ingest.mapping import ColumnMapping, detect_mapping
from carelens.feedback.ingest.matching import candidate_keys, check_ids, legacy_keys, plan_load
from carelens.feedback.ingest.validation import answers, prepare_rows
from carelens.feedback.model_cache import cached_model

CHUNK = 2_000


@dataclass
class LoadResult:
    """What a load did: counts, the mapping used and row-level messages (for CLI, API, dashboard).

    Rows are the export's rows; responses the returns they hold (one per row, or one per ID in an
    export with a row per question); comments the free-text answers.
    """

    upload_id: str | None
    source: str
    rows_read: int
    rows_added: int  # rows of responses that are new
    rows_already_stored: int  # rows of responses stored before (their new answers may still be added)
    rows_duplicate_in_file: int  # exact repeats of an earlier row, skipped
    rows_with_problems: int
    model_version: str
    seconds: float
    mapping: dict
    messages: list[str] = field(default_factory=list)
    responses_added: int = 0
    comments_added: int = 0
    rows_kept_apart: int = 0  # rows whose ID was taken by a different response: kept as their own

    @property
    def added_nothing(self) -> bool:
        """True when the store is as it was (every row already stored or repeated)."""
        return self.responses_added == 0 and self.comments_added == 0

    def summary(self) -> str:
        answers = f"{self.comments_added:,} answer{'' if self.comments_added == 1 else 's'} added"
        if self.comments_added and self.rows_already_stored and self.comments_added > self.responses_added:
            answers += " (some to responses already stored)"
        apart = (f"; {self.rows_kept_apart:,} kept apart (an ID already used by a different response)"
                 if self.rows_kept_apart else "")
        nothing = "; nothing new: the store is unchanged" if self.added_nothing else ""
        return (f"{self.source}: read {self.rows_read:,} rows; added {self.rows_added:,}; "
                f"already stored {self.rows_already_stored:,}; repeated in file {self.rows_duplicate_in_file:,}; "
                f"with problems {self.rows_with_problems:,}; {answers}{apart}{nothing} "
                f"(model {self.model_version}, {self.seconds:.1f} s)")


def classify_rows(model, rows: pd.DataFrame, advance: Callable[[int], None] | None = None) -> pd.DataFrame:
    """The model's output for ``rows`` (comment_text, question, fft_score), in chunks for progress."""
    parts = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows.iloc[start:start + CHUNK]
        scores = [None if pd.isna(s) else int(s) for s in chunk["fft_score"]]
        parts.append(model.classify(chunk["comment_text"].tolist(), question_types=chunk["question"].tolist(),
                                    fft_scores=scores if any(s is not None for s in scores) else None))
        if advance:
            advance(len(chunk))
    if not parts:
        return pd.DataFrame(columns=["topics", "categories", "sentiment", "probabilities"])
    return pd.concat(parts, ignore_index=True)


def load_comments(
    data: pd.DataFrame | str | Path,
    *,
    db: str | Path | None = None,
    engine=None,
    mapping: Mapping[str, object] | ColumnMapping | None = None,
    model=None,
    model_path: str | Path | None = None,
    source: str | None = None,
    loaded_by: str | None = None,
    strict: bool = False,
    header_row: int = 1,
    progress: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Validate, classify and store an export in ONE transaction; return what happened.

    ``data`` is a frame or a CSV/XLSX/parquet path (read with its header on ``header_row``: rows
    above it are titles). ``engine`` (or ``db``: URL or DuckDB path; default from settings) is the
    store. ``model`` defaults to the packaged model, loaded once. ``mapping``: field -> column;
    ``comment_text`` may be a list (one column per free-text question); a field given as None is
    not in this file (never guessed).
    """
    from carelens.db import get_engine, new_id, now_utc
    from carelens.feedback.redaction import redact_many
    from carelens.feedback.store.comments import add_new_rows, has_rows_from_before_responses, stored_for_matching
    from carelens.progress import progress_task
    from carelens.tables import read_warnings

    started = time.perf_counter()
    if not isinstance(data, pd.DataFrame):
        from carelens.tables import read_table

        source = source or Path(data).name
        data = read_table(data, dtype_str=True, header_row=header_row)
    source = source or "upload"
    if len(data) == 0:
        raise TableError("the file has no rows", file=source)
    cmap = mapping if isinstance(mapping, ColumnMapping) else detect_mapping([str(c) for c in data.columns], mapping, file=source)
    rows, messages, rejected = prepare_rows(data, cmap, source=source, strict=strict)
    check_ids(rows, source)
    messages = read_warnings(data, source) + messages  # an encoding fallback or damaged text, said first
    engine = engine or get_engine(db)
    model = model or cached_model(model_path)

    with engine.connect() as conn:
        old_keys = legacy_keys(rows) if has_rows_from_before_responses(conn) else None
        stored = stored_for_matching(conn, rows["row_hash"].tolist(), rows["response_id"].dropna().tolist(),
                                     candidate_keys(rows), old_keys)
    plan = plan_load(rows, answers(data, cmap, rows), stored, source=source, legacy_keys=old_keys)
    messages += plan.messages
    new_comments = plan.comments

    with progress_task("Classifying comments", total=len(new_comments),
                       disable=None if progress is None else not progress) as advance:
        done = [0]

        def step(n: int = 1) -> None:  # the dashboard's progress bar: on_progress(done, total)
            advance(n)
            done[0] += n
            if on_progress is not None:
                on_progress(done[0], len(new_comments))

        result = classify_rows(model, new_comments, step)
    version = model.version
    now = now_utc()
    upload_id = new_id()
    new_comments = new_comments.assign(upload_id=upload_id,
                                       text_redacted=redact_many(new_comments["comment_text"].tolist()))
    responses = plan.responses.assign(upload_id=upload_id)
    responses["date"] = pd.to_datetime(responses["date"]).dt.date if len(responses) else responses["date"]
    predictions = pd.DataFrame({
        "comment_key": new_comments["comment_key"],
        "model_version": version,
        "sentiment": pd.array(result["sentiment"], dtype="Int16") if len(result) else pd.array([], dtype="Int16"),
        "probabilities": [json.dumps(p) for p in result["probabilities"]],
        "predicted_at": now,
    })
    category_of = {lab.name: lab.category for lab in model.framework.labels}
    keys_rep = np.repeat(new_comments["comment_key"].to_numpy(), [len(t) for t in result["topics"]]) if len(result) else []
    flat_topics = [t for ts in result["topics"] for t in ts] if len(result) else []
    topics = pd.DataFrame({"comment_key": keys_rep, "model_version": version, "topic": flat_topics,
                           "category": [category_of.get(t, "General") for t in flat_topics]})
    upload = {"upload_id": upload_id, "source": source[:500], "loaded_at": now, "rows_read": len(data),
              "rows_added": len(responses), "rows_skipped": int(len(data) - plan.rows_added),
              "model_version": version, "loaded_by": loaded_by}
    added_responses, added_comments = add_new_rows(engine, upload=upload, response_rows=responses,
                                                   comment_rows=new_comments, prediction_rows=predictions,
                                                   topic_rows=topics)
    from carelens.feedback.store.view import invalidate

    invalidate(engine)
    late = len(responses) - added_responses  # stored by another load while this one classified
    return LoadResult(
        upload_id=upload_id, source=source, rows_read=len(data), rows_added=plan.rows_added - late,
        rows_already_stored=plan.rows_already_stored + late, rows_duplicate_in_file=plan.rows_duplicate_in_file,
        rows_with_problems=int(rejected.sum()), model_version=version, seconds=time.perf_counter() - started,
        mapping=cmap.as_dict(), messages=messages, responses_added=added_responses, comments_added=added_comments,
        rows_kept_apart=plan.rows_kept_apart,
    )
