"""Plain-English names, colours and small helpers the dashboard pages share.

All filtering, summarising and suppression is the store layer's (``carelens.feedback.store.queries``, over
``CommentFilters``); this module only turns those results into words and colours, and a clicked chart
element into the filters that select the comments behind it.
"""

from __future__ import annotations

import html
import json
from calendar import monthrange
from datetime import date

from carelens.feedback.store.filters import FFT_ANSWERS, SENTIMENTS, CommentFilters

SENTIMENT_NAMES = SENTIMENTS
# Colour-blind-safe diverging palette (blue = positive ... orange/red = negative), NHS tones.
SENTIMENT_COLOURS = {1: "#005eb8", 2: "#41b6e6", 3: "#aeb7bd", 4: "#ed8b00", 5: "#a6192e"}
# the badge text on each colour: at least 4.5:1 (WCAG 2.1 AA; white on the orange was 2.5:1)
SENTIMENT_TEXT = {1: "#ffffff", 2: "#212b32", 3: "#212b32", 4: "#212b32", 5: "#ffffff"}
NO_SENTIMENT_COLOUR = "#425563"  # white on it 7.6:1 (the grey it replaces gave 3.8:1)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two "#rrggbb" colours (1 to 21; AA asks 4.5 for text)."""
    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
GROUP_NAMES = {"positive": "Positive", "neutral": "Neutral / mixed", "negative": "Negative"}
GROUP_COLOURS = {"positive": "#005eb8", "neutral": "#aeb7bd", "negative": "#ed8b00"}
GROUP_SCORES = {"positive": [1, 2], "neutral": [3], "negative": [4, 5]}
FFT_NAMES = FFT_ANSWERS
FFT_COLOURS = {1: "#005eb8", 2: "#41b6e6", 3: "#aeb7bd", 4: "#ed8b00", 5: "#a6192e", 6: "#768692"}


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
    if chart in PLACE_CHARTS:
        place = _place_element(click)
        return [] if place is None else [place[0]]
    return []


# Charts and tables of the comparison page: each element names a place, a period and a measure
# (``place_element``), and the comments behind it are that place's in that period about that measure.
PLACE_CHARTS = ("spc", "signal", "change", "funnel")


def place_element(level: int | None, place: str | None, start: date, end: date, measure_key: str) -> str:
    """What a comparison-page element stands for, as the text its click sends back."""
    return json.dumps({"level": level, "place": place or "", "start": start.isoformat(), "end": end.isoformat(),
                       "measure": measure_key})


def _place_element(click: dict) -> tuple[CommentFilters, str] | None:
    """(the filters of a comparison-page element, its title), or None when the click is not one."""
    from carelens.feedback.comparison import period_words
    from carelens.feedback.store.trends import Measure

    try:
        info = json.loads(click.get("custom") or "")
        measure = Measure.from_key(str(info["measure"]))
        start, end = date.fromisoformat(info["start"]), date.fromisoformat(info["end"])
        level, place = info.get("level"), str(info.get("place") or "")
        extra: dict = {}
        if level is not None and place:
            if int(level) not in (1, 2, 3):
                return None
            extra[f"location_{int(level)}"] = [place]
        if measure.topic:
            extra["topic"] = [measure.topic]
        if measure.kind == "topic_negative":
            extra["sentiment"] = [4, 5]
    except (ValueError, KeyError, TypeError):
        return None
    title = f"{place or 'The whole trust'}, {period_words(start, end)}"
    if measure.topic:
        title += f": {measure.topic}" + (" (negative)" if measure.kind == "topic_negative" else "")
    return CommentFilters(date_from=start, date_to=end, **extra), title


def element_title(click: dict) -> str:
    chart, x, y, curve = click.get("chart"), click.get("x"), click.get("y"), click.get("curve") or ""
    return {
        "subcategories": f"{y}: {curve.lower()}",
        "categories_time": f"{curve}, {x}",
        "sentiment_time": f"{curve}, {x}",
        "fft_time": f"FFT answer {curve.lower()}, {x}" if curve else f"FFT answers, {x}",
        "cooccurrence": f"{y} together with {x}",
    }.get(chart) or (_place_element(click) or (None, "selected comments"))[1]


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
