"""Spellings: merge the ways different exports spell one ward, directorate, division or demographic
value ("Ward 10", "ward 10 ", "Wd10"), so filters, charts and comparisons count them as one.

An admin page (access control will limit who sees it): the work is
``feedback.store.aliases`` (stored rows are never rewritten; an alias applies as the store is read
and can be removed). The same is ``carelens feedback alias`` on the command line.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from htmltools import TagList
from shiny import module, reactive, render, ui

from carelens.access.roles import Permission
from carelens.errors import CarelensError
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.html_table import Cell, html_table
from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import empty_store_note


@module.ui
def page_ui():
    return TagList(
        ui.p("Different exports may spell one ward or one demographic value differently. Choose the spellings "
             "that mean the same and the one to show: every filter, chart, comparison, export and report then "
             "counts them as one. Stored comments are not changed, and a merge can be removed.", class_="hint"),
        ui.card(
            ui.card_header("Merge spellings"),
            ui.layout_columns(
                ui.input_select("field", "Field", choices=[]),
                ui.input_selectize("spellings", "Spellings that mean the same", choices=[], multiple=True),
                ui.input_text("canonical", "Show them as", placeholder="e.g. Ward 10"),
                col_widths=[3, 6, 3],
            ),
            ui.input_action_button("merge", "Merge", class_="btn-primary"),
        ),
        ui.card(ui.card_header("Merged spellings"), ui.output_ui("aliases")),
    )


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.store.aliases import add_aliases, list_aliases, remove_aliases

    levels = app.settings.location_levels
    changed = reactive.value(0)

    @reactive.calc
    def every_value() -> dict:
        """Every stored spelling, however few comments carry it: merging them is what this page is for,
        and only an admin sees it (the filters' lists hide values of fewer than the privacy limit)."""
        from carelens.feedback.store.queries import filter_options

        fb.touch()
        changed()
        return filter_options(app.engine, suppress_below=0)

    def fields() -> dict[str, str]:
        opts = every_value()
        return {**{f"location_{i + 1}": name for i, name in enumerate(levels)},
                **{f"demo:{name}": name for name in opts.get("demographics", {})}}

    @reactive.effect
    def _fields() -> None:
        if not fb.options().get("comments"):
            return
        with reactive.isolate():
            chosen = input.field() if input.field() in fields() else next(iter(fields()))
        ui.update_select("field", choices=fields(), selected=chosen)

    @reactive.effect
    def _spellings() -> None:
        opts, field = every_value(), input.field()
        if not field:
            return
        values = opts.get(field, []) if field.startswith("location_") else opts.get("demographics", {}).get(field[5:], [])
        ui.update_selectize("spellings", choices=values, selected=[])

    @reactive.effect
    @reactive.event(input.spellings)
    def _suggest() -> None:
        chosen = list(input.spellings() or ())
        if chosen and not input.canonical():
            ui.update_text("canonical", value=chosen[0])

    @reactive.effect
    @reactive.event(input.merge)
    def _merge() -> None:
        chosen, canonical = list(input.spellings() or ()), input.canonical() or ""
        if len(chosen) < 1 or not canonical.strip():
            ui.notification_show("Choose the spellings to merge and type the one to show.", type="warning")
            return
        try:
            added = add_aliases(app.engine, input.field(), chosen, canonical, by=_who(app))
        except (CarelensError, sa.exc.SQLAlchemyError) as exc:
            ui.notification_show(f"Could not merge: {exc}", type="error")
            return
        ui.notification_show(f"{added} spelling{'' if added == 1 else 's'} now shown as {canonical.strip()!r}.",
                             type="message", duration=4)
        ui.update_text("canonical", value="")
        changed.set(changed() + 1)
        fb.data_changed()

    @reactive.effect
    @reactive.event(input.remove)
    def _remove() -> None:
        request = input.remove() or {}
        remove_aliases(app.engine, str(request.get("field", "")), [str(request.get("spelling", ""))])
        ui.notification_show("Merge removed: that spelling shows as stored again.", type="message", duration=4)
        changed.set(changed() + 1)
        fb.data_changed()

    @render.ui
    def aliases():
        changed()
        fb.touch()
        if not fb.options().get("comments"):
            return empty_store_note()
        table = list_aliases(app.engine)
        if table.empty:
            return ui.p("No spellings merged yet.", class_="hint")
        names = fields()
        rows = []
        for rec in table.to_dict("records"):
            payload = {"field": rec["field"], "spelling": rec["spelling"]}
            button = ui.tags.button(
                "Remove", type="button", class_="btn btn-sm btn-outline-danger",
                aria_label=f"Remove the merge of {rec['spelling']} into {rec['canonical']}",
                data_event_input=session.ns("remove"), data_event_value=json.dumps(payload))  # www/carelens.js
            rows.append([Cell(names.get(rec["field"], rec["field"]), header=True), rec["spelling"], rec["canonical"],
                         rec["created_by"] or "", f"{rec['created_at']:%d %b %Y %H:%M}", button])
        return html_table(["Field", "Spelling (case and spaces ignored)", "Shown as", "By", "When", "Remove"], rows,
                          table_id="aliases_table", classes="table table-sm aliases-table")


def _who(app: AppContext) -> str:
    """Who merged: the signed-in user once access control lands, until then the dashboard."""
    return str(getattr(app.user, "name", app.user)) if app.user else "dashboard"


# aliases change how every user's places and questions read: an admin's job (the Admin role)
PAGE = Page(id="spellings", title="Spellings", ui=page_ui, server=page_server, feedback=True, filters=False,
            permission=Permission.MANAGE_ALIASES)
