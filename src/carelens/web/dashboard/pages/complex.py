"""Complex comments: long ones, or ones touching many topics, that deserve a careful human read."""

from __future__ import annotations

from shiny import render, ui

from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import comment_table, empty_store_note, privacy_note

MIN_TOPICS = 4
MIN_LENGTH = 600


def page_ui():
    return ui.TagList(
        ui.p(f"Comments of at least {MIN_LENGTH} characters, or tagged with {MIN_TOPICS} or more sub-categories. "
             "These are often the richest feedback and the hardest to summarise.", class_="hint"),
        ui.output_ui("cx_table"),
    )


def page_server(input, output, session, ctx):
    from carelens.feedback.store.queries import comments_suppressed, complex_comments

    @render.ui
    def cx_table():
        ctx.touch()
        if not ctx.options().get("comments"):
            return empty_store_note()
        frame = complex_comments(ctx.engine, ctx.filters(), min_topics=MIN_TOPICS, min_length=MIN_LENGTH, limit=None)
        if comments_suppressed(ctx.filters(), len(frame), ctx.settings.suppress_below):
            return ui.TagList(ui.h3(f"{len(frame):,} complex comments", class_="count"), privacy_note(ctx.settings.suppress_below))
        return ui.TagList(ui.h3(f"{len(frame):,} complex comments", class_="count"),
                          comment_table(frame.head(200), input.f_search() or "", total=len(frame)))


PAGE = Page(id="complex", title="Complex comments", ui=page_ui, server=page_server)
