"""Row-level validation of an export: every row kept, every problem said by row and field.

An unreadable or implausible date (read by :mod:`carelens.dates`: ISO, UK day first, a month-first
column recognised and said) or an FFT score outside 1-6 gets a message naming its row
(spreadsheet numbering: the header is row 1) and field, and that cell is stored blank: the comment
itself, which is what staff need, still loads. With ``strict=True`` any problem fails the whole
load instead. Blank comments are kept (they are labelled "Labelling not possible"), never
silently dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from carelens.dates import FEEDBACK_BOUNDS, parse_dates, problem_lines
from carelens.errors import TableError
from carelens.feedback.ingest.mapping import ColumnMapping

FFT_WORDS = {"very good": 1, "good": 2, "neither good nor poor": 3, "neither": 3, "poor": 4, "very poor": 5,
             "don't know": 6, "dont know": 6, "do not know": 6}


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
    if not 1 <= x <= 6 or x != int(x):  # range first: int() of inf or nan raises something else
        raise ValueError(s)
    return int(x)


def _sha(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def content_key(row: Mapping[str, object]) -> str:
    """``hash:`` + SHA-256 of the mapped fields: how stores before revision 0006 keyed a comment
    without an ID (a load still recognises those comments by it)."""
    return "hash:" + _sha({k: (None if _blank(v) else str(v)) for k, v in row.items()})


def row_hashes(frame: pd.DataFrame) -> list[str]:
    """SHA-256 of each row as the file holds it (every non-blank cell with its column's name).

    Why every cell and not the mapped fields: the same file loaded again is recognised whatever
    columns were mapped the first time (a text column added, a wrong guess taken away).
    """
    names = [str(c) for c in frame.columns]
    values = frame.astype("string").to_numpy(dtype=object)
    return [_sha({c: str(v).strip() for c, v in zip(names, row) if not _blank(v)}) for row in values]


def prepare_rows(frame: pd.DataFrame, mapping: ColumnMapping, *, source: str | None = None,
                 strict: bool = False) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """One validated row per file row (the response: its ID, date, FFT answer, place, demographics,
    and the first text column as ``comment_text``), messages, and the rows-with-problems mask.

    Rows keep their file order; ``row`` is the spreadsheet row number (header = row 1, or the
    header row the file was read with); ``row_hash`` is :func:`row_hashes`. The answers of each
    row are :func:`answers`.
    """
    from carelens.tables import first_data_row

    n = len(frame)
    first = first_data_row(frame)
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
        parsed = parse_dates(col(mapping.date), column=mapping.date, bounds=FEEDBACK_BOUNDS, file=source,
                             first_row=first)
        messages.extend(parsed.notes)
        dates = list(parsed.values.dt.date)
        problems += [(row, mapping.date, line) for row, line in problem_lines(
            parsed, col(mapping.date), column=mapping.date, bounds=FEEDBACK_BOUNDS, source=source, then="; stored blank",
            first_row=first)]
        rejected |= parsed.problems
    if mapping.fft_score:
        for i, v in enumerate(frame[mapping.fft_score].tolist()):
            try:
                scores[i] = parse_fft_score(v)
            except ValueError:
                rejected[i] = True
                problems.append((i + first, mapping.fft_score,
                                 f"{where}row {i + first}, field '{mapping.fft_score}': FFT score must be 1 to 6 "
                                 f"(or Very good .. Don't know), found {str(v)[:30]!r}; stored blank"))
    if strict and problems:
        row, field_name, first_problem = min(problems, key=lambda p: p[0])
        raise TableError(first_problem.split(": ", 1)[-1].replace("; stored blank", ""), file=source, row=row,
                         field=field_name)
    messages.extend(line for _, _, line in problems)

    def strings(name: str | None) -> list[str | None]:
        return [None if _blank(v) else str(v).strip() for v in col(name).tolist()]

    out = pd.DataFrame({
        "row": np.arange(first, n + first),
        "response_id": strings(mapping.comment_id),
        "row_hash": row_hashes(frame),
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
    return out, messages, rejected


def answers(frame: pd.DataFrame, mapping: ColumnMapping, rows: pd.DataFrame) -> pd.DataFrame:
    """The free-text answers of each row: one per mapped text column that is not blank, and one
    blank answer (from the first column) for a row with none, so every response is kept.

    Columns: ``pos`` (the row's position in ``rows``), ``source_column``, ``question`` (the
    column's name when several text columns are read, else the question column's value),
    ``comment_text``. In file order, then column order.
    """
    several = len(mapping.text_columns) > 1
    parts = []
    for order, column in enumerate(mapping.text_columns):
        values = frame[column].astype("string").fillna("").str.strip().to_numpy(dtype=object)
        parts.append(pd.DataFrame({"pos": np.arange(len(frame)), "order": order, "source_column": column,
                                   "question": column if several else rows["question"].to_numpy(dtype=object),
                                   "comment_text": frame[column].astype("string").fillna("").to_numpy(dtype=object),
                                   "blank": [_blank(v) for v in values]}))
    every = pd.concat(parts, ignore_index=True)
    has_text = every.groupby("pos")["blank"].transform("min").to_numpy() == 0  # the row has some text
    keep = ~every["blank"].to_numpy() | (~has_text & (every["order"].to_numpy() == 0))
    every = every[keep].sort_values(["pos", "order"], kind="stable").reset_index(drop=True)
    return every.drop(columns=["order", "blank"])
