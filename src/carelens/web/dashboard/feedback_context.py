"""What patient-feedback pages share in one browser session, and only they.

- the sidebar's filters as one ``CommentFilters`` (:mod:`~carelens.web.dashboard.filters`);
- the store's data version (``feedback.store.view.poll_revision``, polled every few seconds, so
  comments loaded from the CLI show up) and :meth:`FeedbackContext.data_changed` for writes made
  from this session;
- drill-through: :meth:`FeedbackContext.open_drill` lists the comments behind a clicked chart
  element in a dialog;
- flags and topic corrections on any listed comment (the buttons of ``widgets.comment_table``).

Nothing here filters, counts or suppresses: that is ``carelens.feedback.store.queries`` (over
the store's in-memory view) and ``carelens.privacy``; the context calls them and shows what they
return. The dialogs are a Shiny module namespaced ``feedback-`` (``feedback-flag_request``,
``feedback-drill_comments``, ``feedback-correct_save`` ...).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from shiny import module, reactive, render, ui

from carelens.errors import CarelensError
from carelens.feedback.store.filters import CommentFilters
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.data import element_filters, element_title
from carelens.web.dashboard.filters import FILTERS_ID, filters_server
from carelens.web.dashboard.widgets import comment_table

POLL_SECONDS = 3
DRILL_ROWS = 100


@dataclass
class FeedbackContext:
    """Handed to every feedback page's server with the :class:`AppContext`."""

    app: AppContext
    filters: Callable[[], CommentFilters]  # reactive: the sidebar's selection
    options: Callable[[], dict]  # reactive: ``queries.filter_options`` (``comments``: how many are stored)
    total: Callable[[], int]  # reactive: how many comments pass the filters (for shares; show it with count_text)
    load_error: Callable[[], str]  # reactive: why the store could not be read ("" when it could)
    flag_input: str = ""  # the input id comment tables send flag and correction requests to
    _version: Callable[[], str] = field(default=lambda: "", repr=False)
    _refresh: Any = field(default=None, repr=False)
    _labels: Any = field(default=None, repr=False)
    _absorb: Callable[[], None] = field(default=lambda: None, repr=False)
    _open_drill: Callable[[dict], None] = field(default=lambda click: None, repr=False)

    def touch(self) -> None:
        """Take a dependency on the store's data (call at the top of every render that reads it)."""
        self._version()
        self._refresh()
        if self._labels is not None:
            self._labels()

    def data_changed(self) -> None:
        """Say this session wrote to the store: every feedback output redraws now, not at the next poll."""
        with reactive.isolate():
            self._refresh.set(self._refresh() + 1)

    def labels_changed(self) -> None:
        """Say this session flagged or corrected a comment: every feedback output redraws now.

        Unlike :meth:`data_changed`, the filters' choices are not worked out again (a flag or a
        correction changes no place, question, date or demographic value: at 1,000,000 comments
        that recount was most of a correction's wait), and the poll is told the store's new
        revision is this write, so it does not redraw everything a second time."""
        self._absorb()
        with reactive.isolate():
            self._labels.set(self._labels() + 1)

    def count_text(self, n: int | None) -> str:
        """A count as a page may show it: "fewer than N" under the privacy threshold."""
        from carelens.privacy import count_suppressed

        limit = self.app.settings.suppress_below
        return f"fewer than {limit}" if n is None or count_suppressed(n, limit) else f"{n:,}"

    def search(self) -> str:
        """The search box's words, for highlighting hits in listed comments."""
        return self.filters().search

    def comment_table(self, frame, *, total: int | None = None, limit: int = 200) -> ui.Tag:
        """``widgets.comment_table`` with this session's search highlighted and flag buttons wired."""
        return comment_table(frame, self.search(), total=total, limit=limit, flag_input=self.flag_input)

    def open_drill(self, click: dict) -> None:
        """Open the dialog listing the comments behind a chart element (``input.<chart>_click``'s value);
        an element that selects nothing (a chart without drill-through) is ignored."""
        self._open_drill(click)


