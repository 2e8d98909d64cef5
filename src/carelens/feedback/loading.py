"""Loading a trust's FFT export into the store: map columns, validate rows, classify, write once.

The same :func:`load_comments` serves ``carelens feedback load``, the dashboard's upload and the
API's load endpoint, and returns a :class:`LoadResult` with counts and row-level messages.

Rules:
- Column mapping: explicit ``{field: column}`` pairs win; other fields are auto-detected from
  common export names (``FFT answer``, ``Comment ID``, ``Date`` ...).
- Validation: an unreadable or implausible date (read by :mod:`carelens.dates`: ISO, UK day
  first, a month-first column recognised and said) or an FFT score outside 1-6 gets a message
  naming its row (spreadsheet numbering: header is row 1) and field, and that cell is stored
  blank: the comment itself, which is what staff need, still loads. With ``strict=True`` any problem fails the whole
  load instead. Blank comments are kept (they are labelled "Labelling not possible"), never
  silently dropped.
- Key: ``id:<Comment ID>`` when the export has IDs, else ``hash:<sha256 of the mapped fields>``.
  Keys already stored, and repeats inside the file, are skipped: loading the same file twice adds
  nothing.
- One transaction: comments, predictions, topics and the upload record commit together or not at
  all.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from carelens.dates import FEEDBACK_BOUNDS, parse_dates, problem_lines
from carelens.errors import TableError

FIELDS = ("comment_id", "date", "comment_text", "question", "fft_score", "location_1", "location_2", "location_3")
CANDIDATES: dict[str, tuple[str, ...]] = {
    "comment_id": ("Comment ID", "comment_id", "CommentID", "ID", "id", "Response ID", "Comment id"),
    "date": ("Date", "date", "Response date", "Survey date", "Date of response", "Date received", "Received",
             "Submitted"),
    "comment_text": ("FFT answer", "comment_text", "Comment", "comment", "Comments", "Feedback", "Text", "text",
                     "Free text", "Comment text", "Free text comment", "Feedback text", "What was good?"),
    "question": ("FFT question", "question", "Question", "question_type"),
    "fft_score": ("FFT categorical answer", "FFT score", "fft_score", "Score", "Rating", "FFT rating"),
    "location_1": ("location_1", "Division", "Trust", "Organisation", "Care group"),
    "location_2": ("location_2", "Directorate", "Service type 1", "Specialty", "Service"),
    "location_3": ("location_3", "Ward / team", "Ward", "Team", "Service type 2", "Location", "Site"),
}
DEMOGRAPHIC_CANDIDATES = ("Age", "Age band", "Age group", "Gender", "Sex", "Ethnicity", "Ethnic group",
                          "Disability", "Sexuality", "Religion")
FFT_WORDS = {"very good": 1, "good": 2, "neither good nor poor": 3, "neither": 3, "poor": 4, "very poor": 5,
             "don't know": 6, "dont know": 6, "do not know": 6}
CHUNK = 2_000


@dataclass
class ColumnMapping:
    """Which export column feeds each stored field (None = not in this export)."""

    comment_text: str
    comment_id: str | None = None
    date: str | None = None
    question: str | None = None
    fft_score: str | None = None
    location_1: str | None = None
    location_2: str | None = None
    location_3: str | None = None
    demographics: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in FIELDS} | {"demographics": list(self.demographics)}


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


def parse_mapping_args(pairs: list[str] | None, mapping_file: str | Path | None = None) -> dict[str, str]:
    """``field=column`` pairs and/or a YAML/JSON file of the same (CLI ``--column-file``), as a dict."""
    out: dict[str, str] = {}
    if mapping_file:
        import yaml

        try:
            data = yaml.safe_load(Path(mapping_file).read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise TableError(f"cannot read the mapping file: {exc}".splitlines()[0], file=str(mapping_file)) from exc
        if not isinstance(data, dict):
            raise TableError("a mapping file holds field: column pairs", file=str(mapping_file))
        out.update({str(k): v for k, v in data.items()})
    for pair in pairs or []:
        if "=" not in pair:
            raise TableError(f"a column mapping expects field=column, got {pair!r}", field="map")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _norm(name: object) -> str:
    """A column name compared loosely: case, spaces, underscores and hyphens ignored."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum() or ch in "&/?")


