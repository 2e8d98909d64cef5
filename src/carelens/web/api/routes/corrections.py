"""Flags and corrections: ``POST /corrections`` records one (as the calling key), ``POST /corrections/undo``
takes a comment's latest topic or sentiment correction back, ``PUT /corrections/flag`` sets a comment's
flag on or off, ``GET /corrections`` lists them all (undone ones too, with who undid them)."""

from __future__ import annotations

from datetime import timezone

from fastapi import APIRouter, Depends

from carelens.access.roles import Permission
from carelens.errors import StoreError
from carelens.web.api.auth import AuditDetail, CallerDep, require
from carelens.web.api.deps import EngineDep, ModelDep
from carelens.web.api.errors import ApiError, responses
from carelens.web.api.models import (
    CommentKeyIn,
    CorrectionIn,
    CorrectionOut,
    CorrectionRecord,
    FlagStateIn,
    FlagStateOut,
    TopicCorrectionIn,
    UndoOut,
)
from carelens.web.api.routes import PROTECTED
from carelens.web.api.routes.frames import plain

router = APIRouter(prefix="/corrections", tags=["corrections"], dependencies=PROTECTED)
CORRECTOR = [Depends(require(Permission.FEEDBACK_CORRECT))]


@router.post("", response_model=CorrectionOut, status_code=201, responses=responses(400, 401, 403, 404, 413, 422),
             dependencies=CORRECTOR)
def add_correction(body: CorrectionIn, caller: CallerDep, engine: EngineDep, model: ModelDep,
                   audit: AuditDetail) -> CorrectionOut:
    """Flag a comment as interesting, or record its right topics (used by ``train --include-corrections``).

    Recorded as made by the caller (``created_by``); topics must be names of the model's framework.
    A comment outside the caller's locations is answered as if it did not exist (404).
    """
    from carelens.feedback.store.corrections import record_correction

    audit.update(action="flag" if body.kind == "interesting" else "correct", comment_key=body.comment_key)
    _in_scope(engine, body.comment_key, caller)

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
        raise _not_there(exc) from None
    return CorrectionOut(correction_id=cid)


def _not_there(exc: StoreError) -> Exception:
    if exc.field == "comment_key":  # the one refusal that means "not there"
        return ApiError(404, str(exc), field="comment_key")
    return exc


def _in_scope(engine, comment_key: str, caller) -> None:
    """A 404 for a comment outside the caller's locations, worded as if it did not exist."""
    from carelens.feedback.store.filters import CommentFilters
    from carelens.feedback.store.queries import comment_in_scope

    if not comment_in_scope(engine, comment_key, CommentFilters().scoped(caller.feedback_scope())):
        raise ApiError(404, f"no stored comment with key {comment_key!r}", field="comment_key")


@router.post("/undo", response_model=UndoOut, responses=responses(400, 401, 403, 404, 413, 422), dependencies=CORRECTOR)
def undo(body: CommentKeyIn, caller: CallerDep, engine: EngineDep, audit: AuditDetail) -> UndoOut:
    """Take back the comment's latest topic or sentiment correction (recorded as undone by the
    caller); the one before it, or the model's output, shows again everywhere. A comment outside
    the caller's locations is answered as if it did not exist (404)."""
    from carelens.feedback.store.corrections import undo_correction

    audit.update(action="undo_correction", comment_key=body.comment_key)
    _in_scope(engine, body.comment_key, caller)
    try:
        undone = undo_correction(engine, body.comment_key, by=caller.name)
    except StoreError as exc:
        raise _not_there(exc) from None
    audit["undone"] = undone
    return UndoOut(undone=undone)


@router.put("/flag", response_model=FlagStateOut, responses=responses(400, 401, 403, 404, 413, 422),
            dependencies=CORRECTOR)
def set_flag(body: FlagStateIn, caller: CallerDep, engine: EngineDep, audit: AuditDetail) -> FlagStateOut:
    """Flag a comment as interesting, or take its flag off (setting it twice stores one flag). A
    comment outside the caller's locations is answered as if it did not exist (404)."""
    from carelens.feedback.store.corrections import set_flag as store_flag

    audit.update(action="flag" if body.flagged else "unflag", comment_key=body.comment_key)
    _in_scope(engine, body.comment_key, caller)
    try:
        return FlagStateOut(comment_key=body.comment_key, flagged=store_flag(engine, body.comment_key, body.flagged,
                                                                              by=caller.name))
    except StoreError as exc:
        raise _not_there(exc) from None


@router.get("", response_model=list[CorrectionRecord], responses=responses(400, 401, 403, 413),
            dependencies=[Depends(require(Permission.FEEDBACK_READ))])
def list_corrections(engine: EngineDep, caller: CallerDep) -> list[CorrectionRecord]:
    """Every flag and correction on comments in the caller's locations (undone ones too), oldest first."""
    from carelens.feedback.store.corrections import list_corrections as stored
    from carelens.feedback.store.filters import CommentFilters
    from carelens.feedback.store.queries import keys_in_scope

    frame = stored(engine)
    scope = caller.feedback_scope()
    if scope is None or not scope.everything:
        frame = frame[frame["comment_key"].isin(keys_in_scope(engine, CommentFilters().scoped(scope)))]
    # the store keeps naive UTC times; the document promises RFC 3339 date-times, which carry a zone
    def value(k, v):
        if k in ("created_at", "undone_at") and not (v is None or v != v):
            return v.to_pydatetime().replace(tzinfo=timezone.utc)
        return plain(v)

    return [CorrectionRecord(**{k: value(k, v) for k, v in row.items()})
            for row in frame.to_dict("records")]
