"""Which column of a trust's export feeds which stored field: explicit choices, else common export names.

Explicit ``{field: column}`` pairs win; fields not named are found among the file's columns by the
common names in :data:`CANDIDATES` (capitals, spaces, underscores and hyphens ignored). The upload
form asks :func:`guess_columns` (never raises: staff choose what it cannot find); a load asks
:func:`detect_mapping` (the comment text is required, a named column must exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from carelens.errors import TableError

FIELDS = ("comment_id", "date", "comment_text", "question", "fft_score", "location_1", "location_2", "location_3")
CANDIDATES: dict[str, tuple[str, ...]] = {
    "comment_id": ("Comment ID", "comment_id", "CommentID", "ID", "id", "Response ID", "Comment id", "Respondent ID"),
    "date": ("Date", "date", "Response date", "Survey date", "Date of response", "Date received", "Received",
             "Submitted"),
    "comment_text": ("FFT answer", "comment_text", "Comment", "comment", "Comments", "Feedback", "Text", "text",
                     "Free text", "Comment text", "Free text comment", "Feedback text", "What was good?"),
    "question": ("FFT question", "question", "Question", "question_type"),
    "fft_score": ("FFT categorical answer", "FFT score", "fft_score", "Score", "Rating", "FFT rating", "FFT response",
                  "Overall, how was your experience of our service?", "Overall how was your experience"),
    "location_1": ("location_1", "Division", "Trust", "Organisation", "Care group"),
    "location_2": ("location_2", "Directorate", "Service type 1", "Specialty", "Service"),
    "location_3": ("location_3", "Ward / team", "Ward", "Team", "Service type 2", "Location", "Site"),
}
# The free-text questions of an FFT return, one column each: when a file has no single comment
# column (above) but several of these, every one of them is read as an answer (a two-question return).
QUESTION_COLUMNS = ("What was good?", "What could be better?", "What could we do better?",
                    "What could we have done better?", "What could have been better?", "What would have made it better?",
                    "Is there anything we could have done better?", "Why did you give this answer?",
                    "Please tell us why you gave that answer", "Anything else?")
DEMOGRAPHIC_CANDIDATES = ("Age", "Age band", "Age group", "Gender", "Sex", "Ethnicity", "Ethnic group",
                          "Disability", "Sexuality", "Religion")


@dataclass
class ColumnMapping:
    """Which export column feeds each stored field (None = not in this export).

    ``text_columns`` holds one column per free-text question of the return (at least one): a
    two-question export ("What was good?", "What could be better?") maps both, and each answer is
    stored as a comment of the same response, with its column's name as its question.
    """

    text_columns: list[str]
    comment_id: str | None = None
    date: str | None = None
    question: str | None = None
    fft_score: str | None = None
    location_1: str | None = None
    location_2: str | None = None
    location_3: str | None = None
    demographics: list[str] = field(default_factory=list)

    @property
    def comment_text(self) -> str:
        """The (first) free-text column."""
        return self.text_columns[0]

    def as_dict(self) -> dict:
        """Field -> column; ``comment_text`` is one name, or a list when several columns were read."""
        out = {f: getattr(self, f) for f in FIELDS if f != "comment_text"}
        texts = list(self.text_columns)
        return {"comment_text": texts[0] if len(texts) == 1 else texts, **out,
                "demographics": list(self.demographics)}


def parse_mapping_args(pairs: list[str] | None, mapping_file: str | Path | None = None) -> dict[str, object]:
    """``field=column`` pairs and/or a YAML/JSON file of the same (CLI ``--column-file``), as a dict.

    ``comment_text`` may be given more than once (or as a list in the file): each is a free-text
    column of the return.
    """
    out: dict[str, object] = {}
    if mapping_file:
        import yaml

        try:
            data = yaml.safe_load(Path(mapping_file).read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise TableError(f"cannot read the mapping file: {exc}".splitlines()[0], file=str(mapping_file)) from exc
        if not isinstance(data, dict):
            raise TableError("a mapping file holds field: column pairs", file=str(mapping_file))
        out.update({str(k): v for k, v in data.items()})
    texts: list[str] = []
    for pair in pairs or []:
        if "=" not in pair:
            raise TableError(f"a column mapping expects field=column, got {pair!r}", field="map")
        key, value = (part.strip() for part in pair.split("=", 1))
        if key == "comment_text":
            texts.append(value)
        else:
            out[key] = value
    if texts:
        out["comment_text"] = texts if len(texts) > 1 else texts[0]
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


def _text_columns(columns: list[str], used: set) -> list[str]:
    """The free-text columns found by name: one common comment column, else every question column."""
    single = _find(CANDIDATES["comment_text"], columns, used)
    questions = {_norm(q) for q in QUESTION_COLUMNS}
    several = [c for c in columns if c not in used and _norm(c) in questions]
    if len(several) > 1 and (single is None or single in several):
        return several
    return [single] if single else []


def _text_list(value: object) -> list[str]:
    """``comment_text`` as given: one name, or a list of names (never split on commas: names hold them)."""
    if value is None or value == "":
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def guess_columns(columns: list[str]) -> dict:
    """Best guess of the column for each field (None where none is found), for a mapping form.

    Unlike :func:`detect_mapping` it never raises: a file whose comment column has an unusual name
    still gets its dates, scores and locations guessed, and staff pick the text column(s).
    ``text_columns`` lists every free-text column found (``comment_text`` is the first, or None).
    """
    chosen: dict[str, object] = {}
    texts = _text_columns(columns, set())
    for name in FIELDS:
        if name == "comment_text":
            chosen[name] = texts[0] if texts else None
        else:
            chosen[name] = _find(CANDIDATES[name], columns, {v for v in chosen.values() if v} | set(texts))
    chosen["text_columns"] = texts
    chosen["demographics"] = [c for c in columns if _norm(c) in {_norm(d) for d in DEMOGRAPHIC_CANDIDATES}]
    return chosen


def _missing(col: str, role: str, columns: list[str], file: str | None) -> TableError:
    shown = ", ".join(repr(c) for c in columns[:15])
    hint = ""
    if sum(str(c).startswith("Unnamed") for c in columns) >= max(1, len(columns) // 2):
        hint = "; the first row looks like a title, not the header: say which row holds it (--header-row N)"
    return TableError(f"column {col!r} (mapped to {role}) not found; columns are {shown}{hint}", file=file, field=col)


def detect_mapping(columns: list[str], overrides: Mapping[str, object] | None = None, *,
                   file: str | None = None) -> ColumnMapping:
    """Explicit ``overrides`` first, then common names; at least one comment text column is required.

    A field given as ``None`` or ``""`` is *not in this file*: it is left unmapped, never guessed
    (so a wrong guess can be taken away). A field not given at all is guessed.
    """
    overrides = dict(overrides or {})
    unknown = [k for k in overrides if k not in FIELDS and k != "demographics"]
    if unknown:
        raise TableError(f"unknown field {unknown[0]!r} in the column mapping; fields are "
                         f"{', '.join(FIELDS)}, demographics", file=file, field=unknown[0])
    texts = _text_list(overrides.get("comment_text"))
    for col in texts:
        if col not in columns:
            raise _missing(col, "comment_text", columns, file)
    if len(set(texts)) < len(texts):
        raise TableError("the same column is mapped to comment_text twice", file=file, field="comment_text")
    chosen: dict[str, object] = {}
    for name in FIELDS:
        if name == "comment_text":
            continue
        if name in overrides:
            col = overrides[name]
            if col is None or str(col).strip() == "":
                chosen[name] = None  # not in this file: never guessed
                continue
            col = str(col)
            if col not in columns:
                raise _missing(col, name, columns, file)
            chosen[name] = col
    for name in FIELDS:
        if name != "comment_text" and name not in overrides:
            chosen[name] = _find(CANDIDATES[name], columns, {v for v in chosen.values() if v} | set(texts))
    if "comment_text" not in overrides:
        texts = _text_columns(columns, {v for v in chosen.values() if v})
    if not texts:
        shown = ", ".join(repr(c) for c in columns[:15])
        hint = ("; the first row looks like a title, not the header: say which row holds it (--header-row N)"
                if sum(str(c).startswith("Unnamed") for c in columns) >= max(1, len(columns) // 2) else "")
        raise TableError(f"no comment text column found; map one with --column comment_text=COLUMN (columns are {shown})"
                         + hint, file=file, field="comment_text")
    clash = [t for t in texts if t in {v for v in chosen.values() if v}]
    if clash:
        raise TableError(f"column {clash[0]!r} is mapped to comment_text and to another field", file=file, field=clash[0])
    demo = overrides.get("demographics")
    if demo is None:
        demographics = [c for c in columns if _norm(c) in {_norm(d) for d in DEMOGRAPHIC_CANDIDATES}]
    else:
        demographics = [d.strip() for d in (demo.split(",") if isinstance(demo, str) else demo) if str(d).strip()]
        missing = [d for d in demographics if d not in columns]
        if missing:
            raise TableError(f"demographic column {missing[0]!r} not found", file=file, field=missing[0])
    return ColumnMapping(text_columns=texts, demographics=demographics, **chosen)  # type: ignore[arg-type]