def _find(candidates: tuple[str, ...], columns: list[str], used: set) -> str | None:
    """The first candidate present among ``columns`` (exact name first, then loosely), not yet used."""
    free = [c for c in columns if c not in used]
    exact = next((c for c in candidates if c in free), None)
    if exact is not None:
        return exact
    by_norm: dict[str, str] = {}
    for c in free:
        by_norm.setdefault(_norm(c), c)
    return next((by_norm[_norm(c)] for c in candidates if _norm(c) in by_norm), None)


def guess_columns(columns: list[str]) -> dict:
    """Best guess of the column for each field (None where none is found), for a mapping form.

    Unlike :func:`detect_mapping` it never raises: a file whose comment column has an unusual name
    still gets its dates, scores and locations guessed, and staff pick the text column.
    """
    chosen: dict[str, object] = {}
    for name in FIELDS:
        chosen[name] = _find(CANDIDATES[name], columns, {v for v in chosen.values() if v})
    chosen["demographics"] = [c for c in columns if _norm(c) in {_norm(d) for d in DEMOGRAPHIC_CANDIDATES}]
    return chosen


def detect_mapping(columns: list[str], overrides: Mapping[str, object] | None = None, *,
                   file: str | None = None) -> ColumnMapping:
    """Explicit ``overrides`` first, then common names; the comment text is required."""
    overrides = dict(overrides or {})
    unknown = [k for k in overrides if k not in FIELDS and k != "demographics"]
    if unknown:
        raise TableError(f"unknown field {unknown[0]!r} in the column mapping; fields are "
                         f"{', '.join(FIELDS)}, demographics", file=file, field=unknown[0])
    chosen: dict[str, object] = {}
    for name in FIELDS:
        if name in overrides and overrides[name]:
            col = str(overrides[name])
            if col not in columns:
                shown = ", ".join(repr(c) for c in columns[:15])
                raise TableError(f"column {col!r} (mapped to {name}) not found; columns are {shown}", file=file, field=col)
            chosen[name] = col
        else:
            chosen[name] = _find(CANDIDATES[name], columns, {v for v in chosen.values() if v})
    if not chosen["comment_text"]:
        shown = ", ".join(repr(c) for c in columns[:15])
        raise TableError(f"no comment text column found; map one with --column comment_text=COLUMN (columns are {shown})",
                         file=file, field="comment_text")
    demo = overrides.get("demographics")
    if demo is None:
        demographics = [c for c in columns if _norm(c) in {_norm(d) for d in DEMOGRAPHIC_CANDIDATES}]
    else:
        demographics = [d.strip() for d in (demo.split(",") if isinstance(demo, str) else demo) if str(d).strip()]
        missing = [d for d in demographics if d not in columns]
        if missing:
            raise TableError(f"demographic column {missing[0]!r} not found", file=file, field=missing[0])
    return ColumnMapping(demographics=demographics, **chosen)  # type: ignore[arg-type]


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() in ("", "nan", "NaN", "<NA>", "None")


def parse_fft_score(v: object) -> int | None:
    """1..6 from a number or the FFT wording ("Very good" .. "Don't know"); None when blank.

    Raises ValueError when present but not a valid score.
    """
    if _blank(v):
        return None
    s = str(v).strip().lower().replace("’", "'")
    if s in FFT_WORDS:
        return FFT_WORDS[s]
    x = float(s)
    if x != int(x) or not 1 <= x <= 6:
        raise ValueError(s)
    return int(x)


