"""Comments in the store: load a file or JSON rows (``POST /comments/upload``, ``POST /comments``) and
read them back through the dashboard's filters (``POST /comments/query``)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import ValidationError

from carelens.access.roles import Permission
from carelens.errors import CarelensError, TableError
from carelens.tables import UPLOAD_SUFFIXES
from carelens.web.api.auth import AuditDetail, Caller, CallerDep, require
from carelens.web.api.deps import EngineDep, ModelDep, SettingsDep, refuse_lone_surrogates
from carelens.web.api.errors import ApiError, invalid, responses
from carelens.web.api.models import CommentsPage, CommentsQuery, LoadResponse, LoadRowsRequest, MappingIn
from carelens.web.api.routes import PROTECTED
from carelens.web.api.routes.frames import records

router = APIRouter(tags=["store"], dependencies=PROTECTED)
UPLOADER = [Depends(require(Permission.FEEDBACK_UPLOAD))]
READER = [Depends(require(Permission.FEEDBACK_READ))]



def _load(frame: pd.DataFrame, mapping: MappingIn, source: str, strict: bool, caller: Caller, engine, model,
          audit: dict) -> LoadResponse:
    from carelens.feedback.ingest import load_comments

    result = load_comments(frame, engine=engine, mapping=mapping.overrides(), model=model, source=source,
                           loaded_by=caller.name, strict=strict, progress=False)
    audit.update(source=source, rows_read=result.rows_read, rows_added=result.rows_added)
    return LoadResponse(**{k: getattr(result, k) for k in LoadResponse.model_fields})


def _mapping_field(text: str) -> MappingIn:
    """The upload form's ``mapping`` (JSON text) as a :class:`MappingIn`, or a 422 naming the field."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        raise invalid(("body", "mapping"), "must be a JSON object of field: column pairs", "json_invalid") from None
    refuse_lone_surrogates(data, ("body", "mapping"))
    try:
        return MappingIn.model_validate(data)
    except ValidationError as exc:
        from fastapi.exceptions import RequestValidationError

        raise RequestValidationError([{**e, "loc": ("body", "mapping", *e["loc"])} for e in exc.errors()]) from None


def read_upload(file: UploadFile, name: str, limit: int, header_row: int = 1) -> pd.DataFrame:
    """The uploaded file as a frame of text; errors name the file as the caller sent it, never a server path
    (an export here, a trust mix in ``comparison.py``)."""
    from carelens.tables import read_table

    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(file.file.read(limit + 1))
        if path.stat().st_size > limit:
            raise ApiError(413, "field 'file': over the size limit", field="file")
        try:
            return read_table(path, dtype_str=True, header_row=header_row)
        except CarelensError as exc:
            message = exc.message.replace(str(path), name).replace(tmp, "")
            raise TableError(message, file=name, row=exc.row, field=exc.field) from None


@router.post("/comments/upload", response_model=LoadResponse, responses=responses(400, 401, 403, 413, 415, 422),
             dependencies=UPLOADER)
def upload(
    caller: CallerDep,
    audit: AuditDetail,
    settings: SettingsDep,
    engine: EngineDep,
    model: ModelDep,
    file: Annotated[UploadFile, File(description="CSV, XLSX or parquet export (chosen by the file name's extension).")],
    mapping: Annotated[str, Form(description='JSON object {"field": "column"}; fields left out are detected.')] = "{}",
    strict: Annotated[bool, Form(description="Refuse the whole file on the first bad row.")] = False,
    header_row: Annotated[int, Form(ge=1, le=1_000, description="The row holding the column names (title rows above it "
                                    "are skipped).")] = 1,
) -> LoadResponse:
    """Load a trust export file: validate, classify and store in one transaction (idempotent)."""
    overrides = _mapping_field(mapping)
    name = Path(file.filename or "upload.csv").name or "upload.csv"
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise ApiError(415, f"field 'file': {name!r} is not CSV, XLSX or parquet", field="file")
    frame = read_upload(file, name, settings.max_request_bytes, header_row)
    return _load(frame, overrides, name, strict, caller, engine, model, audit)


@router.post("/comments", response_model=LoadResponse, responses=responses(400, 401, 403, 413, 422),
             dependencies=UPLOADER)
def load_rows(body: LoadRowsRequest, caller: CallerDep, settings: SettingsDep, engine: EngineDep,
              model: ModelDep, audit: AuditDetail) -> LoadResponse:
    """Load comments sent as JSON rows (same mapping, validation and idempotency as a file).

    At most ``max_batch`` rows (a setting; the document's ``maxItems``) per request.
    """
    if len(body.rows) > settings.max_batch:
        raise ApiError(413, f"field 'rows': {len(body.rows):,} rows is over the limit of {settings.max_batch:,}",
                       field="rows")
    frame = pd.DataFrame(body.rows).astype("string")
    return _load(frame, body.mapping, body.source, body.strict, caller, engine, model, audit)


@router.post("/comments/query", response_model=CommentsPage, responses=responses(400, 401, 403, 413, 422),
             dependencies=READER)
def query_comments(body: CommentsQuery, settings: SettingsDep, engine: EngineDep, caller: CallerDep,
                   audit: AuditDetail) -> CommentsPage:
    """Stored comments matching the dashboard's filters within the caller's locations, newest first,
    with redacted text.

    Fewer than the privacy limit picked out by a demographic filter are withheld (neither listed
    nor counted); a demographic value shared by fewer than the limit of the matching comments is null.
    """
    from carelens.feedback.store import queries

    audit["filters"] = body.filters.model_dump(exclude_defaults=True, mode="json")
    filters = body.filters.scoped(caller.feedback_scope())
    page, total = queries.filtered_comments(engine, filters, limit=body.limit, offset=body.offset,
                                            suppress_below=settings.suppress_below)
    audit["comments"] = total
    if queries.comments_suppressed(filters, queries.filtered_respondents(engine, filters), settings.suppress_below):
        return CommentsPage(total=None, offset=body.offset, comments=[], withheld=True)
    demo_cols = [c for c in page.columns if c.startswith("demo:")]
    out = []
    for row in records(page):
        row["demographics"] = {c.removeprefix("demo:"): row.pop(c) for c in demo_cols}
        row.pop("n_topics", None)
        out.append(row)
    return CommentsPage(total=total, offset=body.offset, comments=out)
