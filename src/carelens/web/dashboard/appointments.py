"""Missed appointments: the reminder call list, recording calls, the model card and monitoring.

Scores arrive with ``carelens appointments score ... --publish``. The list shows each patient once,
at their riskiest appointment still to come in the next N working days (from now, for today), with
every other upcoming appointment of theirs, so one call covers them all; a patient reached (or left
a message) drops off for everyone. Each row has its own "Record" control (outcome, note); a call
recorded by mistake is undone from the message that confirms it or from the calls table. The day's
list prints (the page's print styles show only the list) and downloads as CSV or XLSX.

Contact details (the ``--contact-column`` values) are shown, and exported, only when
:func:`may_see_contacts` says so: one place for access control (issue 16) to decide.
The rules (from now, quota, export columns) are ``appointments.calllist``; this page presents.
"""

from __future__ import annotations

import html
import io
from datetime import date

import pandas as pd
from shiny import reactive, render, ui
from sqlalchemy.exc import SQLAlchemyError

from carelens.web.dashboard.registry import Page

INTENDED_USE = (
    "Use this list to offer reminders and support (transport, interpreters, rebooking) to the patients "
    "most likely to miss an appointment. Never use it to deny, delay or overbook care."
)
LIST_COLUMNS = {
    "risk": "Risk", "risk_band": "Band", "when": "Appointment", "specialty": "Clinic", "site": "Site",
    "consultation_medium": "Medium", "patient_id": "Patient", "contact": "Contact", "other_appointments": "Other upcoming appointments",
    "reasons": "Main reasons", "attempts": "Earlier attempts", "quota": "On the list because", "record": "Record a call",
}
QUOTAS = {"": "No quota", "age band": "Age band", "IMD quintile": "IMD quintile"}


def may_see_contacts(session) -> bool:
    """Whether this user may see patients' contact details. Everyone who can open this page, until
    sign-in and roles arrive (issue 16): then only the "caller" role."""
    return True


def page_ui():
    return ui.TagList(
        ui.div(ui.strong("Intended use: "), INTENDED_USE, class_="alert alert-info dna-intended-use"),
        ui.layout_columns(
            ui.input_date("dna_today", "Calls for appointments from", value=date.today(), format="dd/mm/yyyy"),
            ui.input_numeric("dna_days", "Next working days", value=3, min=1, max=30),
            ui.input_checkbox_group("dna_bands", "Risk", choices={"high": "High", "medium": "Medium"}, selected=["high"], inline=True),
            ui.input_select("dna_quota", "Quota per group", choices=QUOTAS),
            col_widths=[3, 2, 3, 4],
            class_="dna-no-print",
        ),
        ui.card(
            ui.card_header(
                ui.span("Call list (highest risk first, one row per patient; appointments still to come)"),
                ui.div(
                    ui.tags.button("Print the list", type="button", class_="btn btn-sm btn-outline-secondary dna-print"),
                    ui.download_button("dna_download_csv", "Download CSV", class_="btn-sm btn-outline-secondary"),
                    ui.download_button("dna_download_xlsx", "Download XLSX", class_="btn-sm btn-outline-secondary"),
                    class_="dna-list-actions dna-no-print",
                ),
                class_="d-flex justify-content-between align-items-center flex-wrap gap-2",
            ),
            ui.output_ui("dna_call_result"),
            ui.output_ui("dna_call_table"),
            ui.output_ui("dna_band_note"),
            class_="dna-call-card",
        ),
        ui.card(ui.card_header("Calls recorded"), ui.output_ui("dna_calls_table"), class_="dna-no-print"),
        ui.layout_columns(
            ui.card(ui.card_header("Model card"), ui.output_ui("dna_model_card")),
            ui.card(ui.card_header("Monitoring: monthly, on patients nobody contacted"), ui.output_ui("dna_monitoring")),
            col_widths=[6, 6],
            class_="dna-no-print",
        ),
    )


