"""Build the Shiny app from the registered pages, with the feedback filters in a shared sidebar."""

from __future__ import annotations

from pathlib import Path

from shiny import App, reactive, ui

from carelens.config import Settings
from carelens.web.dashboard import context
from carelens.web.dashboard.registry import pages

WWW = Path(__file__).parent / "www"


def _plotly_js_dir() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


def create_dashboard(settings: Settings) -> App:
    registered = pages()
    from carelens.db import get_engine

    engine = get_engine(settings.database_url)
    navs = [ui.nav_panel(p.title, ui.div(p.ui(), class_=f"page page-{p.id}"), value=p.id) for p in registered]
    page = ui.page_navbar(
        *navs,
        title=ui.span(ui.span("carelens", class_="brand"), ui.span(" patient feedback", class_="brand-sub")),
        id="nav",
        sidebar=context.sidebar(settings),
        header=ui.head_content(
            ui.tags.script(src="vendor/plotly.min.js"),
            ui.tags.link(rel="stylesheet", href="www/carelens.css"),
            ui.tags.script(src="www/carelens.js"),
        ),
        window_title="carelens: patient feedback",
        lang="en-GB",
        fillable=False,
    )

    def server(input, output, session):
        ctx = context.setup(input, output, session, settings, engine)
        for p in registered:
            p.server(input, output, session, ctx)

        @reactive.effect
        @reactive.event(input.nav)
        def _filters_only_where_they_apply() -> None:
            page = next((p for p in registered if p.id == input.nav()), None)
            if page is not None:
                ui.update_sidebar("filters", show=page.uses_feedback_filters)

    return App(page, server, static_assets={"/vendor": _plotly_js_dir(), "/www": WWW})
