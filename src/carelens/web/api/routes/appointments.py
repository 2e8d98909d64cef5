"""``GET /appointments/scores``: published DNA scores, read-only (``carelens.appointments.published``).

What R users and other analysts read (docs/r.md): the score, band and reasons with the
appointment's time, specialty, site and medium; no patient identifier or contact details. The
call list's data, so a key needs the role that works the call list (``caller``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from carelens.access.roles import Permission
from carelens.web.api.auth import AuditDetail, require
from carelens.web.api.deps import EngineDep
from carelens.web.api.errors import responses
from carelens.web.api.models import IsoDate
from carelens.web.api.routes import PROTECTED

router = APIRouter(prefix="/appointments", tags=["appointments"], dependencies=PROTECTED)

RiskBand = Literal["low", "medium", "high"]


class PublishedScore(BaseModel):
    appointment_id: str
    appointment_datetime: datetime
    specialty: str | None
    site: str | None
    consultation_medium: str | None
    dna_probability: float = Field(..., ge=0, le=1)
    risk_band: RiskBand
    reasons: str | None = Field(None, description="What raises the risk, in plain words ('; '-separated).")
    model_version: str
    scored_at: datetime


class ScoresPage(BaseModel):
    model_version: str | None = Field(..., description="The model whose scores these are (None: none published).")
    total: int = Field(..., description="Scores matching the query, all pages together.")
    offset: int
    scores: list[PublishedScore]


@router.get("/scores", response_model=ScoresPage, responses=responses(400, 401, 403, 413, 422),
            dependencies=[Depends(require(Permission.CALL_LIST))])
def published_scores(
    engine: EngineDep,
    audit: AuditDetail,
    since: IsoDate | None = Query(None, description="First appointment day (YYYY-MM-DD), included."),
    until: IsoDate | None = Query(None, description="Last appointment day (YYYY-MM-DD), included."),
    band: list[RiskBand] = Query([], description="Risk bands to return (repeat for several; default all)."),
    model_version: str | None = Query(None, max_length=32, description="Default: the latest published model."),
    limit: int = Query(1_000, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
) -> ScoresPage:
    """DNA scores published to the store by `carelens appointments score --publish`, by appointment
    time: the score, risk band and reasons with the appointment's time, specialty, site and medium
    (no patient identifier or contact details)."""
    from carelens.appointments.published import published_scores as read

    version, total, frame = read(engine, model_version=model_version, since=since, until=until,
                                 bands=tuple(band), limit=limit, offset=offset)
    audit.update(since=since, until=until, bands=list(band), scores=len(frame))
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return ScoresPage(model_version=version, total=total, offset=offset, scores=[PublishedScore(**r) for r in rows])
