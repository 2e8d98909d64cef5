"""The REST API (FastAPI): classify, load, read comments and summaries, record corrections.

``create_api(settings)`` returns an app meant to be mounted at ``/api`` (``carelens.web.app``
does); paths below are relative to that mount. OpenAPI at ``/api/docs`` and ``/api/openapi.json``.
Every route except ``GET /health`` needs an API key (see :mod:`carelens.web.api.auth`).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from carelens import __version__
from carelens.config import Settings, load_settings
from carelens.errors import CarelensError
from carelens.web.api.auth import require_api_key
from carelens.web.api.models import (
    ClassifiedComment,
    CommentIn,
    CommentsPage,
    CommentsQuery,
    CorrectionIn,
    CorrectionOut,
    Health,
    LoadResponse,
    LoadRowsRequest,
    SummaryKind,
    SummaryRequest,
)


def _plain(value: Any) -> Any:
    """JSON-safe scalar: NA/NaN -> None, numpy -> Python, dates -> ISO strings."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.date().isoformat() if isinstance(value, pd.Timestamp) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with a 413 naming the field.

    Checks the declared Content-Length first, then counts the bytes actually received, so a chunked
    upload (no Content-Length) cannot slip past the limit either.
    """

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    def _message(self) -> str:
        return f"request body over the limit of {self.limit:,} bytes"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            response = JSONResponse({"detail": self._message(), "field": "body"}, status_code=413)
            return await response(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, self._message() + " (field 'body')")
            return message

        await self.app(scope, counted, send)


def create_api(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (default: :func:`carelens.config.load_settings`)."""
    from carelens.db import get_engine
    from carelens.feedback.store import queries

    settings = settings or load_settings()
    # FastAPIOffline serves Swagger UI and ReDoc from files in the package: trust machines are
    # often offline, and FastAPI's default /docs loads them from a CDN (a blank page offline).
    api = FastAPIOffline(
        title="carelens API",
        version=__version__,
        description="Patient feedback: classify comments by the NHS England patient experience framework, "
        "load trust exports, read stored comments and privacy-suppressed summaries, record corrections. "
        "Authenticate with header `X-API-Key` or `Authorization: Bearer`.",
    )
    auth = Depends(require_api_key(settings))
    state: dict[str, Any] = {}

    def engine():
        if "engine" not in state:
            state["engine"] = get_engine(settings.database_url)
        return state["engine"]

    def model():
        from carelens.feedback.model_cache import cached_model

        return cached_model(settings.feedback_model)

    api.add_middleware(BodyLimit, limit=settings.max_request_bytes)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        """422 with FastAPI's per-field list kept in ``detail``, plus one readable line naming the first field."""
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            field, message = "body", f"the request body is not valid JSON ({first.get('ctx', {}).get('error', 'decode error')})"
        else:
            field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.get("loc", ()) if p != "body").lstrip(".")
            field = field or "body"
            message = f"field '{field}': {first.get('msg', 'invalid')}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return JSONResponse({"detail": jsonable_encoder(errors), "message": message, "field": field}, status_code=422)

    @api.exception_handler(CarelensError)
    async def carelens_error(request: Request, exc: CarelensError):
        return JSONResponse({"detail": str(exc), "field": exc.field, "row": exc.row}, status_code=400)

    @api.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness (no API key needed)."""
        from carelens.feedback.model_cache import is_loaded

        return Health(status="ok", version=__version__, model_loaded=is_loaded())

    @api.post("/classify", response_model=list[ClassifiedComment], tags=["classify"], dependencies=[auth])
    def classify(items: list[CommentIn]) -> list[ClassifiedComment]:
        """Topics, categories, sentiment and probabilities for a batch of comments, in order."""
        if len(items) > settings.max_batch:
            raise HTTPException(413, f"batch of {len(items):,} comments is over the limit of {settings.max_batch:,}; "
                                "split it (field 'body')")
        if not items:
            return []
        scores = [i.fft_score for i in items]
        out = model().classify([i.comment_text for i in items], question_types=[i.question_type for i in items],
                               fft_scores=scores if any(s is not None for s in scores) else None)
        return [
            ClassifiedComment(comment_id=i.comment_id, topics=list(t), categories=list(c),
                              sentiment=None if pd.isna(s) else int(s), probabilities=p)
            for i, t, c, s, p in zip(items, out["topics"], out["categories"], out["sentiment"], out["probabilities"])
        ]

    def _load(frame: pd.DataFrame, mapping: dict, source: str, strict: bool, who: str) -> LoadResponse:
        from carelens.feedback.ingest import load_comments

        result = load_comments(frame, engine=engine(), mapping=mapping, model=model(), source=source,
                               loaded_by=f"api:{who}", strict=strict, progress=False)
        return LoadResponse(**{k: getattr(result, k) for k in LoadResponse.model_fields})

    @api.post("/comments/upload", response_model=LoadResponse, tags=["store"])
    def upload(file: UploadFile = File(..., description="CSV, XLSX or parquet export"),
               mapping: str = Form("{}", description='JSON {"field": "column"}'),
               strict: bool = Form(False), who: str = auth) -> LoadResponse:
        """Load a trust export file: validate, classify and store in one transaction (idempotent)."""
        import tempfile
        from pathlib import Path

        from carelens.tables import read_table

        try:
            mapping_dict = json.loads(mapping or "{}")
            assert isinstance(mapping_dict, dict)
        except (ValueError, AssertionError):
            raise HTTPException(422, "field 'mapping' must be a JSON object of field: column pairs") from None
        name = Path(file.filename or "upload.csv").name
        suffix = Path(name).suffix.lower()
        if suffix not in (".csv", ".txt", ".xlsx", ".parquet"):
            raise HTTPException(415, f"field 'file': {name!r} is not CSV, XLSX or parquet")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(file.file.read(settings.max_request_bytes + 1))
            if path.stat().st_size > settings.max_request_bytes:
                raise HTTPException(413, "field 'file': over the size limit")
            frame = read_table(path, dtype_str=True)
        return _load(frame, mapping_dict, name, strict, who)

    @api.post("/comments", response_model=LoadResponse, tags=["store"])
    def load_rows(body: LoadRowsRequest, who: str = auth) -> LoadResponse:
        """Load comments sent as JSON rows (same mapping, validation and idempotency as a file)."""
        if len(body.rows) > settings.max_batch:
            raise HTTPException(413, f"field 'rows': {len(body.rows):,} rows is over the limit of {settings.max_batch:,}")
        frame = pd.DataFrame(body.rows).astype("string")
        return _load(frame, body.mapping, body.source, body.strict, who)

    @api.post("/comments/query", response_model=CommentsPage, tags=["store"], dependencies=[auth])
    def query_comments(body: CommentsQuery) -> CommentsPage:
        """Stored comments matching the dashboard's filters, newest first, with redacted text."""
        page, total = queries.filtered_comments(engine(), body.filters, limit=body.limit, offset=body.offset)
        if queries.comments_suppressed(body.filters, total, settings.suppress_below):
            return CommentsPage(total=total, offset=body.offset, comments=[], withheld=True)
        demo_cols = [c for c in page.columns if c.startswith("demo:")]
        out = []
        for row in records(page):
            row["demographics"] = {c.removeprefix("demo:"): row.pop(c) for c in demo_cols}
            row.pop("n_topics", None)
            out.append(row)
        return CommentsPage(total=total, offset=body.offset, comments=out)

    @api.post("/summaries/{kind}", tags=["store"], dependencies=[auth])
    def summary(kind: SummaryKind, body: SummaryRequest | None = None) -> dict:
        """A dashboard summary for the filters; cells under the privacy limit are suppressed."""
        filters = (body or SummaryRequest()).filters
        below = settings.suppress_below
        e = engine()
        if kind == "totals":
            rows = [queries.summary_totals(e, filters, suppress_below=below)]
        else:
            fn = {"topics": queries.topic_summary, "categories-by-month": queries.categories_by_month,
                  "sentiment-by-month": queries.sentiment_by_month, "fft-by-month": queries.fft_by_month,
                  "cooccurrence": queries.topic_cooccurrence}.get(kind)
            frame = fn(e, filters, suppress_below=below) if fn else queries.complex_comments(e, filters)
            rows = records(frame)
        return {"kind": kind, "suppress_below": below, "rows": rows}

    @api.get("/filters", tags=["store"], dependencies=[auth])
    def filter_options() -> dict:
        """Values for filter controls: date span, locations, questions, topics by category, demographics."""
        return _plain(queries.filter_options(engine()))

    @api.post("/corrections", response_model=CorrectionOut, status_code=201, tags=["corrections"])
    def add_correction(body: CorrectionIn, who: str = auth) -> CorrectionOut:
        """Flag a comment as interesting, or record its right topics (used by train --include-corrections)."""
        from carelens.feedback.store.corrections import record_correction

        valid = [lab.name for lab in model().framework.labels] if body.kind == "wrong_topics" else None
        cid = record_correction(engine(), body.comment_key, body.kind, topics=body.topics, sentiment=body.sentiment,
                                note=body.note, created_by=body.created_by or f"api:{who}", valid_topics=valid)
        return CorrectionOut(correction_id=cid)

    @api.get("/corrections", tags=["corrections"], dependencies=[auth])
    def get_corrections() -> list[dict]:
        """Every flag and correction, oldest first."""
        from carelens.feedback.store.corrections import list_corrections

        return records(list_corrections(engine()))

    return api


__all__ = ["create_api", "records"]
