"""Board reports: HTML with charts, suppressed rows and quotes; the same page as PDF."""

from __future__ import annotations

import pandas as pd
import pytest

from carelens.reports.render import FeedbackReport, render_html, render_pdf, select_quotes


def _report() -> FeedbackReport:
    topics = pd.DataFrame({
        "topic": ["Staff manner & personal attributes", "Parking", "Feeling safe"],
        "category": ["Staff", "Environment", "General"],
        "comments": [120, 40, pd.NA], "share": [0.6, 0.2, pd.NA],
        "positive": [100, 5, pd.NA], "neutral": [10, 5, pd.NA], "negative": [10, 30, pd.NA],
        "suppressed": [False, False, True],
    })
    monthly = pd.DataFrame({"positive": [50, 60], "neutral": [5, 6], "negative": [10, 12]}, index=["2024-01", "2024-02"])
    quotes = pd.DataFrame({
        "text": ["The nurses were kind & caring <b>always</b>", "Parking was impossible, I drove round for an hour"],
        "topics": [["Staff manner & personal attributes"], ["Parking"]],
        "sentiment": [1, 5], "date": pd.to_datetime(["2024-01-05", "2024-02-09"]),
    })
    return FeedbackReport(title="Patient feedback report", filters="Division: Surgery", total_comments=200,
                          subcategories=topics, monthly_sentiment=monthly, quotes=quotes)


def test_html_report_has_charts_table_quotes_and_hides_small_rows():
    html = render_html(_report())
    assert html.count("<svg") == 2
    assert "Staff manner &amp; personal attributes" in html
    assert "fewer than 10 comments (hidden)" in html
    assert "&lt;b&gt;always&lt;/b&gt;" in html  # comment text is escaped, never markup
    assert "Division: Surgery" in html


def test_pdf_report_is_a_pdf():
    pytest.importorskip("weasyprint")
    pdf = render_pdf(render_html(_report()))
    assert pdf[:5] == b"%PDF-" and len(pdf) > 5_000


def test_quotes_prefer_flagged_then_recent_positive_and_negative_with_substance():
    frame = pd.DataFrame({
        "text": ["ok", "The staff on the ward were wonderful to my mother all week",
                 "I waited four hours in the corridor with nobody telling me anything",
                 "A flagged comment that staff thought was worth reading out"],
        "sentiment": [1, 1, 5, 3], "flagged": [False, False, False, True],
        "date": pd.to_datetime(["2024-01-01"] * 4), "topics": [[]] * 4,
    })
    chosen = select_quotes(frame)
    assert chosen["text"].iloc[0].startswith("A flagged comment")
    assert "ok" not in set(chosen["text"])
    assert len(chosen) == 3