def _cell(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else html.escape(str(value))


def _table(frame: pd.DataFrame, columns: dict[str, str], table_id: str, raw: tuple[str, ...] = ()) -> ui.HTML:
    """An escaped HTML table; only the ``raw`` columns (markup this module built) are not escaped."""
    head = "".join(f"<th scope='col'>{html.escape(v)}</th>" for v in columns.values())
    body = "".join(
        "<tr>" + "".join(f"<td>{row[c] if c in raw else _cell(row[c])}</td>" for c in columns) + "</tr>"
        for _, row in frame.iterrows()
    )
    return ui.HTML(
        f"<div class='table-responsive'><table id='{table_id}' class='table table-sm'><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _record_control(appointment_id: str, outcomes: dict[str, str]) -> str:
    """A row's own call control: outcome, optional note, Record (carelens.js sends it as ``dna_record``)."""
    options = "".join(f"<option value='{html.escape(k)}'>{html.escape(v)}</option>" for k, v in outcomes.items())
    aid = html.escape(appointment_id, quote=True)
    return (f"<div class='dna-record-control dna-no-print' data-appointment='{aid}'>"
            f"<select class='form-select form-select-sm dna-outcome' aria-label='Call outcome'>{options}</select>"
            "<input class='form-control form-control-sm dna-note' placeholder='Note (optional)' aria-label='Note'>"
            "<button type='button' class='btn btn-sm btn-primary dna-record'>Record</button></div>")


def _undo_button(call_id: str) -> str:
    return (f"<button type='button' class='btn btn-sm btn-outline-danger dna-undo dna-no-print' "
            f"data-call='{html.escape(call_id, quote=True)}'>Undo</button>")


def _contact_text(contacts: pd.DataFrame, patient_ids: pd.Series) -> list[str]:
    if contacts is None or contacts.empty:
        return [""] * len(patient_ids)
    table = contacts.set_index("patient_id")
    out = []
    for p in patient_ids:
        if p not in table.index:
            out.append("")
            continue
        values = table.loc[p]
        out.append("; ".join(f"{k}: {v}" for k, v in values.items() if isinstance(v, str) and v))
    return out


def page_server(input, output, session, ctx):
    from carelens.appointments import calllist, store
    from carelens.appointments.card import band_explanation
    from carelens.errors import CarelensError

    changed = reactive.value(0)
    message = reactive.value(None)  # (kind, text, call_id to undo or None)

    @reactive.calc
    def listing() -> pd.DataFrame:
        changed()
        today = input.dna_today() or date.today()
        days = int(input.dna_days() or 3)
        bands = tuple(input.dna_bands() or ("high",))
        try:
            return store.call_list(ctx.engine, today=today, days=max(1, min(days, 30)), bands=bands,
                                   quota_by=input.dna_quota() or None)
        except SQLAlchemyError:  # tables absent on a store never migrated for appointments
            return pd.DataFrame()

    @reactive.calc
    def contacts() -> pd.DataFrame | None:
        frame = listing()
        if frame.empty or not may_see_contacts(session):
            return None
        try:
            return store.contact_details(ctx.engine, frame["patient_id"].astype(str).tolist())
        except SQLAlchemyError:
            return None

    @render.ui
    def dna_call_table():
        frame = listing()
        if frame.empty:
            return ui.div(
                ui.p("Nobody to call for these days."),
                ui.p("Scores reach this page with: carelens appointments score TABLE --model DIR --publish", class_="hint"),
                class_="empty-store",
            )
        show = frame.assign(
            risk=(100 * frame["dna_probability"]).round(0).astype(int).astype(str) + "%",
            when=frame["appointment_datetime"].dt.strftime("%a %d %b %H:%M").str.removesuffix(" 00:00"),
            contact=_contact_text(contacts(), frame["patient_id"]),
            record=[_record_control(a, store.CALL_OUTCOMES) for a in frame["appointment_id"]],
        )
        columns = dict(LIST_COLUMNS)
        if not show["contact"].astype(bool).any():
            columns.pop("contact")
        if not show["quota"].astype(bool).any():
            columns.pop("quota")
        table = _table(show, columns, "dna-call-list", raw=("record",))
        return ui.div(table, {"data-record-input": "dna_record"}, class_="dna-call-list-wrap")

    @render.ui
    def dna_band_note():
        try:
            card = store.latest_model(ctx.engine)
        except SQLAlchemyError:
            card = None
        lines = band_explanation(card or {})
        if not lines:
            return ui.TagList()
        return ui.tags.details(ui.tags.summary("Why the bands start where they do"),
                               ui.markdown("\n".join(f"- {line}" for line in lines)), class_="dna-band-note")

    @reactive.effect
    @reactive.event(input.dna_record)
    def _record():
        request = input.dna_record() or {}
        appointment, outcome = str(request.get("appointment", "")), str(request.get("outcome", ""))
        try:
            call_id = store.record_call(ctx.engine, appointment, outcome, note=str(request.get("note", "") or ""))
        except CarelensError as exc:
            message.set(("danger", str(exc), None))
            return
        row = listing().set_index("appointment_id")
        patient = row.loc[appointment, "patient_id"] if appointment in row.index else appointment
        message.set(("success", f"Call recorded for patient {patient}: {store.CALL_OUTCOMES[outcome]}.", call_id))
        changed.set(changed() + 1)

    @reactive.effect
    @reactive.event(input.dna_undo)
    def _undo():
        call_id = str((input.dna_undo() or {}).get("call", ""))
        try:
            store.undo_call(ctx.engine, call_id)
        except CarelensError as exc:
            message.set(("danger", str(exc), None))
            return
        message.set(("info", "Call undone: it no longer counts, and the patient is back on the list if it had taken them off.",
                     None))
        changed.set(changed() + 1)

    @render.ui
    def dna_call_result():
        if message() is None:
            return ui.TagList()
        kind, text, call_id = message()
        undo = ui.HTML(" " + _undo_button(call_id)) if call_id else ""
        return ui.div(text, undo, {"data-undo-input": "dna_undo"}, class_=f"alert alert-{kind} mt-2 dna-call-result dna-no-print")

    def _export(kind: str) -> bytes:
        frame = calllist.export_frame(listing(), contacts())
        if kind == "csv":
            return frame.to_csv(index=False).encode("utf-8-sig")
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False, engine="openpyxl")
        return buffer.getvalue()

    @render.download(filename=lambda: f"call-list-{input.dna_today() or date.today():%Y-%m-%d}.csv")
    def dna_download_csv():
        yield _export("csv")

    @render.download(filename=lambda: f"call-list-{input.dna_today() or date.today():%Y-%m-%d}.xlsx")
    def dna_download_xlsx():
        yield _export("xlsx")

    @render.ui
    def dna_calls_table():
        changed()
        try:
            calls = store.calls_for(ctx.engine)
        except SQLAlchemyError:
            calls = pd.DataFrame()
        if calls.empty:
            return ui.p("No calls recorded yet.", class_="hint")
        calls = calls.head(200)
        calls = calls.assign(
            when=calls["called_at"].dt.strftime("%d %b %H:%M"),
            outcome=calls["outcome"].map(store.CALL_OUTCOMES) + calls["undone"].map({True: " (undone)", False: ""}),
            undo=[_undo_button(c) if not u else "" for c, u in zip(calls["call_id"], calls["undone"])],
        )
        table = _table(calls, {"when": "When", "patient_id": "Patient", "appointment_id": "Appointment", "outcome": "Outcome",
                               "note": "Note", "undo": ""}, "dna-calls", raw=("undo",))
        return ui.div(table, {"data-undo-input": "dna_undo"})

    @render.ui
    def dna_model_card():
        changed()
        try:
            card = store.latest_model(ctx.engine)
        except SQLAlchemyError:
            card = None
        if card is None:
            return ui.p("No model published yet.", class_="hint")
        from carelens.appointments.card import render_markdown

        return ui.markdown(render_markdown(card))

    @render.ui
    def dna_monitoring():
        changed()
        try:
            report = store.monitoring(ctx.engine)
        except SQLAlchemyError:
            report = pd.DataFrame()
        if report.empty:
            return ui.p("No scored appointment has an outcome yet: monitoring starts once they have happened.", class_="hint")
        show = report.assign(
            dna_rate=(100 * report["dna_rate"]).round(1).astype(str) + "%",
            mean_predicted=(100 * report["mean_predicted"]).round(1).astype(str) + "%",
            auroc=report["auroc"].round(3), ece=report["ece"].round(4),
        )
        return _table(show, {"month": "Month", "model_version": "Model", "appointments": "Appointments", "dna_rate": "Missed",
                             "mean_predicted": "Predicted", "auroc": "AUROC", "ece": "ECE"}, "dna-monitoring")


PAGE = Page(id="appointments", title="Missed appointments", ui=page_ui, server=page_server, uses_feedback_filters=False)