def feedback_context(app: AppContext, filter_pages: frozenset[str]) -> FeedbackContext:
    """Build the session's feedback context (call from the app's server function)."""
    from carelens.feedback.store import queries
    from carelens.feedback.store.view import data_part, poll_revision

    engine = app.engine
    load_error = reactive.value("", name="load_error")
    refresh = reactive.value(0, name="refresh")
    labels = reactive.value(0, name="labels")
    last_version: list[str | None] = [None]
    shown_version: list[str] = [""]  # what the poll last answered
    absorbed: dict[str, str] = {}  # the revision after this session's own flag or correction -> the answer before it
    # the user's location scope goes into every query through the filters; no scope, no feedback
    scope = app.user.feedback_scope() if app.user is not None else None
    in_scope = CommentFilters().scoped(scope)

    def _version() -> str:
        try:
            last_version[0] = poll_revision(engine, last_version[0])  # busy store: the last answer stands
            shown_version[0] = absorbed.get(last_version[0], last_version[0])
        except Exception as exc:  # noqa: BLE001 - store unreachable: keep the page alive and say so
            shown_version[0] = f"error:{type(exc).__name__}: {exc}"
        return shown_version[0]

    def _absorb() -> None:
        """This session's write is already on screen: the poll keeps its answer for the revision it made."""
        try:
            now = poll_revision(engine, last_version[0])
        except Exception:  # noqa: BLE001 - the poll will say what is wrong
            return
        absorbed.clear()
        absorbed[now] = shown_version[0]

    version = reactive.poll(_version, POLL_SECONDS)(_version)
    data_version = reactive.value("", name="data_version")

    @reactive.effect(priority=300)
    def _loads_and_aliases() -> None:
        """The part of the store's revision the filters' choices depend on (loads, aliases), passed on
        only when it changed: a correction or flag, in this session or another, leaves the choices
        as they are."""
        part = data_part(version())
        with reactive.isolate():
            if part != data_version():
                data_version.set(part)

    @reactive.calc
    def options() -> dict:
        refresh()
        data_version()
        with reactive.isolate():
            v = version()
        if v.startswith("error:"):
            # the reason goes to the server's log only: a driver's message may name a server path
            logging.getLogger("carelens").warning("the comment store could not be read: %s", v[6:])
            load_error.set("The server's log says why. Ask the administrator of this server.")
            return {"comments": 0, "has_comments": False, "categories": {}, "demographics": {}}
        load_error.set("")
        return queries.filter_options(engine, in_scope, suppress_below=app.settings.suppress_below)

    chosen = filters_server(FILTERS_ID, app, options, filter_pages)

    @reactive.calc
    def filters() -> CommentFilters:
        return chosen().scoped(scope)

    @reactive.calc
    def total() -> int:
        version()
        refresh()
        labels()  # a topic or sentiment filter counts corrected comments as corrected
        return int(queries.filtered_comments(engine, filters(), limit=0)[1]) if options().get("has_comments") else 0

    fb = FeedbackContext(app=app, filters=filters, options=options, total=total, load_error=load_error,
                         _version=version, _refresh=refresh, _labels=labels, _absorb=_absorb)
    comment_actions_server("feedback", fb)
    return fb


@module.server
def comment_actions_server(input, output, session, fb: FeedbackContext) -> None:
    """Drill-through dialog, flags and topic corrections; wires ``fb.open_drill`` and ``fb.flag_input``."""
    fb.flag_input = session.ns("flag_request")
    drill: reactive.Value[dict | None] = reactive.value(None)
    reopen_drill = _drill_through(output, session, fb, drill)
    _flags(input, fb, drill, reopen_drill)


def _drill_through(output, session, fb: FeedbackContext, drill: reactive.Value) -> Callable[[], None]:
    """Clicking a chart element opens a dialog with the comments behind it.

    The dialog's table is a live output (like the Comments page's), not HTML frozen when the dialog
    opened, so a flag or correction set from inside the dialog shows there straight away. Returns
    the function that (re)opens the dialog.
    """
    from carelens.feedback.store.queries import comments_behind

    def open_drill(click: dict) -> None:
        if not element_filters(click or {}):
            return
        # the filters are fixed when the dialog opens: the table lists what the user clicked
        with reactive.isolate():
            drill.set({"click": click, "filters": fb.filters(), "search": fb.search()})
        show()

    def show() -> None:
        """(Re)open the dialog once the table for the current element has reached the browser, so it
        never shows, even for a moment, the comments of the element clicked before."""
        with reactive.isolate():
            title = f"Comments: {element_title(drill()['click'])}"
        dialog = ui.modal(ui.output_ui(session.ns("drill_comments")), title=title, easy_close=True, size="xl",
                          footer=ui.TagList(ui.download_button(session.ns("drill_csv"), "Download these comments (CSV)",
                                                               class_="btn-outline-primary"),
                                            ui.modal_button("Close")))
        session.on_flushed(lambda: ui.modal_show(dialog, session=session), once=True)

    fb._open_drill = open_drill

    # kept up to date while the dialog is closed too (see show); cheap: at most DRILL_ROWS rows
    @output(suspend_when_hidden=False)
    @render.ui
    def drill_comments():
        fb.touch()
        shown = drill()
        if shown is None:
            return ui.TagList()
        frame, total, withheld = comments_behind(fb.app.engine, shown["filters"], element_filters(shown["click"]),
                                                 limit=DRILL_ROWS, suppress_below=fb.app.settings.suppress_below)
        if withheld:
            body = ui.p(f"Fewer than {fb.app.settings.suppress_below} comments: not shown, to protect privacy.")
        else:
            body = comment_table(frame, shown["search"], total=total, flag_input=fb.flag_input)
            fb.app.audit("view", "drill-through", {"element": element_title(shown["click"]), "comments": total})
        return ui.TagList(ui.p(f"{fb.count_text(total)} comments", class_="count"), body)

    @render.download_button(filename=lambda: f"carelens-comments-{date.today().isoformat()}.csv")
    def drill_csv():
        """Every comment behind the element (the dialog lists the first DRILL_ROWS), as the Export page's CSV."""
        from carelens.feedback.exports import comments_behind_for_export

        shown = drill()
        if shown is None:
            return
        frame = comments_behind_for_export(fb.app.engine, shown["filters"], element_filters(shown["click"]),
                                           tuple(fb.app.settings.location_levels), fb.app.settings.suppress_below)
        yield frame.to_csv(index=False).encode("utf-8-sig")

    return show


