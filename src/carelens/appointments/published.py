"""Published DNA scores read back: what ``carelens appointments score --publish`` put in the store.

For analysts outside the dashboard (the REST API's ``GET /appointments/scores``; R users call it,
docs/r.md). Why through the API rather than a database connection from R: a DuckDB store admits
one process at a time, so an R session holding the file would stop every carelens command, and a
PostgreSQL store would need its credentials handed out; the API needs only a key.

What is returned is the score and the appointment facts needed to act on or join it
(``appointment_id``, when, specialty, site, medium): no patient identifier and no contact
details, which stay with the call list in the dashboard (a join on ``appointment_id`` in the
trust's own warehouse gives the rest to those allowed to see it).
"""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
import sqlalchemy as sa

from carelens.appointments.store import dna_models, dna_scores

COLUMNS = ("appointment_id", "appointment_datetime", "specialty", "site", "consultation_medium",
           "dna_probability", "risk_band", "reasons", "model_version", "scored_at")


def published_scores(engine: sa.Engine, *, model_version: str | None = None, since: date | None = None,
                     until: date | None = None, bands: tuple[str, ...] = (), limit: int = 1_000,
                     offset: int = 0) -> tuple[str | None, int, pd.DataFrame]:
    """(model version, matching rows in all, one page of them) for appointments from ``since`` to
    ``until`` (both days included) in ``bands`` (all if empty), by appointment time.

    ``model_version`` defaults to the latest published model; None and an empty page if nothing
    has been published yet.
    """
    if model_version is None:
        with engine.connect() as conn:
            model_version = conn.execute(sa.select(dna_models.c.model_version)
                                         .order_by(dna_models.c.published_at.desc()).limit(1)).scalar()
        if model_version is None:
            return None, 0, pd.DataFrame(columns=list(COLUMNS))
    where = [dna_scores.c.model_version == model_version]
    if since is not None:
        where.append(dna_scores.c.appointment_datetime >= datetime.combine(since, time.min))
    if until is not None:
        where.append(dna_scores.c.appointment_datetime <= datetime.combine(until, time.max))
    if bands:
        where.append(dna_scores.c.risk_band.in_(list(bands)))
    page = (sa.select(*[dna_scores.c[c] for c in COLUMNS]).where(*where)
            .order_by(dna_scores.c.appointment_datetime, dna_scores.c.appointment_id).limit(limit).offset(offset))
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(dna_scores).where(*where)).scalar_one()
        frame = pd.read_sql(page, conn)
    return model_version, int(total), frame
