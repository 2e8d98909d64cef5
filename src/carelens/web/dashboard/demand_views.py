"""What the Demand and capacity page draws: charts (plotly dicts) and tables, from a
:class:`~carelens.demand.scenario.Scenario` or a :class:`~carelens.demand.compare.Comparison`.

Pure functions (no reactivity), so the page stays wiring and these can be tested alone. Codes are
shown in words and numbers rounded (:mod:`carelens.demand.labels`); the waterfall's axis starts
near the baseline so that steps of a few per cent are visible.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from htmltools import HTML

from carelens.demand.labels import CAPACITY, heading, name, named, rounded

BLUE, DARK, GREEN, RED, GREY = "#005eb8", "#003087", "#007f3b", "#d5281b", "#768692"
SCENARIO_COLOURS = ["#005eb8", "#ed8b00", "#007f3b", "#7c2855", "#330072", "#768692"]
STATS = ("baseline", "principal", "p10", "p50", "p90")


def measure_choices(run_totals: pd.DataFrame) -> dict[str, str]:
    """``"activity|measure" -> words`` for every total a scenario has, activity first, then capacity."""
    pairs = run_totals[["activity", "measure"]].drop_duplicates()
    order = {"ip": 0, "op": 1, "aae": 2, "beds": 3, "theatres": 4, "clinic_rooms": 5}
    pairs = pairs.assign(o=pairs.activity.map(order).fillna(9), t=pairs.measure != "total").sort_values(["o", "t"])
    return {f"{a}|{m}": f"{name('activity', a)}: {name('measure', m)}" for a, m in zip(pairs.activity, pairs.measure)}


def _is_capacity(activity: str) -> bool:
    return activity in CAPACITY


def fan_figure(trajectories: pd.DataFrame, activity: str, measure: str, title: str) -> dict[str, Any]:
    """Year by year: the P10-P90 band, the P50 and the principal (mean), from the baseline year."""
    sel = trajectories[(trajectories.activity == activity) & (trajectories.measure == measure)].sort_values("year")
    years = sel["year"].tolist()
    fmt = ".1f" if _is_capacity(activity) else ",.0f"
    return {"data": [
        {"type": "scatter", "x": years, "y": sel["p90"].tolist(), "mode": "lines", "line": {"width": 0},
         "name": "P90", "showlegend": False, "hovertemplate": f"P90 %{{y:{fmt}}}<extra></extra>"},
        {"type": "scatter", "x": years, "y": sel["p10"].tolist(), "mode": "lines", "line": {"width": 0},
         "fill": "tonexty", "fillcolor": "rgba(0, 94, 184, 0.25)", "name": "P10 to P90",
         "hovertemplate": f"P10 %{{y:{fmt}}}<extra></extra>"},
        {"type": "scatter", "x": years, "y": sel["p50"].tolist(), "mode": "lines+markers", "line": {"color": BLUE},
         "name": "P50 (median)", "hovertemplate": f"P50 %{{y:{fmt}}}<extra></extra>"},
        {"type": "scatter", "x": years, "y": sel["principal"].tolist(), "mode": "lines",
         "line": {"color": "#212b32", "dash": "dot"}, "name": "Principal (mean)",
         "hovertemplate": f"Principal %{{y:{fmt}}}<extra></extra>"},
    ], "layout": {"title": {"text": title}, "xaxis": {"dtick": 1, "automargin": True},
                  "yaxis": {"tickformat": fmt, "automargin": True}, "legend": {"y": -0.12}}}


def distribution_figure(values: np.ndarray, baseline: float | None, title: str, kind: str,
                        capacity: bool) -> dict[str, Any]:
    """Every run in the horizon year: an S-curve (value against the share of runs at or below it) or
    a beeswarm (one dot per run), with the baseline marked."""
    fmt = ".1f" if capacity else ",.0f"
    values = np.sort(np.asarray(values, dtype=float))
    shapes = [] if baseline is None else [{"type": "line", "xref": "x", "yref": "paper", "x0": baseline,
                                           "x1": baseline, "y0": 0, "y1": 1, "line": {"dash": "dash", "color": GREY}}]
    notes = [] if baseline is None else [{"x": baseline, "y": 1, "xref": "x", "yref": "paper", "text": "baseline",
                                          "showarrow": False, "yanchor": "bottom", "font": {"color": GREY}}]
    if kind == "beeswarm":
        jitter = np.random.default_rng(0).uniform(-0.35, 0.35, len(values))  # fixed: the same picture each time
        data = [{"type": "scatter", "x": values.tolist(), "y": jitter.tolist(), "mode": "markers",
                 "marker": {"color": BLUE, "opacity": 0.6, "size": 7}, "name": "runs",
                 "hovertemplate": f"%{{x:{fmt}}}<extra></extra>"}]
        yaxis = {"visible": False, "range": [-1, 1], "automargin": True}
    else:
        share = (np.arange(1, len(values) + 1) / max(len(values), 1) * 100).tolist()
        data = [{"type": "scatter", "x": values.tolist(), "y": share, "mode": "lines+markers",
                 "line": {"color": BLUE, "shape": "hv"}, "marker": {"size": 4}, "name": "runs",
                 "hovertemplate": f"%{{x:{fmt}}}: %{{y:.0f}}% of runs at or below<extra></extra>"}]
        yaxis = {"title": {"text": "% of runs at or below"}, "range": [0, 102], "automargin": True}
    return {"data": data, "layout": {"title": {"text": title}, "xaxis": {"tickformat": fmt, "automargin": True},
                                     "yaxis": yaxis,
                                     "shapes": shapes, "annotations": notes, "showlegend": False}}


def waterfall_figure(waterfall: pd.DataFrame, activity: str, measure: str, title: str,
                     end_year: int) -> dict[str, Any]:
    """From the baseline, step by step (principal), to the projection; horizontal, with the value
    axis starting near the baseline (not at zero, where every step would be a sliver)."""
    sel = waterfall[(waterfall.activity == activity) & (waterfall.measure == measure)]
    labels = [name("step", s) for s in sel["step"]] + [f"Projection {end_year}"]
    values = sel["principal"].astype(float).tolist()
    levels = np.cumsum(values)
    span = [values[0], *levels.tolist()]
    low, high = min(span), max(span)
    pad = max((high - low) * 0.15, abs(high) * 0.01, 1.0)
    total = float(levels[-1]) if len(levels) else 0.0
    return {"data": [{
        "type": "waterfall", "orientation": "h", "y": labels, "x": [*values, total],
        "measure": ["absolute"] + ["relative"] * (len(values) - 1) + ["total"],
        "connector": {"line": {"color": "#aeb7bd"}}, "increasing": {"marker": {"color": GREEN}},
        "decreasing": {"marker": {"color": RED}}, "totals": {"marker": {"color": DARK}},
        "hovertemplate": "%{y}: %{x:,.0f}<extra></extra>"}],
        "layout": {"title": {"text": title}, "showlegend": False,
                   "xaxis": {"range": [low - pad, high + pad], "tickformat": ",.0f"},
                   "yaxis": {"autorange": "reversed", "automargin": True}, "margin": {"l": 10}}}


def lines_figure(trajectories: pd.DataFrame, names: list[str], activity: str, measure: str,
                 title: str) -> dict[str, Any]:
    """Each compared scenario's principal and P10-P90, year by year."""
    sel = trajectories[(trajectories.activity == activity) & (trajectories.measure == measure)].sort_values("year")
    data = []
    for i, scenario in enumerate(names):
        colour = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
        data.append({"type": "scatter", "x": sel["year"].tolist(), "y": sel[f"{scenario} | principal"].tolist(),
                     "mode": "lines+markers", "name": scenario, "line": {"color": colour},
                     "error_y": {"type": "data", "symmetric": False, "color": colour,
                                 "array": (sel[f"{scenario} | p90"] - sel[f"{scenario} | principal"]).tolist(),
                                 "arrayminus": (sel[f"{scenario} | principal"] - sel[f"{scenario} | p10"]).tolist()}})
    return {"data": data, "layout": {"title": {"text": title}, "xaxis": {"dtick": 1, "automargin": True},
                                     "yaxis": {"automargin": True}}}


