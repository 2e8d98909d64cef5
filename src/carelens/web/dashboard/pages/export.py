"""Export: the filtered comments and summaries as CSV or Excel, and a one-click board report.

The tables and the report are the capability's (``carelens.feedback.exports``); the page offers
them for the sidebar's filters.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from shiny import module, render, ui

from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.registry import Page


@module.ui
def page_ui():
    return ui.TagList(
        ui.output_ui("count"),
        ui.layout_columns(
            ui.card(ui.card_header("Comments"),
                    ui.p("Every filtered comment with its topics and sentiment."),
                    ui.download_button("comments_csv", "Comments (CSV)", class_="btn-primary"),
                    ui.download_button("comments_xlsx", "Comments (Excel)", class_="btn-primary")),
            ui.card(ui.card_header("Summaries"),
                    ui.p("Sub-categories with counts, share and sentiment; months; topics together."),
                    ui.download_button("summary_csv", "Sub-categories (CSV)", class_="btn-primary"),
                    ui.download_button("summary_xlsx", "All summaries (Excel)", class_="btn-primary")),
            ui.card(ui.card_header("Board report"),
                    ui.p("Charts, a table and selected comments in patients' own words."),
                    ui.download_button("report_html", "Report (web page)", class_="btn-primary"),
                    ui.download_button("report_pdf", "Report (PDF)", class_="btn-primary")),
            col_widths=[4, 4, 4],
        ),
    )


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.exports import (
        build_report,
        comments_for_export,
        describe_filters,
        summaries_for_export,
        to_csv,
        to_xlsx,
    )

    n = app.settings.suppress_below
    levels = app.settings.location_levels

    def stamp() -> str:
        return date.today().isoformat()

    def filters_sheet() -> pd.DataFrame:
        return pd.DataFrame({"filters": [describe_filters(fb.filters(), levels)]})

    def recorded(what: str, rows: int | None = None) -> None:
        """Every download is in the audit log: what, with which filters, how many rows."""
        app.audit("export", what, {"filters": fb.filters().model_dump(exclude_defaults=True, mode="json"), "rows": rows})

    @render.ui
    def count():
        from carelens.feedback.store import queries

        total = fb.total()
        # the download lists these comments (unless a demographic filter picks out too few, when it
        # withholds them), so their number is no secret; a withheld list's number is not given
        people = queries.filtered_respondents(app.engine, fb.filters())
        listed = not queries.comments_suppressed(fb.filters(), people, n)
        return ui.TagList(
            ui.p("Everything here uses the filters on the left. Personal details are removed from every comment, "
                 f"and breakdowns of fewer than {n} comments are hidden.", class_="hint"),
            ui.h3(f"{f'{total:,}' if listed else fb.count_text(None)} comments selected", class_="count"))

    @render.download_button(filename=lambda: f"carelens-comments-{stamp()}.csv")
    def comments_csv():
        table = comments_for_export(app.engine, fb.filters(), levels, n)
        recorded("comments.csv", len(table))
        yield to_csv(table)

    @render.download_button(filename=lambda: f"carelens-comments-{stamp()}.xlsx")
    def comments_xlsx():
        table = comments_for_export(app.engine, fb.filters(), levels, n)
        recorded("comments.xlsx", len(table))
        yield to_xlsx({"Comments": table, "Filters": filters_sheet()})

    @render.download_button(filename=lambda: f"carelens-summary-{stamp()}.csv")
    def summary_csv():
        recorded("summary.csv")
        yield to_csv(summaries_for_export(app.engine, fb.filters(), n)["Sub-categories"])

    @render.download_button(filename=lambda: f"carelens-summary-{stamp()}.xlsx")
    def summary_xlsx():
        recorded("summary.xlsx")
        yield to_xlsx({**summaries_for_export(app.engine, fb.filters(), n), "Filters": filters_sheet()})

    @render.download_button(filename=lambda: f"carelens-report-{stamp()}.html")
    def report_html():
        from carelens.reports.render import render_html

        recorded("report.html")
        yield render_html(build_report(app.engine, fb.filters(), levels, n)).encode("utf-8")

    @render.download_button(filename=lambda: f"carelens-report-{stamp()}.pdf")
    def report_pdf():
        from carelens.reports.render import render_html, render_pdf

        recorded("report.pdf")
        yield render_pdf(render_html(build_report(app.engine, fb.filters(), levels, n)))


PAGE = Page(id="export", title="Export and report", ui=page_ui, server=page_server, feedback=True)
