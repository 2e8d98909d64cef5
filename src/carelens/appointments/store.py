"""Missed appointments' part of the store: published models, scores, the call list, calls, monitoring.

Why in the store: staff work the call list in the browser, several at once, and every recorded call
must survive a restart and be visible to colleagues so nobody is phoned twice. Scores are kept per
(appointment, model version), and later outcomes are written onto the same rows, so monthly
monitoring can compare what the model said with what happened, on patients nobody contacted
(a reminder changes the outcome it was meant to predict).

Tables (declared on the store's one ``MetaData``; created by migrations ``0002_appointments`` and
``0004_appointments_calls``):
- ``dna_models``: model version, its card (JSON) and when it was published.
- ``dna_scored_appointments`` (``dna_scores`` in code): one row per upcoming appointment and model version, with the facts a caller needs.
- ``dna_calls``: one row per recorded call attempt (append-only).
- ``dna_call_undos``: one row per call taken back ("recorded by mistake"), so the call row itself
  is never deleted or edited: what was recorded, and that it was undone, both stay.
- ``dna_patients``: each scored patient's age band and IMD quintile (bands, not exact values),
  for the call list's optional quota per group.
- ``dna_contacts``: **contact details** (the ``--contact-column`` values, e.g. phone numbers), one
  row per patient. Kept apart from every other table on purpose: only people who make calls may
  see them (issue 16 gates this table), they never reach a model, a card or an export for others.

The call list's rules (from now, one row per patient, quota, export) are
:mod:`carelens.appointments.calllist`; this module reads and writes.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from carelens.appointments import calllist
from carelens.appointments.evaluation import age_band, imd_quintile
from carelens.appointments.schema import ATTENDED_CODES, CONTACT_PREFIX, DNA_CODES
from carelens.db.bulk import upsert_frame
from carelens.db.schema import metadata, new_id, now_utc
from carelens.errors import StoreError
from carelens.model_cards import card_json

dna_models = sa.Table(
    "dna_models",
    metadata,
    sa.Column("model_version", sa.String(32), primary_key=True),
    sa.Column("card", sa.Text, nullable=False),
    sa.Column("published_at", sa.DateTime, nullable=False),
)

dna_scores = sa.Table(
    "dna_scored_appointments",
    metadata,
    sa.Column("appointment_id", sa.String(64), primary_key=True),
    sa.Column("model_version", sa.String(32), primary_key=True),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("appointment_datetime", sa.DateTime, nullable=False),
    sa.Column("specialty", sa.String(200)),
    sa.Column("site", sa.String(200)),
    sa.Column("consultation_medium", sa.String(100)),
    sa.Column("dna_probability", sa.Double, nullable=False),
    sa.Column("risk_band", sa.String(16), nullable=False),
    sa.Column("reasons", sa.Text),
    sa.Column("scored_at", sa.DateTime, nullable=False),
    sa.Column("attendance_status", sa.SmallInteger),  # filled in once the outcome is known
    sa.Index("ix_dna_scored_when", "appointment_datetime"),
    sa.Index("ix_dna_scored_patient", "patient_id"),
)

dna_calls = sa.Table(
    "dna_calls",
    metadata,
    sa.Column("call_id", sa.String(40), primary_key=True),
    sa.Column("appointment_id", sa.String(64), nullable=False),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("called_at", sa.DateTime, nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("recorded_by", sa.String(200)),
    sa.Index("ix_dna_calls_patient", "patient_id"),
)

dna_call_undos = sa.Table(
    "dna_call_undos",
    metadata,
    sa.Column("call_id", sa.String(40), primary_key=True),
    sa.Column("undone_at", sa.DateTime, nullable=False),
    sa.Column("undone_by", sa.String(200)),
)

dna_patients = sa.Table(
    "dna_patients",
    metadata,
    sa.Column("patient_id", sa.String(64), primary_key=True),
    sa.Column("age_band", sa.String(16)),
    sa.Column("imd_quintile", sa.String(16)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Contact details: for callers only (see the module docstring). ``details`` is JSON {column: value}.
dna_contacts = sa.Table(
    "dna_contacts",
    metadata,
    sa.Column("patient_id", sa.String(64), primary_key=True),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

CALL_OUTCOMES = {
    "reached_attending": "Reached: will attend",
    "reached_rebook": "Reached: wants to cancel or rebook",
    "reached_support": "Reached: needs support (transport, interpreter, ...)",
    "voicemail": "Left a voicemail / text",
    "no_answer": "No answer",
    "wrong_number": "Wrong or missing number",
}
CONTACTED = calllist.CONTACTED


def publish_scores(engine: sa.Engine, appointments: pd.DataFrame, scores: pd.DataFrame, card: dict[str, Any]) -> int:
    """Store upcoming appointments' scores (replacing this model version's earlier rows for them)
    and the outcomes now known for appointments scored earlier; one transaction.

    ``appointments`` is a ``schema.normalise`` frame; ``scores`` comes from ``score_upcoming``.
    """
    version = str(card["model_version"])
    rows = appointments.set_index("appointment_id").loc[scores["appointment_id"]]
    now = now_utc()
    frame = pd.DataFrame({
        "appointment_id": scores["appointment_id"].astype(str).to_numpy(), "model_version": version,
        "patient_id": rows["patient_id"].astype(str).to_numpy(),
        "appointment_datetime": pd.to_datetime(rows["appointment_datetime"]).to_numpy(),
        "specialty": rows["specialty"].astype(str).to_numpy(), "site": rows["site"].astype(str).to_numpy(),
        "consultation_medium": rows["consultation_medium"].astype(str).to_numpy(),
        "dna_probability": scores["dna_probability"].astype(float).to_numpy(),
        "risk_band": scores["risk_band"].astype(str).to_numpy(),
        "reasons": [str(r or "") for r in scores["reasons"]],
        "scored_at": now, "attendance_status": pd.array([None] * len(scores), dtype="Int16"),
    })
    known = appointments[~appointments["is_future"]]
    patients, contacts = _patient_rows(rows.reset_index(), now)
    try:
        with engine.begin() as conn:
            upsert_frame(conn, dna_models, pd.DataFrame([{"model_version": version, "card": card_json(card), "published_at": now}]))
            upsert_frame(conn, dna_scores, frame)  # this version's earlier rows for these appointments are replaced
            if len(patients):
                upsert_frame(conn, dna_patients, patients)
            if len(contacts):
                upsert_frame(conn, dna_contacts, contacts)
            # Outcomes for appointments scored on an earlier run: what monitoring compares against.
            scored_before = pd.read_sql(sa.select(dna_scores.c.appointment_id).where(dna_scores.c.attendance_status.is_(None)), conn)
            outcome = known.set_index("appointment_id")["attendance_status"]
            update = outcome.reindex(scored_before["appointment_id"]).dropna()
            if len(update):
                conn.execute(
                    sa.update(dna_scores).where(dna_scores.c.appointment_id == sa.bindparam("aid")).values(attendance_status=sa.bindparam("st")),
                    [{"aid": str(a), "st": int(s)} for a, s in update.items()],
                )
    except (StoreError, sa.exc.SQLAlchemyError) as exc:
        reason = exc.message if isinstance(exc, StoreError) else str(exc)
        raise StoreError(f"could not publish scores; nothing was changed: {reason}".splitlines()[0]) from exc
    return len(frame)


def _patient_rows(rows: pd.DataFrame, now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per scored patient: age band and IMD quintile (for quotas), and contact details (the
    ``contact:`` columns; the last non-blank value of each in table order). Contacts are written
    only when the table had contact columns, so a scoring run without them keeps the ones stored."""
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame()
    last = rows.drop_duplicates("patient_id", keep="last")
    patients = pd.DataFrame({
        "patient_id": last["patient_id"].astype(str).to_numpy(),
        "age_band": age_band(last["age"]).to_numpy(), "imd_quintile": imd_quintile(last["imd_decile"]).to_numpy(),
        "updated_at": now,
    })
    contact_columns = [c for c in rows.columns if str(c).startswith(CONTACT_PREFIX)]
    if not contact_columns:
        return patients, pd.DataFrame()
    values = rows[["patient_id", *contact_columns]].copy()
    values[contact_columns] = values[contact_columns].replace("", pd.NA)
    latest = values.groupby("patient_id", sort=False)[contact_columns].last()
    details = [
        json.dumps({c.removeprefix(CONTACT_PREFIX): (None if pd.isna(v) else str(v)) for c, v in zip(contact_columns, rec)})
        for rec in latest.itertuples(index=False, name=None)
    ]
    contacts = pd.DataFrame({"patient_id": latest.index.astype(str), "details": details, "updated_at": now})
    return patients, contacts


