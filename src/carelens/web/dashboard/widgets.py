"""Small shared pieces: plotly charts that report clicks, and the comment table.

Charts are plotly figures rendered to HTML with plotly.js served locally (no CDN: trusts run this
offline). On a clickable chart, a click on any bar, point or heatmap cell sets the page's input
``chart_click`` to {chart, x, y, curve}; a feedback page hands it to ``FeedbackContext.open_drill``,
which lists the comments behind that element.
"""

from __future__ import annotations

import json

import pandas as pd
from shiny import ui
from shiny.module import resolve_id

from carelens.web.dashboard.data import SENTIMENT_COLOURS, SENTIMENT_NAMES, SENTIMENT_TEXT, highlight
from carelens.web.dashboard.html_table import Cell, Markup, element, html_table, is_missing, join

FONT = "Arial, Helvetica, sans-serif"

LAYOUT = {
    "font": {"family": FONT, "size": 13, "color": "#212b32"},
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "plot_bgcolor": "white",
    "paper_bgcolor": "white",
    "legend": {"orientation": "h", "y": -0.15},
    "hoverlabel": {"font": {"family": FONT}},
}
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _payload(fig, height: int) -> str:
    from plotly.utils import PlotlyJSONEncoder

    if not isinstance(fig, dict):
        fig = fig.to_plotly_json()
    layout = _merge(_merge(LAYOUT, fig.get("layout") or {}), {"height": height})
    # "</" escaped so no string (a topic name, a hover template) can close the script element
    return json.dumps([fig.get("data") or [], layout, CONFIG], cls=PlotlyJSONEncoder).replace("</", "<\\/")


def chart_slot(chart_id: str, *, clickable: bool = False) -> ui.Tag:
    """A chart's persistent place on a page; fill it with :func:`chart_update` from a render function.

    Why: updating one plotly div in place (``Plotly.react``), and drawing charts below the fold only
    when they scroll into view (``www/carelens.js``), keeps a filter change quick.

    The div's id is namespaced like Shiny's ids (in page ``demand``: ``demand-chart_fan``).
    ``clickable``: a click on a bar, point or square sets the page's input ``chart_click`` to
    {chart: ``chart_id``, x, y, curve, custom} (read it as ``input.chart_click()``).
    """
    attrs = {"class": "carelens-chart", "data-chart": chart_id}
    if clickable:
        attrs["data-click-input"] = resolve_id("chart_click")
    return ui.div(ui.div(id=resolve_id(f"chart_{chart_id}"), class_="plotly-graph-div", style="height:0px; width:100%;"),
                  attrs)


def read_comments_button(click: dict, what: str, label: str = "Read comments") -> ui.Tag:
    """A button sending ``click`` to the page's ``chart_click`` input, as clicking a chart element
    would: the keyboard's way to every drill-down (a table row beside each chart's element).
    ``what`` is its accessible name ("Read the comments about Parking")."""
    payload = json.dumps({"chart": "", "x": "", "y": "", "curve": "", "custom": None, **click})
    return ui.tags.button(label, type="button", class_="btn btn-sm btn-outline-primary drill-btn", aria_label=what,
                          data_event_input=resolve_id("chart_click"), data_event_value=payload)  # www/carelens.js


def chart_update(fig, chart_id: str, height: int = 420) -> ui.Tag:
    """``fig`` for :func:`chart_slot` ``chart_id`` (``fig=None`` clears it), as a JSON data block that
    ``www/carelens.js`` draws when it reaches the page (a data block never runs: the Content Security
    Policy allows no inline script)."""
    payload = "null" if fig is None else _payload(fig, height)
    return ui.tags.script(ui.HTML(payload), type="application/json", data_carelens_plot=resolve_id(f"chart_{chart_id}"))


def chart(fig, chart_id: str, height: int = 420, *, clickable: bool = False) -> ui.Tag:
    """A plotly figure as HTML (a new div each time; pages that redraw often should use
    :func:`chart_slot` and :func:`chart_update`).

    ``fig`` is a plain ``{"data": [...], "layout": {...}}`` dict (columns may be numpy/pandas) or a
    ``plotly.graph_objects.Figure``. Why dicts: building and validating graph objects took most of a
    filter change's server time; a dict is serialised straight to JSON for plotly.js.
    """
    return ui.TagList(chart_slot(chart_id, clickable=clickable), chart_update(fig, chart_id, height))


def sentiment_badge(value) -> Markup:
    if is_missing(value):
        return element("span", "No sentiment", class_="badge sent-na")
    v = int(value)
    return element("span", SENTIMENT_NAMES[v], class_=f"badge sent-{v}",
                   style=f"background:{SENTIMENT_COLOURS[v]};color:{SENTIMENT_TEXT[v]}")


