"""Comments: every filtered comment with its topics and colour-coded sentiment; search hits highlighted."""

from __future__ import annotations

from shiny import module, render, ui

from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.registry import Page
from carelens.web.dashboard.widgets import empty_store_note, privacy_note

PAGE_SIZE = 200


@module.ui
def page_ui():
    return ui.TagList(
        ui.p("Use the search box in the filters to find words: every word must appear, plurals match, "
             "and matches are highlighted.", class_="hint"),
        ui.output_ui("table"),
    )


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.store.queries import comments_suppressed, filtered_comments, filtered_respondents

    @render.ui
    def table():
        fb.touch()
        if not fb.options().get("has_comments"):
            return empty_store_note()
        n = app.settings.suppress_below
        frame, total = filtered_comments(app.engine, fb.filters(), limit=PAGE_SIZE, suppress_below=n)
        if comments_suppressed(fb.filters(), filtered_respondents(app.engine, fb.filters()), n):
            # withheld: neither the comments nor how many there are
            return ui.TagList(ui.h3(f"{fb.count_text(None)} comments match", class_="count"), privacy_note(n))
        # listed: their number is no secret (the list shows them)
        count = ui.h3(f"{total:,} comment{'' if total == 1 else 's'} match{'es' if total == 1 else ''}", class_="count")
        return ui.TagList(count, fb.comment_table(frame, total=total))


PAGE = Page(id="comments", title="Comments", ui=page_ui, server=page_server, feedback=True)