def latest_model(engine: sa.Engine) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(dna_models).order_by(dna_models.c.published_at.desc()).limit(1)).first()
    return None if row is None else {**json.loads(row.card), "published_at": row.published_at}


def working_days_ahead(start: date, n: int) -> date:
    """The last day of the ``n`` working days (Mon-Fri) that begin on ``start`` (or on the next
    working day when ``start`` is a weekend): Monday and 3 gives Wednesday; Saturday and 1, Monday."""
    first = np.busday_offset(np.datetime64(start, "D"), 0, roll="forward")
    return np.busday_offset(first, max(int(n), 1) - 1, roll="forward").astype(date)


def call_list(
    engine: sa.Engine,
    *,
    today: date,
    days: int = 3,
    bands: tuple[str, ...] = ("high",),
    now: datetime | None = None,
    quota_by: str | None = None,
) -> pd.DataFrame:
    """One row per patient to call: their riskiest appointment still to come in the ``days`` working
    days from ``today`` (that day included, from ``now`` on when it is today), with every other
    upcoming appointment of theirs listed, so one call covers all of them.

    A patient reached (or left a message) in the last 30 days drops off the list, whichever of
    their appointments the call was about: one conversation covers them all and nobody is phoned
    twice. "No answer" and "wrong number" keep them on it, with the attempts counted. An undone
    call counts for nothing. ``quota_by`` ("age band", "IMD quintile") adds under-served groups'
    riskiest patients (:mod:`carelens.appointments.calllist`). Contact details are not here:
    :func:`contact_details`.
    """
    model = latest_model(engine)
    if model is None:
        return pd.DataFrame()
    version = model["model_version"]
    start = calllist.window_start(today, now)
    end = datetime.combine(working_days_ahead(today, days), time.max)
    midnight = datetime.combine(start.date(), time.min)
    query = (
        sa.select(dna_scores, dna_patients.c.age_band, dna_patients.c.imd_quintile)
        .select_from(dna_scores.outerjoin(dna_patients, dna_patients.c.patient_id == dna_scores.c.patient_id))
        .where(dna_scores.c.model_version == version, dna_scores.c.appointment_datetime >= midnight)
    )
    with engine.connect() as conn:
        upcoming = pd.read_sql(query, conn)
        calls = _active_calls(conn, since=midnight - pd.Timedelta(days=30))
    return calllist.select(upcoming, calls, start=start, end=end, bands=bands, quota_by=quota_by)