def _flag_buttons(cid: str, flag_input: str, flagged: str, is_flagged: bool = False) -> Markup:
    """"Interesting" (a toggle: pressed when flagged, a second click takes the flag off) and "Wrong
    topics?" for one comment; a click (``www/carelens.js``) sets ``flag_input`` to {id, kind, dialog}.
    Data attributes, not inline handlers: the Content Security Policy runs no inline script."""
    return join(
        element("button", "Interesting ✓" if is_flagged else "Interesting",
                class_="btn btn-sm flag-btn " + ("btn-primary" if is_flagged else "btn-outline-primary"),
                aria_pressed="true" if is_flagged else "false",
                aria_label=(f"Remove the interesting flag from comment {cid}" if is_flagged
                            else f"Mark comment {cid} as interesting"), type="button",
                data_flag_kind="interesting", data_flag_input=flag_input, data_comment_key=cid),
        " ",
        element("button", "Wrong topics?", class_="btn btn-sm btn-outline-secondary flag-btn",
                aria_label=f"Correct the topics of comment {cid}", type="button",
                data_flag_kind="wrong_topics", data_flag_input=flag_input, data_comment_key=cid),
        element("div", f"Flagged: {flagged}", class_="flag-note") if flagged else "",
    )


def _comment_cells(rec: dict, query: str, flag_input: str | None) -> list:
    topics = rec.get("topics")
    topics = [] if is_missing(topics) else list(topics)
    where = " · ".join(str(rec[c]) for c in ("location_1", "location_2", "location_3") if not is_missing(rec.get(c)))
    when = "" if is_missing(rec.get("date")) else pd.Timestamp(rec["date"]).strftime("%d %b %Y")
    question = "" if is_missing(rec.get("question")) else str(rec["question"])
    meta = " · ".join(p for p in (when, where, question) if p)
    text = str(rec.get("text") or "")
    shown = Markup(highlight(text, query)) if text else element("span", "(blank comment)", class_="blank-comment")
    flagged = ", ".join(name for name, on in (("interesting", rec.get("flagged")), ("topics corrected", rec.get("corrected")))
                        if not is_missing(on) and bool(on))
    cid = str(rec.get("comment_key") or rec.get("comment_id", ""))
    return [
        Cell(join(shown, element("div", meta, class_="c-meta")), class_="c-text"),
        Cell(join(*(element("span", t, class_="topic") for t in topics)), class_="c-topics"),
        sentiment_badge(rec.get("sentiment")),
        Cell(_flag_buttons(cid, flag_input, flagged, not is_missing(rec.get("flagged")) and bool(rec.get("flagged")))
             if flag_input else "", class_="c-actions"),
    ]


def comment_table(frame: pd.DataFrame, query: str = "", *, total: int | None = None, limit: int = 200,
                  flag_input: str | None = None) -> ui.TagList | ui.Tag:
    """Comments as an accessible table: text (hits of ``query`` highlighted), topics, sentiment, and
    (given ``flag_input``, the id flag requests go to) buttons to flag a comment or correct its topics.

    Every value is escaped (:mod:`html_table`): a comment holding markup shows as the text it is.
    """
    if frame.empty:
        return ui.p("No comments match these filters.", class_="empty-note")
    shown = frame.head(limit)
    records = shown.to_dict("records")
    table = html_table(
        ["Comment", "Topics", "Sentiment", element("span", "Actions", class_="visually-hidden")],
        (_comment_cells(rec, query, flag_input) for rec in records),
        classes="table comment-table", responsive=False,
        row_attrs=({"data-comment-id": str(rec.get("comment_key") or rec.get("comment_id", ""))} for rec in records),
    )
    total = len(frame) if total is None else total
    if total <= len(shown):
        return ui.TagList(table)
    return ui.TagList(table, ui.p(f"Showing the first {len(shown):,} of {total:,} comments. Narrow the filters or "
                                  "export to see them all.", class_="more-note"))


def privacy_note(n: int) -> ui.Tag:
    return ui.div(
        ui.p(f"Fewer than {n} comments match a demographic filter, so they are not shown: with so few, the people "
             "who wrote them could be recognised. Widen the filters to see comments."),
        class_="alert alert-info privacy-note", role="status",
    )


def empty_store_note() -> ui.Tag:
    return ui.div(
        ui.h3("No comments yet"),
        ui.p("Upload a file on the Upload page, or run ", ui.code("carelens demo"),
             " to load some demonstration comments."),
        class_="empty-store",
    )