#: Statistics' headings on the page: short (the page says what they are above its tables).
SHORT = {heading(s): s.upper() if s.startswith("p") and s != "principal" else s.capitalize() for s in STATS}


def _short(column: str) -> str:
    for long, short in SHORT.items():
        column = column.replace(long, short)
    return column


def _figure(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.1f}"
    return value


def table(frame: pd.DataFrame, table_id: str, *, plain: tuple[str, ...] = ("Year",)) -> HTML:
    """A table of a frame already in words and rounded (one escaped table helper: ``html_table``):
    figures with thousands separators and right-aligned, the statistics' headings short."""
    from carelens.web.dashboard.html_table import frame_table

    numeric = [str(c) for c in frame.columns if len(frame) and frame[c].dropna().map(
        lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))).all()]
    columns = {str(c): _short(str(c)) for c in frame.columns}
    shown = frame.set_axis([str(c) for c in frame.columns], axis=1)
    formats = {c: (str if c in plain else _figure) for c in numeric}
    return frame_table(shown, columns, table_id=table_id, classes="table table-sm demand-table", formats=formats,
                       numeric=numeric)


def beds_table(capacity_totals: pd.DataFrame) -> pd.DataFrame:
    beds = capacity_totals[capacity_totals.resource == "beds"]
    return named(rounded(beds)).drop(columns=heading("resource"))


def rooms_table(capacity_totals: pd.DataFrame) -> pd.DataFrame:
    rooms = named(rounded(capacity_totals[capacity_totals.resource != "beds"]), headings=False)
    what = [r if r == t else f"{r} ({t})" for r, t in zip(rooms["resource"], rooms["ward_type"])]
    rooms = rooms.drop(columns=["resource", "ward_type"])
    rooms.insert(0, "what", what)
    rooms.columns = ["Resource", *[heading(c) for c in rooms.columns[1:]]]
    return rooms


def activity_table(summary: pd.DataFrame) -> pd.DataFrame:
    return named(rounded(summary))


def file_name(name: str, suffix: str) -> str:
    """A download's file name from a scenario's name (letters, digits, - and _ only)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or "scenario"
    return f"{slug}{suffix}"


def scenario_facts(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """The scenario's header lines: who ran it, when, on what, with which carelens."""
    return [("Run by", str(meta["Run by"])), ("Run at (UTC)", str(meta["Run at (UTC)"]).replace("T", " ")[:16]),
            ("Data", str(meta["Data"])), ("Data fingerprint", str(meta["Data fingerprint (SHA-256)"])[:16] + "…"),
            ("Years", f"{meta['Baseline year']} to {meta['Horizon year']} ({meta['Projection years']})"),
            ("Monte Carlo runs", str(meta["Monte Carlo runs"])), ("carelens", str(meta["carelens version"]))]