def contact_details(engine: sa.Engine, patient_ids: list[str]) -> pd.DataFrame:
    """Contact details of these patients (``patient_id`` and one column per contact column), for
    the people who make the calls only. Empty when none were published."""
    if not patient_ids:
        return pd.DataFrame(columns=["patient_id"])
    ids = [str(p) for p in dict.fromkeys(patient_ids)]
    rows = []
    with engine.connect() as conn:
        for start in range(0, len(ids), 1_000):  # IN lists stay under SQL Server's 2,100 parameters
            rows += conn.execute(sa.select(dna_contacts.c.patient_id, dna_contacts.c.details)
                                 .where(dna_contacts.c.patient_id.in_(ids[start:start + 1_000]))).all()
    if not rows:
        return pd.DataFrame(columns=["patient_id"])
    details = pd.DataFrame([json.loads(r.details) for r in rows])
    details.insert(0, "patient_id", [r.patient_id for r in rows])
    return details


def _active_calls(conn: sa.Connection, since: datetime | None = None) -> pd.DataFrame:
    """Calls recorded (since ``since``), less those undone."""
    undone = sa.select(dna_call_undos.c.call_id)
    query = sa.select(dna_calls).where(dna_calls.c.call_id.not_in(undone))
    if since is not None:
        query = query.where(dna_calls.c.called_at >= since)
    return pd.read_sql(query, conn)


