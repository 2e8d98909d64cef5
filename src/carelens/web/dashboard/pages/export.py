"""Export: the filtered comments and summaries as CSV or Excel, and a one-click board report."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
from shiny import render, ui

from carelens.feedback import LABELLING_NOT_POSSIBLE
from carelens.web.dashboard.data import describe_filters
from carelens.web.dashboard.registry import Page


def comments_for_export(engine, filters, level_names: tuple[str, ...], n: int = 10) -> pd.DataFrame:
    """Every filtered comment, redacted text only; lists joined with "; " for spreadsheets.

    A demographic selection of fewer than ``n`` comments is withheld (one ``note`` row instead)."""
    from carelens.feedback.store.queries import comments_suppressed, filtered_comments

    frame, total = filtered_comments(engine, filters)
    if comments_suppressed(filters, total, n):
        return pd.DataFrame({"note": [f"{total} comments match a demographic filter: fewer than {n}, so they are "
                                      "withheld to protect the people who wrote them."]})
    out = frame.drop(columns=["n_topics"], errors="ignore").copy()
    for col in ("topics", "categories"):
        out[col] = out[col].map(lambda ts: "; ".join(ts or []))
    out["date"] = pd.to_datetime(out["date"]).dt.date
    names = {f"location_{i + 1}": level for i, level in enumerate(level_names)}
    names.update({c: c[5:] for c in out.columns if c.startswith("demo:")})
    names["text"] = "comment (personal details removed)"
    out = out.drop(columns=[c for c in ("location_1", "location_2", "location_3") if c not in names])
    return out.rename(columns=names)


def summaries_for_export(engine, filters, n: int) -> dict[str, pd.DataFrame]:
    from carelens.feedback.store import queries

    topics = queries.topic_summary(engine, filters, suppress_below=n).copy()
    topics["share"] = (100 * topics["share"].astype("Float64")).round(1)
    return {
        "Sub-categories": topics.rename(columns={"topic": "sub-category", "share": "share of comments (%)",
                                                 "suppressed": f"hidden (fewer than {n})"}),
        "Sentiment by month": queries.sentiment_by_month(engine, filters, suppress_below=n),
        "Categories by month": queries.categories_by_month(engine, filters, suppress_below=n),
        "FFT by month": queries.fft_by_month(engine, filters, suppress_below=n),
        "Topics together": queries.topic_cooccurrence(engine, filters, suppress_below=n),
    }


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buf.getvalue()


def build_report(engine, filters, level_names: tuple[str, ...], n: int):
    """The board report for these filters (suppressed summaries, redacted verbatim comments)."""
    from carelens.reports.render import FeedbackReport, select_quotes
    from carelens.feedback.store import queries

    frame, total = queries.filtered_comments(engine, filters)
    headline = {"Comments": f"{total:,}"}
    t = queries.summary_totals(engine, filters, suppress_below=n)
    rated = sum(t[g] or 0 for g in ("positive", "neutral", "negative"))
    if not t["suppressed"] and rated:
        headline["Positive comments"] = f"{100 * t['positive'] / rated:.0f}%"
        headline["Negative comments"] = f"{100 * t['negative'] / rated:.0f}%"
    fft = queries.fft_by_month(engine, filters, suppress_below=0)
    answered = int(fft["respondents"].astype(float).sum()) if len(fft) else 0
    if answered >= n:
        good = float((fft["share_good"].astype(float) * fft["respondents"].astype(float)).sum()) / answered
        headline[f"FFT good or very good ({answered:,} answers)"] = f"{100 * good:.0f}%"
    sent = queries.sentiment_by_month(engine, filters, suppress_below=n)
    sent = sent[~sent["suppressed"]].set_index("month")[["positive", "neutral", "negative"]]
    return FeedbackReport(
        title="Patient feedback report",
        filters=describe_filters(filters, level_names),
        total_comments=total,
        subcategories=queries.topic_summary(engine, filters, suppress_below=n),
        monthly_sentiment=sent,
        quotes=select_quotes(frame) if total >= n else frame.iloc[0:0],
        suppress_below=n,
        not_in_chart=(LABELLING_NOT_POSSIBLE,),
        headline=headline,
    )


def page_ui():
    return ui.TagList(
        ui.p("Everything here uses the filters on the left. Personal details are removed from every comment, "
             "and breakdowns of fewer than 10 comments are hidden.", class_="hint"),
        ui.output_ui("ex_count"),
        ui.layout_columns(
            ui.card(ui.card_header("Comments"),
                    ui.p("Every filtered comment with its topics and sentiment."),
                    ui.download_button("dl_comments_csv", "Comments (CSV)", class_="btn-primary"),
                    ui.download_button("dl_comments_xlsx", "Comments (Excel)", class_="btn-primary")),
            ui.card(ui.card_header("Summaries"),
                    ui.p("Sub-categories with counts, share and sentiment; months; topics together."),
                    ui.download_button("dl_summary_csv", "Sub-categories (CSV)", class_="btn-primary"),
                    ui.download_button("dl_summary_xlsx", "All summaries (Excel)", class_="btn-primary")),
            ui.card(ui.card_header("Board report"),
                    ui.p("Charts, a table and selected comments in patients' own words."),
                    ui.download_button("dl_report_html", "Report (web page)", class_="btn-primary"),
                    ui.download_button("dl_report_pdf", "Report (PDF)", class_="btn-primary")),
            col_widths=[4, 4, 4],
        ),
    )


def page_server(input, output, session, ctx):
    n = ctx.settings.suppress_below
    levels = ctx.settings.location_levels

    def stamp() -> str:
        return date.today().isoformat()

    def filters_sheet() -> pd.DataFrame:
        return pd.DataFrame({"filters": [describe_filters(ctx.filters(), levels)]})

    @render.ui
    def ex_count():
        return ui.h3(f"{ctx.total():,} comments selected", class_="count")

    @render.download_button(filename=lambda: f"carelens-comments-{stamp()}.csv")
    def dl_comments_csv():
        yield comments_for_export(ctx.engine, ctx.filters(), levels, n).to_csv(index=False).encode("utf-8-sig")

    @render.download_button(filename=lambda: f"carelens-comments-{stamp()}.xlsx")
    def dl_comments_xlsx():
        yield to_xlsx({"Comments": comments_for_export(ctx.engine, ctx.filters(), levels, n), "Filters": filters_sheet()})

    @render.download_button(filename=lambda: f"carelens-summary-{stamp()}.csv")
    def dl_summary_csv():
        yield summaries_for_export(ctx.engine, ctx.filters(), n)["Sub-categories"].to_csv(index=False).encode("utf-8-sig")

    @render.download_button(filename=lambda: f"carelens-summary-{stamp()}.xlsx")
    def dl_summary_xlsx():
        yield to_xlsx({**summaries_for_export(ctx.engine, ctx.filters(), n), "Filters": filters_sheet()})

    @render.download_button(filename=lambda: f"carelens-report-{stamp()}.html")
    def dl_report_html():
        from carelens.reports.render import render_html

        yield render_html(build_report(ctx.engine, ctx.filters(), levels, n)).encode("utf-8")

    @render.download_button(filename=lambda: f"carelens-report-{stamp()}.pdf")
    def dl_report_pdf():
        from carelens.reports.render import render_html, render_pdf

        yield render_pdf(render_html(build_report(ctx.engine, ctx.filters(), levels, n)))


PAGE = Page(id="export", title="Export and report", ui=page_ui, server=page_server)
