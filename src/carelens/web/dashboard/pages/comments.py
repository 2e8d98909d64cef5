"""Comments: every filtered comment with its topics and colour-coded sentiment; search hits highlighted."""

from __future__ import annotations

from shiny import render, ui

from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import comment_table, empty_store_note, privacy_note

PAGE_SIZE = 200


def page_ui():
    return ui.TagList(
        ui.p("Use the search box in the filters to find words: every word must appear, plurals match, "
             "and matches are highlighted.", class_="hint"),
        ui.output_ui("cm_table"),
    )


def page_server(input, output, session, ctx):
    from carelens.feedback.store.queries import comments_suppressed, filtered_comments

    @render.ui
    def cm_table():
        ctx.touch()
        if not ctx.options().get("comments"):
            return empty_store_note()
        frame, total = filtered_comments(ctx.engine, ctx.filters(), limit=PAGE_SIZE)
        if comments_suppressed(ctx.filters(), total, ctx.settings.suppress_below):
            return ui.TagList(ui.h3(f"{total:,} comment{'' if total == 1 else 's'} match{'es' if total == 1 else ''}", class_="count"), privacy_note(ctx.settings.suppress_below))
        return ui.TagList(ui.h3(f"{total:,} comment{'' if total == 1 else 's'} match{'es' if total == 1 else ''}", class_="count"),
                          comment_table(frame, input.f_search() or "", total=total))


PAGE = Page(id="comments", title="Comments", ui=page_ui, server=page_server)