def content_key(row: Mapping[str, object]) -> str:
    """``hash:`` + SHA-256 of the mapped fields, for exports without comment IDs."""
    payload = json.dumps({k: (None if _blank(v) else str(v)) for k, v in row.items()}, sort_keys=True, ensure_ascii=False)
    return "hash:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def prepare_rows(frame: pd.DataFrame, mapping: ColumnMapping, *, source: str | None = None,
                 strict: bool = False) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """Validated rows in store shape (without predictions), messages, and the rows-with-problems mask.

    Rows keep their file order; ``row`` is the spreadsheet row number (header = 1).
    """
    n = len(frame)
    messages: list[str] = []
    rejected = np.zeros(n, dtype=bool)
    scores: list[int | None] = [None] * n
    where = f"{source}, " if source else ""

    def col(name: str | None) -> pd.Series:
        return frame[name] if name else pd.Series([None] * n, index=frame.index, dtype=object)

    text = col(mapping.comment_text).astype("string").fillna("").to_numpy(dtype=object)
    dates: list = [None] * n
    problems: list[tuple[int, str, str]] = []  # (row, field, message) for cells stored blank
    if mapping.date:
        parsed = parse_dates(col(mapping.date), column=mapping.date, bounds=FEEDBACK_BOUNDS, file=source)
        messages.extend(parsed.notes)
        dates = list(parsed.values.dt.date)
        problems += [(row, mapping.date, line) for row, line in problem_lines(
            parsed, col(mapping.date), column=mapping.date, bounds=FEEDBACK_BOUNDS, source=source, then="; stored blank")]
        rejected |= parsed.problems
    if mapping.fft_score:
        for i, v in enumerate(frame[mapping.fft_score].tolist()):
            try:
                scores[i] = parse_fft_score(v)
            except ValueError:
                rejected[i] = True
                problems.append((i + 2, mapping.fft_score, f"{where}row {i + 2}, field '{mapping.fft_score}': FFT score must be 1 to 6 "
                                        f"(or Very good .. Don't know), found {str(v)[:30]!r}; stored blank"))
    if strict and problems:
        row, field_name, first = min(problems, key=lambda p: p[0])
        raise TableError(first.split(": ", 1)[-1].replace("; stored blank", ""), file=source, row=row, field=field_name)
    messages.extend(line for _, _, line in problems)

    def strings(name: str | None) -> list[str | None]:
        return [None if _blank(v) else str(v).strip() for v in col(name).tolist()]

    out = pd.DataFrame({
        "row": np.arange(2, n + 2),
        "comment_id": strings(mapping.comment_id),
        "date": list(dates),
        "comment_text": text,
        "question": strings(mapping.question),
        "fft_score": pd.array(scores, dtype="Int16"),
        "location_1": strings(mapping.location_1),
        "location_2": strings(mapping.location_2),
        "location_3": strings(mapping.location_3),
    })
    out["date"] = out["date"].where(pd.notna(out["date"]), None)
    if mapping.demographics:
        demo = frame[mapping.demographics]
        out["demographics"] = [json.dumps({k: str(v).strip() for k, v in r.items() if not _blank(v)}, ensure_ascii=False)
                               for r in demo.to_dict("records")]
    else:
        out["demographics"] = None
    keys = []
    for r in out.itertuples(index=False):
        if not _blank(r.comment_id):  # pandas may hold a blank as NaN, which is truthy
            keys.append(f"id:{r.comment_id}")
        else:
            keys.append(content_key({"date": r.date, "text": r.comment_text, "question": r.question,
                                     "fft_score": r.fft_score, "l1": r.location_1, "l2": r.location_2,
                                     "l3": r.location_3, "demographics": r.demographics}))
    out.insert(0, "comment_key", keys)
    return out, messages, rejected


_MODELS: dict[str, object] = {}
_MODELS_LOCK = threading.Lock()


def cached_model(path: str | Path | None = None):
    """Load a feedback model once per process (the API and dashboard call this on every request).

    Thread-safe: ``carelens serve`` warms it in a background thread while the first upload or
    classify request may already be waiting for it; the model is read once either way.
    """
    key = str(path or "")
    model = _MODELS.get(key)
    if model is not None:
        return model
    with _MODELS_LOCK:
        if key not in _MODELS:
            from carelens.feedback.model import FeedbackModel

            _MODELS[key] = FeedbackModel.load(path)
    return _MODELS[key]


_WARMING: set[str] = set()


def warm_model_in_background(path: str | Path | None = None) -> None:
    """Start reading the model in a daemon thread (once per path), so a load that follows soon does not
    wait for it. The dashboard calls this when staff open the Upload page: reading the model takes
    seconds of CPU, and doing it at server start would slow the first minute of everyone's browsing."""
    key = str(path or "")
    if key in _MODELS or key in _WARMING:
        return
    _WARMING.add(key)

    def warm() -> None:
        try:
            cached_model(path)
        except Exception:  # noqa: BLE001 - the load that needs the model reports the problem itself
            pass
        finally:
            _WARMING.discard(key)

    threading.Thread(target=warm, name="carelens-model-warm-up", daemon=True).start()


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
