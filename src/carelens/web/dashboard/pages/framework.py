"""The framework: every category and sub-category in plain English, with example comments."""

from __future__ import annotations

import html

from shiny import render, ui

from carelens.web.dashboard.registry import Page


def page_ui():
    return ui.TagList(
        ui.p("Each comment is tagged with one or more sub-categories from this framework. "
             "Sentiment runs from 1 (very positive) to 5 (very negative).", class_="hint"),
        ui.output_ui("fw_body"),
    )


def page_server(input, output, session, ctx):
    @render.ui
    def fw_body():
        from carelens.web.dashboard.context import framework_for

        framework = framework_for(ctx.settings)
        parts = [f"<h2>{html.escape(framework.name)} (version {html.escape(framework.version)})</h2>"]
        for category in framework.categories:
            parts.append(f"<section class='fw-category'><h3>{html.escape(category)}</h3><dl>")
            for label in framework.labels:
                if label.category != category:
                    continue
                examples = "".join(f"<li>“{html.escape(e)}”</li>" for e in label.examples)
                parts.append(
                    f"<dt>{html.escape(label.name)}</dt><dd>{html.escape(label.description or '')}"
                    + (f"<ul class='examples'>{examples}</ul>" if examples else "") + "</dd>"
                )
            parts.append("</dl></section>")
        return ui.HTML("".join(parts))


PAGE = Page(id="framework", title="Framework", ui=page_ui, server=page_server, uses_feedback_filters=False)
