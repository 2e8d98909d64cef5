"""Small shared pieces: plotly charts that report clicks, and the comment table.

Charts are plotly figures rendered to HTML with plotly.js served locally (no CDN: trusts run this
offline). A click on any bar, point or heatmap cell sends ``input.chart_click`` = {chart, x, y,
curve} to the server, which shows the comments behind that element.
"""

from __future__ import annotations

import html
import json

import pandas as pd
from shiny import ui

from carelens.web.dashboard.data import SENTIMENT_COLOURS, SENTIMENT_NAMES, highlight

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


def chart_slot(chart_id: str) -> ui.Tag:
    """A chart's persistent place on a page; fill it with :func:`chart_update` from a render function.

    Why: updating one plotly div in place (``Plotly.react``), and drawing charts below the fold only
    when they scroll into view (``www/carelens.js``), keeps a filter change quick.
    """
    return ui.div(ui.div(id=f"chart-{chart_id}", class_="plotly-graph-div", style="height:0px; width:100%;"),
                  {"class": "carelens-chart", "data-chart": chart_id})


def chart_update(fig, chart_id: str, height: int = 420) -> ui.Tag:
    """Script drawing ``fig`` into :func:`chart_slot` ``chart_id`` (``fig=None`` clears it)."""
    payload = "null" if fig is None else _payload(fig, height)
    return ui.tags.script(ui.HTML(f'carelensPlot("chart-{chart_id}", {payload});'))


def chart(fig, chart_id: str, height: int = 420) -> ui.Tag:
    """A plotly figure as HTML whose clicks reach the server as ``chart_click`` (a new div each time;
    pages that redraw often should use :func:`chart_slot` and :func:`chart_update`).

    ``fig`` is a plain ``{"data": [...], "layout": {...}}`` dict (columns may be numpy/pandas) or a
    ``plotly.graph_objects.Figure``. Why dicts: building and validating graph objects took most of a
    filter change's server time; a dict is serialised straight to JSON for plotly.js.
    """
    return ui.TagList(chart_slot(chart_id), chart_update(fig, chart_id, height))


def sentiment_badge(value) -> str:
    if value is None or pd.isna(value):
        return '<span class="badge sent-na">No sentiment</span>'
    v = int(value)
    return (
        f'<span class="badge sent-{v}" style="background:{SENTIMENT_COLOURS[v]}">'
        f"{html.escape(SENTIMENT_NAMES[v])}</span>"
    )


def comment_table(frame: pd.DataFrame, query: str = "", *, total: int | None = None, limit: int = 200,
                  flags: bool = True) -> ui.Tag:
    """Comments as an accessible HTML table: text (hits highlighted), topics, sentiment, actions."""
    if frame.empty:
        return ui.p("No comments match these filters.", class_="empty-note")
    shown = frame.head(limit)
    rows = []
    for rec in shown.to_dict("records"):
        cid = str(rec.get("comment_key") or rec.get("comment_id", ""))
        topics = rec.get("topics") or []
        where = " · ".join(str(rec[c]) for c in ("location_1", "location_2", "location_3") if rec.get(c) is not None and pd.notna(rec.get(c)))
        when = rec.get("date")
        when = pd.Timestamp(when).strftime("%d %b %Y") if when is not None and pd.notna(when) else ""
        flag = ", ".join(n for n, on in (("interesting", rec.get("flagged")), ("topics corrected", rec.get("corrected"))) if on is not None and on is not pd.NA and bool(on))
        actions = ""
        if flags:
            cid_js = html.escape(json.dumps(cid))
            actions = (
                f'<button class="btn btn-sm btn-outline-primary flag-btn" aria-label="Mark comment {html.escape(cid)} as interesting" '
                f"onclick=\"Shiny.setInputValue('flag_request', {{id: {cid_js}, kind: 'interesting', n: Math.random()}}, {{priority: 'event'}})\">"
                "Interesting</button> "
                f'<button class="btn btn-sm btn-outline-secondary flag-btn" aria-label="Correct the topics of comment {html.escape(cid)}" '
                f"onclick=\"Shiny.setInputValue('flag_request', {{id: {cid_js}, kind: 'wrong_topics', dialog: !!this.closest('.modal'), n: Math.random()}}, {{priority: 'event'}})\">"
                "Wrong topics?</button>"
            )
            if flag:
                actions += f'<div class="flag-note">Flagged: {html.escape(flag)}</div>'
        rows.append(
            f'<tr data-comment-id="{html.escape(cid)}">'
            f'<td class="c-text">{highlight(str(rec.get("text") or ""), query) or "<span class=blank-comment>(blank comment)</span>"}'
            f'<div class="c-meta">{html.escape(when)}{" · " if when and where else ""}{html.escape(where)}'
            f'{" · " + html.escape(str(rec["question"])) if rec.get("question") is not None and pd.notna(rec.get("question")) else ""}</div></td>'
            f'<td class="c-topics">{"".join(f"<span class=topic>{html.escape(t)}</span>" for t in topics)}</td>'
            f"<td>{sentiment_badge(rec.get('sentiment'))}</td>"
            f'<td class="c-actions">{actions}</td></tr>'
        )
    total = len(frame) if total is None else total
    more = "" if total <= len(shown) else f"<p class='more-note'>Showing the first {len(shown):,} of {total:,} comments. Narrow the filters or export to see them all.</p>"
    return ui.HTML(
        '<table class="table comment-table"><thead><tr><th scope="col">Comment</th><th scope="col">Topics</th>'
        '<th scope="col">Sentiment</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>" + more
    )


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
