"""Where is it getting worse? Wards, teams or divisions over time against their own past and the trust.

The page only collects choices and draws: the measures, control charts and their NHS "Making Data
Count" rules, signals and period comparisons are ``carelens.feedback.comparison`` (over
``feedback.store.trends``, suppressed per respondent). Every element (a chart point, a row of the
signals or change tables, a place on the funnel chart) opens the comments behind it, by mouse or by
keyboard (the tables' "Read comments" buttons).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from htmltools import Tag, TagList, tags
from shiny import module, reactive, render, ui

from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.data import place_element
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.html_table import Cell, element, html_table
from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import chart_slot, chart_update, empty_store_note, read_comments_button

TRUST = "(the whole trust)"
BASELINES = {"all": "All periods", "6": "The first 6 periods", "12": "The first 12 periods"}


@module.ui
def page_ui():
    return TagList(
        ui.p("Each place's figure over time against its own past (a control chart: the centre line is its usual "
             "level, the dashed lines how far it moves by chance) and against the trust. Points in colour are "
             "special causes by the NHS Making Data Count rules: outside the limits, 7 or more in a row on one side "
             "of the centre line, 7 or more rising or falling in a row, or 2 of 3 in a row near the same limit "
             "(in the outer third, between two sigma and the limit, or past it).", class_="hint"),
        ui.card(
            ui.card_header("What to compare"),
            ui.layout_columns(
                ui.input_select("level", "Compare", choices=[]),
                ui.input_select("measure", "Measure", choices=[]),
                ui.input_radio_buttons("period", "Each point is a", {"month": "month", "quarter": "quarter"},
                                       selected="month", inline=True),
                ui.input_select("baseline", "Limits worked out from", choices=BASELINES, selected="all"),
                col_widths=[3, 4, 2, 3],
            ),
        ),
        ui.card(ui.card_header("Places with a signal in the latest period"), ui.output_ui("signals")),
        ui.card(
            ui.card_header("Control chart"),
            ui.input_select("place", "Place", choices=[TRUST], width="360px"),
            ui.output_ui("verdict"),
            chart_slot("spc", clickable=True),
            ui.output_ui("spc"),
        ),
        ui.card(
            ui.card_header("This period against the one before"),
            ui.div(
                ui.input_action_button("this_month", "This month vs last", class_="btn-primary"),
                ui.input_date_range("current", "Or compare the days", start=None, end=None, format="dd/mm/yyyy"),
                class_="compare-periods",
            ),
            ui.output_ui("change"),
        ),
        ui.card(ui.card_header("Against the trust in the same days"), chart_slot("funnel", clickable=True),
                ui.output_ui("funnel")),
    )


def variation_icon(variation: str, better: str | None = None) -> Tag:
    """The Making Data Count icon of a class of variation: a coloured circle with a letter, and its words.

    As in MDC's icons, an improvement or a concern carries H or L (the figure went high or low) when
    ``better`` (which way is better) is known; the words beside it are for screen readers and for
    anyone who does not tell the colours apart.
    """
    from carelens.feedback.spc import IMPROVEMENT, VARIATION

    v = VARIATION[variation]
    letter = v.letter
    if better in ("higher", "lower") and variation in ("improvement", "concern"):
        letter = "H" if (variation == IMPROVEMENT) == (better == "higher") else "L"
    circle = Tag("svg", Tag("circle", cx="10", cy="10", r="9", fill=v.colour, stroke="#212b32", stroke_width="1"),
                 Tag("text", letter, x="10", y="14", text_anchor="middle", font_size="11", font_weight="bold",
                     fill="#212b32" if variation != "neither" else "#ffffff"),
                 width="20", height="20", viewBox="0 0 20 20", aria_hidden="true", focusable="false",
                 class_="mdc-icon")
    return tags.span(circle, tags.span(v.label, style=f"color:{v.text_colour}"),
                     class_=f"mdc mdc-{variation.replace(' ', '-')}")


def _read_button(label: str, custom: str, what: str) -> Tag:
    """A button that opens the comments behind a table row (the keyboard's way to drill through)."""
    return read_comments_button({"chart": "signal", "custom": custom}, what, label)


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback import comparison
    from carelens.feedback.spc import COMMON, VARIATION, funnel_limits
    from carelens.feedback.store.filters import natural_sorted
    from carelens.feedback.store.trends import Measure, latest_periods

    levels = app.settings.location_levels
    n = app.settings.suppress_below
    current_span: reactive.Value[tuple | None] = reactive.value(None)

    def ready() -> bool:
        fb.touch()
        return bool(fb.options().get("comments"))

    @reactive.effect
    def _choices() -> None:
        opts = fb.options()
        if not opts.get("comments"):
            return
        with reactive.isolate():
            level = input.level() or str(len(levels))
            measure = input.measure() or "fft_good"
        ui.update_select("level", choices={str(i + 1): name for i, name in enumerate(levels)}, selected=level)
        topics = [t for ts in opts.get("categories", {}).values() for t in ts]
        choices = {"Overall": {"fft_good": "% of FFT answers good or very good",
                               "mean_sentiment": "Mean sentiment of comments (XmR chart)"},
                   "How often a topic is mentioned (% of respondents)": {f"topic_share:{t}": t for t in topics},
                   "How negative a topic's comments are (%)": {f"topic_negative:{t}": t for t in topics}}
        ui.update_select("measure", choices=choices, selected=measure)

    def level() -> int:
        value = input.level()
        return int(value) if value and value.isdigit() else len(levels)

    def measure() -> Measure:
        try:
            return Measure.from_key(input.measure() or "fft_good")
        except ValueError:
            return Measure("fft_good")

    def baseline() -> int | None:
        value = input.baseline()
        return int(value) if value and value.isdigit() else None

    @reactive.effect
    def _places() -> None:
        opts = fb.options()
        if not opts.get("comments"):
            return
        places = natural_sorted(opts.get(f"location_{level()}", []))
        with reactive.isolate():
            chosen = input.place() if input.place() in places else TRUST
        ui.update_select("place", choices=[TRUST, *places], selected=chosen)

    @reactive.effect
    @reactive.event(input.chart_click)
    def _drill() -> None:
        fb.open_drill(input.chart_click())

    def fmt(value: float, m: Measure) -> str:
        if pd.isna(value):
            return "–"
        return f"{100 * value:.0f}%" if m.is_share else f"{value:.2f}"

    @render.ui
    def signals():
        if not ready():
            return empty_store_note()
        m = measure()
        table = comparison.signals(app.engine, fb.filters(), m, level=level(), period=input.period(),
                                   baseline=baseline(), suppress_below=n)
        if table.empty:
            return ui.p(f"No {levels[level() - 1].lower()} shows a special cause in the latest period for this measure "
                        f"(places and periods from fewer than {n} respondents are not charted).", class_="no-signals")
        rows = []
        for rec in table.to_dict("records"):
            custom = place_element(level(), rec["place"], rec["start"], rec["end"], m.key())
            rows.append([Cell(rec["place"], header=True), rec["period"], variation_icon(rec["variation"], m.better), rec["rules"],
                         fmt(rec["value"], m), fmt(rec["centre"], m), f"{rec['respondents']:,}",
                         _read_button("Read comments", custom, f"Read the comments of {rec['place']}, {rec['period']}")])
        return html_table([levels[level() - 1], "Period", "Variation", "Why", "This period", "Usually", "Respondents",
                           element("span", "Comments", class_="visually-hidden")], rows, table_id="signals_table",
                          classes="table table-sm signals-table")

    @reactive.calc
    def chart():
        m = measure()
        place = input.place()
        return comparison.place_chart(app.engine, fb.filters(), m, level=level(), place=None if place == TRUST else place,
                                      period=input.period(), baseline=baseline(), suppress_below=n)

    @render.ui
    def verdict():
        if not ready():
            return TagList()
        data, _ = chart()
        m = measure()
        place = input.place() if input.place() != TRUST else "The whole trust"
        if data.empty:
            return ui.p(f"Nothing to chart: {place} has no period with {n} or more respondents for this measure.",
                        class_="hint")
        last = data.iloc[-1]
        notes = []
        if data.attrs.get("provisional"):
            notes.append(f"only {len(data)} points: the limits are provisional (15 or more are better)")
        if data.attrs.get("hidden"):
            notes.append(f"{data.attrs['hidden']} period(s) from fewer than {n} respondents are not shown")
        words = (f"{place}, {last['period']}: {fmt(last['value'], m)} against {fmt(last['centre'], m)} usually "
                 f"({m.label[0].lower() + m.label[1:]}; {'higher' if m.better == 'higher' else 'lower'} is better).")
        return ui.div(variation_icon(str(last["variation"]), m.better), ui.p(words), *(ui.p(x, class_="hint") for x in notes),
                      class_="spc-verdict", role="status")

    @render.ui
    def spc():
        if not ready():
            return chart_update(None, "spc")
        data, trust = chart()
        if data.empty:
            return chart_update(None, "spc")
        m = measure()
        place = input.place() if input.place() != TRUST else None
        x = data["period"].tolist()
        custom = [place_element(level() if place else None, place, s, e, m.key()) for s, e in zip(data["start"], data["end"])]
        colours = [VARIATION[v].colour for v in data["variation"]]
        shown_trust = trust[~trust["suppressed"]]
        near_line = {"line": {"color": "#768692", "dash": "dashdot", "width": 1}, "hoverinfo": "skip", "legendgroup": "near"}
        traces = [
            {"type": "scatter", "mode": "lines", "name": "Upper and lower limits", "x": x, "y": data["upper"],
             "line": {"color": "#425563", "dash": "dash", "width": 1}, "hoverinfo": "skip", "legendgroup": "limits"},
            {"type": "scatter", "mode": "lines", "name": "Lower limit", "x": x, "y": data["lower"], "showlegend": False,
             "line": {"color": "#425563", "dash": "dash", "width": 1}, "hoverinfo": "skip", "legendgroup": "limits"},
            # drawn within the limits: a p-chart's two-sigma line can pass a limit clipped to 0 % or 100 %
            {"type": "scatter", "mode": "lines", "name": "Two-sigma lines (2 of 3 beyond one is a signal)", "x": x,
             "y": np.minimum(data["near_upper"], data["upper"]), **near_line},
            {"type": "scatter", "mode": "lines", "name": "Lower two-sigma line", "x": x,
             "y": np.maximum(data["near_lower"], data["lower"]), "showlegend": False, **near_line},
            {"type": "scatter", "mode": "lines", "name": "Centre line (usual level)", "x": x, "y": data["centre"],
             "line": {"color": "#212b32", "width": 1.5}, "hoverinfo": "skip"},
        ]
        if place:
            traces.append({"type": "scatter", "mode": "lines", "name": "Whole trust", "x": shown_trust["period"],
                           "y": shown_trust["value"], "line": {"color": "#768692", "dash": "dot", "width": 2},
                           "hovertemplate": "Trust %{x}: %{y" + (":.0%" if m.is_share else ":.2f") + "}<extra></extra>"})
        traces.append({"type": "scatter", "mode": "lines+markers", "name": place or "Whole trust", "x": x,
                       "y": data["value"], "line": {"color": "#aeb7bd", "width": 1.5},
                       "marker": {"color": colours, "size": 11, "line": {"color": "#212b32", "width": 1}},
                       "customdata": custom, "text": [VARIATION[v].label for v in data["variation"]],
                       "hovertemplate": "%{x}: %{y" + (":.0%" if m.is_share else ":.2f") + "}<br>%{text}"
                                        "<br>Click to read the comments<extra></extra>"})
        yaxis = {"title": {"text": m.label, "standoff": 12}, "automargin": True}
        if m.is_share:
            yaxis |= {"tickformat": ".0%", "rangemode": "tozero"}
        fig = {"data": traces, "layout": {"yaxis": yaxis, "xaxis": {"type": "category", "automargin": True,
                                                                      "title": {"text": "Period", "standoff": 12}},
                                          "legend": {"orientation": "h", "y": -0.25}}}
        return chart_update(fig, "spc", height=440)

    @reactive.effect
    @reactive.event(input.this_month)
    def _this_month() -> None:
        spans = latest_periods(app.engine, fb.filters(), "month")
        if spans:
            _, start, end = spans[-1]
            current_span.set((start, end))
            ui.update_date_range("current", start=start, end=end)

    @reactive.effect
    def _typed_span() -> None:
        chosen = input.current()
        if chosen and chosen[0] and chosen[1] and chosen[0] <= chosen[1]:
            current_span.set((chosen[0], chosen[1]))

    def span():
        chosen = current_span()
        if chosen is not None:
            return comparison.Period(*chosen)
        spans = latest_periods(app.engine, fb.filters(), "month")
        return comparison.Period(spans[-1][1], spans[-1][2]) if spans else None

    @render.ui
    def change():
        if not ready():
            return TagList()
        now = span()
        if now is None:
            return ui.p("No dated comments.", class_="hint")
        m = measure()
        table = comparison.period_change(app.engine, fb.filters(), m, level=level(), current=now, suppress_below=n,
                                         worst_first=True)
        before = table.attrs["previous"]
        rows = []
        for rec in table.to_dict("records"):
            if pd.isna(rec["now"]) and pd.isna(rec["before"]):
                continue
            unit = "points" if m.is_share else ""
            moved = "–" if pd.isna(rec["change"]) else (f"{100 * rec['change']:+.0f} {unit}".strip() if m.is_share
                                                      else f"{rec['change']:+.2f}")
            custom = place_element(level(), rec["place"], now.start, now.end, m.key())
            rows.append([Cell(rec["place"], header=True), fmt(rec["before"], m), fmt(rec["now"], m), moved,
                         "Yes" if rec["significant"] else "", f"{rec['respondents_now']:,}",
                         _read_button("Read comments", custom, f"Read this period's comments of {rec['place']}")])
        head = ui.p(f"{now.name} against {before.name}. “More than chance”: a change of more than three standard "
                    f"errors. The biggest moves for the worse first; places with fewer than {n} respondents in a period "
                    "show –.", class_="hint")
        return TagList(head, html_table([levels[level() - 1], before.name, now.name, "Change", "More than chance",
                                         "Respondents now", element("span", "Comments", class_="visually-hidden")],
                                        rows, table_id="change_table", classes="table table-sm change-table"))

    @render.ui
    def funnel():
        if not ready():
            return chart_update(None, "funnel")
        now = span()
        m = measure()
        if now is None or not m.is_share:
            return TagList(chart_update(None, "funnel"),
                           ui.p("The funnel chart is drawn for percentages.", class_="hint") if now is not None else None)
        table = comparison.compare_with_trust(app.engine, fb.filters(), m, level=level(), span=now, suppress_below=n)
        if table.empty:
            return chart_update(None, "funnel")
        table = table.sort_values("denominator")
        colour = {"above": VARIATION["improvement" if m.better == "higher" else "concern"].colour,
                  "below": VARIATION["concern" if m.better == "higher" else "improvement"].colour, "": VARIATION[COMMON].colour}
        custom = [place_element(level(), p, now.start, now.end, m.key()) for p in table["place"]]
        # the funnel drawn smoothly over every size between the smallest and largest place
        sizes = np.linspace(max(1.0, table["denominator"].min() * 0.9), table["denominator"].max() * 1.05, 60)
        low, high = funnel_limits(sizes, float(table["trust"].iloc[0]))
        fig = {"data": [
            {"type": "scatter", "mode": "lines", "name": "Limits (3 sigma)", "x": sizes, "y": high,
             "line": {"color": "#425563", "dash": "dash", "width": 1}, "hoverinfo": "skip", "legendgroup": "l"},
            {"type": "scatter", "mode": "lines", "showlegend": False, "x": sizes, "y": low,
             "line": {"color": "#425563", "dash": "dash", "width": 1}, "hoverinfo": "skip", "legendgroup": "l"},
            {"type": "scatter", "mode": "lines", "name": "Whole trust", "x": [sizes[0], sizes[-1]],
             "y": [table["trust"].iloc[0]] * 2, "line": {"color": "#212b32", "width": 1.5}, "hoverinfo": "skip"},
            {"type": "scatter", "mode": "markers", "name": levels[level() - 1], "x": table["denominator"],
             "y": table["value"], "text": table["place"], "customdata": custom,
             "marker": {"size": 11, "color": [colour[o] for o in table["outside"]], "line": {"color": "#212b32", "width": 1}},
             "hovertemplate": "%{text}: %{y:.0%} of %{x:,}<extra></extra>"},
        ], "layout": {"xaxis": {"title": {"text": "Respondents (or comments) in the period", "standoff": 12},
                                "automargin": True},
                      "yaxis": {"title": {"text": m.label, "standoff": 12}, "tickformat": ".0%", "automargin": True}}}
        return TagList(chart_update(fig, "funnel", height=420),
                       ui.p(f"{now.name}. Places outside the dashed lines differ from the trust by more than chance.",
                            class_="hint"))


PAGE = Page(id="compare", title="Compare places", ui=page_ui, server=page_server, feedback=True)