def _flags(input, fb: FeedbackContext, drill: reactive.Value, reopen_drill: Callable[[], None]) -> None:
    """Flag a comment as interesting (a second click takes the flag off), or correct its topics and
    sentiment, or undo its last correction.

    Every change is recorded with who and when (``feedback.store.corrections``) and patches the
    store's in-memory view in place, so saving returns at once; ``fb.labels_changed()`` then redraws
    every view, the drill-through dialog's included. Only one dialog shows at a time, so correcting
    from the drill-through dialog replaces it; saving or cancelling opens it again, with the
    correction shown.
    """
    from carelens.access.roles import Permission
    from carelens.feedback.framework import model_framework
    from carelens.feedback.store.corrections import (
        list_corrections,
        record_correction,
        toggle_flag,
        undo_correction,
    )
    from carelens.feedback.store.queries import comment_in_scope, comment_labels

    engine, settings, app = fb.app.engine, fb.app.settings, fb.app

    def may_change(key: str, action: str) -> bool:
        """A flag or correction only by a user who may make one, on a comment they may see (a
        request naming another comment's key, sent by hand over the websocket, is refused)."""
        if app.may(Permission.FEEDBACK_CORRECT) and comment_in_scope(engine, key, fb.filters()):
            return True
        app.audit(action, key, {"reason": "outside the user's role or scope"}, outcome="refused")
        ui.notification_show("You cannot change that comment.", type="error")
        return False
    pending: reactive.Value[str] = reactive.value("")
    from_drill: reactive.Value[bool] = reactive.value(False)

    def who() -> str:
        """Who made a change: the signed-in user (``user:alice``)."""
        return app.user.name

    @reactive.effect
    @reactive.event(input.flag_request)
    def _flag() -> None:
        req = input.flag_request() or {}
        key, kind = str(req.get("id", "")), req.get("kind")
        if kind == "interesting":
            if not may_change(key, "flag"):
                return
            try:
                now_flagged = toggle_flag(engine, key, by=who())
            except (CarelensError, sa.exc.SQLAlchemyError) as exc:
                app.audit("flag", key, None, outcome="failed")
                ui.notification_show(f"Could not save the flag: {_message(exc)}", type="error")
                return
            app.audit("flag" if now_flagged else "unflag", key)
            ui.notification_show("Marked as interesting." if now_flagged else "Flag removed.", type="message", duration=3)
            fb.labels_changed()
        elif kind == "wrong_topics":
            if not may_change(key, "correct"):
                return
            labels = comment_labels(engine, key, fb.filters())
            if labels is None:
                ui.notification_show("That comment is no longer in the store.", type="error")
                return
            pending.set(key)
            from_drill.set(bool(req.get("dialog")) and drill() is not None)
            ui.modal_show(_correction_dialog(key, labels, model_framework(settings.feedback_model).label_names,
                                             list_corrections(engine, comment_key=key), from_drill()))

    def _close() -> None:
        """Back to the drill-through dialog if the correction started there, else no dialog."""
        if from_drill():
            reopen_drill()
        else:
            ui.modal_remove()

    @reactive.effect
    @reactive.event(input.correct_save)
    def _save() -> None:
        key = pending()
        if not may_change(key, "correct"):
            return
        topics = list(input.correct_topics() or ())
        chosen = input.correct_sentiment()
        sentiment = int(chosen) if chosen and chosen != "model" else None
        try:  # topics the model had right, saved as they are, are a confirmed label for retraining
            record_correction(engine, key, "wrong_topics", topics=topics, sentiment=sentiment, created_by=who(),
                              valid_topics=model_framework(settings.feedback_model).label_names)
        except (CarelensError, sa.exc.SQLAlchemyError) as exc:
            app.audit("correct", key, {"topics": topics, "sentiment": sentiment}, outcome="failed")
            ui.notification_show(f"Could not save the correction: {_message(exc)}", type="error")
            return
        app.audit("correct", key, {"topics": topics, "sentiment": sentiment})
        _close()
        ui.notification_show("Correction saved.", type="message", duration=3)
        fb.labels_changed()

    @reactive.effect
    @reactive.event(input.correct_undo)
    def _undo() -> None:
        key = pending()
        if not may_change(key, "undo_correction"):
            return
        try:
            undone = undo_correction(engine, key, by=who())
        except (CarelensError, sa.exc.SQLAlchemyError) as exc:
            app.audit("undo_correction", key, None, outcome="failed")
            ui.notification_show(f"Could not undo the correction: {_message(exc)}", type="error")
            return
        app.audit("undo_correction", key, {"undone": undone})
        _close()
        ui.notification_show("Correction undone." if undone else "Nothing to undo.", type="message", duration=3)
        if undone:
            fb.labels_changed()

    @reactive.effect
    @reactive.event(input.correct_cancel)
    def _cancel() -> None:
        _close()


