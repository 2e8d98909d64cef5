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
