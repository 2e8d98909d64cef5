"""Flags and corrections: ``POST /corrections`` records one (as the calling key), ``GET /corrections`` lists them."""

from __future__ import annotations

from datetime import timezone

from fastapi import APIRouter, Depends

from carelens.access.roles import Permission
from carelens.errors import StoreError
from carelens.web.api.auth import AuditDetail, CallerDep, require
from carelens.web.api.deps import EngineDep, ModelDep
from carelens.web.api.errors import ApiError, responses
from carelens.web.api.models import CorrectionIn, CorrectionOut, CorrectionRecord, TopicCorrectionIn
from carelens.web.api.routes import PROTECTED
from carelens.web.api.routes.frames import plain

router = APIRouter(prefix="/corrections", tags=["corrections"], dependencies=PROTECTED)


@router.post("", response_model=CorrectionOut, status_code=201, responses=responses(400, 401, 403, 404, 413, 422),
             dependencies=[Depends(require(Permission.FEEDBACK_CORRECT))])
def add_correction(body: CorrectionIn, caller: CallerDep, engine: EngineDep, model: ModelDep,
                   audit: AuditDetail) -> CorrectionOut:
    """Flag a comment as interesting, or record its right topics (used by ``train --include-corrections``).

    Recorded as made by the caller (``created_by``); topics must be names of the model's framework.
    A comment outside the caller's locations is answered as if it did not exist (404).
    """
    from carelens.feedback.store.corrections import record_correction
    from carelens.feedback.store.filters import CommentFilters
    from carelens.feedback.store.queries import comment_in_scope

    audit.update(action="flag" if body.kind == "interesting" else "correct", comment_key=body.comment_key)
    if not comment_in_scope(engine, body.comment_key, CommentFilters().scoped(caller.feedback_scope())):
        raise ApiError(404, f"no stored comment with key {body.comment_key!r}", field="comment_key")

    topics = body.topics if isinstance(body, TopicCorrectionIn) else None
    if topics is not None:
        known = {label.name for label in model.framework.labels}
        unknown = [t for t in topics if t not in known]
        if unknown:
            raise StoreError(f"unknown topic {unknown[0]!r}", field="topics")
    try:
        cid = record_correction(engine, body.comment_key, body.kind, topics=topics,
                                sentiment=getattr(body, "sentiment", None), note=body.note, created_by=caller.name)
    except StoreError as exc:
        if exc.field == "comment_key":  # the one refusal that means "not there"
            raise ApiError(404, str(exc), field="comment_key") from None
        raise
    return CorrectionOut(correction_id=cid)


@router.get("", response_model=list[CorrectionRecord], responses=responses(400, 401, 403, 413),
            dependencies=[Depends(require(Permission.FEEDBACK_READ))])
def list_corrections(engine: EngineDep, caller: CallerDep) -> list[CorrectionRecord]:
    """Every flag and correction on comments in the caller's locations, oldest first."""
    from carelens.feedback.store.corrections import list_corrections as stored
    from carelens.feedback.store.filters import CommentFilters
    from carelens.feedback.store.queries import keys_in_scope

    frame = stored(engine)
    scope = caller.feedback_scope()
    if scope is None or not scope.everything:
        frame = frame[frame["comment_key"].isin(keys_in_scope(engine, CommentFilters().scoped(scope)))]
    # the store keeps naive UTC times; the document promises RFC 3339 date-times, which carry a zone
    return [CorrectionRecord(**{k: (v.to_pydatetime().replace(tzinfo=timezone.utc) if k == "created_at" else plain(v))
                                for k, v in row.items()})
            for row in frame.to_dict("records")]
