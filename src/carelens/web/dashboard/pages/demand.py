"""Demand and capacity: open a kept scenario, run a new one with changed assumptions, compare them,
and take the results away.

The page only collects choices and draws (:mod:`carelens.web.dashboard.demand_views`); scenarios
are ``carelens.demand`` (the same code as ``carelens demand run``). It opens the demo's scenario
(or the newest) at first visit. The data a new scenario runs on is a stored scenario's data, an
upload, or a synthetic trust carelens makes: never a folder typed on the server, and no server
path is ever shown. A run happens in a process of its own (:mod:`carelens.demand.background`),
so other people's pages stay quick; it shows progress and can be stopped, and what it produces
is kept in the store under the name given.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shiny import module, reactive, render, ui

from carelens.demand.new_scenario import SYNTH_SPELLS, SYNTHETIC, UPLOAD
from carelens.access.roles import Permission
from carelens.demand.scenario import DEMO_SCENARIO
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.demand_results import results_server, results_ui
from carelens.web.dashboard.jobs import BackgroundJob
from carelens.web.dashboard.registry import Page

MIX = "(the scenario's mix)"


def problem_alert(message: str) -> ui.Tag:
    """The latest failure, above the results, saying that older results are no longer shown."""
    return ui.div(
        ui.strong(message),
        ui.p("No results are shown until a scenario opens or a projection runs.", class_="mb-0 mt-1"),
        class_="alert alert-danger demand-error", role="alert")


@module.ui
def page_ui():
    return ui.TagList(
        ui.p("Project hospital activity to a horizon year with NHP's Monte Carlo method (the New Hospital "
             "Programme demand model), then the beds, theatres and clinic rooms it needs. Every run draws "
             "each assumption from its 80% interval; the bands show the 10th to 90th percentile of the runs. "
             "Principal: the mean of the runs; P10, P50, P90: 10%, half and 90% of runs gave less. "
             "Scenarios are kept: open one, change its assumptions and run a new one, then compare them.",
             class_="hint"),
        ui.layout_columns(
            ui.card(
                ui.card_header("Kept scenarios"),
                ui.input_select("open_name", "Scenario", choices=[]),
                ui.input_action_button("open", "Open", class_="btn-outline-primary"),
                ui.input_selectize("compare_names", "Compare (two or more)", choices=[], multiple=True),
                ui.input_action_button("compare", "Compare", class_="btn-outline-primary"),
            ),
            ui.card(
                ui.card_header("New scenario"),
                ui.input_select("source", "Trust data", choices={}),
                ui.input_file("data_file", "Or upload a trust's data: a ZIP of its folder, or its tables "
                              "(ip.csv, op.csv, aae.csv, demographic_factors.csv, ...)",
                              accept=[".zip", ".csv", ".parquet", ".json"], multiple=True,
                              button_label="Choose files…"),
                ui.input_file("params_file", "Scenario params (NHP JSON, optional: else the open scenario's)",
                              accept=[".json"], button_label="Choose file…"),
                ui.input_text("name", "Name to keep it under", value=""),
                ui.output_ui("source_info"),
            ),
            col_widths=[5, 7],
        ),
        ui.layout_columns(
            ui.card(
                ui.card_header("Main assumptions"),
                ui.input_numeric("end_year", "Horizon year", value=2035, min=2024, max=2050),
                ui.input_select("variant", "Population projection", choices=[MIX], selected=MIX),
                ui.input_checkbox("hsa", "Health-status adjustment (older people in better health)", value=True),
                ui.input_slider("ndg", "Non-demographic growth, % a year (80% interval)", min=-2.0, max=5.0,
                                value=(0.0, 2.0), step=0.1),
                ui.input_slider("strategies", "Activity avoidance and efficiencies, % of the scenario's effect",
                                min=0, max=200, value=100, step=10),
            ),
            ui.card(
                ui.card_header("Capacity and runs"),
                ui.input_slider("occupancy", "Target occupancy of overnight wards, %", min=70, max=100,
                                value=92, step=1),
                ui.input_slider("theatre_util", "Theatre utilisation, %", min=50, max=100, value=85, step=1),
                ui.input_slider("clinic_util", "Clinic room utilisation, %", min=50, max=100, value=85, step=1),
                ui.input_numeric("runs", "Monte Carlo runs", value=64, min=8, max=1024),
                ui.input_numeric("points", "Projection years (year by year, to the horizon)", value=4, min=1, max=12),
                ui.div(ui.input_action_button("run", "Run and keep", class_="btn-primary"),
                       ui.input_action_button("stop", "Stop", class_="btn-outline-danger ms-2"),
                       class_="d-flex"),
                ui.output_ui("progress"),
            ),
            col_widths=[6, 6],
        ),
        ui.output_ui("messages"),
        ui.output_ui("compare_view"),
        results_ui("results"),
    )


@module.server
def page_server(input, output, session, app: AppContext):  # noqa: C901 - one page's wiring
    from carelens.demand.background import Cancelled
    from carelens.demand.new_scenario import NewScenario, Stopper, run_and_keep
    from carelens.demand.store import list_scenarios, load_scenario, stored_datasets
    from carelens.errors import CarelensError
    from carelens.web.dashboard import demand_views as views
    from carelens.web.dashboard.widgets import chart

    store = app.settings.database_url
    listing = reactive.value(None)  # stored scenarios (a frame), refreshed after each kept run
    shown = reactive.value(None)  # the Scenario on screen
    comparison = reactive.value(None)
    problem: reactive.Value[str | None] = reactive.value(None)
    notice: reactive.Value[str | None] = reactive.value(None)
    uploaded = reactive.value(None)  # carelens.demand.upload.Uploaded
    job: dict[str, Any] = {"stopper": None}
    who = app.user.label  # the signed-in user, recorded on what they keep (the audit log has the full name)

    def _refresh_listing(select: str | None = None) -> None:
        frame = list_scenarios(store)
        listing.set(frame)
        openable = frame[frame.can_open] if len(frame) else frame
        names = list(openable["name"]) if len(openable) else []
        labels = {n: f"{n} ({str(c)[:10]}, {b})" for n, c, b in zip(names, openable.get("created", []),
                                                                     openable.get("created_by", []))}
        chosen = select if select in names else (DEMO_SCENARIO if DEMO_SCENARIO in names else
                                                 (names[0] if names else None))
        ui.update_select("open_name", choices=labels, selected=chosen)
        ui.update_selectize("compare_names", choices=names, selected=[n for n in (input.compare_names() or ())
                                                                      if n in names])
        sets = stored_datasets(store)
        sources = {fp: f"{label} (kept with '{sc}')" if isinstance(sc, str) else str(label)
                   for fp, label, sc in zip(sets.get("fingerprint", []), sets.get("label", []),
                                            sets.get("scenario", []))}
        sources[UPLOAD] = "Upload a trust's data (ZIP, or CSV/parquet files)"
        sources[SYNTHETIC] = f"A synthetic trust carelens makes ({SYNTH_SPELLS:,} spells)"
        current = input.source()
        ui.update_select("source", choices=sources, selected=current if current in sources else next(iter(sources)))

    def _open(name: str) -> None:
        from carelens.demand.params import scenario_defaults

        try:
            scenario = load_scenario(store, name)
        except CarelensError as exc:
            problem.set(f"Could not open the scenario: {exc}")
            shown.set(None)
            return
        problem.set(None)
        comparison.set(None)
        shown.set(scenario)
        d = scenario_defaults(scenario.params)
        ui.update_numeric("end_year", value=d["end_year"], min=d["start_year"] + 1, max=2050)
        ui.update_select("variant", choices=[MIX, *d["variants"]], selected=MIX)
        ui.update_checkbox("hsa", value=d["health_status_adjustment"])
        ui.update_slider("ndg", value=d["ndg_percent"])
        ui.update_slider("occupancy", value=round(100 * d["occupancy"]))
        ui.update_slider("theatre_util", value=round(100 * d["theatre_utilisation"]))
        ui.update_slider("clinic_util", value=round(100 * d["clinic_utilisation"]))
        ui.update_numeric("runs", value=scenario.runs or 64)
        ui.update_numeric("points", value=max(1, len(scenario.years) - 1))
        ui.update_text("name", value=f"{scenario.name} (changed)")
        if scenario.data_fingerprint in set(stored_datasets(store).get("fingerprint", [])):
            ui.update_select("source", selected=scenario.data_fingerprint)

    @reactive.effect
    def _first_visit() -> None:  # the demo's scenario (or the newest) opens by itself
        with reactive.isolate():
            if listing() is not None:
                return
            try:
                _refresh_listing()
            except CarelensError as exc:
                problem.set(f"Could not read the kept scenarios: {exc}")
                return
            frame = listing()
            openable = frame[frame.can_open] if len(frame) else frame
            if len(openable):
                names = list(openable["name"])
                _open(DEMO_SCENARIO if DEMO_SCENARIO in names else names[0])

    @reactive.effect
    @reactive.event(input.open)
    def _open_chosen() -> None:
        if input.open_name():
            app.audit("view", f"demand scenario {input.open_name()}")
            _open(input.open_name())

    @reactive.effect
    @reactive.event(input.data_file)
    def _read_upload() -> None:
        from carelens.demand.upload import read_upload

        files = input.data_file() or []
        try:
            found = read_upload(list(files), app.settings.max_request_bytes)
        except CarelensError as exc:
            app.audit("upload", "demand data", {"files": len(files)}, outcome="failed")
            uploaded.set(None)
            problem.set(f"Could not read the uploaded data: {exc}")
            return
        app.audit("upload", "demand data", {"files": len(files), "label": found.label})
        problem.set(None)
        uploaded.set(found)
        ui.update_select("source", selected=UPLOAD)

    @render.ui
    def source_info():
        source = input.source()
        if source == UPLOAD:
            found = uploaded()
            if found is None:
                return ui.p("Choose the trust's files above.", class_="hint")
            from carelens.demand.data import describe_data

            extra = "; with its params.json" if found.params is not None else ""
            return ui.p(f"{found.label}: {describe_data(found.data)}{extra}.", class_="hint demand-upload-info")
        if source == SYNTHETIC:
            return ui.p("Generated on first use, the same every time (seeded).", class_="hint")
        return ui.TagList()

    # ------------------------------------------------------------------ running a new scenario
    def _request(name: str, runs: int, points: int) -> NewScenario:
        """The planner's choices as plain values (reading the data and params waits for the job)."""
        variant = input.variant()
        lo, hi = input.ndg()
        upload = (input.params_file() or [None])[0]
        return NewScenario(
            source=input.source(), store=store, uploaded=uploaded(),
            base=shown().params if shown() is not None else None,
            params_file=(upload["datapath"], upload.get("name")) if upload else None,
            changes=dict(end_year=int(input.end_year()), variant=None if variant == MIX else variant,
                         health_status_adjustment=bool(input.hsa()), ndg_percent=(lo, hi),
                         strategy_scale=input.strategies() / 100, occupancy=input.occupancy() / 100,
                         theatre_utilisation=input.theatre_util() / 100,
                         clinic_utilisation=input.clinic_util() / 100),
            options=dict(name=name, runs=runs, points=points, created_by=who))

    projection = BackgroundJob(run_and_keep)

    @reactive.effect
    @reactive.event(input.run)
    def _start() -> None:
        from carelens.demand.scenario import check_name
        from carelens.demand.store import check_name_free

        if projection.running():
            return
        notice.set(None)
        try:
            name = check_name(input.name())
            check_name_free(store, name)
            runs = int(input.runs() or 64)
            points = int(input.points() or 1)
            request = _request(name, runs, points)
        except CarelensError as exc:
            problem.set(f"Could not run the projection: {exc}")
            return
        except (TypeError, ValueError):  # an emptied number box
            problem.set("Could not run the projection: fill in the horizon year, runs and projection years.")
            return
        if not 1 <= runs <= 1024 or not 1 <= points <= 12:
            problem.set("Could not run the projection: runs must be 1 to 1,024 and projection years 1 to 12.")
            return
        if request.source == UPLOAD and request.uploaded is None:
            problem.set("Could not run the projection: upload the trust's data first.")
            return
        problem.set(None)
        app.audit("run_projection", name, {"runs": runs, "points": points, "source": request.source})
        job["stopper"], job["name"] = Stopper(), name
        projection.start(request, job["stopper"])

    @reactive.effect
    @reactive.event(input.stop)
    def _stop() -> None:
        if job["stopper"] is not None and projection.running():
            job["stopper"].stop()

    @reactive.effect
    def _finished() -> None:
        status = projection.status()
        if status == "success":
            with reactive.isolate():
                scenario = projection.result()
                before = shown()
                _refresh_listing(select=scenario.name)
                _open(scenario.name)
                pair = [n for n in (before.name if before is not None else None, scenario.name) if n]
                ui.update_selectize("compare_names", selected=pair)
                app.audit("keep_projection", scenario.name, {"runs": scenario.runs})
                notice.set(f"Kept as '{scenario.name}'.")
        elif status == "error":
            with reactive.isolate():
                error = projection.error()
                app.audit("keep_projection", job.get("name"), {"error": type(error).__name__}, outcome="failed")
                if isinstance(error, Cancelled):
                    notice.set("Stopped: nothing was kept.")
                elif isinstance(error, CarelensError):
                    problem.set(f"Could not run the projection: {error}")
                else:  # shown in one line; the traceback is in the server's log
                    problem.set(f"The projection failed: {str(error).splitlines()[0]}")

    @render.ui
    def progress():
        stopper = job["stopper"]
        words = (lambda done, total: "Stopping…") if stopper is not None and stopper.stopped else (
            lambda done, total: f"Running: {done:,} of {total:,} model runs" if done else
            "Getting the data and assumptions ready…")
        return projection.progress_bar("Projection progress", words, class_="demand-progress") or ui.TagList()

    @render.ui
    def messages():
        items = [problem_alert(problem())] if problem() else []
        if notice():
            items.append(ui.div(notice(), class_="alert alert-info demand-notice", role="status"))
        scenario = shown()
        if scenario is not None and not problem():
            items += [ui.div(w, class_="alert alert-warning demand-warning") for w in scenario.warnings]
        return ui.TagList(*items)

    # ------------------------------------------------------------------ the open scenario
    results_server("results", shown, problem, lambda: listing() is not None and not len(listing()),
                   lambda name, kind: app.audit("export", f"demand scenario {name}", {"format": kind}))

    # ------------------------------------------------------------------ comparing
    @reactive.effect
    @reactive.event(input.compare)
    def _compare() -> None:
        from carelens.demand.compare import compare

        names = list(input.compare_names() or ())
        app.audit("view", "demand comparison", {"scenarios": names})
        try:
            comparison.set(compare([load_scenario(store, n) for n in names]))
        except CarelensError as exc:
            comparison.set(None)
            notice.set(f"Could not compare: {exc}")
            return
        notice.set(None)

    @render.ui
    def compare_view():
        cmp = comparison()
        if cmp is None:
            return ui.TagList()
        from carelens.demand.compare import in_words, parameters_in_words

        differences = parameters_in_words(cmp.differences())
        choices = views.measure_choices(cmp.scenarios[0].tables["run_totals"])
        return ui.card(
            ui.card_header("Compared: " + " vs ".join(cmp.names)),
            ui.div(ui.download_button("download_compare", "Comparison workbook (XLSX)",
                                      class_="btn-outline-primary btn-sm"),
                   ui.download_button("download_compare_html", "Comparison report (HTML)",
                                      class_="btn-outline-primary btn-sm ms-2"),
                   ui.download_button("download_compare_pdf", "Comparison report (PDF)",
                                      class_="btn-outline-primary btn-sm ms-2"), class_="mb-2"),
            ui.h5(f"What differs: {len(differences)} of {len(cmp.parameters)} parameters"),
            views.table(differences, "compare_differences"),
            ui.input_select("compare_measure", None, choices=choices,
                            selected="beds|total" if "beds|total" in choices else None),
            ui.output_ui("compare_chart"),
            ui.h5("Beds, theatres and clinic rooms"),
            views.table(in_words(cmp.capacity, ["resource", "ward_type"]), "compare_capacity"),
            ui.h5("Waterfall of each scenario: from the baseline, step by step (principal)"),
            ui.input_select("compare_wf_measure", None, choices=views.WATERFALL_CHOICES, selected="ip|beddays"),
            ui.output_ui("compare_waterfalls"),
            views.table(in_words(cmp.waterfall, ["activity", "measure", "step"]), "compare_waterfall"),
            ui.h5("Activity by point of delivery"),
            views.table(in_words(cmp.activity, ["pod", "measure"]), "compare_activity"),
            class_="demand-compare")

    @render.ui
    def compare_chart():
        cmp = comparison()
        if cmp is None or not input.compare_measure():
            return ui.TagList()
        from carelens.demand.labels import name

        activity, measure = input.compare_measure().split("|", 1)
        title = f"{name('activity', activity)}: {name('measure', measure)} (principal, P10–P90)"
        return chart(views.lines_figure(cmp.trajectories, cmp.names, activity, measure, title), "compare_lines",
                     height=340)

    @render.ui
    def compare_waterfalls():
        cmp = comparison()
        if cmp is None or not input.compare_wf_measure():
            return ui.TagList()
        from carelens.demand.labels import name

        activity, measure = input.compare_wf_measure().split("|", 1)
        title = f"{name('activity', activity)}: {name('measure', measure)}"
        return chart(views.waterfalls_figure(cmp.scenarios, activity, measure, title), "compare_waterfalls",
                     height=540)

    def _compare_file(suffix: str) -> str:
        return views.file_name(" vs ".join(comparison().names) if comparison() else "compare", suffix)

    @render.download_button(filename=lambda: _compare_file(".xlsx"))
    async def download_compare():
        from carelens.demand.workbook import comparison_workbook

        app.audit("export", "demand comparison", {"format": "xlsx", "scenarios": comparison().names})
        yield await asyncio.to_thread(comparison_workbook, comparison())

    @render.download_button(filename=lambda: _compare_file(".html"))
    async def download_compare_html():
        from carelens.demand.report import comparison_report

        app.audit("export", "demand comparison", {"format": "html", "scenarios": comparison().names})
        yield (await asyncio.to_thread(comparison_report, comparison())).encode("utf-8")

    @render.download_button(filename=lambda: _compare_file(".pdf"))
    async def download_compare_pdf():
        from carelens.demand.report import comparison_report, report_pdf

        cmp = comparison()
        app.audit("export", "demand comparison", {"format": "pdf", "scenarios": cmp.names})
        yield await asyncio.to_thread(lambda: report_pdf(comparison_report(cmp)))


PAGE = Page(permission=Permission.DEMAND, id="demand", title="Demand and capacity", ui=page_ui, server=page_server)
