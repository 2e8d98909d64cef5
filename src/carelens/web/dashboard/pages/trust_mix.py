"""Trust mix: load, see and remove the trust's own demographic mix (its catchment's census shares,
or its patient population) that "Who we hear from" sets the respondents beside.

An admin page (the API's ``POST /api/comparison/demographics/mix`` and ``carelens feedback mix
load`` need the same right): the file is read and checked by ``feedback.trust_mix.read_mix`` (one
line naming the row and column for any problem, and then nothing is stored) and stored by
``feedback.store.trust_mix`` (each field in the file replaces that field's mix in one
transaction, recorded in the audit log as this user's).
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from htmltools import TagList
from shiny import module, reactive, render, ui

from carelens.access.roles import Permission
from carelens.errors import CarelensError
from carelens.tables import UPLOAD_SUFFIXES
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.html_table import Cell, html_table
from carelens.web.dashboard.registry import Page

EXAMPLE = "field,value,share\nEthnicity,White British,70%\nEthnicity,Asian or Asian British,18%\n…"


@module.ui
def page_ui():
    return TagList(
        ui.p("\"Who we hear from\" sets the respondents beside the trust's own mix of each demographic field: its "
             "catchment's census shares, or its patient population. Load a file with the columns field, value and "
             "share (a fraction or a percent; each field's shares add up to 100%). A field in the file replaces that "
             "field's mix; other fields stay as they are.", class_="hint"),
        ui.card(
            ui.card_header("Load a mix"),
            ui.layout_columns(
                ui.input_file("file", "Mix file (CSV or Excel)", accept=list(UPLOAD_SUFFIXES),
                              button_label="Choose file…"),
                ui.input_text("source", "Where the figures come from", placeholder="e.g. ONS Census 2021, our catchment"),
                col_widths=[6, 6],
            ),
            ui.tags.details(ui.tags.summary("What the file looks like"), ui.tags.pre(EXAMPLE)),
            ui.input_action_button("load", "Load the mix", class_="btn-primary"),
        ),
        ui.card(ui.card_header("Loaded mixes"), ui.output_ui("mixes")),
    )


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.store.trust_mix import list_mix, remove_mix, replace_mix
    from carelens.feedback.trust_mix import read_mix

    changed = reactive.value(0)
    refusal: list[str] = []  # the id of the last "Nothing loaded" message: it stays until read, or until the next try

    def stored() -> None:
        changed.set(changed() + 1)
        fb.data_changed()  # "Who we hear from" redraws with the new mix

    @reactive.effect
    @reactive.event(input.load)
    def _load() -> None:
        files, source = input.file(), (input.source() or "").strip()
        while refusal:
            ui.notification_remove(refusal.pop())
        if not files:
            ui.notification_show("Choose the mix file first.", type="warning")
            return
        if not source:
            ui.notification_show("Say where the figures come from: it is shown beside them.", type="warning")
            return
        name = Path(files[0]["name"]).name
        if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
            ui.notification_show(f"{name} is not a CSV, Excel or parquet file.", type="error")
            return
        try:
            fields = replace_mix(app.engine, read_mix(files[0]["datapath"], name=name), source, who=app.user)
        except (CarelensError, sa.exc.SQLAlchemyError) as exc:  # nothing was stored
            refusal.append(ui.notification_show(f"Nothing loaded: {exc}", type="error", duration=None))
            return
        words = "; ".join(f"{f['field']}: {f['values']} value{'' if f['values'] == 1 else 's'}"
                          + (" (replacing the mix it had)" if f["replaced"] else "") for f in fields)
        ui.notification_show(f"Loaded {words}.", type="message", duration=6)
        stored()

    @reactive.effect
    @reactive.event(input.remove)
    def _remove() -> None:
        field = str((input.remove() or {}).get("field", ""))
        if remove_mix(app.engine, field, who=app.user):
            ui.notification_show(f"The {field} mix is removed.", type="message", duration=4)
        stored()

    @render.ui
    def mixes():
        changed()
        fb.touch()
        table = list_mix(app.engine)
        if table.empty:
            return ui.p("No mix loaded yet: \"Who we hear from\" compares the selection with every respondent only.",
                        class_="hint")
        rows = []
        for field, part in table.groupby("field", sort=True):
            latest = part.loc[part["loaded_at"].idxmax()]
            values = ", ".join(f"{v} {_percent(s)}" for v, s in zip(part["value"], part["share"]))
            button = ui.tags.button(
                "Remove", type="button", class_="btn btn-sm btn-outline-danger",
                aria_label=f"Remove the {field} mix", data_event_input=session.ns("remove"),
                data_event_value=json.dumps({"field": field}))  # www/carelens.js
            rows.append([Cell(field, header=True), values, str(latest["source"]), latest["loaded_by"] or "",
                         f"{latest['loaded_at']:%d %b %Y %H:%M}", button])
        return html_table(["Field", "Values and shares", "Source", "By", "When", "Remove"], rows,
                          table_id="mix_table", classes="table table-sm mix-table")


def _percent(share: float) -> str:
    """A share as the census tables write it: 70%, 12.5%, 0.4% (never a small share shown as 0%)."""
    return f"{100 * float(share):.1f}".rstrip("0").rstrip(".") + "%"


# the mix changes what every reader of "Who we hear from" sees: the right the API's mix load needs
PAGE = Page(id="trust_mix", title="Trust mix", ui=page_ui, server=page_server, feedback=True, filters=False,
            permission=Permission.MANAGE_ALIASES)
