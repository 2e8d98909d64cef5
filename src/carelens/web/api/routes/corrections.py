"""Flags and corrections: ``POST /corrections`` records one (as the calling key), ``POST /corrections/undo``
takes a comment's latest topic or sentiment correction back, ``PUT /corrections/flag`` sets a comment's
flag on or off, ``GET /corrections`` lists them all (undone ones too, with who undid them)."""

from __future__ import annotations

from datetime import timezone

from fastapi import APIRouter

from carelens.errors import StoreError
from carelens.web.api.auth import CallerDep
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


@router.post("", response_model=CorrectionOut, status_code=201, responses=responses(400, 401, 404, 413, 422))
def add_correction(body: CorrectionIn, caller: CallerDep, engine: EngineDep, model: ModelDep) -> CorrectionOut:
    """Flag a comment as interesting, or record its right topics (used by ``train --include-corrections``).

    Recorded as made by the calling key (``created_by``); topics must be names of the model's framework.
    """
    from carelens.feedback.store.corrections import record_correction

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


@router.post("/undo", response_model=UndoOut, responses=responses(400, 401, 404, 413, 422))
def undo(body: CommentKeyIn, caller: CallerDep, engine: EngineDep) -> UndoOut:
    """Take back the comment's latest topic or sentiment correction (recorded as undone by the
    calling key); the one before it, or the model's output, shows again everywhere."""
    from carelens.feedback.store.corrections import undo_correction

    try:
        return UndoOut(undone=undo_correction(engine, body.comment_key, by=caller.name))
    except StoreError as exc:
        raise _not_there(exc) from None


@router.put("/flag", response_model=FlagStateOut, responses=responses(400, 401, 404, 413, 422))
def set_flag(body: FlagStateIn, caller: CallerDep, engine: EngineDep) -> FlagStateOut:
    """Flag a comment as interesting, or take its flag off (setting it twice stores one flag)."""
    from carelens.feedback.store.corrections import set_flag as store_flag

    try:
        return FlagStateOut(comment_key=body.comment_key, flagged=store_flag(engine, body.comment_key, body.flagged,
                                                                              by=caller.name))
    except StoreError as exc:
        raise _not_there(exc) from None


@router.get("", response_model=list[CorrectionRecord], responses=responses(400, 401, 413))
def list_corrections(engine: EngineDep) -> list[CorrectionRecord]:
    """Every flag and correction, oldest first."""
    from carelens.feedback.store.corrections import list_corrections as stored

    frame = stored(engine)
    # the store keeps naive UTC times; the document promises RFC 3339 date-times, which carry a zone
    def value(k, v):
        if k in ("created_at", "undone_at") and not (v is None or v != v):
            return v.to_pydatetime().replace(tzinfo=timezone.utc)
        return plain(v)

    return [CorrectionRecord(**{k: value(k, v) for k, v in row.items()})
            for row in frame.to_dict("records")]
