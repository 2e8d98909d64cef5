"""Upload: load a trust's FFT returns (CSV or XLSX) with column mapping, validation and progress.

Staff say which row holds the header (exports often have title rows above it), tick every
free-text column of the return ("What was good?", "What could be better?": each answer becomes a
comment of the same respondent's response), and match the other fields; "(not in this file)"
means exactly that (the loader never guesses a field staff took away). A load that adds nothing
says so in a neutral box, not a green one.

The page only maps columns and shows results; reading, validating, classifying and storing in one
transaction is the capability's ``carelens.feedback.ingest`` (the same code as
``carelens feedback load``), run as a background job with progress (``web.dashboard.jobs``).
"""

from __future__ import annotations

from pathlib import Path

from shiny import module, reactive, render, ui

from carelens.access.roles import Permission
from carelens.tables import UPLOAD_SUFFIXES
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import FeedbackContext
from carelens.web.dashboard.html_table import frame_table
from carelens.web.dashboard.jobs import BackgroundJob
from carelens.web.dashboard.registry import Page

# field -> plain-English label (the capability's loader guesses columns and validates rows)
FIELDS: dict[str, str] = {
    "comment_id": "Comment ID (optional: repeat uploads are recognised)",
    "date": "Date the comment was received",
    "question": "Question asked",
    "fft_score": "FFT answer (1 very good ... 6 don't know, or words)",
    "location_1": "Location level 1",
    "location_2": "Location level 2",
    "location_3": "Location level 3",
}
NOT_MAPPED = "(not in this file)"
MAX_HEADER_ROW = 50


def guess_mapping(columns: list[str]) -> dict:
    """The loader's guess of which column holds each field (None where it finds none)."""
    from carelens.feedback.ingest.mapping import guess_columns

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


@module.ui
def page_ui():
    return ui.TagList(
        ui.p("Load comments exported from your FFT system. carelens reads CSV or Excel files, checks every "
             "row, tags each comment with topics and sentiment, and stores it. Loading the same file "
             "twice adds nothing.", class_="hint"),
        ui.card(
            ui.card_header("1. Choose a file"),
            ui.input_file("file", "Export file (CSV or Excel)", accept=list(UPLOAD_SUFFIXES), button_label="Choose file…",
                          placeholder="No file chosen"),
            ui.output_ui("limit"),
            ui.input_numeric("header_row", "Row holding the column names (1 unless the file has title rows above them)",
                             value=1, min=1, max=MAX_HEADER_ROW, step=1, width="320px"),
        ),
        ui.output_ui("mapping"),
        ui.output_ui("result"),
    )


def load_file(frame, engine, mapping: dict, source: str, model_path: str | None, loaded_by: str, on_progress):
    """The upload's background job: ``load_comments``, reporting progress as rows are classified."""
    from carelens.feedback.ingest import load_comments

    return load_comments(frame, engine=engine, mapping=mapping, source=source, progress=False,
                         on_progress=on_progress, model_path=model_path, loaded_by=loaded_by)


