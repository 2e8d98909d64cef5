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
        from carelens.feedback.comparison import period_words

        parts.append(period_words(filters.date_from, filters.date_to))
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
    frame, total = queries.filtered_comments(engine, filters, suppress_below=n)
    if queries.comments_suppressed(filters, queries.filtered_respondents(engine, filters), n):
        return pd.DataFrame({"note": [f"Fewer than {n} people wrote the comments that match a demographic filter, so "
                                      "they are withheld to protect the people who wrote them."]})
    return _spreadsheet(frame, level_names)


def comments_behind_for_export(engine: sa.Engine, filters: CommentFilters, extra: list[CommentFilters],
                               level_names: tuple[str, ...], suppress_below: int | None = None) -> pd.DataFrame:
    """Every comment behind a clicked chart element or table row (``queries.comments_behind``), laid
    out as :func:`comments_for_export`; withheld (one ``note`` row, no count) as the element's own list is."""
    frame, total, withheld = queries.comments_behind(engine, filters, extra, limit=None, suppress_below=suppress_below)
    if withheld:
        return pd.DataFrame({"note": [f"Comments from fewer than {threshold(suppress_below)} people: withheld "
                                      "to protect the people who wrote them."]})
    return _spreadsheet(frame, level_names)


def _spreadsheet(frame: pd.DataFrame, level_names: tuple[str, ...]) -> pd.DataFrame:
    """Comments as staff read them in a spreadsheet: lists joined, dates as days, columns named."""
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
    quotes = frame.iloc[0:0] if count_suppressed(total, n) else select_quotes(frame)
    return FeedbackReport(
        title="Patient feedback report",
        filters=describe_filters(filters, level_names),
        total_comments=None if count_suppressed(total, n) else total,
        subcategories=queries.topic_summary(engine, filters, suppress_below=n),
        monthly_sentiment=sent,
        quotes=quotes.assign(place=_place_of(quotes, level_names)),
        suppress_below=n,
        not_in_chart=(LABELLING_NOT_POSSIBLE,),
        headline=headline,
        **_comparison_parts(engine, filters, level_names, n),
    )


def _place_of(frame: pd.DataFrame, level_names: tuple[str, ...]) -> list[str]:
    """Each comment's most precise place (its ward or team, else its directorate, else its division)."""
    levels = [f"location_{i}" for i in range(len(level_names) or 3, 0, -1) if f"location_{i}" in frame]
    places = []
    for rec in frame[levels].to_dict("records"):
        places.append(next((str(rec[c]) for c in levels if pd.notna(rec[c]) and str(rec[c]).strip()), ""))
    return places


def _comparison_parts(engine: sa.Engine, filters: CommentFilters, level_names: tuple[str, ...], n: int) -> dict:
    """The report's period comparison (each place's % good FFT answers this period against the one
    before) and its SPC signals, at the finest location level (``feedback.comparison``)."""
    from carelens.feedback import comparison
    from carelens.feedback.store.trends import Measure

    level = max(1, len(level_names))
    current = comparison.report_period(engine, filters)
    if current is None:
        return {}
    fft = Measure("fft_good")
    change = comparison.period_change(engine, filters, fft, level=level, current=current, suppress_below=n,
                                      worst_first=True)
    change = change[change["now"].notna() | change["before"].notna()]
    trust = comparison.period_change(engine, filters, fft, level=None, current=current, suppress_below=n)
    top = queries.topic_summary(engine, filters, suppress_below=n)
    topics = top[~top["suppressed"].astype(bool) & (top["topic"] != LABELLING_NOT_POSSIBLE)]["topic"].head(5).tolist()
    previous = change.attrs["previous"]
    return {
        "comparison": pd.concat([trust.assign(place="Whole trust"), change], ignore_index=True),
        "comparison_title": f"{current.name} against {previous.name}: FFT answers good or very good, "
                            f"by {level_names[level - 1].lower() if level_names else 'place'}",
        "signals": comparison.report_signals(engine, filters, level=level, topics=topics, suppress_below=n),
        "place_level": level_names[level - 1] if level_names else "Place",
    }
