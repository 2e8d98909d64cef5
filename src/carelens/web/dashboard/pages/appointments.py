"""Missed appointments: the reminder call list, recording calls, the model card and monitoring.

Scores arrive with ``carelens appointments score ... --publish``. The list shows each patient once,
at their riskiest appointment still to come in the next N working days (from now, for today), with
every other upcoming appointment of theirs, so one call covers them all; a patient reached (or left
a message) drops off for everyone. Each row has its own "Record" control (outcome, note); a call
recorded by mistake is undone from the message that confirms it or from the calls table. The day's
list prints (the page's print styles show only the list) and downloads as CSV or XLSX.

Contact details (the ``--contact-column`` values) are shown and exported only when
:func:`may_see_contacts` says so: to a role that calls (``Permission.CONTACTS``), never to another.
The page itself, recording and undoing calls need ``Permission.CALL_LIST``; each is in the audit
log (who, which appointment, what outcome), and so is each download of the list.
The rules (from now, quota, export columns) are ``appointments.calllist``; this page presents.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from shiny import module, reactive, render, ui
from shiny.module import resolve_id
from sqlalchemy.exc import SQLAlchemyError

from carelens.access.roles import Permission
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.html_table import element, frame_table, join
from carelens.web.dashboard.registry import Page

INTENDED_USE = (
    "Use this list to offer reminders and support (transport, interpreters, rebooking) to the patients "
    "most likely to miss an appointment. Never use it to deny, delay or overbook care."
)
LIST_COLUMNS = {
    "risk": "Risk", "risk_band": "Band", "when": "Appointment", "specialty": "Clinic", "site": "Site",
    "consultation_medium": "Medium", "patient_id": "Patient", "contact": "Contact",
    "other_appointments": "Other upcoming appointments", "reasons": "Main reasons", "attempts": "Earlier attempts",
    "quota": "On the list because", "record": "Record a call",
}
QUOTAS = {"": "No quota", "age band": "Age band", "IMD quintile": "IMD quintile"}


def may_see_contacts(app: AppContext) -> bool:
    """Whether this user may see patients' contact details: only a role that calls (issue 16)."""
    return app.may(Permission.CONTACTS)


def record_control(appointment_id: str) -> str:
    """A row's own call control: outcome, optional note, Record (carelens.js sends it to the input
    named by the table's ``data-record-input``)."""
    from carelens.appointments.store import CALL_OUTCOMES

    options = join(*(element("option", label, value=key) for key, label in CALL_OUTCOMES.items()))
    return element(
        "div",
        element("select", options, class_="form-select form-select-sm dna-outcome", aria_label="Call outcome"),
        element("input", class_="form-control form-control-sm dna-note", placeholder="Note (optional)", aria_label="Note"),
        element("button", "Record", type="button", class_="btn btn-sm btn-primary dna-record"),
        class_="dna-record-control dna-no-print", data_appointment=appointment_id,
    )


def undo_button(call_id: str) -> str:
    return element("button", "Undo", type="button", class_="btn btn-sm btn-outline-danger dna-undo dna-no-print",
                   data_call=call_id)


def contact_text(contacts: pd.DataFrame | None, patient_ids: pd.Series) -> list[str]:
    """Each patient's contact details as one line ("phone: 07700 900123; mobile: ...")."""
    if contacts is None or contacts.empty:
        return [""] * len(patient_ids)
    table = contacts.set_index("patient_id")
    lines = []
    for patient in patient_ids:
        values = table.loc[patient] if patient in table.index else {}
        lines.append("; ".join(f"{k}: {v}" for k, v in dict(values).items() if isinstance(v, str) and v))
    return lines


def contact_cell(text: str) -> str:
    """One contact detail per line, each kept whole (a phone number must not wrap)."""
    return join(*(element("div", part, class_="dna-contact") for part in text.split("; ") if part))


