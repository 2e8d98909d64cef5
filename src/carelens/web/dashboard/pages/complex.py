"""Complex comments: long ones, or ones touching many topics, that deserve a careful human read."""

from __future__ import annotations

from shiny import module, render, ui

from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import empty_store_note, privacy_note

MIN_TOPICS = 4
MIN_LENGTH = 600


@module.ui
def page_ui():
    return ui.TagList(
        ui.p(f"Comments of at least {MIN_LENGTH} characters, or tagged with {MIN_TOPICS} or more sub-categories. "
             "These are often the richest feedback and the hardest to summarise.", class_="hint"),
        ui.output_ui("table"),
    )


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.store.queries import comments_suppressed, complex_comments

    @render.ui
    def table():
        fb.touch()
        if not fb.options().get("has_comments"):
            return empty_store_note()
        frame = complex_comments(app.engine, fb.filters(), min_topics=MIN_TOPICS, min_length=MIN_LENGTH, limit=None)
        count = ui.h3(f"{fb.count_text(len(frame))} complex comments", class_="count")
        if comments_suppressed(fb.filters(), frame["response_key"].nunique(), app.settings.suppress_below):
            return ui.TagList(count, privacy_note(app.settings.suppress_below))
        return ui.TagList(count, fb.comment_table(frame.head(200), total=len(frame)))


PAGE = Page(id="complex", title="Complex comments", ui=page_ui, server=page_server, feedback=True)
