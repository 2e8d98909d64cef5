"""One kept scenario on the Demand and capacity page: who ran it and on what, its downloads, the
year-by-year fan chart beside every run's spread, the waterfall from the baseline, beds, theatres
and clinic rooms, and activity by point of delivery.

A Shiny module inside the page (ids ``demand-results-...``) so the page's own server keeps to
choosing, running and comparing scenarios. It draws whatever scenario the page hands it, and
nothing while the page reports a problem (so a failed run or load never leaves another
scenario's figures on screen as if they were the new one's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from shiny import module, reactive, render, ui

from carelens.demand.labels import CAPACITY, name
from carelens.web.dashboard import demand_views as views
from carelens.web.dashboard.widgets import chart

DISTRIBUTIONS = {"scurve": "S-curve", "beeswarm": "Beeswarm"}


@module.ui
def results_ui():
    return ui.TagList(
        ui.output_ui("header"),
        ui.layout_columns(
            ui.card(ui.card_header("Year by year: projected activity and capacity (P10–P90, P50)"),
                    ui.input_select("measure", None, choices={"beds|total": "Beds: All"}),
                    ui.output_ui("fan")),
            ui.card(ui.card_header("Every run in the horizon year"),
                    ui.input_radio_buttons("distribution", None, choices=DISTRIBUTIONS, inline=True),
                    ui.output_ui("spread")),
            col_widths=[7, 5],
        ),
        ui.layout_columns(
            ui.card(ui.card_header("Waterfall: from the baseline, step by step (principal)"),
                    ui.input_select("wf_measure", None, choices=views.WATERFALL_CHOICES, selected="ip|beddays"),
                    ui.output_ui("waterfall")),
            ui.card(ui.card_header("Beds by ward type"), ui.output_ui("beds"),
                    ui.card_header("Theatres and outpatient clinic rooms"), ui.output_ui("rooms")),
            col_widths=[6, 6],
        ),
        ui.card(ui.card_header("Activity by point of delivery (horizon year)"), ui.output_ui("summary")),
    )


@module.server
def results_server(input, output, session, shown: Callable, problem: Callable, store_is_empty: Callable[[], bool],
                   exported: Callable[[str, str], None] = lambda name, kind: None):
    """``shown()``: the Scenario to draw (or None); ``problem()``: the page's failure message, if any;
    ``exported(name, kind)`` is told of each download (the page records it in the audit log)."""

    @reactive.effect
    def _measures() -> None:  # the year-by-year choices are the open scenario's totals
        scenario = shown()
        if scenario is not None:
            choices = views.measure_choices(scenario.tables["run_totals"])
            with reactive.isolate():
                current = input.measure()
            ui.update_select("measure", choices=choices,
                             selected=current if current in choices else ("beds|total" if "beds|total" in choices
                                                                          else None))

    def _current():
        return None if problem() else shown()

    def _empty():
        if problem():
            return ui.p("No results: see the message above.", class_="hint demand-cleared")
        return ui.p("Open a kept scenario or run one to see this.", class_="hint")

    @render.ui
    def header():
        scenario = _current()
        if scenario is None:
            if store_is_empty() and not problem():
                return ui.div(ui.p("No scenarios are kept in this store yet. Run `carelens demo`, or choose "
                                   "trust data above and press Run and keep."), class_="empty-store")
            return ui.TagList()
        facts = views.scenario_facts(scenario.metadata())
        return ui.card(
            ui.card_header(ui.span("Scenario: "), ui.span(scenario.name, class_="demand-scenario-name")),
            ui.tags.dl(*[item for key, value in facts for item in (ui.tags.dt(key), ui.tags.dd(value))],
                       class_="demand-facts"),
            ui.div(ui.download_button("download_xlsx", "Workbook (XLSX)", class_="btn-outline-primary btn-sm"),
                   ui.download_button("download_html", "Report (HTML)", class_="btn-outline-primary btn-sm ms-2"),
                   ui.download_button("download_pdf", "Report (PDF)", class_="btn-outline-primary btn-sm ms-2")),
            class_="demand-scenario")

    @render.download_button(filename=lambda: views.file_name(shown().name if shown() else "scenario", ".xlsx"))
    async def download_xlsx():
        from carelens.demand.workbook import scenario_workbook

        exported(shown().name, "xlsx")
        yield await asyncio.to_thread(scenario_workbook, shown())

    @render.download_button(filename=lambda: views.file_name(shown().name if shown() else "scenario", ".html"))
    async def download_html():
        from carelens.demand.report import scenario_report

        exported(shown().name, "html")
        yield (await asyncio.to_thread(scenario_report, shown())).encode("utf-8")

    @render.download_button(filename=lambda: views.file_name(shown().name if shown() else "scenario", ".pdf"))
    async def download_pdf():
        from carelens.demand.report import report_pdf, scenario_report

        scenario = shown()
        exported(scenario.name, "pdf")
        yield await asyncio.to_thread(lambda: report_pdf(scenario_report(scenario)))

    def _measure() -> tuple[str, str]:
        value = input.measure() or "beds|total"
        activity, measure = value.split("|", 1)
        return activity, measure

    @render.ui
    def fan():
        scenario = _current()
        if scenario is None:
            return _empty()
        activity, measure = _measure()
        title = f"{name('activity', activity)}: {name('measure', measure)}"
        return chart(views.fan_figure(scenario.trajectories(), activity, measure, title), "fan", height=380)

    @render.ui
    def spread():
        scenario = _current()
        if scenario is None:
            return _empty()
        activity, measure = _measure()
        values = scenario.run_values(activity, measure)
        trajectories = scenario.trajectories()
        base = trajectories[(trajectories.activity == activity) & (trajectories.measure == measure)]["baseline"]
        fig = views.distribution_figure(values, float(base.iloc[0]) if len(base) else None,
                                        f"{scenario.end_year}: {len(values)} runs", input.distribution(),
                                        activity in CAPACITY)
        return chart(fig, "spread", height=380)

    @render.ui
    def waterfall():
        scenario = _current()
        if scenario is None:
            return _empty()
        activity, measure = (input.wf_measure() or "ip|beddays").split("|")

        fig = views.waterfall_figure(scenario.tables["waterfall"], activity, measure,
                                     f"{name('activity', activity)}: {name('measure', measure)}", scenario.end_year)
        return chart(fig, "waterfall", height=460)

    @render.ui
    def beds():
        scenario = _current()
        return _empty() if scenario is None else views.table(views.beds_table(scenario.tables["capacity_totals"]),
                                                              "beds_table")

    @render.ui
    def rooms():
        scenario = _current()
        return _empty() if scenario is None else views.table(views.rooms_table(scenario.tables["capacity_totals"]),
                                                              "rooms_table")

    @render.ui
    def summary():
        scenario = _current()
        return _empty() if scenario is None else views.table(views.activity_table(scenario.tables["summary"]),
                                                              "summary_table")
