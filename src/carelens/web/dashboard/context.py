"""State every page shares: the store, the sidebar filters, and drill-through / flag actions.

One ``DashboardContext`` exists per browser session. Filtering and summaries are the store layer's
(``carelens.feedback.store.queries``: an in-memory view per database, refreshed after each write); the context
turns sidebar inputs into one ``CommentFilters`` and re-runs the pages when it or the data changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from shiny import reactive, render, ui

from carelens.config import Settings
from carelens.errors import CarelensError
from carelens.feedback.store.filters import CommentFilters
from carelens.web.dashboard.data import (
    FFT_NAMES,
    SENTIMENT_NAMES,
    element_filters,
    element_title,
    masked,
)
from carelens.web.dashboard.widgets import comment_table

POLL_SECONDS = 3


@lru_cache(maxsize=4)
def _framework(model_dir: str | None):
    from carelens.feedback import load_framework

    if model_dir:
        import json
        from pathlib import Path

        from carelens.feedback.framework import Framework

        path = Path(model_dir) / "framework.json"
        return Framework.from_dict(json.loads(path.read_text("utf-8")), source=str(path))
    return load_framework()


def framework_for(settings: Settings):
    """The framework of the model in use (the packaged model's v7 unless settings name another)."""
    return _framework(settings.feedback_model)


def topic_choices(categories: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Sub-categories grouped under their category, in the {group: {value: label}} shape selectize needs
    (a plain list per group is joined into one option)."""
    return {cat: {t: t for t in topics} for cat, topics in categories.items()}


def sidebar(settings: Settings) -> ui.Sidebar:
    return ui.sidebar(
        ui.h2("Filter comments", class_="sidebar-title"),
        ui.input_text("f_search", "Search the comments", placeholder="e.g. parking staff"),
        ui.input_date_range("f_dates", "Date received", start=None, end=None, format="dd/mm/yyyy"),
        *[ui.input_selectize(f"f_loc_{i + 1}", level, choices=[], multiple=True, options={"placeholder": "All"})
          for i, level in enumerate(settings.location_levels)],
        ui.input_selectize("f_question", "Question", choices=[], multiple=True, options={"placeholder": "All"}),
        ui.input_checkbox_group("f_fft", "FFT answer", choices={str(k): v for k, v in FFT_NAMES.items()}),
        ui.input_selectize("f_category", "Category", choices=[], multiple=True, options={"placeholder": "All"}),
        ui.input_selectize("f_topic", "Sub-category", choices=[], multiple=True, options={"placeholder": "All"}),
        ui.input_checkbox_group("f_sentiment", "Sentiment", choices={str(k): v for k, v in SENTIMENT_NAMES.items()}),
        ui.output_ui("f_demographics"),
        ui.input_action_button("f_reset", "Clear all filters", class_="btn-outline-secondary btn-sm"),
        id="filters",
        width=300,
        open="desktop",
    )


@dataclass
class DashboardContext:
    settings: Settings
    engine: sa.Engine
    input: Any
    version: Any = None  # reactive: changes after any write to the store
    options: Any = None  # reactive.calc -> store.queries.filter_options
    filters: Any = None  # reactive.calc -> CommentFilters
    total: Any = None  # reactive.calc -> number of comments passing the filters
    load_error: Any = None  # reactive.value[str]
    refresh: Any = None  # reactive.value[int]; bump after a write from this session
    drill: Any = None  # reactive.value[dict | None]: the chart element the drill-through dialog lists
    show_drill: Any = None  # callable: (re)open the drill-through dialog for ``drill``

    def touch(self) -> None:
        """Take a dependency on the store's data (call at the top of every render)."""
        self.version()
        self.refresh()


def setup(input, output, session, settings: Settings, engine: sa.Engine) -> DashboardContext:
    from carelens.feedback.store import queries
    from carelens.feedback.store.view import poll_revision

    ctx = DashboardContext(settings=settings, engine=engine, input=input)
    ctx.load_error = reactive.value("")
    ctx.refresh = reactive.value(0)
    n_levels = len(settings.location_levels)

    last_version: list[str | None] = [None]

    def _version() -> str:
        try:
            last_version[0] = poll_revision(engine, last_version[0])  # busy store: the last answer stands
            return last_version[0]
        except Exception as exc:  # noqa: BLE001 - store unreachable: keep the page alive and say so
            return f"error:{type(exc).__name__}: {exc}"

    ctx.version = reactive.poll(_version, POLL_SECONDS)(_version)

    @reactive.calc
    def options() -> dict:
        ctx.touch()
        v = ctx.version()
        if v.startswith("error:"):
            ctx.load_error.set(v[6:])
            return {"comments": 0, "categories": {}, "demographics": {}}
        ctx.load_error.set("")
        return queries.filter_options(engine)

    ctx.options = options

    last_span: list = [None, None]
    sent_choices: dict[str, object] = {}

    @reactive.effect
    def _update_choices() -> None:
        """New data (an upload) refreshes the choices but keeps what staff selected.

        Only inputs whose choices really changed are updated: a flag or a correction changes the
        data but no choice, and re-sending an input's choices makes the browser clear and re-set its
        value, so an update read back mid-way (two flags in a row) could drop a staff member's filter.
        """
        opts = options()
        if not opts.get("comments"):
            return
        with reactive.isolate():
            start, end = opts["date_min"], opts["date_max"]
            if [start, end] != last_span:
                chosen = input.f_dates() or (None, None)
                whole = last_span[0] is None or chosen[0] is None or [str(c) for c in chosen] == [str(x) for x in last_span]
                ui.update_date_range("f_dates", start=start if whole else chosen[0], end=end if whole else chosen[1],
                                     min=start, max=end)
                last_span[:] = [start, end]
            wanted = {f"f_loc_{i + 1}": opts[f"location_{i + 1}"] for i in range(n_levels)}
            wanted |= {"f_question": opts["question"], "f_category": list(opts["categories"]),
                       "f_topic": topic_choices(opts["categories"])}
            for name, choices in wanted.items():
                if sent_choices.get(name) != choices:
                    ui.update_selectize(name, choices=choices, selected=list(input[name]() or ()))
                    sent_choices[name] = choices

    @reactive.effect
    @reactive.event(input.f_category)
    def _narrow_topics() -> None:
        cats = options().get("categories", {})
        chosen = set(input.f_category() or ())
        groups = {c: ts for c, ts in cats.items() if not chosen or c in chosen}
        allowed = {t for ts in groups.values() for t in ts}
        ui.update_selectize("f_topic", choices=topic_choices(groups), selected=[t for t in input.f_topic() or () if t in allowed])

    @render.ui
    def f_demographics():
        demo = options().get("demographics", {})
        return ui.TagList(*[
            ui.input_selectize(f"f_demo_{i}", name.replace("_", " ").capitalize(), choices=values,
                               multiple=True, options={"placeholder": "All"})
            for i, (name, values) in enumerate(demo.items())
        ])

    @reactive.effect
    @reactive.event(input.f_reset)
    def _reset() -> None:
        opts = options()
        ui.update_text("f_search", value="")
        ui.update_date_range("f_dates", start=opts.get("date_min"), end=opts.get("date_max"))
        for name in [f"f_loc_{i + 1}" for i in range(n_levels)] + ["f_question", "f_category", "f_topic"]:
            ui.update_selectize(name, selected=[])
        ui.update_checkbox_group("f_fft", selected=[])
        ui.update_checkbox_group("f_sentiment", selected=[])
        for i in range(len(opts.get("demographics", {}))):
            ui.update_selectize(f"f_demo_{i}", selected=[])

    @reactive.calc
    def filters() -> CommentFilters:
        opts = options()
        dates = input.f_dates() or (None, None)
        demo = {}
        for i, name in enumerate(opts.get("demographics", {})):
            key = f"f_demo_{i}"
            if key in input and input[key]():
                demo[name] = list(input[key]())
        # the full data span is "no date filter": comments without a date stay in
        full = (str(dates[0]), str(dates[1])) == (str(opts.get("date_min")), str(opts.get("date_max")))
        return CommentFilters(
            date_from=None if full else dates[0],
            date_to=None if full else dates[1],
            **{f"location_{i + 1}": list(input[f"f_loc_{i + 1}"]() or ()) for i in range(n_levels)},
            question=list(input.f_question() or ()),
            fft_score=[int(s) for s in input.f_fft() or ()],
            category=list(input.f_category() or ()),
            topic=list(input.f_topic() or ()),
            sentiment=[int(s) for s in input.f_sentiment() or ()],
            demographics=demo,
            search=input.f_search() or "",
        )

    ctx.filters = filters

    @reactive.calc
    def total() -> int:
        ctx.touch()
        return int(queries.filtered_comments(engine, filters(), limit=0)[1]) if options().get("comments") else 0

    ctx.total = total
    _drill_through(input, output, session, ctx)
    _flags(input, ctx)
    return ctx


def _drill_through(input, output, session, ctx: DashboardContext) -> None:
    """Clicking a chart element opens a dialog with the comments behind it.

    The dialog's table is a live output (like the Comments page's), not HTML frozen when the dialog
    opened, so a flag or correction set from inside the dialog shows there straight away.
    """
    from carelens.feedback.store.view import store_view
    from carelens.privacy import count_suppressed

    ctx.drill = reactive.value(None)

    @reactive.effect
    @reactive.event(input.chart_click)
    def _show() -> None:
        click = input.chart_click() or {}
        if not element_filters(click):
            return
        # the filters are fixed when the dialog opens: the table lists what the user clicked
        ctx.drill.set({"click": click, "filters": ctx.filters(), "search": input.f_search() or ""})
        ctx.show_drill()

    def show_drill() -> None:
        """(Re)open the dialog once the table for the current element has reached the browser, so it
        never shows, even for a moment, the comments of the element clicked before."""
        drill = ctx.drill()

        def _open() -> None:
            ui.modal_show(ui.modal(
                ui.output_ui("drill_comments"),
                title=f"Comments: {element_title(drill['click'])}", easy_close=True, size="xl",
                footer=ui.modal_button("Close"),
            ))

        session.on_flushed(_open, once=True)

    ctx.show_drill = show_drill

    # kept up to date while the dialog is closed too (see show_drill); cheap: at most 100 rows
    @output(suspend_when_hidden=False)
    @render.ui
    def drill_comments():
        ctx.touch()
        drill = ctx.drill()
        if drill is None:
            return ui.TagList()
        view = store_view(ctx.engine)
        frame = view.frame.loc[masked(view, drill["filters"], element_filters(drill["click"]))]
        n = ctx.settings.suppress_below
        if count_suppressed(len(frame), n):  # one chart element's comments: a breakdown cell
            body = ui.p(f"Fewer than {n} comments: not shown, to protect privacy.")
        else:
            body = comment_table(frame.head(100), drill["search"], total=len(frame))
        return ui.TagList(ui.p(f"{len(frame):,} comments", class_="count"), body)


def _flags(input, ctx: DashboardContext) -> None:
    """Mark a comment interesting, or correct its topics (stored; used when retraining).

    Either way ``ctx.refresh`` is bumped, which redraws every comment table, the drill-through
    dialog's included. Only one dialog shows at a time, so correcting topics from the drill-through
    dialog replaces it; saving or cancelling opens it again, with the correction shown.
    """
    from carelens.feedback.store.corrections import record_correction
    from carelens.feedback.store.view import store_view

    pending: reactive.Value[str] = reactive.value("")
    from_drill: reactive.Value[bool] = reactive.value(False)

    @reactive.effect
    @reactive.event(input.flag_request)
    def _flag() -> None:
        req = input.flag_request() or {}
        key, kind = str(req.get("id", "")), req.get("kind")
        if kind == "interesting":
            try:
                record_correction(ctx.engine, key, "interesting")
            except (CarelensError, sa.exc.SQLAlchemyError) as exc:
                ui.notification_show(f"Could not save the flag: {exc}", type="error")
                return
            ui.notification_show("Marked as interesting.", type="message", duration=3)
            ctx.refresh.set(ctx.refresh() + 1)
        elif kind == "wrong_topics":
            frame = store_view(ctx.engine).frame
            row = frame.loc[frame["comment_key"] == key]
            current = list(row["topics"].iloc[0]) if len(row) else []
            pending.set(key)
            from_drill.set(bool(req.get("dialog")) and ctx.drill() is not None)
            labels = framework_for(ctx.settings).label_names
            cancel = (ui.input_action_button("correct_cancel", "Cancel", class_="btn-outline-secondary")
                      if from_drill() else ui.modal_button("Cancel"))
            ui.modal_show(ui.modal(
                ui.p("Choose the topics this comment should have. Corrections are kept and used when the model is retrained."),
                ui.input_selectize("correct_topics", "Correct topics", choices=labels, selected=current,
                                   multiple=True, width="100%"),
                title="Correct the topics", easy_close=True,
                footer=ui.TagList(cancel, ui.input_action_button("correct_save", "Save correction", class_="btn-primary")),
            ))

    def _close() -> None:
        """Back to the drill-through dialog if the correction started there, else no dialog."""
        if from_drill():
            ctx.show_drill()
        else:
            ui.modal_remove()

    @reactive.effect
    @reactive.event(input.correct_save)
    def _save() -> None:
        try:
            record_correction(ctx.engine, pending(), "wrong_topics", topics=list(input.correct_topics() or ()),
                              valid_topics=framework_for(ctx.settings).label_names)
        except (CarelensError, sa.exc.SQLAlchemyError) as exc:
            ui.notification_show(f"Could not save the correction: {exc}", type="error")
            return
        _close()
        ui.notification_show("Correction saved.", type="message", duration=3)
        ctx.refresh.set(ctx.refresh() + 1)

    @reactive.effect
    @reactive.event(input.correct_cancel)
    def _cancel() -> None:
        _close()
