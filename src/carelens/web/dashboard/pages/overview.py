"""Overview: what patients talk about, how they feel, and how that changes month by month."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from shiny import render, ui

from carelens.web.dashboard.context import framework_for
from carelens.web.dashboard.data import GROUP_COLOURS, GROUP_NAMES
from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import chart, empty_store_note

CATEGORY_COLOURS = ["#005eb8", "#ed8b00", "#009639", "#7c2855", "#41b6e6", "#ffb81c", "#330072", "#a6192e", "#768692", "#00a499"]
TOP_PAIRS_TOPICS = 15


def page_ui():
    return ui.TagList(
        ui.output_ui("ov_headline"),
        ui.p("Click any bar, point or square to read the comments behind it.", class_="hint"),
        ui.card(ui.card_header("What comments are about (sub-categories), coloured by sentiment"), ui.output_ui("ov_subcategories")),
        ui.layout_columns(
            ui.card(ui.card_header("Categories over time (comments per month)"), ui.output_ui("ov_categories_time")),
            ui.card(ui.card_header("Sentiment over time"), ui.output_ui("ov_sentiment_time")),
            col_widths=[6, 6],
        ),
        ui.layout_columns(
            ui.card(ui.card_header("FFT answers over time"), ui.output_ui("ov_fft_time")),
            ui.card(ui.card_header("Topics mentioned together (number of comments)"), ui.output_ui("ov_cooccurrence")),
            col_widths=[6, 6],
        ),
        ui.card(ui.card_header("Sub-categories: counts, share and sentiment"), ui.output_ui("ov_table")),
    )


def page_server(input, output, session, ctx):
    from carelens.store import queries

    n = ctx.settings.suppress_below
    hidden = ui.p(f"Breakdowns covering fewer than {n} comments are hidden to protect privacy.", class_="hint")

    def ready() -> bool:
        ctx.touch()
        return bool(ctx.options().get("comments"))

    @render.ui
    def ov_headline():
        if not ready():
            if ctx.load_error():
                return ui.div(ui.h3("The comment store could not be opened"), ui.p(ctx.load_error()), class_="empty-store")
            return empty_store_note()
        t = queries.summary_totals(ctx.engine, ctx.filters(), suppress_below=n)
        rated = sum(t[g] or 0 for g in ("positive", "neutral", "negative"))

        def pct(key):
            return "–" if t["suppressed"] or not rated else f"{100 * t[key] / rated:.0f}%"

        # the headline covers all months together, so it is suppressed on the total, not per month
        fft = queries.fft_by_month(ctx.engine, ctx.filters(), suppress_below=0)
        respondents = int(fft["respondents"].astype(float).sum()) if len(fft) else 0
        good = (fft["share_good"].astype(float) * fft["respondents"].astype(float)).sum() / respondents if respondents >= n else None
        span = f"{t['date_from']} to {t['date_to']}" if t["date_from"] else "no dates"
        return ui.layout_columns(
            ui.value_box("Comments", f"{t['comments']:,}", f"{span} · {ctx.options()['comments']:,} stored"),
            ui.value_box("Positive", pct("positive"), "of comments with a sentiment"),
            ui.value_box("Negative", pct("negative"), "of comments with a sentiment"),
            ui.value_box("FFT good or very good", "–" if good is None else f"{100 * good:.0f}%", f"{respondents:,} FFT answers"),
            col_widths=[3, 3, 3, 3],
        )

    @render.ui
    def ov_subcategories():
        if not ready():
            return ui.TagList()
        table = queries.topic_summary(ctx.engine, ctx.filters(), suppress_below=n)
        not_topic = framework_for(ctx.settings).labelling_not_possible  # blank/content-free: no bar
        table = table[~table["suppressed"] & (table["topic"] != not_topic)].head(20).iloc[::-1]
        if table.empty:
            return hidden
        fig = go.Figure()
        for group, name in GROUP_NAMES.items():
            fig.add_bar(
                y=table["topic"], x=table[group].astype(float), name=name, orientation="h", marker_color=GROUP_COLOURS[group],
                customdata=(100 * table["share"].astype(float)).round(1),
                hovertemplate="%{y}<br>" + name + ": %{x:,} comments<br>%{customdata}% of all comments mention this<extra></extra>",
            )
        fig.update_layout(barmode="stack", xaxis_title="Number of comments", yaxis={"automargin": True},
                          legend={"traceorder": "normal"})
        return ui.TagList(chart(fig, "subcategories", height=max(360, 26 * len(table) + 120)), hidden)

    @render.ui
    def ov_categories_time():
        if not ready():
            return ui.TagList()
        long = queries.categories_by_month(ctx.engine, ctx.filters(), suppress_below=n)
        wide = long.pivot(index="month", columns="category", values="comments").astype(float) if len(long) else pd.DataFrame()
        fig = go.Figure()
        for i, col in enumerate(wide.columns):
            fig.add_scatter(x=wide.index, y=wide[col], name=col, mode="lines+markers",
                            line={"color": CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]})
        fig.update_layout(yaxis_title="Comments", xaxis_type="category")
        return chart(fig, "categories_time")

    @render.ui
    def ov_sentiment_time():
        if not ready():
            return ui.TagList()
        sent = queries.sentiment_by_month(ctx.engine, ctx.filters(), suppress_below=n)
        sent = sent[~sent["suppressed"]]
        fig = go.Figure()
        for group, name in GROUP_NAMES.items():
            share = 100 * sent[group].astype(float) / sent["comments"].astype(float)
            fig.add_bar(x=sent["month"], y=share.round(1), name=name, marker_color=GROUP_COLOURS[group],
                        hovertemplate="%{x}: %{y}%<extra>" + name + "</extra>")
        fig.update_layout(barmode="stack", yaxis_title="% of comments", xaxis_type="category")
        return chart(fig, "sentiment_time")

    @render.ui
    def ov_fft_time():
        if not ready():
            return ui.TagList()
        fft = queries.fft_by_month(ctx.engine, ctx.filters(), suppress_below=n)
        fft = fft[~fft["suppressed"]]
        fig = go.Figure()
        fig.add_bar(x=fft["month"], y=(100 * fft["share_good"].astype(float)).round(1), name="Good or very good (%)",
                    marker_color="#009639", customdata=fft["respondents"].astype(float),
                    hovertemplate="%{x}: %{y}% good or very good<br>%{customdata:,} answers<extra></extra>")
        fig.update_layout(yaxis_title="% answering good or very good", yaxis_range=[0, 100], xaxis_type="category")
        return chart(fig, "fft_time")

    @render.ui
    def ov_cooccurrence():
        if not ready():
            return ui.TagList()
        pairs = queries.topic_cooccurrence(ctx.engine, ctx.filters(), suppress_below=n)
        pairs = pairs[~pairs["suppressed"]]
        if pairs.empty:
            return hidden
        counts = pd.concat([pairs[["topic_a", "comments"]].rename(columns={"topic_a": "t"}),
                            pairs[["topic_b", "comments"]].rename(columns={"topic_b": "t"})])
        top = counts.groupby("t")["comments"].sum().sort_values(ascending=False).head(TOP_PAIRS_TOPICS).index.tolist()
        grid = pd.DataFrame(float("nan"), index=top, columns=top)
        for a, b, c in pairs[["topic_a", "topic_b", "comments"]].itertuples(index=False):
            if a in grid.index and b in grid.columns:
                grid.loc[a, b] = grid.loc[b, a] = float(c)
        fig = go.Figure(go.Heatmap(
            z=grid.to_numpy(), x=top, y=top, colorscale="Blues", hoverongaps=False,
            hovertemplate="%{y} + %{x}: %{z:,} comments<extra></extra>", colorbar={"title": "Comments"},
        ))
        fig.update_layout(xaxis={"tickangle": -45, "automargin": True}, yaxis={"automargin": True, "autorange": "reversed"})
        return chart(fig, "cooccurrence", height=560)

    @render.ui
    def ov_table():
        if not ready():
            return ui.TagList()
        table = queries.topic_summary(ctx.engine, ctx.filters(), suppress_below=n)
        rows = []
        for rec in table.to_dict("records"):
            if rec["suppressed"]:
                cells = f'<td colspan="5" class="suppressed">fewer than {n} comments (hidden)</td>'
            else:
                cells = f"<td>{int(rec['comments']):,}</td><td>{100 * float(rec['share']):.1f}%</td>" + "".join(
                    f"<td>{int(rec[g]):,}</td>" for g in GROUP_NAMES)
            rows.append(f"<tr><th scope='row'>{rec['topic']}</th><td>{rec['category']}</td>{cells}</tr>")
        head = "".join(f"<th scope='col'>{h}</th>" for h in ["Sub-category", "Category", "Comments", "Share", *GROUP_NAMES.values()])
        return ui.HTML(f"<div class='table-responsive'><table class='table table-sm summary-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


PAGE = Page(id="overview", title="Overview", ui=page_ui, server=page_server)
