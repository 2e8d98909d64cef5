"""Board reports: an HTML page (and the same page as PDF) with charts and selected verbatim comments.

Why HTML first: one Jinja template serves the browser download and the PDF, and a board secretary
can paste from it. PDF is drawn by WeasyPrint (pip; needs Debian's Pango, present on desktop and
most server images), offline, with the charts as SVG so they print sharply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from carelens.errors import CarelensError
from carelens.privacy import DEFAULT_SUPPRESS_BELOW
from carelens.reports.templating import render

GROUPS = {"positive": "Positive", "neutral": "Neutral / mixed", "negative": "Negative"}
SENTIMENT_NAMES = ["Very positive", "Positive", "Neutral / mixed", "Negative", "Very negative"]


@dataclass
class FeedbackReport:
    """Everything a feedback report shows. Tables are already suppressed and text already redacted."""

    title: str
    filters: str
    total_comments: int
    subcategories: pd.DataFrame  # topic, category, comments, share, positive, neutral, negative, suppressed
    monthly_sentiment: pd.DataFrame  # index month; columns positive, neutral, negative (suppressed rows dropped)
    quotes: pd.DataFrame  # text, topics (list), sentiment, date
    suppress_below: int = DEFAULT_SUPPRESS_BELOW
    not_in_chart: tuple[str, ...] = ()  # e.g. "Labelling not possible": counted in the table only
    headline: dict[str, str] = field(default_factory=dict)  # key figures shown first, e.g. {"Positive": "75%"}
    # this period against the one before: place, before, now, change, significant, respondents_now (shares 0..1)
    comparison: pd.DataFrame | None = None
    comparison_title: str = ""
    # SPC special causes in the latest period: place, measure, period, variation, label (its words), colour
    # (its text colour), rules, value, centre, share
    signals: pd.DataFrame | None = None
    place_level: str = "Place"
    generated: datetime = field(default_factory=datetime.now)


def render_html(report: FeedbackReport) -> str:
    from carelens.reports.charts import stacked_bars, stacked_share_by_month

    subs = report.subcategories
    shown = subs[~subs["suppressed"].astype(bool) & ~subs["topic"].isin(report.not_in_chart)].head(15)
    charts = []
    if not shown.empty:
        named = shown.rename(columns=GROUPS)
        charts.append(stacked_bars(named, "topic", list(GROUPS.values()), "Most mentioned sub-categories, by sentiment"))
    monthly = report.monthly_sentiment.dropna(how="all").rename(columns=GROUPS)
    if len(monthly) >= 2:
        charts.append(stacked_share_by_month(monthly.astype(float), "Sentiment by month"))
    quotes = [
        {
            "text": rec.get("text") or "",
            "topics": "; ".join(rec.get("topics") or []),
            "sentiment": SENTIMENT_NAMES[int(rec["sentiment"]) - 1] if pd.notna(rec.get("sentiment")) else "",
            "date": pd.Timestamp(rec["date"]).strftime("%B %Y") if pd.notna(rec.get("date")) else "",
            "place": rec.get("place") or "",
        }
        for rec in report.quotes.to_dict("records")
    ]
    return render(
        "feedback_report.html", r=report, charts=charts, quotes=quotes, table=report.subcategories.to_dict("records"), parts=GROUPS,
        comparison=_comparison_rows(report.comparison), signals=_signal_rows(report.signals),
    )


def _share(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{100 * value:.0f}%"


def _comparison_rows(frame: pd.DataFrame | None) -> list[dict]:
    """The period comparison in words: shares as %, changes in points, "–" where suppressed."""
    if frame is None or frame.empty:
        return []
    return [{"place": rec["place"], "before": _share(rec["before"]), "now": _share(rec["now"]),
             "change": "–" if pd.isna(rec["change"]) else f"{100 * rec['change']:+.0f} points",
             "significant": "yes" if rec["significant"] else "", "respondents": f"{int(rec['respondents_now']):,}"}
            for rec in frame.to_dict("records")]


def _signal_rows(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []

    def fmt(value, share: bool) -> str:
        return _share(value) if share else f"{value:.2f}"

    return [{"place": rec["place"], "measure": rec["measure"], "period": rec["period"],
             "variation": rec["label"], "colour": rec["colour"],
             "rules": rec["rules"], "value": fmt(rec["value"], rec["share"]), "centre": fmt(rec["centre"], rec["share"])}
            for rec in frame.to_dict("records")]


def render_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise CarelensError(
            "PDF reports need WeasyPrint and the Pango library (Debian: apt-get install libpango-1.0-0); "
            f"the HTML report works without them ({type(exc).__name__})",
            field="format",
        ) from exc
    return HTML(string=html).write_pdf()


def select_quotes(frame: pd.DataFrame, n_each: int = 4, min_words: int = 8) -> pd.DataFrame:
    """Verbatim comments for a board paper: those staff marked interesting first (whatever their
    length: staff chose them), then the most recent clear positive and negative comments that say
    something (at least ``min_words`` words)."""
    if frame.empty:
        return frame
    words = frame["text"].fillna("").str.split().str.len()
    usable = frame[words >= min_words]
    flagged = frame[frame["flagged"].astype(bool) & (words > 0)] if "flagged" in frame else frame.iloc[0:0]
    recent = usable.sort_values("date", ascending=False) if "date" in usable else usable
    positive = recent[recent["sentiment"].isin([1, 2])].head(n_each)
    negative = recent[recent["sentiment"].isin([4, 5])].head(n_each)
    chosen = pd.concat([flagged.head(n_each), positive, negative])
    return chosen[~chosen.index.duplicated()]
