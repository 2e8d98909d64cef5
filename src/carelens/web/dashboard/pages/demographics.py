"""Who are we hearing from? Respondents by age band, sex, ethnicity ... (whatever demographic columns
were kept at upload) in the filtered selection, beside every respondent in the store.

Logic in ``feedback.store.demographics`` (per respondent, suppressed per respondent); the page
draws one chart and one table per field. A patient-experience lead reads it to see whose voice is
missing (few young people, say) before trusting what the comments say.
"""

from __future__ import annotations

import pandas as pd
from htmltools import TagList
from shiny import module, render, ui

from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.html_table import Cell, html_table
from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import chart, empty_store_note

SELECTION, TRUST = "#005eb8", "#aeb7bd"


@module.ui
def page_ui():
    return TagList(
        ui.p("Each demographic column kept at upload: the share of respondents in the filtered selection with each "
             "value, beside the share among every respondent in the store. Each person counts once, however many "
             "answers they wrote.", class_="hint"),
        ui.output_ui("fields"),
    )


def _pct(value) -> str:
    return "–" if pd.isna(value) else f"{100 * float(value):.0f}%"


def _count(value) -> str:
    return "–" if pd.isna(value) else f"{int(value):,}"


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.store.demographics import respondents_by_demographic

    n = app.settings.suppress_below

    @render.ui
    def fields():
        fb.touch()
        if not fb.options().get("comments"):
            return empty_store_note()
        table = respondents_by_demographic(app.engine, fb.filters(), suppress_below=n)
        if table.empty:
            return ui.p("No demographic columns were kept at upload: choose them in the Upload page's "
                        "\"Demographic columns to keep\" to see who you are hearing from.", class_="hint")
        cards = []
        for i, (field, rows) in enumerate(table.groupby("field", sort=False)):
            shown = rows.iloc[::-1]  # plotly draws horizontal bars bottom-up: first value on top
            fig = {"data": [
                {"type": "bar", "orientation": "h", "name": "This selection", "y": shown["value"],
                 "x": shown["share"].astype(float), "marker": {"color": SELECTION},
                 "hovertemplate": "%{y}: %{x:.0%} of this selection<extra></extra>"},
                {"type": "bar", "orientation": "h", "name": "Every respondent", "y": shown["value"],
                 "x": shown["trust_share"].astype(float), "marker": {"color": TRUST},
                 "hovertemplate": "%{y}: %{x:.0%} of every respondent<extra></extra>"},
            ], "layout": {"barmode": "group", "legend": {"traceorder": "normal", "orientation": "h", "y": -0.2},
                          "xaxis": {"tickformat": ".0%", "rangemode": "tozero", "automargin": True,
                                    "title": {"text": "Share of respondents", "standoff": 12}},
                          "yaxis": {"automargin": True}}}
            body = [[Cell(r["value"], header=True), _count(r["respondents"]), _pct(r["share"]),
                     _count(r["trust_respondents"]), _pct(r["trust_share"])] for r in rows.to_dict("records")]
            cards.append(ui.card(
                ui.card_header(field.replace("_", " ").capitalize()),
                chart(fig, f"demo_{i}", height=max(260, 44 * len(rows) + 120)),
                html_table([field, "Respondents", "Share", "Every respondent", "Share of every respondent"], body,
                           table_id=f"demo_table_{i}", classes="table table-sm demographics-table"),
            ))
        return TagList(ui.p(f"Values held by fewer than {n} respondents show –, to protect the people who hold them.",
                            class_="hint"), *cards)


PAGE = Page(id="demographics", title="Who we hear from", ui=page_ui, server=page_server, feedback=True)
