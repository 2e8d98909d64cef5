"""Who are we hearing from? Respondents by age band, sex, ethnicity ... (whatever demographic columns
were kept at upload) in the filtered selection, beside every respondent in the store and, where the
trust loaded one (``carelens feedback mix load``), beside the trust's own mix.

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

SELECTION, TRUST, MIX = "#005eb8", "#aeb7bd", "#7c2855"  # NHS blue, mid grey, dark pink (9:1 on white)


@module.ui
def page_ui():
    return TagList(
        ui.p("Each demographic column kept at upload: the share of respondents in the filtered selection with each "
             "value, beside the share among every respondent in the store and, where the trust has loaded its own "
             "mix (its catchment or patient population), beside that. Each person counts once, however many "
             "answers they wrote.", class_="hint"),
        ui.output_ui("fields"),
    )


def _pct(value) -> str:
    return "–" if pd.isna(value) else f"{100 * float(value):.0f}%"


def _count(value) -> str:
    return "–" if pd.isna(value) else f"{int(value):,}"


def _points(value) -> str:
    """A difference of shares in percentage points ("+5 points"; "–" when hidden or unknown)."""
    return "–" if pd.isna(value) else f"{int(round(100 * float(value))):+d} points"


def _mix_note(mix: dict) -> str:
    when = pd.Timestamp(mix["loaded_at"])
    return (f"Trust mix: {mix['source']} (loaded {when.day} {when:%B %Y}). Difference: this selection's share "
            "minus the trust mix's, in percentage points; – where the selection's share is hidden.")


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
        mixes = {m["field"]: m for m in table.attrs.get("mixes", [])}
        cards = []
        for i, (field, rows) in enumerate(table.groupby("field", sort=False)):
            mix = mixes.get(field)
            shown = rows.iloc[::-1]  # plotly draws horizontal bars bottom-up: first value on top
            bars = [
                {"type": "bar", "orientation": "h", "name": "This selection", "y": shown["value"],
                 "x": shown["share"].astype(float), "marker": {"color": SELECTION},
                 "hovertemplate": "%{y}: %{x:.0%} of this selection<extra></extra>"},
                {"type": "bar", "orientation": "h", "name": "Every respondent", "y": shown["value"],
                 "x": shown["trust_share"].astype(float), "marker": {"color": TRUST},
                 "hovertemplate": "%{y}: %{x:.0%} of every respondent<extra></extra>"},
            ]
            if mix is not None:
                bars.append({"type": "bar", "orientation": "h", "name": "Trust mix", "y": shown["value"],
                             "x": shown["mix_share"].astype(float), "marker": {"color": MIX},
                             "hovertemplate": "%{y}: %{x:.0%} of the trust mix<extra></extra>"})
            fig = {"data": bars,
                   "layout": {"barmode": "group", "legend": {"traceorder": "normal", "orientation": "h", "y": -0.2},
                              "xaxis": {"tickformat": ".0%", "rangemode": "tozero", "automargin": True,
                                        "title": {"text": "Share of respondents", "standoff": 12}},
                              "yaxis": {"automargin": True}}}
            head = [field, "Respondents", "Share", "Every respondent", "Share of every respondent"]
            body = [[Cell(r["value"], header=True), _count(r["respondents"]), _pct(r["share"]),
                     _count(r["trust_respondents"]), _pct(r["trust_share"])] for r in rows.to_dict("records")]
            if mix is not None:
                head += ["Trust mix", "Difference"]
                for line, r in zip(body, rows.to_dict("records")):
                    line += [_pct(r["mix_share"]), _points(r["mix_difference"])]
            cards.append(ui.card(
                ui.card_header(field.replace("_", " ").capitalize()),
                chart(fig, f"demo_{i}", height=max(260, (58 if mix is not None else 44) * len(rows) + 120)),
                html_table(head, body, table_id=f"demo_table_{i}", classes="table table-sm demographics-table"),
                ui.p(_mix_note(mix), class_="hint mix-source") if mix is not None else None,
            ))
        return TagList(ui.p(f"Values held by fewer than {n} respondents show –, to protect the people who hold them.",
                            class_="hint"), *cards)


PAGE = Page(id="demographics", title="Who we hear from", ui=page_ui, server=page_server, feedback=True)