def record_call(
    engine: sa.Engine, appointment_id: str, outcome: str, *, note: str = "", recorded_by: str = ""
) -> str:
    """Record one call attempt about an appointment; return its ID (:func:`undo_call` takes it back)."""
    if outcome not in CALL_OUTCOMES:
        raise StoreError(f"unknown call outcome {outcome!r}; use one of {', '.join(CALL_OUTCOMES)}", field="outcome")
    with engine.begin() as conn:
        row = conn.execute(sa.select(dna_scores.c.patient_id).where(dna_scores.c.appointment_id == appointment_id).limit(1)).first()
        if row is None:
            raise StoreError(f"appointment {appointment_id!r} is not on any call list", field="appointment_id")
        call_id = new_id()
        conn.execute(sa.insert(dna_calls), [{
            "call_id": call_id, "appointment_id": appointment_id, "patient_id": row.patient_id, "called_at": now_utc(),
            "outcome": outcome, "note": note[:2000], "recorded_by": recorded_by[:200],
        }])
    return call_id


def undo_call(engine: sa.Engine, call_id: str, *, undone_by: str = "") -> None:
    """Take back a call recorded by mistake: it no longer counts (the patient returns to the list if
    it had taken them off), and both the call and its undoing stay on record."""
    with engine.begin() as conn:
        if conn.execute(sa.select(dna_calls.c.call_id).where(dna_calls.c.call_id == call_id)).first() is None:
            raise StoreError(f"no recorded call {call_id!r}", field="call_id")
        if conn.execute(sa.select(dna_call_undos.c.call_id).where(dna_call_undos.c.call_id == call_id)).first():
            raise StoreError("this call was already undone", field="call_id")
        conn.execute(sa.insert(dna_call_undos), [{"call_id": call_id, "undone_at": now_utc(), "undone_by": undone_by[:200]}])


def calls_for(engine: sa.Engine, since: datetime | None = None) -> pd.DataFrame:
    """Recorded calls, newest first, with ``undone`` (True for calls taken back)."""
    query = (sa.select(dna_calls, dna_call_undos.c.undone_at)
             .select_from(dna_calls.outerjoin(dna_call_undos, dna_call_undos.c.call_id == dna_calls.c.call_id))
             .order_by(dna_calls.c.called_at.desc()))
    if since is not None:
        query = query.where(dna_calls.c.called_at >= since)
    with engine.connect() as conn:
        calls = pd.read_sql(query, conn)
    return calls.assign(undone=calls["undone_at"].notna())


def monitoring(engine: sa.Engine) -> pd.DataFrame:
    """Monthly AUROC and calibration of the scores, on appointments of patients nobody contacted."""
    from sklearn.metrics import roc_auc_score

    from carelens.appointments.evaluation import expected_calibration_error

    with engine.connect() as conn:
        scored = pd.read_sql(sa.select(dna_scores).where(dna_scores.c.attendance_status.is_not(None)), conn)
        contacted = _active_calls(conn)
    if scored.empty:
        return pd.DataFrame(columns=["month", "model_version", "appointments", "dna_rate", "mean_predicted", "auroc", "ece"])
    reached = contacted[contacted["outcome"].isin(CONTACTED)]
    scored = scored[~scored["patient_id"].isin(set(reached["patient_id"]))]
    status = scored["attendance_status"].astype(int)
    scored = scored[status.isin(sorted(ATTENDED_CODES | DNA_CODES))].copy()  # cancellations are neither
    scored["dna"] = scored["attendance_status"].astype(int).isin(sorted(DNA_CODES)).astype(float)
    scored["month"] = scored["appointment_datetime"].dt.strftime("%Y-%m")
    rows = []
    for (month, version), part in scored.groupby(["month", "model_version"]):
        y, p = part["dna"].to_numpy(), part["dna_probability"].to_numpy()
        rows.append({
            "month": month, "model_version": version, "appointments": len(part), "dna_rate": float(y.mean()),
            "mean_predicted": float(p.mean()),
            "auroc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
            "ece": expected_calibration_error(y, p),
        })
    return pd.DataFrame(rows)
