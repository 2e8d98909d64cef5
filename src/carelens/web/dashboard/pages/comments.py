"""Comments: every filtered comment with its topics and colour-coded sentiment; search hits
highlighted; 200 at a time with Previous / Next (any filter change goes back to the first page)."""

from __future__ import annotations

from shiny import module, reactive, render, ui

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
        ui.div(ui.input_action_button("previous", "Previous 200", class_="btn-outline-primary btn-sm"),
               ui.output_ui("position", inline=True),
               ui.input_action_button("next", "Next 200", class_="btn-outline-primary btn-sm"),
               class_="pager", role="navigation", aria_label="Pages of comments"),
    )


def page_span(page: int, total: int, size: int = PAGE_SIZE) -> tuple[int, int, int]:
    """(the page actually shown, first comment's number, last comment's number), 1-based numbers;
    a page past the end shows the last one."""
    last_page = max(0, (total - 1) // size)
    page = min(max(0, page), last_page)
    return page, (page * size + 1) if total else 0, min(total, (page + 1) * size)


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    from carelens.feedback.store.queries import comments_suppressed, filtered_comments, filtered_respondents

    page = reactive.value(0)

    @reactive.effect
    def _first_page_on_new_filters() -> None:
        fb.filters()
        page.set(0)

    @reactive.effect
    @reactive.event(input.next)
    def _next() -> None:
        page.set(page_span(page() + 1, fb.total())[0])

    @reactive.effect
    @reactive.event(input.previous)
    def _previous() -> None:
        page.set(max(0, page() - 1))

    def withheld() -> bool:
        """A list picked out by a demographic filter from too few people: neither it nor its size is shown."""
        return comments_suppressed(fb.filters(), filtered_respondents(app.engine, fb.filters()),
                                   app.settings.suppress_below)

    @render.ui
    def position():
        if withheld():
            return ui.span()
        shown, first, last = page_span(page(), fb.total())
        return ui.span(f"Comments {first:,}–{last:,} of {fb.total():,}", class_="pager-position", role="status")

    @render.ui
    def table():
        fb.touch()
        if not fb.options().get("has_comments"):
            return empty_store_note()
        n = app.settings.suppress_below
        if withheld():  # neither the comments nor how many there are
            return ui.TagList(ui.h3(f"Comments from fewer than {n} people match", class_="count"), privacy_note(n))
        total = fb.total()
        shown, _, _ = page_span(page(), total)
        frame, total = filtered_comments(app.engine, fb.filters(), limit=PAGE_SIZE, offset=shown * PAGE_SIZE,
                                         suppress_below=n)
        # listed: their number is no secret (the list shows them)
        count = ui.h3(f"{total:,} comment{'' if total == 1 else 's'} match{'es' if total == 1 else ''}", class_="count")
        return ui.TagList(count, fb.comment_table(frame, total=len(frame)))


PAGE = Page(id="comments", title="Comments", ui=page_ui, server=page_server, feedback=True)
