"""Build the Shiny app from the registered pages (each a Shiny module), with the comment filters in a
sidebar shown beside the feedback pages.

Per browser session the server builds one :class:`AppContext` (every page gets it) and one
:class:`FeedbackContext` (only feedback pages get it), then starts each page's module server.
"""

from __future__ import annotations

from pathlib import Path

from shiny import App, ui

from carelens.config import Settings
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import feedback_context
from carelens.web.dashboard.filters import FILTERS_ID, filters_ui
from carelens.web.dashboard.registry import pages

WWW = Path(__file__).parent / "www"


def _plotly_js_dir() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


def create_dashboard(settings: Settings) -> App:
    registered = pages()
    from carelens.db import get_engine

    engine = get_engine(settings.database_url)
    navs = [ui.nav_panel(p.title, ui.div(p.ui(p.id), class_=f"page page-{p.id}"), value=p.id) for p in registered]
    filter_pages = frozenset(p.id for p in registered if p.shows_filters)
    page = ui.page_navbar(
        *navs,
        title=ui.span(ui.span("carelens", class_="brand"), ui.span(" patient feedback", class_="brand-sub")),
        id="nav",
        sidebar=filters_ui(FILTERS_ID, settings),
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
        app = AppContext(settings=settings, engine=engine, current_page=input.nav)
        feedback = feedback_context(app, filter_pages)
        for p in registered:
            p.start(app, feedback)

    return App(page, server, static_assets={"/vendor": _plotly_js_dir(), "/www": WWW})