@module.server
def page_server(input, output, session, app: AppContext, fb: FeedbackContext):
    table = reactive.value(None)
    outcome = reactive.value(None)  # {"report": LoadReport} or {"error": one line}
    loading = BackgroundJob(load_file)

    @reactive.effect
    def _warm_model() -> None:
        """Staff on this page are about to load comments: read the model while they choose a file."""
        if app.current_page() == session.ns:  # a page's module id is its page id
            from carelens.feedback.model_cache import warm_model_in_background

            warm_model_in_background(app.settings.feedback_model)

    @reactive.effect
    @reactive.event(input.file, input.header_row)
    def _read() -> None:
        from carelens.errors import CarelensError
        from carelens.tables import read_table

        files = input.file()
        outcome.set(None)
        if not files:
            return
        name = files[0]["name"]
        # the same limits as the API's upload (the server also refuses a larger body before it is stored)
        if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
            table.set(None)
            outcome.set({"error": f"{name}: not a CSV, Excel (.xlsx) or parquet file."})
            app.audit("upload", name, {"reason": "file type"}, outcome="refused")
            return
        if int(files[0].get("size") or 0) > app.settings.max_request_bytes:
            table.set(None)
            outcome.set({"error": f"{name}: larger than the limit of {app.settings.max_request_bytes / 1e6:,.0f} MB."})
            app.audit("upload", name, {"reason": "size", "bytes": int(files[0]["size"])}, outcome="refused")
            return
        header = input.header_row()
        header = int(header) if isinstance(header, (int, float)) and 1 <= header <= MAX_HEADER_ROW else 1
        try:
            frame = read_table(files[0]["datapath"], dtype_str=True, header_row=header)
        except CarelensError as exc:
            table.set(None)
            outcome.set({"error": f"{files[0]['name']}: {exc.message}"})
            return
        table.set((files[0]["name"], files[0]["datapath"], frame))

    @render.ui
    def limit():
        return ui.p(f"CSV, Excel (.xlsx) or parquet, up to {app.settings.max_request_bytes / 1e6:,.0f} MB.", class_="hint")

    @render.ui
    def mapping():
        loaded = table()
        if loaded is None:
            return ui.TagList()
        name, _, frame = loaded
        columns = list(frame.columns)
        levels = app.settings.location_levels
        guess = guess_mapping(columns)
        selects = []
        for field, label in FIELDS.items():
            if field.startswith("location_"):
                i = int(field[-1]) - 1
                if i >= len(levels):
                    continue
                label = f"{levels[i]} (location level {i + 1})"
            choices = [NOT_MAPPED] + columns
            selects.append(ui.input_select(f"map_{field}", label, choices=choices, selected=guess.get(field) or NOT_MAPPED))
        mapped = {v for k, v in guess.items() if k not in ("demographics", "text_columns") and v}
        mapped |= set(guess.get("text_columns") or [])
        demo_choices = [c for c in columns if c not in mapped]
        untitled = sum(str(c).startswith("Unnamed") for c in columns) >= max(1, len(columns) // 2)
        preview = frame_table(redacted_preview(frame.head(5)), classes="table table-sm preview")
        from carelens.tables import read_warnings

        read_notes = [ui.p(w, class_="alert alert-warning read-warning", role="status") for w in read_warnings(frame, name)]
        return ui.card(
            ui.card_header(f"2. Match the columns of {name} ({len(frame):,} rows)"),
            ui.p("The first row looks like a title, not the column names: set the row that holds them above.",
                 class_="alert alert-warning header-hint", role="status") if untitled else None,
            ui.input_selectize("map_text", "Comment text columns * (tick every free-text question of the return, e.g. "
                               "\"What was good?\" and \"What could be better?\")", choices=columns,
                               selected=guess.get("text_columns") or [], multiple=True, width="100%"),
            ui.layout_columns(*selects, col_widths=[4] * len(selects)),
            ui.input_selectize("map_demographics", "Demographic columns to keep (optional, e.g. age group, ethnicity)",
                               choices=demo_choices, selected=guess.get("demographics", []), multiple=True, width="100%"),
            *read_notes,
            ui.h4("First rows of the file"),
            preview,
            ui.input_action_button("load", "Check and load comments", class_="btn-primary"),
        )

    @reactive.effect
    @reactive.event(input.load)
    def _load() -> None:
        loaded = table()
        if loaded is None:
            return
        name, _, frame = loaded
        chosen: dict = {"comment_text": list(input.map_text() or ())}
        for field in FIELDS:
            key = f"map_{field}"
            if key in input:  # "(not in this file)" is sent as None: the loader must not guess it again
                value = input[key]()
                chosen[field] = None if value in (None, "", NOT_MAPPED) else value
        if not chosen["comment_text"]:
            outcome.set({"error": f"{name}: choose which column(s) hold the comment text (field 'Comment text columns')."})
            return
        chosen["demographics"] = list(input.map_demographics() or ())
        outcome.set(None)
        loading.start(frame, app.engine, chosen, name, app.settings.feedback_model, app.user.name)

    @reactive.effect
    def _loaded() -> None:
        """The job's outcome becomes the page's result (an error names file, row and field)."""
        status = loading.status()
        with reactive.isolate():
            if status == "success":
                report = loading.result()
                outcome.set({"report": report})
                app.audit("upload", report.source,
                          {"rows_read": report.rows_read, "rows_added": report.rows_added})
                fb.data_changed()
            elif status == "error":  # CarelensError names file/row/field; anything else only its kind
                from carelens.errors import CarelensError

                error = loading.error()
                app.audit("upload", None, {"error": type(error).__name__}, outcome="failed")
                outcome.set({"error": str(error) if isinstance(error, CarelensError)
                             else f"the load failed ({type(error).__name__}); the server's log has the details"})

    @render.ui
    def result():
        bar = loading.progress_bar("Loading progress", lambda done, total: f"Checking and classifying comments: {done:,} of {total:,}",
                                   class_="upload-progress")
        if bar is not None:
            return bar
        res = outcome()
        if not res:
            return ui.TagList()
        if "error" in res:
            return ui.div(ui.h3("Nothing was loaded"), ui.p(res["error"]), class_="alert alert-danger", role="alert")
        report = res["report"]
        messages = list(getattr(report, "messages", []) or [])
        items = [ui.tags.li(str(m)) for m in messages[:200]]
        if len(messages) > 200:
            items.append(ui.tags.li(f"… and {len(messages) - 200:,} more"))
        return ui.div(
            ui.h3("Nothing new to load" if report.added_nothing else "Comments loaded"),
            ui.p(result_line(report)),
            ui.TagList(ui.h4("Row messages"), ui.tags.ul(*items, class_="row-messages")) if items else None,
            # a load that changed nothing is not a success to celebrate: a neutral box, not a green one
            class_="alert alert-secondary load-result" if report.added_nothing else "alert alert-success load-result",
            role="status",
        )


def result_line(report) -> str:
    """What a load did, in a sentence staff can act on."""
    parts = [f"{report.rows_read:,} rows read",
             f"{report.comments_added:,} comments added"
             + (f" ({report.responses_added:,} new responses)" if report.responses_added else ""),
             f"{report.rows_already_stored:,} rows already stored"]
    if report.comments_added and report.rows_already_stored and report.comments_added > report.responses_added:
        parts[-1] += " (their new answers added)"
    if report.rows_duplicate_in_file:
        parts.append(f"{report.rows_duplicate_in_file:,} repeated in the file")
    if report.rows_kept_apart:
        parts.append(f"{report.rows_kept_apart:,} kept as separate responses (their ID was already used by another)")
    parts.append(f"{report.rows_with_problems:,} with problems")
    line = "; ".join(parts) + f" ({report.seconds:.1f} s)."
    if report.added_nothing:
        line += " The store is unchanged: every row of this file was already stored."
    return line


PAGE = Page(id="upload", title="Upload", ui=page_ui, server=page_server, feedback=True, filters=False,
            permission=Permission.FEEDBACK_UPLOAD)