@module.ui
def page_ui():
    return ui.TagList(
        ui.div(ui.strong("Intended use: "), INTENDED_USE, class_="alert alert-info dna-intended-use"),
        ui.layout_columns(
            ui.input_date("today", "Calls for appointments from", value=date.today(), format="dd/mm/yyyy"),
            ui.input_numeric("days", "Next working days", value=3, min=1, max=30),
            ui.input_checkbox_group("bands", "Risk", choices={"high": "High", "medium": "Medium"}, selected=["high"], inline=True),
            ui.input_select("quota", "Quota per group", choices=QUOTAS),
            col_widths=[3, 2, 3, 4],
            class_="dna-no-print",
        ),
        ui.card(
            ui.card_header(
                ui.span("Call list (highest risk first, one row per patient; appointments still to come)"),
                ui.div(
                    ui.tags.button("Print the list", type="button", class_="btn btn-sm btn-outline-secondary dna-print"),
                    ui.download_button("download_csv", "Download CSV", class_="btn-sm btn-outline-secondary"),
                    ui.download_button("download_xlsx", "Download XLSX", class_="btn-sm btn-outline-secondary"),
                    class_="dna-list-actions dna-no-print",
                ),
                class_="d-flex justify-content-between align-items-center flex-wrap gap-2",
            ),
            ui.output_ui("call_result"),
            ui.output_ui("call_table"),
            ui.output_ui("band_note"),
            class_="dna-call-card",
        ),
        ui.card(ui.card_header("Calls recorded"), ui.output_ui("calls_table"), class_="dna-no-print"),
        ui.layout_columns(
            ui.card(ui.card_header("Model card"), ui.output_ui("model_card")),
            ui.card(ui.card_header("Monitoring: monthly, on patients nobody contacted"), ui.output_ui("monitoring")),
            col_widths=[6, 6],
            class_="dna-no-print",
        ),
    )


