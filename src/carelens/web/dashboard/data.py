"""Plain-English names, colours and small helpers the dashboard pages share.

All filtering, summarising and suppression is the store layer's (``carelens.feedback.store.queries``, over
``CommentFilters``); this module only turns those results into words and into "the comments behind
one chart element".
"""

from __future__ import annotations

import html
from calendar import monthrange
from datetime import date

import numpy as np

from carelens.feedback.store.filters import CommentFilters

SENTIMENT_NAMES = {1: "Very positive", 2: "Positive", 3: "Neutral / mixed", 4: "Negative", 5: "Very negative"}
# Colour-blind-safe diverging palette (blue = positive ... orange/red = negative), NHS tones.
SENTIMENT_COLOURS = {1: "#005eb8", 2: "#41b6e6", 3: "#aeb7bd", 4: "#ed8b00", 5: "#a6192e"}
GROUP_NAMES = {"positive": "Positive", "neutral": "Neutral / mixed", "negative": "Negative"}
GROUP_COLOURS = {"positive": "#005eb8", "neutral": "#aeb7bd", "negative": "#ed8b00"}
GROUP_SCORES = {"positive": [1, 2], "neutral": [3], "negative": [4, 5]}
FFT_NAMES = {1: "Very good", 2: "Good", 3: "Neither good nor poor", 4: "Poor", 5: "Very poor", 6: "Don't know"}
FFT_COLOURS = {1: "#005eb8", 2: "#41b6e6", 3: "#aeb7bd", 4: "#ed8b00", 5: "#a6192e", 6: "#768692"}


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
        parts.append("FFT: " + ", ".join(FFT_NAMES.get(s, str(s)) for s in filters.fft_score))
    if filters.category:
        parts.append("categories: " + ", ".join(filters.category))
    if filters.topic:
        parts.append("sub-categories: " + ", ".join(filters.topic))
    if filters.sentiment:
        parts.append("sentiment: " + ", ".join(SENTIMENT_NAMES[s] for s in filters.sentiment))
    if filters.search.strip():
        parts.append(f'search: "{filters.search.strip()}"')
    return "; ".join(parts) or "all comments"


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a "YYYY-MM" month."""
    year, mon = (int(x) for x in month.split("-")[:2])
    return date(year, mon, 1), date(year, mon, monthrange(year, mon)[1])


def element_filters(click: dict) -> list[CommentFilters]:
    """Extra filters (all must hold) selecting the comments behind one clicked chart element."""
    chart, x, y, curve = click.get("chart"), click.get("x"), click.get("y"), click.get("curve") or ""
    group = next((g for g, name in GROUP_NAMES.items() if name == curve), None)
    if chart == "subcategories":
        return [CommentFilters(topic=[y], sentiment=GROUP_SCORES.get(group, []))]
    if chart in ("categories_time", "sentiment_time", "fft_time") and x and x[:4].isdigit():
        start, end = month_bounds(x)
        fft = next((k for k, name in FFT_NAMES.items() if name == curve), None)
        extra = {"categories_time": {"category": [curve]}, "sentiment_time": {"sentiment": GROUP_SCORES.get(group, [])},
                 "fft_time": {"fft_score": [fft] if fft else [1, 2, 3, 4, 5]}}
        return [CommentFilters(date_from=start, date_to=end, **extra.get(chart, {}))]
    if chart == "cooccurrence":
        return [CommentFilters(topic=[x]), CommentFilters(topic=[y])]
    return []


def element_title(click: dict) -> str:
    chart, x, y, curve = click.get("chart"), click.get("x"), click.get("y"), click.get("curve") or ""
    return {
        "subcategories": f"{y}: {curve.lower()}",
        "categories_time": f"{curve}, {x}",
        "sentiment_time": f"{curve}, {x}",
        "fft_time": f"FFT answer {curve.lower()}, {x}" if curve else f"FFT answers, {x}",
        "cooccurrence": f"{y} together with {x}",
    }.get(chart, "selected comments")


def masked(view, filters: CommentFilters, extra: list[CommentFilters]) -> np.ndarray:
    from carelens.feedback.store.queries import filter_mask

    mask = filter_mask(view, filters)
    for f in extra:
        mask &= filter_mask(view, f)
    return mask


def highlight(text: str, search: str) -> str:
    """HTML-escaped text with every search hit wrapped in ``<mark>`` (the store's search rules)."""
    from carelens.feedback.store.queries import highlight_pattern

    pattern = highlight_pattern(search)
    if pattern is None:
        return html.escape(text or "")
    out, last = [], 0
    for m in pattern.finditer(text or ""):
        out.append(html.escape(text[last:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape((text or "")[last:]))
    return "".join(out)
