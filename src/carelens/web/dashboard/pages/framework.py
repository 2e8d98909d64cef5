"""The framework: every category and sub-category in plain English, with example comments."""

from __future__ import annotations

from shiny import module, render, ui

from carelens.access.roles import Permission
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.registry import Page


@module.ui
def page_ui():
    return ui.TagList(
        ui.p("Each comment is tagged with one or more sub-categories from this framework. "
             "Sentiment runs from 1 (very positive) to 5 (very negative).", class_="hint"),
        ui.output_ui("body"),
    )


@module.server
def page_server(input, output, session, app: AppContext):
    @render.ui
    def body():
        from carelens.feedback.framework import model_framework

        framework = model_framework(app.settings.feedback_model)
        sections = []
        for category in framework.categories:
            entries = []
            for label in framework.labels:
                if label.category != category:
                    continue
                examples = [ui.tags.li(f"“{e}”") for e in label.examples]
                entries += [ui.tags.dt(label.name),
                            ui.tags.dd(label.description or "", ui.tags.ul(*examples, class_="examples") if examples else None)]
            sections.append(ui.tags.section(ui.h3(category), ui.tags.dl(*entries), class_="fw-category"))
        return ui.TagList(ui.h2(f"{framework.name} (version {framework.version})"), *sections)


PAGE = Page(permission=Permission.FEEDBACK_READ, id="framework", title="Framework", ui=page_ui, server=page_server)
