"""The comment filter sidebar: a Shiny module whose inputs become one ``CommentFilters``.

Shown beside the pages registered with ``filters`` (the feedback pages that list or summarise
comments), hidden elsewhere. Its ids are namespaced ``filters-<name>`` (``filters-search``,
``filters-loc_1`` ...). Choices come from the store (``feedback.store.queries.filter_options``) and
follow new data without dropping what staff selected.
"""

from __future__ import annotations

from collections.abc import Callable

from shiny import module, reactive, render, ui

from carelens.config import Settings
from carelens.feedback.store.filters import CommentFilters, bounded_search
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.data import FFT_NAMES, SENTIMENT_NAMES

FILTERS_ID = "filters"  # the module's id: its inputs are filters-search, filters-loc_1, ...


def topic_choices(categories: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Sub-categories grouped under their category, in the {group: {value: label}} shape selectize needs
    (a plain list per group is joined into one option)."""
    return {cat: {t: t for t in topics} for cat, topics in categories.items()}


def narrowed_places(places: list[tuple], chosen: list[list[str]]) -> list[list[str]]:
    """The choices of each location level given what is chosen at the levels above it: choosing a
    division offers only its directorates and wards (a level with nothing chosen narrows nothing).
    ``places`` are the store's distinct (level 1, level 2, level 3); ``chosen`` the selection per level."""
    from carelens.feedback.store.filters import natural_sorted

    out = []
    for level in range(len(chosen)):
        rows = [p for p in places if all(not chosen[up] or p[up] in chosen[up] for up in range(level))]
        out.append(natural_sorted({p[level] for p in rows if p[level] is not None}))
    return out


@module.ui
def filters_ui(settings: Settings) -> ui.Sidebar:
    return ui.sidebar(
        ui.h2("Filter comments", class_="sidebar-title"),
        ui.input_text("search", "Search the comments", placeholder="e.g. parking staff (up to 10 words)"),
        ui.input_date_range("dates", "Date received", start=None, end=None, format="dd/mm/yyyy"),
        *[ui.input_selectize(f"loc_{i + 1}", level, choices=[], multiple=True, options={"placeholder": "All"})
          for i, level in enumerate(settings.location_levels)],
        ui.input_selectize("question", "Question", choices=[], multiple=True, options={"placeholder": "All"}),
        ui.input_checkbox_group("fft", "FFT answer", choices={str(k): v for k, v in FFT_NAMES.items()}),
        ui.input_selectize("category", "Category", choices=[], multiple=True, options={"placeholder": "All"}),
        ui.input_selectize("topic", "Sub-category", choices=[], multiple=True, options={"placeholder": "All"}),
        ui.input_checkbox_group("sentiment", "Sentiment", choices={str(k): v for k, v in SENTIMENT_NAMES.items()}),
        ui.output_ui("demographics"),
        ui.input_action_button("reset", "Clear all filters", class_="btn-outline-secondary btn-sm"),
        id="sidebar",
        width=300,
        open="desktop",
    )


@module.server
def filters_server(input, output, session, app: AppContext, options: Callable[[], dict],
                   shown_on: frozenset[str]) -> Callable[[], CommentFilters]:
    """The sidebar's behaviour; returns a reactive calc of the selected ``CommentFilters``.

    ``options`` is the store's ``filter_options`` (reactive); ``shown_on`` the page ids beside which
    the sidebar shows.
    """
    from carelens.web.dashboard.bookmark import address_query, from_query, to_query

    n_levels = len(app.settings.location_levels)
    last_span: list = [None, None]
    sent_choices: dict[str, object] = {}
    bookmark: dict = {}  # what the address asked for, read once when the store's choices first arrive
    restored = reactive.value(False, name="restored")
    passed_on = reactive.value(CommentFilters(), name="passed_on_filters")  # what the pages filter by (below)
    first_dates: dict = {"sent": None, "seen": False}  # the dates first sent to the browser, and their echo
    demo_restored: list[bool] = []  # non-empty once the demographic controls were first made

    def asked(name: str, choices) -> list[str]:
        """The bookmarked values of a list input that are among its choices (grouped choices flattened)."""
        flat = {v for group in choices.values() for v in group} if isinstance(choices, dict) else set(choices)
        return [v for v in bookmark.get("lists", {}).get(name, []) if v in flat]

    @reactive.effect
    def _show_where_it_applies() -> None:
        ui.update_sidebar("sidebar", show=app.current_page() in shown_on)

    @reactive.effect
    def _update_choices() -> None:
        """New data (an upload) refreshes the choices but keeps what staff selected.

        Only inputs whose choices really changed are updated: a flag or a correction changes the
        data but no choice, and re-sending an input's choices makes the browser clear and re-set its
        value, so an update read back mid-way (two flags in a row) could drop a staff member's filter.
        """
        opts = options()
        if not opts.get("has_comments"):
            return
        with reactive.isolate():
            first = not restored()
            if first:  # a bookmarked view: its filters are set with the first choices sent
                bookmark.update(from_query(address_query(session)))
            start, end = opts["date_min"], opts["date_max"]
            if [start, end] != last_span:
                chosen = input.dates() or (None, None)
                whole = last_span[0] is None or chosen[0] is None or [str(c) for c in chosen] == [str(x) for x in last_span]
                if first and any(bookmark["dates"]):
                    chosen, whole = (bookmark["dates"][0] or start, bookmark["dates"][1] or end), False
                ui.update_date_range("dates", start=start if whole else chosen[0], end=end if whole else chosen[1],
                                     min=start, max=end)
                if first_dates["sent"] is None:
                    first_dates["sent"] = [str(start if whole else chosen[0]), str(end if whole else chosen[1])]
                last_span[:] = [start, end]
            wanted = place_choices(opts)
            wanted |= {"question": opts["question"], "category": list(opts["categories"]),
                       "topic": topic_choices(opts["categories"])}
            for name, choices in wanted.items():
                if sent_choices.get(name) != choices or (first and asked(name, choices)):
                    selected = asked(name, choices) if first else list(input[name]() or ())
                    ui.update_selectize(name, choices=choices, selected=selected)
                    sent_choices[name] = choices
            if first:
                if bookmark["search"]:
                    ui.update_text("search", value=bookmark["search"])
                for name in ("fft", "sentiment"):
                    if asked(name, [str(k) for k in range(1, 7)]):
                        ui.update_checkbox_group(name, selected=asked(name, [str(k) for k in range(1, 7)]))
                page = bookmark.get("page")
                if page and page != app.current_page():
                    ui.update_navs("nav", selected=page, session=session.root_scope())
                restored.set(True)

    @reactive.effect
    async def _address_follows_the_view() -> None:
        """After a bookmarked view is restored, the address bar follows every filter and page change."""
        if not restored():
            return
        await session.send_custom_message("carelens-url", {"query": to_query(passed_on(), app.current_page())})

    def place_choices(opts: dict) -> dict[str, list[str]]:
        """Each location control's choices, narrowed by the levels above it (read without dependency)."""
        with reactive.isolate():
            chosen = [list(input[f"loc_{i + 1}"]() or ()) for i in range(n_levels)]
        if "places" not in opts:
            return {f"loc_{i + 1}": opts[f"location_{i + 1}"] for i in range(n_levels)}
        return {f"loc_{i + 1}": values for i, values in enumerate(narrowed_places(opts["places"], chosen))}

    @reactive.effect
    def _narrow_places() -> None:
        """A chosen division narrows the directorates and wards offered; a choice no longer offered is dropped."""
        for i in range(n_levels - 1):
            input[f"loc_{i + 1}"]()  # depend on every level that narrows another
        opts = options()
        if not opts.get("comments"):
            return
        with reactive.isolate():
            for name, choices in place_choices(opts).items():
                if name != "loc_1" and sent_choices.get(name) != choices:
                    ui.update_selectize(name, choices=choices,
                                        selected=[v for v in input[name]() or () if v in choices])
                    sent_choices[name] = choices

    @reactive.effect
    @reactive.event(input.category)
    def _narrow_topics() -> None:
        cats = options().get("categories", {})
        chosen = set(input.category() or ())
        groups = {c: ts for c, ts in cats.items() if not chosen or c in chosen}
        allowed = {t for ts in groups.values() for t in ts}
        ui.update_selectize("topic", choices=topic_choices(groups), selected=[t for t in input.topic() or () if t in allowed])

    @render.ui
    def demographics():
        demo = options().get("demographics", {})
        wanted = {}
        if demo and not demo_restored:  # a bookmarked view's demographic filters, when the controls are first made
            wanted = from_query(address_query(session))["demographics"]
            demo_restored.append(True)
        return ui.TagList(*[
            ui.input_selectize(f"demo_{i}", name.replace("_", " ").capitalize(), choices=values,
                               selected=[v for v in wanted.get(name, []) if v in values],
                               multiple=True, options={"placeholder": "All"})
            for i, (name, values) in enumerate(demo.items())
        ])

    @reactive.effect
    @reactive.event(input.reset)
    def _reset() -> None:
        opts = options()
        ui.update_text("search", value="")
        ui.update_date_range("dates", start=opts.get("date_min"), end=opts.get("date_max"))
        for name in [f"loc_{i + 1}" for i in range(n_levels)] + ["question", "category", "topic"]:
            ui.update_selectize(name, selected=[])
        ui.update_checkbox_group("fft", selected=[])
        ui.update_checkbox_group("sentiment", selected=[])
        for i in range(len(opts.get("demographics", {}))):
            ui.update_selectize(f"demo_{i}", selected=[])

    @reactive.calc
    def from_controls() -> CommentFilters:
        opts = options()
        dates = input.dates() or (None, None)
        if not first_dates["seen"]:
            # the control shows the browser's today until the dates the server first sent come back
            if first_dates["sent"] is None or [str(d) for d in dates] != first_dates["sent"]:
                dates = (None, None)
            else:
                first_dates["seen"] = True
        demo = {}
        for i, name in enumerate(opts.get("demographics", {})):
            key = f"demo_{i}"
            if key in input and input[key]():
                demo[name] = list(input[key]())
        # the full data span is "no date filter": comments without a date stay in
        full = (str(dates[0]), str(dates[1])) == (str(opts.get("date_min")), str(opts.get("date_max")))
        return CommentFilters(
            date_from=None if full else dates[0],
            date_to=None if full else dates[1],
            **{f"location_{i + 1}": list(input[f"loc_{i + 1}"]() or ()) for i in range(n_levels)},
            question=list(input.question() or ()),
            fft_score=[int(s) for s in input.fft() or ()],
            category=list(input.category() or ()),
            topic=list(input.topic() or ()),
            sentiment=[int(s) for s in input.sentiment() or ()],
            demographics=demo,
            search=bounded_search(input.search() or ""),
        )

    @reactive.effect(priority=100)
    def _only_real_changes() -> None:
        """Pass the filters on only when they changed. Why: the controls' values come back from the
        browser after every update the server sends (the store's date span and choices as a page
        opens, a choice re-sent after an upload); each echo re-ran every chart and table of the page
        for the same filters (a second round of a page view, ~0.4 s)."""
        new = from_controls()
        with reactive.isolate():
            if new != passed_on():
                passed_on.set(new)

    return passed_on