def _message(exc: Exception) -> str:
    """A user error's line; anything else only its kind (a driver's message may name a server path)."""
    return str(exc) if isinstance(exc, CarelensError) else f"the store refused it ({type(exc).__name__})"


def _correction_dialog(key: str, labels: dict, label_names: list[str], history, from_drill: bool) -> ui.Tag:
    """The "Correct this comment" dialog: the model's output, the topics and sentiment every view shows
    now (editable), and every earlier change with who made it and when."""
    from carelens.feedback.store.filters import SENTIMENTS

    model_says = (f"The model said: {', '.join(labels['model_topics']) or 'no topic'}; sentiment "
                  f"{SENTIMENTS.get(labels['model_sentiment'], 'none')}.")
    sentiments = {"model": f"As the model said ({SENTIMENTS.get(labels['model_sentiment'], 'none')})",
                  **{str(k): v for k, v in SENTIMENTS.items()}}
    current = str(labels["sentiment"]) if labels["corrected"] and labels["sentiment"] != labels["model_sentiment"] \
        and labels["sentiment"] is not None else "model"
    changes = history[history["kind"].isin(["wrong_topics", "sentiment"])]
    items = []
    for rec in changes.to_dict("records"):
        what = rec["topics"] or ""
        if rec["sentiment"] is not None and rec["sentiment"] == rec["sentiment"]:
            what = "; ".join(p for p in (what, f"sentiment {SENTIMENTS.get(int(rec['sentiment']), rec['sentiment'])}") if p)
        when = rec["created_at"].strftime("%d %b %Y %H:%M") if rec["created_at"] is not None else ""
        undone = rec.get("undone_at")
        note = (f" (undone by {rec.get('undone_by') or 'someone'} {undone.strftime('%d %b %Y %H:%M')})"
                if undone is not None and undone == undone else "")
        items.append(ui.tags.li(f"{when}, {rec['created_by'] or 'unknown'}: {what}{note}"))
    cancel = (ui.input_action_button("correct_cancel", "Cancel", class_="btn-outline-secondary")
              if from_drill else ui.modal_button("Cancel"))
    can_undo = bool(labels["corrected"])
    return ui.modal(
        ui.p(model_says, class_="model-said"),
        ui.p("Choose what this comment is about and how it feels. Every view, export and report shows the "
             "correction from now on; the model's answer is kept for retraining and for measuring it."),
        ui.input_selectize("correct_topics", "Topics", choices=label_names, selected=labels["topics"],
                           multiple=True, width="100%"),
        ui.input_select("correct_sentiment", "Sentiment", choices=sentiments, selected=current),
        ui.TagList(ui.h4("Changes so far", class_="h6"), ui.tags.ul(*items, class_="correction-history")) if items else None,
        title="Correct this comment", easy_close=True,
        footer=ui.TagList(
            cancel,
            ui.input_action_button("correct_undo", "Undo the last correction", class_="btn-outline-danger")
            if can_undo else None,
            ui.input_action_button("correct_save", "Save correction", class_="btn-primary")),
    )
