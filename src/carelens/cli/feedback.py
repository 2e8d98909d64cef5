"""`carelens feedback ...`: classify, train, evaluate, load, alias and mix (options as in docs/cli.md).

Only parsing and presenting live here; the work is in ``carelens.feedback`` (column roles in
``columns.py``, the evaluation in ``evaluation.py``, corrections as training rows in
``retraining.py``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from carelens.cli import options as opt

app = opt.typer_app()

CHUNK = 2_000
CLASSIFY_ROLES = ("comment_text", "fft_score", "comment_id")
LABELLED_ROLES = ("comment_text", "labels", "sentiment", "fft_score")
LOAD_ROLES = ("comment_id", "date", "comment_text", "question", "fft_score", "location_1", "location_2", "location_3",
              "demographics")

LABEL_SEP = typer.Option(";", "--label-sep", help="Separator between label names in the labels column.")
OLD_SCORE = opt.old("--score-column", "--column fft_score=NAME")
OLD_LABELS = opt.old("--labels-column", "--column labels=NAME")
OLD_SENTIMENT = opt.old("--sentiment-column", "--column sentiment=NAME")


def _labelled_roles(column, text_column, labels_column, sentiment_column, score_column) -> dict[str, str]:
    roles = opt.column_roles(column, LABELLED_ROLES, comment_text=text_column)
    return opt.old_roles(roles, labels=("--labels-column", labels_column),
                         sentiment=("--sentiment-column", sentiment_column), fft_score=("--score-column", score_column))


@app.command()
def classify(
    input_file: Path = typer.Argument(..., metavar="FILE", help="Comments: CSV, XLSX or parquet."),
    output: Path = opt.output("Output file: .csv, .xlsx or .parquet (every input row and column, plus topics, "
                              "categories and sentiment)."),
    column: list[str] | None = opt.columns(CLASSIFY_ROLES),
    text_column: list[str] | None = opt.text_columns(),
    header_row: int = opt.header_row(),
    model_dir: Path | None = opt.model(),
    score_column: str | None = OLD_SCORE,
    id_column: str | None = opt.old("--id-column", "--column comment_id=NAME"),
) -> None:
    """Tag every comment with topics, their categories and sentiment, and each topic's own sentiment and
    words (topic_sentiment, topic_evidence); keeps every input row and column.

    The FFT score (a sentiment feature) and the comment ID (checked for duplicates) are found by
    their common names unless --column names them. Several text columns (one per question of the
    return) each get their own topics, categories and sentiment columns, named after them.

    Example:

    ```
    carelens feedback classify fft_export.csv -o tagged.xlsx \\
        --text-column "What was good?" --text-column "What could be better?"
    ```
    """
    import pandas as pd

    from carelens.feedback.columns import ID_COLUMNS, optional_column, text_columns
    from carelens.feedback.model import FeedbackModel
    from carelens.feedback.training import FFT_SCORE_COLUMNS
    from carelens.progress import progress_task
    from carelens.tables import ensure_unique, first_data_row, write_table

    roles = opt.old_roles(opt.column_roles(column, CLASSIFY_ROLES, repeatable=("comment_text",), comment_text=text_column),
                          fft_score=("--score-column", score_column), comment_id=("--id-column", id_column))
    opt.table_output(output)
    frame = opt.read_input(input_file, header_row)
    text_cols = text_columns(frame, roles.get("comment_text"), str(input_file))
    score_col = optional_column(frame, roles.get("fft_score"), FFT_SCORE_COLUMNS, str(input_file))
    id_col = optional_column(frame, roles.get("comment_id"), ID_COLUMNS, str(input_file))
    if id_col:
        offset = first_data_row(frame) - 2
        dups = [r + offset for r in ensure_unique(frame, id_col)]
        if dups:
            opt.warn(f"{input_file}: {len(dups)} duplicate value(s) in '{id_col}' (rows {', '.join(map(str, dups[:5]))}"
                     f"{'…' if len(dups) > 5 else ''}); all rows are kept and classified")
    model = FeedbackModel.load(model_dir)
    scores = frame[score_col].tolist() if score_col else None
    out = frame.copy()
    blank = 0
    with progress_task("Classifying comments", len(frame) * len(text_cols)) as advance:
        for text_col in text_cols:
            texts = frame[text_col].tolist()
            parts = []
            for start in range(0, len(texts), CHUNK):
                chunk = slice(start, start + CHUNK)
                parts.append(model.classify(texts[chunk], fft_scores=scores[chunk] if scores else None))
                advance(len(texts[chunk]))
            result = pd.concat(parts, ignore_index=True) if parts else model.classify([])
            for name, values in (
                ("topics", result["topics_text"]),
                ("categories", result["categories"].map("; ".join)),
                ("sentiment", result["sentiment"]),
                ("topic_sentiment", result["topic_sentiment"]),
                ("topic_evidence", result["topic_evidence"]),
            ):
                column_name = name if len(text_cols) == 1 else f"{name} ({text_col})"
                column_name = column_name if column_name not in frame.columns else f"{column_name} (carelens)"
                out[column_name] = values.set_axis(out.index)
            blank += int((result["topics_text"] == model.framework.labelling_not_possible).sum())
    write_table(out, output, for_spreadsheet=True)
    what = f"{len(out):,} comments" if len(text_cols) == 1 else f"{len(out):,} rows x {len(text_cols)} text columns"
    typer.echo(f"classified {what} ({blank:,} with no usable text) with model {model.version} -> {output}")


@app.command()
def train(
    data: Path = typer.Argument(..., metavar="FILE", help="Labelled comments: CSV, XLSX or parquet."),
    output: Path = opt.output("Folder to write the model to."),
    column: list[str] | None = opt.columns(LABELLED_ROLES),
    text_column: str | None = opt.text_column(),
    label_sep: str = LABEL_SEP,
    framework_file: Path | None = typer.Option(None, "--framework", metavar="FILE",
                                               help="Framework file (YAML, JSON or CSV); default NHS England v7."),
    embedder: str = typer.Option("packaged", "--embedder",
                                 help='"packaged" (static, fast), "none", or a local sentence-transformers/model2vec folder.'),
    topic_kernel: str = typer.Option("auto", "--topic-kernel",
                                     help='"auto" (RBF kernel ridge up to 16,000 comments, linear SVMs above), "rbf" or '
                                          '"linear" (see BENCHMARKS.md).'),
    include_corrections: bool = typer.Option(False, "--include-corrections",
                                             help="Also train on staff corrections stored in the carelens store."),
    db: str | None = opt.store("that --include-corrections reads"),
    labels_column: str | None = OLD_LABELS,
    sentiment_column: str | None = OLD_SENTIMENT,
    score_column: str | None = OLD_SCORE,
) -> None:
    """Train topic and sentiment models on a trust's own labels and framework.

    Labels are one 0/1 column per label of the framework, or one column of joined label names
    (--column labels=NAME). A sentiment column (1 very positive .. 5 very negative) trains the
    sentiment model too.

    Example:

    ```
    carelens feedback train labelled.xlsx -o my-model --framework ours.yaml \\
        --column labels=Codes
    ```
    """
    from carelens.errors import ConfigError
    from carelens.feedback.columns import text_column as find_text_column
    from carelens.feedback.framework import load_framework
    from carelens.feedback.topics import KERNELS
    from carelens.feedback.training import train_feedback_model
    from carelens.model_files import model_folder

    if topic_kernel not in KERNELS:
        raise ConfigError(f"--topic-kernel must be one of {', '.join(KERNELS)}, not {topic_kernel!r}", field="--topic-kernel")
    roles = _labelled_roles(column, text_column, labels_column, sentiment_column, score_column)
    model_folder(output, create=False)  # a bad -o is refused before training, not after it
    frame = opt.read_input(data)
    text_col = find_text_column(frame, roles.get("comment_text"), str(data))
    framework = load_framework(framework_file) if framework_file else None
    if include_corrections:
        from carelens.db import get_engine
        from carelens.feedback.retraining import with_corrections

        merged = with_corrections(frame, get_engine(db), framework or load_framework(), text_column=text_col,
                                  labels_column=roles.get("labels"), label_sep=label_sep,
                                  sentiment_column=roles.get("sentiment"), file=str(data))
        for note in merged.warnings:
            opt.warn(note)
        typer.echo(f"adding {merged.added:,} corrected comments from the store"
                   + (f"; {merged.replaced:,} training rows replaced by their corrections" if merged.replaced else ""),
                   err=True)
        frame = merged.frame
    from carelens.progress import progress_task

    with progress_task("Training topic and sentiment models", 100) as advance:
        done = [0]

        def moved(fraction: float, stage: str) -> None:  # the library reports 0..1 as it goes
            step = int(round(100 * fraction)) - done[0]
            if step > 0:
                advance(step)
                done[0] += step

        model = train_feedback_model(
            frame, framework, text_column=text_col, labels_column=roles.get("labels"), label_sep=label_sep,
            sentiment_column=roles.get("sentiment", "auto"), fft_score_column=roles.get("fft_score", "auto"),
            embedder=embedder, topic_kernel=topic_kernel, source=str(data), progress=moved,
        )
    model.save(output)
    cv = model.card.get("cv_metrics", {})
    typer.echo(
        f"trained on {model.card['training_data']['rows_with_text']:,} comments with text "
        f"({len(model.framework.labels)} labels, sentiment {'yes' if model.sentiment else 'no'}) in "
        f"{model.card['training_seconds']} s; cross-validated topic macro F1 {cv.get('topic_macro_f1_cv', float('nan')):.3f}, "
        f"micro F1 {cv.get('topic_micro_f1_cv', float('nan')):.3f} -> {output}"
    )


@app.command()
def evaluate(
    data: Path = typer.Argument(..., metavar="FILE", help="Labelled comments the model has not been trained on."),
    model_dir: Path | None = opt.model(),
    output: Path | None = opt.output("A folder for evaluation.json, .md and .html (default: evaluation/), or one "
                                     "file ending .json, .md or .html.", required=False),
    column: list[str] | None = opt.columns(LABELLED_ROLES),
    text_column: str | None = opt.text_column(),
    label_sep: str = LABEL_SEP,
    report_dir: Path | None = opt.old("--report-dir", "-o/--output"),
    labels_column: str | None = OLD_LABELS,
    sentiment_column: str | None = OLD_SENTIMENT,
    score_column: str | None = OLD_SCORE,
) -> None:
    """Per-label precision/recall/F1/support, micro/macro F1, exact match, Hamming loss, ROC AUC, sentiment.

    The file is laid out like a training file (see train); "Labelling not possible" is evaluated
    too when the file codes it.

    Example:

    ```
    carelens feedback evaluate holdout.csv --model my-model \\
        --column labels=Codes -o evaluation/
    ```
    """
    from rich.console import Console
    from rich.table import Table

    from carelens.feedback.evaluation import REPORT_FORMATS, evaluate_table, write_report
    from carelens.feedback.model import FeedbackModel

    roles = _labelled_roles(column, text_column, labels_column, sentiment_column, score_column)
    output = opt.renamed(output, report_dir, new="-o/--output", old="--report-dir", default=Path("evaluation"))
    paths = opt.report_paths(output, REPORT_FORMATS, "evaluation")
    frame = opt.read_input(data)
    model = FeedbackModel.load(model_dir)
    result = evaluate_table(model, frame, text=roles.get("comment_text"), labels=roles.get("labels"),
                            label_sep=label_sep, sentiment=roles.get("sentiment"), fft_score=roles.get("fft_score"),
                            file=str(data))
    written = [write_report(result, path) for path in paths.values()]
    t = result["topics"]
    table = Table(title=f"Topics ({t['rows']:,} comments, model {result['model_version']})")
    for name in ("label", "precision", "recall", "F1", "support", "ROC AUC"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for row in t["per_label"]:
        table.add_row(row["label"], f"{row['precision']:.2f}", f"{row['recall']:.2f}", f"{row['f1']:.2f}",
                      str(row["support"]), "–" if row["roc_auc"] is None else f"{row['roc_auc']:.2f}")
    console = Console()
    console.print(table)
    console.print(f"macro F1 {t['macro_f1']:.3f} · micro F1 {t['micro_f1']:.3f} · exact match {t['exact_match']:.3f} · "
                  f"Hamming loss {t['hamming_loss']:.4f} · macro ROC AUC {t['macro_roc_auc'] or float('nan'):.3f}")
    if "sentiment" in result:
        s = result["sentiment"]
        console.print(f"sentiment: 5-class accuracy {s['accuracy_5']:.3f}, macro F1 {s['macro_f1_5']:.3f}; "
                      f"3-class accuracy {s['accuracy_3']:.3f}, macro F1 {s['macro_f1_3']:.3f} ({s['rows']:,} rows)")
    console.print(f"reports: {', '.join(map(str, written))}")


@app.command()
def load(
    input_file: Path = typer.Argument(..., metavar="FILE", help="Trust FFT export: CSV, XLSX or parquet."),
    db: str | None = opt.store("to load into"),
    column: list[str] | None = opt.columns(LOAD_ROLES),
    text_column: list[str] | None = opt.text_columns(),
    header_row: int = opt.header_row(),
    column_file: Path | None = typer.Option(None, "--column-file", metavar="FILE",
                                            help="YAML or JSON file of role: column pairs (--column wins)."),
    model_dir: Path | None = opt.model(),
    strict: bool = opt.strict("Fail the whole load on any bad date or score (default: store that cell blank and warn)."),
    mapping: list[str] | None = opt.old("--map", "--column"),
    mapping_file: Path | None = opt.old("--mapping-file", "--column-file"),
) -> None:
    """Validate, classify and store a trust's FFT returns in one transaction; loading the same file twice adds nothing.

    Each row is one respondent's return (FFT answer, date, place, demographics); each text column
    is one free-text question of it, stored as a comment of that return (--text-column or --column
    comment_text= several times). Roles not named are found by common export names; demographics
    is a comma-separated list of columns. Loading the file again with another text column adds that
    column's answers to the returns already stored.

    Example:

    ```
    carelens feedback load fft_march.xlsx --db store.duckdb --header-row 3 \\
        --text-column "What was good?" --text-column "What could be better?"
    ```
    """
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.ingest.mapping import parse_mapping_args

    pairs = opt.renamed(column, mapping, new="--column", old="--map", default=[])
    column_file = opt.renamed(column_file, mapping_file, new="--column-file", old="--mapping-file")
    roles = parse_mapping_args(None, column_file) | opt.column_roles(pairs, LOAD_ROLES, repeatable=("comment_text",),
                                                                     comment_text=text_column)
    from carelens.access import cli_principal
    from carelens.cli.access import record

    result = load_comments(input_file, db=db, mapping=roles, model_path=model_dir, strict=strict, source=str(input_file),
                           header_row=header_row, loaded_by=cli_principal().name)
    record(db, "upload", Path(input_file).name, {"rows_read": result.rows_read, "rows_added": result.rows_added})
    for message in result.messages[:20]:
        opt.warn(message)
    if len(result.messages) > 20:
        opt.warn(f"... and {len(result.messages) - 20:,} more")
    typer.echo(result.summary())


alias_app = opt.typer_app(help="Merge spellings of a place or demographic value across uploads (list, add, remove).")
app.add_typer(alias_app, name="alias")


def _alias_field(engine, field: str) -> str:
    from carelens.config import load_settings
    from carelens.feedback.store.aliases import field_key
    from carelens.feedback.store.view import store_view

    return field_key(field, load_settings().location_levels, store_view(engine).demographic_fields)


@alias_app.command("add")
def alias_add(
    field: str = typer.Argument(..., help="A location level (e.g. 'Ward / team', or location_3) or a demographic field."),
    spellings: list[str] = typer.Argument(..., metavar="SPELLING...", help="The spellings to merge."),
    canonical: str = typer.Option(..., "--as", metavar="VALUE", help="The value they stand for."),
    db: str | None = opt.store("to record the aliases in"),
) -> None:
    """Show SPELLING... of FIELD as VALUE in every view, export, report and API answer (case and spaces ignored).

    Example:

    ```
    carelens feedback alias add "Ward / team" "ward 10" "Wd 10" --as "Ward 10"
    ```
    """
    from carelens.db import get_engine
    from carelens.feedback.store.aliases import add_aliases

    engine = get_engine(db)
    added = add_aliases(engine, _alias_field(engine, field), spellings, canonical, by="cli")
    typer.echo(f"{added} spelling{'' if added == 1 else 's'} of {field} now shown as {canonical!r}.")


@alias_app.command("remove")
def alias_remove(
    field: str = typer.Argument(..., help="A location level or demographic field."),
    spellings: list[str] = typer.Argument(..., metavar="SPELLING...", help="The spellings to show as stored again."),
    db: str | None = opt.store("to remove the aliases from"),
) -> None:
    """Forget aliases: the spellings show as they were stored again.

    Example:

    ```
    carelens feedback alias remove "Ward / team" "Wd 10"
    ```
    """
    from carelens.db import get_engine
    from carelens.feedback.store.aliases import remove_aliases

    engine = get_engine(db)
    gone = remove_aliases(engine, _alias_field(engine, field), spellings)
    typer.echo(f"{gone} alias{'' if gone == 1 else 'es'} removed.")


@alias_app.command("list")
def alias_list(db: str | None = opt.store("to read")) -> None:
    """Every alias: field, spelling, the value it is shown as, who added it and when.

    Example:

    ```
    carelens feedback alias list --db store.duckdb
    ```
    """
    from carelens.db import get_engine
    from carelens.feedback.store.aliases import list_aliases

    table = list_aliases(get_engine(db))
    if table.empty:
        typer.echo("No aliases.")
        return
    for rec in table.to_dict("records"):
        typer.echo(f"{rec['field']}\t{rec['spelling']}\t-> {rec['canonical']}\t({rec['created_by'] or 'unknown'}, "
                   f"{rec['created_at']:%Y-%m-%d %H:%M})")


mix_app = opt.typer_app(help="The trust's own demographic mix, shown beside its respondents' (load, list, remove).")
app.add_typer(mix_app, name="mix")


@mix_app.command("load")
def mix_load(
    input_file: Path = typer.Argument(..., metavar="FILE",
                                      help="CSV, XLSX or parquet with columns field, value and share (a fraction or a "
                                           "percent; each field's shares add up to 1, or 100%)."),
    source: str = typer.Option(..., "--source", metavar="TEXT",
                               help="Where the figures come from, shown beside them (e.g. \"ONS Census 2021, our "
                                    "catchment\")."),
    db: str | None = opt.store("to load the mix into"),
) -> None:
    """Load the trust's own mix of each demographic field (its catchment's census shares, or its
    patient population): the "Who we hear from" page shows it beside the respondents' shares.

    Each field in the file replaces that field's mix at once; a file with any problem changes
    nothing. Fields are named as the uploads' demographic columns ("Ethnicity", "Age group"), values
    as the exports spell them (the Spellings page's merges apply to them too).

    Example:

    ```
    carelens feedback mix load census_2021.csv --source "ONS Census 2021, our catchment"
    ```
    """
    from carelens.access import cli_principal
    from carelens.db import get_engine
    from carelens.feedback.store.trust_mix import replace_mix
    from carelens.feedback.trust_mix import read_mix

    mix = read_mix(input_file)
    fields = replace_mix(get_engine(db), mix, source, who=cli_principal())
    for f in fields:
        typer.echo(f"{f['field']}: {f['values']} value{'' if f['values'] == 1 else 's'} ({f['scale']})"
                   + (f", replacing {f['replaced']}" if f["replaced"] else ""))
    typer.echo(f"trust mix of {len(fields)} field{'' if len(fields) == 1 else 's'} loaded from {input_file}.")


@mix_app.command("list")
def mix_list(db: str | None = opt.store("to read")) -> None:
    """Every field's mix: value, share, where it came from, who loaded it and when.

    Example:

    ```
    carelens feedback mix list --db store.duckdb
    ```
    """
    from carelens.db import get_engine
    from carelens.feedback.store.trust_mix import list_mix

    table = list_mix(get_engine(db))
    if table.empty:
        typer.echo("No trust mix.")
        return
    for rec in table.to_dict("records"):
        typer.echo(f"{rec['field']}\t{rec['value']}\t{100 * rec['share']:.1f}%\t{rec['source']}\t"
                   f"({rec['loaded_by'] or 'unknown'}, {rec['loaded_at']:%Y-%m-%d %H:%M} UTC)")


@mix_app.command("remove")
def mix_remove(
    field: str = typer.Argument(..., help="The demographic field whose mix goes (e.g. Ethnicity)."),
    db: str | None = opt.store("to remove the mix from"),
) -> None:
    """Forget a field's trust mix: the page shows its respondents without it.

    Example:

    ```
    carelens feedback mix remove Ethnicity
    ```
    """
    from carelens.access import cli_principal
    from carelens.db import get_engine
    from carelens.feedback.store.trust_mix import remove_mix

    gone = remove_mix(get_engine(db), field, who=cli_principal())
    typer.echo(f"{gone} value{'' if gone == 1 else 's'} of {field}'s trust mix removed." if gone
               else f"No trust mix of {field}.")
