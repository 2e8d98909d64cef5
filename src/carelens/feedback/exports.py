"""Patient feedback's downloads: the filtered comments and summaries as tables, and the board report.

The dashboard's Export page offers these; anything else that exports (an API route, a CLI
command) can call them too. Everything goes through ``feedback.store.queries`` (so filters,
redaction and the small-number rule are the store's, and ``carelens.privacy``'s), and
``carelens.reports`` renders the report.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from carelens.feedback.framework import LABELLING_NOT_POSSIBLE
from carelens.feedback.store import queries
from carelens.feedback.store.filters import FFT_ANSWERS, SENTIMENTS, CommentFilters
from carelens.privacy import count_suppressed, threshold
from carelens.reports.render import FeedbackReport, select_quotes


def describe_filters(filters: CommentFilters, level_names: tuple[str, ...] = ()) -> str:
    """Plain-English summary of the filters, for report headers and export notes."""
    parts: list[str] = []
    if filters.date_from or filters.date_to:
        parts.append(f"dates {filters.date_from or 'start'} to {filters.date_to or 'latest'}")
    for i, level in enumerate(level_names):
        values = getattr(filters, f"location_{i + 1}")
        if values:
            parts.append(f"{level}: {', '.join(values)}")
    for name, values in filters.demographics.items():
        if values:
            parts.append(f"{name}: {', '.join(values)}")
    if filters.question:
        parts.append("question: " + ", ".join(filters.question))
    if filters.fft_score:
        parts.append("FFT: " + ", ".join(FFT_ANSWERS.get(s, str(s)) for s in filters.fft_score))
    if filters.category:
        parts.append("categories: " + ", ".join(filters.category))
    if filters.topic:
        parts.append("sub-categories: " + ", ".join(filters.topic))
    if filters.sentiment:
        parts.append("sentiment: " + ", ".join(SENTIMENTS[s] for s in filters.sentiment))
    if filters.search.strip():
        parts.append(f'search: "{filters.search.strip()}"')
    return "; ".join(parts) or "all comments"


def comments_for_export(engine: sa.Engine, filters: CommentFilters, level_names: tuple[str, ...],
                        suppress_below: int | None = None) -> pd.DataFrame:
    """Every filtered comment, redacted text only; lists joined with "; " for spreadsheets; location
    columns named with the trust's level names.

    A list picked out by a demographic filter from fewer respondents than the threshold is
    withheld (one ``note`` row instead), as on every page and in the API."""
    n = threshold(suppress_below)
    frame, _ = queries.filtered_comments(engine, filters, suppress_below=n)
    if queries.comments_suppressed(filters, queries.filtered_respondents(engine, filters), n):
        return pd.DataFrame({"note": [f"Fewer than {n} comments match a demographic filter, so they are withheld "
                                      "to protect the people who wrote them."]})
    out = frame.drop(columns=["n_topics"], errors="ignore").copy()
    for col in ("topics", "categories"):
        out[col] = out[col].map(lambda ts: "; ".join(ts or []))
    out["date"] = pd.to_datetime(out["date"]).dt.date
    names = {f"location_{i + 1}": level for i, level in enumerate(level_names)}
    names.update({c: c[5:] for c in out.columns if c.startswith("demo:")})
    names["text"] = "comment (personal details removed)"
    out = out.drop(columns=[c for c in ("location_1", "location_2", "location_3") if c not in names])
    return out.rename(columns=names)


def summaries_for_export(engine: sa.Engine, filters: CommentFilters,
                         suppress_below: int | None = None) -> dict[str, pd.DataFrame]:
    """One table per summary the Overview draws (sheet name -> table), small cells suppressed."""
    n = threshold(suppress_below)
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
    """An Excel workbook with one sheet per table (names cut to Excel's 31 characters), no text cell
    a formula (:func:`carelens.tables.xlsx_bytes`)."""
    from carelens.tables import xlsx_bytes

    return xlsx_bytes(sheets)


def to_csv(frame: pd.DataFrame) -> bytes:
    """A table as CSV for a spreadsheet, formulas neutralised (:func:`carelens.tables.csv_bytes`)."""
    from carelens.tables import csv_bytes

    return csv_bytes(frame)


def build_report(engine: sa.Engine, filters: CommentFilters, level_names: tuple[str, ...],
                 suppress_below: int | None = None) -> FeedbackReport:
    """The board report for these filters (suppressed summaries, redacted verbatim comments)."""
    n = threshold(suppress_below)
    frame, total = queries.filtered_comments(engine, filters, suppress_below=n)
    headline = {"Comments": f"fewer than {n}" if count_suppressed(total, n) else f"{total:,}"}
    t = queries.summary_totals(engine, filters, suppress_below=n)
    shares = queries.sentiment_shares(t)
    for group, label in (("positive", "Positive comments"), ("negative", "Negative comments")):
        if shares[group] is not None:
            headline[label] = f"{100 * shares[group]:.0f}%"
    fft = queries.fft_totals(engine, filters, suppress_below=n)
    if fft["share_good"] is not None:
        headline[f"FFT good or very good ({fft['respondents']:,} answers)"] = f"{100 * fft['share_good']:.0f}%"
    sent = queries.sentiment_by_month(engine, filters, suppress_below=n)
    sent = sent[~sent["suppressed"]].set_index("month")[["positive", "neutral", "negative"]]
    return FeedbackReport(
        title="Patient feedback report",
        filters=describe_filters(filters, level_names),
        total_comments=None if count_suppressed(total, n) else total,
        subcategories=queries.topic_summary(engine, filters, suppress_below=n),
        monthly_sentiment=sent,
        quotes=frame.iloc[0:0] if count_suppressed(total, n) else select_quotes(frame),
        suppress_below=n,
        not_in_chart=(LABELLING_NOT_POSSIBLE,),
        headline=headline,
    )
