"""Upload: load a trust's FFT export (CSV or XLSX) with column mapping, validation and progress.

The page only maps columns and shows results; reading, validating, classifying and storing in one
transaction is the store layer's ``carelens.feedback.loading`` (the same code as
``carelens feedback load``).
"""

from __future__ import annotations

import asyncio
import html

from shiny import reactive, render, ui

from carelens.web.dashboard.registry import Page

# field -> plain-English label (the store layer's loader guesses columns and validates rows)
FIELDS: dict[str, str] = {
    "comment_text": "Comment text",
    "comment_id": "Comment ID (optional: repeat uploads are recognised)",
    "date": "Date the comment was received",
    "question": "Question asked",
    "fft_score": "FFT answer (1 very good ... 6 don't know, or words)",
    "location_1": "Location level 1",
    "location_2": "Location level 2",
    "location_3": "Location level 3",
}
NOT_MAPPED = "(not in this file)"
CHOOSE = "(choose the column with the comments)"


def guess_mapping(columns: list[str]) -> dict:
    """The loader's guess of which column holds each field (None where it finds none)."""
    from carelens.feedback.loading import guess_columns

    return guess_columns(columns)


def redacted_preview(frame):
    """The first rows as shown on the page: personal details removed from every text cell, like every
    other view (the file itself is stored only after the same redaction)."""
    from carelens.feedback.redaction import redact_many

    out = frame.copy()
    for col in out.columns:
        values = out[col].astype("string")
        present = values.notna().to_numpy()
        if present.any():
            cleaned = values.to_numpy(dtype=object)
            cleaned[present] = redact_many([str(v) for v in cleaned[present]])
            out[col] = cleaned
    return out


def page_ui():
    return ui.TagList(
        ui.p("Load comments exported from your FFT system. carelens reads CSV or Excel files, checks every "
             "row, tags each comment with topics and sentiment, and stores it. Loading the same file "
             "twice adds nothing.", class_="hint"),
        ui.card(
            ui.card_header("1. Choose a file"),
            ui.input_file("up_file", None, accept=[".csv", ".xlsx", ".xls", ".parquet"], button_label="Choose file…",
                          placeholder="No file chosen"),
        ),
        ui.output_ui("up_mapping"),
        ui.output_ui("up_result"),
    )


def page_server(input, output, session, ctx):
    table = reactive.value(None)
    result = reactive.value(None)

    @reactive.effect
    def _warm_model() -> None:
        """Staff on this page are about to load comments: read the model while they choose a file."""
        if input.nav() == "upload":
            from carelens.feedback.loading import warm_model_in_background

            warm_model_in_background(ctx.settings.feedback_model)

    @reactive.effect
    @reactive.event(input.up_file)
    def _read() -> None:
        from carelens.errors import CarelensError
        from carelens.tables import read_table

        files = input.up_file()
        result.set(None)
        if not files:
            return
        try:
            frame = read_table(files[0]["datapath"], dtype_str=True)
        except CarelensError as exc:
            table.set(None)
            result.set({"error": f"{files[0]['name']}: {exc}"})
            return
        table.set((files[0]["name"], files[0]["datapath"], frame))

    @render.ui
    def up_mapping():
        loaded = table()
        if loaded is None:
            return ui.TagList()
        name, _, frame = loaded
        columns = list(frame.columns)
        levels = ctx.settings.location_levels
        guess = guess_mapping(columns)
        selects = []
        for field, label in FIELDS.items():
            required = field == "comment_text"
            if field.startswith("location_"):
                i = int(field[-1]) - 1
                if i >= len(levels):
                    continue
                label = f"{levels[i]} (location level {i + 1})"
            choices = ([CHOOSE] if required else [NOT_MAPPED]) + columns
            selects.append(ui.input_select(f"map_{field}", label + (" *" if required else ""), choices=choices,
                                           selected=guess.get(field) or choices[0]))
        mapped = {v for k, v in guess.items() if k != "demographics" and v}
        demo_choices = [c for c in columns if c not in mapped]
        preview = redacted_preview(frame.head(5)).to_html(index=False, classes="table table-sm preview", na_rep="", escape=True)
        from carelens.tables import read_warnings

        read_notes = [ui.p(w, class_="alert alert-warning read-warning", role="status") for w in read_warnings(frame, name)]
        return ui.card(
            ui.card_header(f"2. Match the columns of {html.escape(name)} ({len(frame):,} rows)"),
            ui.layout_columns(*selects, col_widths=[4] * len(selects)),
            ui.input_selectize("map_demographics", "Demographic columns to keep (optional, e.g. age group, ethnicity)",
                               choices=demo_choices, selected=guess.get("demographics", []), multiple=True, width="100%"),
            *read_notes,
            ui.h4("First rows of the file"),
            ui.HTML(f"<div class='table-responsive'>{preview}</div>"),
            ui.input_action_button("up_load", "Check and load comments", class_="btn-primary"),
        )

    @reactive.effect
    @reactive.event(input.up_load)
    async def _load() -> None:
        loaded = table()
        if loaded is None:
            return
        name, _, frame = loaded
        mapping: dict = {}
        for field in FIELDS:
            key = f"map_{field}"
            if key in input and input[key]() not in (None, "", NOT_MAPPED, CHOOSE):
                mapping[field] = input[key]()
        if "comment_text" not in mapping:
            result.set({"error": f"{name}: choose which column holds the comment text (field 'Comment text')."})
            return
        mapping["demographics"] = list(input.map_demographics() or ())
        loop = asyncio.get_running_loop()
        with ui.Progress(min=0, max=1) as bar:
            bar.set(0, message="Checking and classifying comments…", detail=f"{len(frame):,} rows")

            def advance(done: int, total: int) -> None:
                loop.call_soon_threadsafe(bar.set, done / max(total, 1), "Classifying comments…", f"{done:,} of {total:,}")

            def run():
                from carelens.feedback.loading import load_comments

                return load_comments(frame, engine=ctx.engine, mapping=mapping, source=name, progress=False,
                                     on_progress=advance, model_path=ctx.settings.feedback_model)

            try:
                report = await asyncio.to_thread(run)
            except Exception as exc:  # noqa: BLE001 - CarelensError names file/row/field; anything else still gets a line
                result.set({"error": str(exc)})
                return
        result.set({"report": report})
        ctx.refresh.set(ctx.refresh() + 1)

    @render.ui
    def up_result():
        res = result()
        if not res:
            return ui.TagList()
        if "error" in res:
            return ui.div(ui.h3("Nothing was loaded"), ui.p(res["error"]), class_="alert alert-danger", role="alert")
        report = res["report"]
        messages = list(getattr(report, "messages", []) or [])
        items = "".join(f"<li>{html.escape(str(m))}</li>" for m in messages[:200])
        if len(messages) > 200:
            items += f"<li>… and {len(messages) - 200:,} more</li>"
        return ui.div(
            ui.h3("Comments loaded"),
            ui.p(f"{report.rows_read:,} rows read; {report.rows_added:,} comments added; "
                 f"{report.rows_already_stored:,} already stored; {report.rows_duplicate_in_file:,} repeated in the file; "
                 f"{report.rows_with_problems:,} with problems ({report.seconds:.1f} s)."),
            ui.HTML(f"<h4>Row messages</h4><ul class='row-messages'>{items}</ul>" if items else ""),
            class_="alert alert-success", role="status",
        )


PAGE = Page(id="upload", title="Upload", ui=page_ui, server=page_server, uses_feedback_filters=False)
