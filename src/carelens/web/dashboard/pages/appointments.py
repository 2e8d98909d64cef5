"""Missed appointments: the reminder call list, recording calls, the model card and monitoring.

Scores arrive with ``carelens appointments score ... --publish``. The list shows each patient once,
at their riskiest appointment in the next N working days, with every other upcoming appointment of
theirs, so one call covers them all; a patient reached (or left a message) drops off for everyone.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from shiny import module, reactive, render, ui
from sqlalchemy.exc import SQLAlchemyError

from carelens.access.roles import Permission
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.html_table import frame_table
from carelens.web.dashboard.registry import Page

INTENDED_USE = (
    "Use this list to offer reminders and support (transport, interpreters, rebooking) to the patients "
    "most likely to miss an appointment. Never use it to deny, delay or overbook care."
)


@module.ui
def page_ui():
    from carelens.appointments.store import CALL_OUTCOMES

    return ui.TagList(
        ui.div(ui.strong("Intended use: "), INTENDED_USE, class_="alert alert-info dna-intended-use"),
        ui.layout_columns(
            ui.input_date("today", "Calls for appointments from", value=date.today(), format="dd/mm/yyyy"),
            ui.input_numeric("days", "Next working days", value=3, min=1, max=30),
            ui.input_checkbox_group("bands", "Risk", choices={"high": "High", "medium": "Medium"}, selected=["high"], inline=True),
            col_widths=[3, 3, 6],
        ),
        ui.card(ui.card_header("Call list (highest risk first, one row per patient)"), ui.output_ui("call_table")),
        ui.card(
            ui.card_header("Record a call"),
            ui.layout_columns(
                ui.input_select("call_appointment", "Appointment", choices={}),
                ui.input_select("call_outcome", "Outcome", choices=CALL_OUTCOMES),
                ui.input_text("call_note", "Note (optional)"),
                col_widths=[4, 4, 4],
            ),
            ui.input_action_button("call_save", "Record call", class_="btn-primary"),
            ui.output_ui("call_result"),
        ),
        ui.card(ui.card_header("Calls recorded"), ui.output_ui("calls_table")),
        ui.layout_columns(
            ui.card(ui.card_header("Model card"), ui.output_ui("model_card")),
            ui.card(ui.card_header("Monitoring: monthly, on patients nobody contacted"), ui.output_ui("monitoring")),
            col_widths=[6, 6],
        ),
    )


@module.server
def page_server(input, output, session, app: AppContext):
    from carelens.errors import CarelensError
    from carelens.appointments import store

    changed = reactive.value(0)
    message = reactive.value(None)

    @reactive.calc
    def listing() -> pd.DataFrame:
        changed()
        today = input.today() or date.today()
        days = int(input.days() or 3)
        bands = tuple(input.bands() or ("high",))
        try:
            return store.call_list(app.engine, today=today, days=max(1, min(days, 30)), bands=bands)
        except SQLAlchemyError:  # tables absent on a store never migrated for appointments
            return pd.DataFrame()

    @reactive.effect
    def _choices():
        frame = listing()
        choices = {}
        if len(frame):
            for rec in frame.itertuples():
                choices[rec.appointment_id] = f"{rec.patient_id} · {rec.appointment_datetime:%a %d %b %H:%M} · {rec.specialty}"
        ui.update_select("call_appointment", choices=choices)

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
            when=frame["appointment_datetime"].dt.strftime("%a %d %b %H:%M"),
        )
        return frame_table(show, {
            "risk": "Risk", "risk_band": "Band", "when": "Appointment", "specialty": "Clinic", "site": "Site",
            "consultation_medium": "Medium", "patient_id": "Patient", "other_appointments": "Other upcoming appointments",
            "reasons": "Main reasons", "attempts": "Earlier attempts",
        }, table_id="call_list")

    @reactive.effect
    @reactive.event(input.call_save)
    def _save():
        appointment = input.call_appointment()
        if not appointment:
            message.set(("warning", "Choose an appointment first."))
            return
        try:
            store.record_call(app.engine, appointment, input.call_outcome(), note=input.call_note() or "",
                              recorded_by=app.user.name if app.user else "")
        except CarelensError as exc:
            app.audit("record_call", appointment, {"outcome": input.call_outcome()}, outcome="failed")
            message.set(("danger", str(exc)))
            return
        app.audit("record_call", appointment, {"outcome": input.call_outcome()})
        message.set(("success", f"Call recorded for appointment {appointment}."))
        ui.update_text("call_note", value="")
        changed.set(changed() + 1)

    @render.ui
    def call_result():
        if message() is None:
            return ui.TagList()
        kind, text = message()
        return ui.div(text, class_=f"alert alert-{kind} mt-2 dna-call-result")

    @render.ui
    def calls_table():
        changed()
        try:
            calls = store.calls_for(app.engine)
        except SQLAlchemyError:
            calls = pd.DataFrame()
        if calls.empty:
            return ui.p("No calls recorded yet.", class_="hint")
        calls = calls.head(200).assign(
            when=calls["called_at"].dt.strftime("%d %b %H:%M"), outcome=calls["outcome"].map(store.CALL_OUTCOMES)
        )
        return frame_table(calls, {"when": "When", "patient_id": "Patient", "appointment_id": "Appointment", "outcome": "Outcome",
                                   "note": "Note"}, table_id="calls")

    @render.ui
    def model_card():
        changed()
        try:
            card = store.latest_model(app.engine)
        except SQLAlchemyError:
            card = None
        if card is None:
            return ui.p("No model published yet.", class_="hint")
        from carelens.appointments.card import render_markdown

        return ui.markdown(render_markdown(card))

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
