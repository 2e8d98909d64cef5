"""A parameters-and-results report of a scenario, or of a comparison, as HTML (and PDF).

The report is the board paper: what the scenario assumed and ran on first, then the beds,
theatres and clinic rooms, year by year, the waterfall from the baseline, the spread of the runs,
activity by point of delivery, and every parameter. It hands plain values and SVG charts to
``reports/templates/demand_report.html`` (one Jinja2 environment, autoescaped); the PDF is the
same page drawn by WeasyPrint (:func:`carelens.reports.render.render_pdf`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from carelens.demand.compare import Comparison, in_words, parameter_values
from carelens.demand.labels import CAPACITY, name, named, rounded
from carelens.demand.scenario import Scenario
from carelens.demand.workbook import EXPLAINED


def _figure(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) or hasattr(value, "is_integer"):
        try:
            return f"{int(value):,}"
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(title: str, frame: pd.DataFrame, note: str = "") -> dict[str, Any]:
    numeric = [str(c) for c in frame.columns if len(frame) and frame[c].dropna().map(_is_number).all()]
    plain = [str(c) == "Year" for c in frame.columns]  # years are not quantities: no thousands separator
    rows = [[str(v) if is_plain else _figure(v) for v, is_plain in zip(values, plain)]
            for values in frame.itertuples(index=False, name=None)]
    return {"title": title, "note": note, "columns": [str(c) for c in frame.columns], "numeric": numeric,
            "rows": rows}


def _headline(scenario: Scenario) -> list[dict[str, str]]:
    totals = scenario.tables["capacity_totals"]
    items = []
    for resource in CAPACITY:
        rows = totals[totals.resource == resource]
        if rows.empty:
            continue
        sums = rows[["baseline", "principal"]].sum()
        runs = scenario.run_values(resource, "total")
        lo, hi = (float(pd.Series(runs).quantile(0.1)), float(pd.Series(runs).quantile(0.9))) if len(runs) else (
            sums["principal"], sums["principal"])
        items.append({"label": f"{name('resource', resource)} in {scenario.end_year}",
                      "value": f"{sums['principal']:,.1f}",
                      "detail": f"P10 {lo:,.1f} to P90 {hi:,.1f}; baseline {sums['baseline']:,.1f}"})
    return items


def _charts(scenario: Scenario) -> list[str]:
    from carelens.reports.charts import band_chart, s_curve, waterfall_chart

    charts = []
    trajectories = scenario.trajectories()
    beds = trajectories[(trajectories.activity == "beds") & (trajectories.measure == "total")]
    if len(beds) > 1:
        charts.append(band_chart(list(beds.year), list(beds.p10), list(beds.p50), list(beds.p90),
                                 "Beds, all wards, year by year", mean=list(beds.principal), ylabel="Beds"))
    wf = scenario.tables["waterfall"]
    days = wf[(wf.activity == "ip") & (wf.measure == "beddays")]
    if len(days):
        charts.append(waterfall_chart([name("step", s) for s in days.step], list(days.principal),
                                      f"Inpatient bed days: from the baseline to {scenario.end_year} (principal)",
                                      total_label=f"Projection {scenario.end_year}"))
    runs = scenario.run_values("beds", "total")
    if len(runs):
        base = beds[beds.year == scenario.start_year]["baseline"]
        marks = {"baseline": float(base.iloc[0])} if len(base) else None
        charts.append(s_curve(list(runs), f"Beds in {scenario.end_year}: every run, lowest to highest",
                              "Beds, all wards", marks=marks))
    return charts


def _about(scenario: Scenario) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in scenario.metadata().items()] + [
        ("Warnings", "; ".join(scenario.warnings) or "none")]


def scenario_report(scenario: Scenario) -> str:
    """The scenario's report as one offline HTML page."""
    from carelens.reports.templating import render

    capacity = named(rounded(scenario.tables["capacity_totals"]))
    trajectories = scenario.trajectories()
    years = named(rounded(trajectories[trajectories.measure.isin(["total", "admissions", "beddays",
                                                                     "attendances", "arrivals"])]))
    activity = named(rounded(scenario.tables["summary"]))
    params = pd.DataFrame(list(parameter_values(scenario).items()), columns=["Parameter", "Value"])
    tables = [
        _table("Beds, theatres and clinic rooms", capacity,
               f"In {scenario.end_year}. Beds: bed days / (days open x target occupancy); theatres and rooms: "
               "hours of activity / (hours available x utilisation)."),
        _table("Year by year", years, "Each year is its own projection to that year; the baseline year is the "
                                      "data as it is."),
        _table("Activity by point of delivery", activity, f"In {scenario.end_year}."),
        _table("Parameters", params, "Every assumption of this scenario (80% intervals as 'low to high')."),
    ]
    return render("demand_report.html", title=f"Scenario: {scenario.name}", about=_about(scenario),
                  headline=_headline(scenario), charts=_charts(scenario), tables=tables, explained=EXPLAINED,
                  produced=datetime.now().strftime("%d %B %Y %H:%M"), version=scenario.carelens_version)


def comparison_report(comparison: Comparison) -> str:
    """Scenarios side by side as one offline HTML page: what differs first."""
    from carelens.reports.charts import lines_chart
    from carelens.reports.templating import render

    about = []
    for scenario in comparison.scenarios:
        meta = scenario.metadata()
        about.append((scenario.name, f"run {meta['Run at (UTC)']} by {meta['Run by']} with carelens "
                                     f"{meta['carelens version']}; {meta['Monte Carlo runs']} runs; data "
                                     f"{meta['Data']} ({meta['Data fingerprint (SHA-256)'][:12]})"))
    params = comparison.parameters
    differences = comparison.differences().rename(columns={"parameter": "Parameter"})
    charts = []
    years = comparison.trajectories
    beds = years[(years.activity == "beds") & (years.measure == "total")]
    if len(beds) > 1:
        charts.append(lines_chart(list(beds.year), {n: list(beds[f"{n} | principal"]) for n in comparison.names},
                                  "Beds, all wards, year by year (principal)", ylabel="Beds"))
    tables = [
        _table("What differs", differences, f"{len(differences)} of {len(params)} parameters differ; the others "
                                            "are the same in every scenario (all are in the workbook)."),
        _table("Beds, theatres and clinic rooms", in_words(comparison.capacity, ["resource", "ward_type"])),
        _table("Activity by point of delivery", in_words(comparison.activity, ["pod", "measure"])),
        _table("Waterfall (principal)", in_words(comparison.waterfall, ["activity", "measure", "step"])),
    ]
    return render("demand_report.html", title="Scenarios compared: " + " vs ".join(comparison.names), about=about,
                  headline=[], charts=charts, tables=tables, explained=EXPLAINED,
                  produced=datetime.now().strftime("%d %B %Y %H:%M"),
                  version=comparison.scenarios[0].carelens_version)


def report_pdf(html: str) -> bytes:
    """The same report as PDF (WeasyPrint; ``CarelensError`` when it or Pango is missing)."""
    from carelens.reports.render import render_pdf

    return render_pdf(html)
