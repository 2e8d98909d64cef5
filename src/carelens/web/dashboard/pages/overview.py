"""Overview: what patients talk about, how they feel, and how that changes month by month."""

from __future__ import annotations

import pandas as pd
from shiny import module, reactive, render, ui

from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.data import FFT_COLOURS, FFT_NAMES, GROUP_COLOURS, GROUP_NAMES
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.html_table import Cell, element, html_table
from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import chart_slot, chart_update, empty_store_note, read_comments_button

CATEGORY_COLOURS = ["#005eb8", "#ed8b00", "#009639", "#7c2855", "#41b6e6", "#ffb81c", "#330072", "#a6192e", "#768692", "#00a499"]
TOP_PAIRS_TOPICS = 15
SHORT_LABEL = 28


@module.ui
def page_ui():
    return ui.TagList(
        ui.output_ui("headline"),
        ui.p("Click any bar, point or square to read the comments behind it.", class_="hint"),
        ui.card(
            ui.card_header("What comments are about (sub-categories), coloured by sentiment"),
            ui.input_radio_buttons("measure", None, {"count": "Number of comments", "share": "Share of all comments (%)"},
                                   selected="count", inline=True),
            chart_slot("subcategories", clickable=True),
            ui.output_ui("subcategories"),
        ),
        ui.layout_columns(
            ui.card(ui.card_header("Categories over time (comments per month)"), chart_slot("categories_time", clickable=True),
                    ui.output_ui("categories_time")),
            ui.card(ui.card_header("Sentiment over time"), chart_slot("sentiment_time", clickable=True),
                    ui.output_ui("sentiment_time")),
            col_widths=[6, 6],
        ),
        ui.card(ui.card_header("FFT answers over time"), chart_slot("fft_time", clickable=True), ui.output_ui("fft_time")),
        ui.card(ui.card_header("Sub-categories mentioned together (number of comments mentioning both)"),
                chart_slot("cooccurrence", clickable=True), ui.output_ui("cooccurrence")),
        ui.card(ui.card_header("Sub-categories: counts, share and sentiment"), ui.output_ui("table")),
    )


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.framework import model_framework
    from carelens.feedback.store import queries

    n = app.settings.suppress_below
    hidden = ui.p(f"Breakdowns covering fewer than {n} comments are hidden to protect privacy.", class_="hint")

    def ready() -> bool:
        fb.touch()
        return bool(fb.options().get("has_comments"))

    @reactive.effect
    @reactive.event(input.chart_click)
    def _drill() -> None:
        fb.open_drill(input.chart_click())

    @render.ui
    def headline():
        if not ready():
            if fb.load_error():
                return ui.div(ui.h3("The comment store could not be opened"), ui.p(fb.load_error()), class_="empty-store")
            return empty_store_note()
        t = queries.summary_totals(app.engine, fb.filters(), suppress_below=n)
        shares = queries.sentiment_shares(t)

        def pct(key):
            return "–" if shares[key] is None else f"{100 * shares[key]:.0f}%"

        fft = queries.fft_totals(app.engine, fb.filters(), suppress_below=n)
        respondents, good = fft["respondents"], fft["share_good"]
        span = f"{t['date_from']} to {t['date_to']}" if t["date_from"] else "no dates"
        return ui.layout_columns(
            ui.value_box("Comments", fb.count_text(t["comments"]), f"{span} · {fb.count_text(fb.options()['comments'])} stored"),
            ui.value_box("Positive", pct("positive"), "of comments with a sentiment"),
            ui.value_box("Negative", pct("negative"), "of comments with a sentiment"),
            ui.value_box("FFT good or very good", "–" if good is None else f"{100 * good:.0f}%",
                         f"{fb.count_text(respondents)} FFT answers"),
            col_widths=[3, 3, 3, 3],
        )

    @render.ui
    def subcategories():
        if not ready():
            return ui.TagList(chart_update(None, "subcategories"))
        table = queries.topic_summary(app.engine, fb.filters(), suppress_below=n)
        not_topic = model_framework(app.settings.feedback_model).labelling_not_possible  # blank/content-free: no bar
        table = table[~table["suppressed"] & (table["topic"] != not_topic)].head(20).iloc[::-1]
        if table.empty:
            return ui.TagList(chart_update(None, "subcategories"), hidden)
        total = fb.total()
        as_share = input.measure() == "share" and total > 0
        data = []
        for group, name in GROUP_NAMES.items():
            counts = table[group].astype(float)
            data.append({
                "type": "bar", "orientation": "h", "name": name, "y": table["topic"],
                "x": (100 * counts / total).round(1) if as_share else counts, "marker": {"color": GROUP_COLOURS[group]},
                "customdata": list(zip(counts, (100 * table["share"].astype(float)).round(1))),
                "hovertemplate": "%{y}<br>" + name + ": %{customdata[0]:,} comments<br>"
                "%{customdata[1]}% of all comments mention this sub-category<extra></extra>",
            })
        fig = {"data": data, "layout": {
            "barmode": "stack", "yaxis": {"automargin": True}, "legend": {"traceorder": "normal"},
            "xaxis": {"title": {"text": "% of all comments" if as_share else "Number of comments"}}}}
        return ui.TagList(chart_update(fig, "subcategories", height=max(360, 26 * len(table) + 120)), hidden)

    @render.ui
    def categories_time():
        if not ready():
            return ui.TagList(chart_update(None, "categories_time"))
        long = queries.categories_by_month(app.engine, fb.filters(), suppress_below=n)
        long = long[~long["suppressed"]]
        if long.empty:
            return ui.TagList(chart_update(None, "categories_time"), hidden)
        wide = long.pivot(index="month", columns="category", values="comments").astype(float)
        fig = {"data": [{"type": "scatter", "mode": "lines+markers", "name": col, "x": wide.index, "y": wide[col],
                         "line": {"color": CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]}}
                        for i, col in enumerate(wide.columns)],
               "layout": {"yaxis": {"title": {"text": "Comments", "standoff": 12}, "automargin": True},
                          "xaxis": {"type": "category", "automargin": True}}}
        return chart_update(fig, "categories_time")

    @render.ui
    def sentiment_time():
        if not ready():
            return ui.TagList(chart_update(None, "sentiment_time"))
        sent = queries.sentiment_by_month(app.engine, fb.filters(), suppress_below=n)
        sent = sent[~sent["suppressed"]]
        if sent.empty:
            return ui.TagList(chart_update(None, "sentiment_time"), hidden)
        # shares of the comments WITH a sentiment, so each month adds to 100 %
        rated = sent[list(GROUP_NAMES)].astype(float).sum(axis=1).replace(0, float("nan"))
        fig = {"data": [{"type": "bar", "name": name, "x": sent["month"],
                         "y": (100 * sent[group].astype(float) / rated).round(1),
                         "marker": {"color": GROUP_COLOURS[group]}, "hovertemplate": "%{x}: %{y}%<extra>" + name + "</extra>"}
                        for group, name in GROUP_NAMES.items()],
               "layout": {"barmode": "stack", "legend": {"traceorder": "normal"},
                          "yaxis": {"title": {"text": "% of comments with a sentiment", "standoff": 12}, "range": [0, 100],
                                    "automargin": True},
                          "xaxis": {"type": "category", "automargin": True}}}
        return chart_update(fig, "sentiment_time")

    @render.ui
    def fft_time():
        if not ready():
            return ui.TagList(chart_update(None, "fft_time"))
        fft = queries.fft_by_month(app.engine, fb.filters(), suppress_below=n)
        fft = fft[~fft["suppressed"]]
        if fft.empty:
            return ui.TagList(chart_update(None, "fft_time"), hidden)
        answered = fft["respondents"].astype(float)
        good = (100 * fft["share_good"].astype(float)).round(0)
        data = []
        for k in range(1, 6):
            counts = fft[f"score_{k}"].astype(float)
            data.append({"type": "bar", "name": FFT_NAMES[k], "x": fft["month"], "y": (100 * counts / answered).round(1),
                         "marker": {"color": FFT_COLOURS[k]}, "customdata": list(zip(counts, answered, good)),
                         "hovertemplate": "%{x}: %{y}% " + FFT_NAMES[k].lower()
                         + " (%{customdata[0]:,} of %{customdata[1]:,} answers)<br>%{customdata[2]}% good or very good<extra></extra>"})
        fig = {"data": data, "layout": {"barmode": "stack", "legend": {"traceorder": "normal"},
                                        "yaxis": {"title": {"text": "% of FFT answers", "standoff": 12}, "range": [0, 100],
                                                  "automargin": True},
                                        "xaxis": {"type": "category", "automargin": True}}}
        return ui.TagList(chart_update(fig, "fft_time", height=380),
                          ui.p("\"Don't know\" answers are left out of the percentages.", class_="hint"))

    @render.ui
    def cooccurrence():
        if not ready():
            return ui.TagList(chart_update(None, "cooccurrence"))
        grid = queries.cooccurrence_grid(app.engine, fb.filters(), top=TOP_PAIRS_TOPICS, suppress_below=n)
        if grid.empty:
            return ui.TagList(chart_update(None, "cooccurrence"), hidden)
        top = list(grid.index)
        # x ticks: short names (full names in the hover and on the y axis), so the grid keeps its width
        short = [t if len(t) <= SHORT_LABEL else t[: SHORT_LABEL - 1].rstrip() + "…" for t in top]
        fig = {"data": [{
            "type": "heatmap", "z": grid.to_numpy(), "x": top, "y": top, "colorscale": "Blues", "reversescale": True,
            "hoverongaps": False,  # plotly's "Blues" runs dark to light: reversed, the largest counts are darkest
            "xgap": 2, "ygap": 2, "text": grid.map(lambda v: "" if pd.isna(v) else f"{int(v):,}").to_numpy(),
            "texttemplate": "%{text}", "colorbar": {"title": {"text": "Comments"}},
            "hovertemplate": "%{y}<br>+ %{x}<br>%{z:,} comments mention both<extra></extra>",
        }], "layout": {"xaxis": {"tickangle": -40, "automargin": True, "side": "bottom", "tickmode": "array",
                                 "tickvals": top, "ticktext": short},
                       "yaxis": {"automargin": True, "autorange": "reversed"}}}
        return ui.TagList(chart_update(fig, "cooccurrence", height=40 * len(top) + 260),
                          ui.p("Blank squares: fewer than " f"{n} comments mention both, or the same sub-category.", class_="hint"))

    @render.ui
    def table():
        if not ready():
            return ui.TagList()
        summary = queries.topic_summary(app.engine, fb.filters(), suppress_below=n)
        rows = []
        for rec in summary.to_dict("records"):
            if rec["suppressed"]:
                figures = [Cell(f"fewer than {n} comments (hidden)", colspan=5, class_="suppressed")]
            else:
                figures = [f"{int(rec['comments']):,}", f"{100 * float(rec['share']):.1f}%",
                           *(f"under {n}" if pd.isna(rec[g]) else f"{int(rec[g]):,}" for g in GROUP_NAMES)]
            rows.append([Cell(rec["topic"], header=True), rec["category"], *figures,
                         "" if rec["suppressed"] else read_comments_button(
                             {"chart": "subcategories", "x": "", "y": rec["topic"], "curve": ""},
                             f"Read the comments about {rec['topic']}")])
        return html_table(["Sub-category", "Category", "Comments", "Share", *GROUP_NAMES.values(),
                           element("span", "Comments", class_="visually-hidden")], rows,
                          classes="table table-sm summary-table")


PAGE = Page(id="overview", title="Overview", ui=page_ui, server=page_server, feedback=True)
