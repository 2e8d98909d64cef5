"""Loading a trust's FFT export into the store: map columns, validate rows, classify, write once.

The same :func:`load_comments` serves ``carelens feedback load``, the dashboard's upload and the
API's load endpoints, and returns a :class:`LoadResult` with counts and row-level messages.
Mapping is :mod:`~carelens.feedback.ingest.mapping`, validation
:mod:`~carelens.feedback.ingest.validation`, the model :mod:`carelens.feedback.model_cache`.

- Key: ``id:<Comment ID>`` when the export has IDs, else ``hash:<sha256 of the mapped fields>``.
  Keys already stored, and repeats inside the file, are skipped: loading the same file twice adds
  nothing.
- One transaction: comments, predictions, topics and the upload record commit together or not at
  all.
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
from carelens.feedback.ingest.validation import prepare_rows
from carelens.feedback.model_cache import cached_model

CHUNK = 2_000


@dataclass
class LoadResult:
    """What a load did: counts, the mapping used and row-level messages (for CLI, API, dashboard)."""

    upload_id: str | None
    source: str
    rows_read: int
    rows_added: int
    rows_already_stored: int
    rows_duplicate_in_file: int
    rows_with_problems: int
    model_version: str
    seconds: float
    mapping: dict
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.source}: read {self.rows_read:,} rows; added {self.rows_added:,}; "
                f"already stored {self.rows_already_stored:,}; repeated in file {self.rows_duplicate_in_file:,}; "
                f"with problems {self.rows_with_problems:,} (model {self.model_version}, {self.seconds:.1f} s)")


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
    progress: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Validate, classify and store an export in ONE transaction; return what happened.

    ``data`` is a frame or a CSV/XLSX/parquet path. ``engine`` (or ``db``: URL or DuckDB path;
    default from settings) is the store. ``model`` defaults to the packaged model, loaded once.
    """
    from carelens.feedback.redaction import redact_many
    from carelens.progress import progress_task
    from carelens.db import get_engine, new_id, now_utc
    from carelens.feedback.store.comments import existing_keys, write_load
    from carelens.tables import read_warnings

    started = time.perf_counter()
    if not isinstance(data, pd.DataFrame):
        from carelens.tables import read_table

        source = source or Path(data).name
        data = read_table(data, dtype_str=True)
    source = source or "upload"
    if len(data) == 0:
        raise TableError("the file has no rows", file=source)
    cmap = mapping if isinstance(mapping, ColumnMapping) else detect_mapping([str(c) for c in data.columns], mapping, file=source)
    rows, messages, rejected = prepare_rows(data, cmap, source=source, strict=strict)
    messages = read_warnings(data, source) + messages  # an encoding fallback or damaged text, said first
    engine = engine or get_engine(db)
    model = model or cached_model(model_path)

    candidates = rows
    dup_in_file = candidates["comment_key"].duplicated(keep="first").to_numpy()
    first_row = candidates.drop_duplicates("comment_key").set_index("comment_key")["row"]
    for r, k in zip(candidates.loc[dup_in_file, "row"], candidates.loc[dup_in_file, "comment_key"]):
        if len(messages) < 1_000:
            what = f"comment ID {k.removeprefix('id:')[:40]!r}" if k.startswith("id:") else "comment, date and location"
            messages.append(f"{source}, row {r}: same {what} as row {first_row[k]}; skipped (the first is kept)")
    candidates = candidates[~dup_in_file]
    with engine.connect() as conn:
        stored = existing_keys(conn, candidates["comment_key"].tolist())
    new_rows = candidates[~candidates["comment_key"].isin(stored)].reset_index(drop=True)

    with progress_task("Classifying comments", total=len(new_rows), disable=None if progress is None else not progress) as advance:
        done = [0]

        def step(n: int = 1) -> None:  # the dashboard's progress bar: on_progress(done, total)
            advance(n)
            done[0] += n
            if on_progress is not None:
                on_progress(done[0], len(new_rows))

        result = classify_rows(model, new_rows, step)
    version = model.version
    now = now_utc()
    upload_id = new_id()
    new_rows["upload_id"] = upload_id
    new_rows["text_redacted"] = redact_many(new_rows["comment_text"].tolist())
    new_rows["fft_score"] = new_rows["fft_score"].astype("Int16")
    new_rows["date"] = pd.to_datetime(new_rows["date"]).dt.date if len(new_rows) else new_rows["date"]
    predictions = pd.DataFrame({
        "comment_key": new_rows["comment_key"],
        "model_version": version,
        "sentiment": pd.array(result["sentiment"], dtype="Int16") if len(result) else pd.array([], dtype="Int16"),
        "probabilities": [json.dumps(p) for p in result["probabilities"]],
        "predicted_at": now,
    })
    category_of = {lab.name: lab.category for lab in model.framework.labels}
    keys_rep = np.repeat(new_rows["comment_key"].to_numpy(), [len(t) for t in result["topics"]]) if len(result) else []
    flat_topics = [t for ts in result["topics"] for t in ts] if len(result) else []
    topics = pd.DataFrame({"comment_key": keys_rep, "model_version": version, "topic": flat_topics,
                           "category": [category_of.get(t, "General") for t in flat_topics]})
    upload = {"upload_id": upload_id, "source": source[:500], "loaded_at": now, "rows_read": len(data),
              "rows_added": len(new_rows), "rows_skipped": int(len(data) - len(new_rows)),
              "model_version": version, "loaded_by": loaded_by}
    with engine.begin() as conn:
        write_load(conn, upload=upload, comment_rows=new_rows, prediction_rows=predictions, topic_rows=topics)
    from carelens.feedback.store.view import invalidate

    invalidate(engine)
    return LoadResult(
        upload_id=upload_id, source=source, rows_read=len(data), rows_added=len(new_rows),
        rows_already_stored=int(len(candidates) - len(new_rows)), rows_duplicate_in_file=int(dup_in_file.sum()),
        rows_with_problems=int(rejected.sum()), model_version=version, seconds=time.perf_counter() - started,
        mapping=cmap.as_dict(), messages=messages,
    )