@module.server
def page_server(input, output, session, app: AppContext):
    from carelens.appointments import calllist, store
    from carelens.appointments.card import band_explanation
    from carelens.errors import CarelensError

    changed = reactive.value(0)
    message = reactive.value(None)  # (kind, text, call_id to undo or None)

    @reactive.calc
    def listing() -> pd.DataFrame:
        changed()
        today = input.today() or date.today()
        days = int(input.days() or 3)
        bands = tuple(input.bands() or ("high",))
        try:
            return store.call_list(app.engine, today=today, days=max(1, min(days, 30)), bands=bands,
                                   quota_by=input.quota() or None)
        except SQLAlchemyError:  # tables absent on a store never migrated for appointments
            return pd.DataFrame()

    @reactive.calc
    def contacts() -> pd.DataFrame | None:
        frame = listing()
        if frame.empty or not may_see_contacts(app):
            return None
        try:
            return store.contact_details(app.engine, frame["patient_id"].astype(str).tolist())
        except SQLAlchemyError:
            return None

    @reactive.calc
    def card() -> dict | None:
        changed()
        try:
            return store.latest_model(app.engine)
        except SQLAlchemyError:
            return None

    @render.ui
    def call_table():
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
            contact=contact_text(contacts(), frame["patient_id"]),
            record=frame["appointment_id"],
        )
        columns = dict(LIST_COLUMNS)
        for optional in ("contact", "quota"):  # shown when there is something to show
            if not show[optional].astype(bool).any():
                columns.pop(optional)
        table = frame_table(show, columns, table_id="call_list", formats={"record": record_control, "contact": contact_cell})
        return ui.div(table, {"data-record-input": resolve_id("record")}, class_="dna-call-list-wrap")

    @render.ui
    def band_note():
        lines = band_explanation(card() or {})
        if not lines:
            return ui.TagList()
        return ui.tags.details(ui.tags.summary("Why the bands start where they do"),
                               ui.markdown("\n".join(f"- {line}" for line in lines)), class_="dna-band-note")

    @reactive.effect
    @reactive.event(input.record)
    def _record():
        request = input.record() or {}
        appointment, outcome = str(request.get("appointment", "")), str(request.get("outcome", ""))
        try:
            call_id = store.record_call(app.engine, appointment, outcome, note=str(request.get("note") or ""),
                                        recorded_by=app.user.name)
        except CarelensError as exc:
            app.audit("record_call", appointment, {"outcome": outcome}, outcome="failed")
            message.set(("danger", str(exc), None))
            return
        app.audit("record_call", appointment, {"outcome": outcome, "call_id": call_id})
        rows = listing().set_index("appointment_id")
        patient = rows.loc[appointment, "patient_id"] if appointment in rows.index else appointment
        message.set(("success", f"Call recorded for patient {patient}: {store.CALL_OUTCOMES[outcome]}.", call_id))
        changed.set(changed() + 1)

    @reactive.effect
    @reactive.event(input.undo)
    def _undo():
        call_id = str((input.undo() or {}).get("call", ""))
        try:
            store.undo_call(app.engine, call_id, undone_by=app.user.name)
        except CarelensError as exc:
            app.audit("undo_call", call_id, None, outcome="failed")
            message.set(("danger", str(exc), None))
            return
        app.audit("undo_call", call_id)
        message.set(("info", "Call undone: it no longer counts, and the patient is back on the list if it had taken "
                             "them off.", None))
        changed.set(changed() + 1)

    @render.ui
    def call_result():
        if message() is None:
            return ui.TagList()
        kind, text, call_id = message()
        undo = ui.HTML(" " + undo_button(call_id)) if call_id else ""
        return ui.div(text, undo, {"data-undo-input": resolve_id("undo")},
                      class_=f"alert alert-{kind} mt-2 dna-call-result dna-no-print")

    def _export(kind: str) -> bytes:
        frame = calllist.export_frame(listing(), contacts())
        app.audit("export", f"call list {kind}", {"rows": len(frame), "contacts": contacts() is not None,
                                                  "from": str(input.today() or date.today()), "days": input.days()})
        from carelens.tables import csv_bytes, xlsx_bytes

        return csv_bytes(frame) if kind == "csv" else xlsx_bytes({"Call list": frame})

    @render.download(filename=lambda: f"call-list-{input.today() or date.today():%Y-%m-%d}.csv")
    def download_csv():
        yield _export("csv")

    @render.download(filename=lambda: f"call-list-{input.today() or date.today():%Y-%m-%d}.xlsx")
    def download_xlsx():
        yield _export("xlsx")

    @render.ui
    def calls_table():
        changed()
        try:
            calls = store.calls_for(app.engine)
        except SQLAlchemyError:
            calls = pd.DataFrame()
        if calls.empty:
            return ui.p("No calls recorded yet.", class_="hint")
        calls = calls.head(200)
        calls = calls.assign(
            when=calls["called_at"].dt.strftime("%d %b %H:%M"),
            outcome=calls["outcome"].map(store.CALL_OUTCOMES) + calls["undone"].map({True: " (undone)", False: ""}),
            undo=calls["call_id"].where(~calls["undone"]),
        )
        table = frame_table(calls, {"when": "When", "patient_id": "Patient", "appointment_id": "Appointment",
                                    "outcome": "Outcome", "note": "Note", "undo": ""}, table_id="calls",
                            formats={"undo": undo_button})
        return ui.div(table, {"data-undo-input": resolve_id("undo")})

    @render.ui
    def model_card():
        if card() is None:
            return ui.p("No model published yet.", class_="hint")
        from carelens.appointments.card import render_markdown

        return ui.markdown(render_markdown(card()))

    @render.ui
    def monitoring():
        changed()
        try:
            report = store.monitoring(app.engine)
        except SQLAlchemyError:
            report = pd.DataFrame()
        if report.empty:
            return ui.p("No scored appointment has an outcome yet: monitoring starts once they have happened.", class_="hint")
        show = report.assign(
            dna_rate=(100 * report["dna_rate"]).round(1).astype(str) + "%",
            mean_predicted=(100 * report["mean_predicted"]).round(1).astype(str) + "%",
            auroc=report["auroc"].round(3), ece=report["ece"].round(4),
        )
        return frame_table(show, {"month": "Month", "model_version": "Model", "appointments": "Appointments", "dna_rate": "Missed",
                             "mean_predicted": "Predicted", "auroc": "AUROC", "ece": "ECE"}, table_id="monitoring_table")


PAGE = Page(permission=Permission.CALL_LIST, id="appointments", title="Missed appointments", ui=page_ui, server=page_server)
