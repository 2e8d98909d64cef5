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
