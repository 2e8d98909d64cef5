"""`carelens feedback ...`: classify, train and evaluate (the store adds `load`)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)

TEXT_CANDIDATES = ("FFT answer", "comment_text", "Comment", "comment", "Comments", "Feedback", "text", "Text")
CHUNK = 2_000


def _err(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.YELLOW)


def resolve_text_column(frame, requested: str | None, file: str) -> str:
    """The user's column, else the first common name present; else a clear error listing columns."""
    from carelens.tables import require_columns

    if requested:
        require_columns(frame, [requested], file=file, purpose="the comment text (--text-column)")
        return requested
    found = next((c for c in TEXT_CANDIDATES if c in frame.columns), None)
    if found is None:
        require_columns(frame, ["FFT answer"], file=file, purpose="the comment text (set --text-column)")
    return found  # type: ignore[return-value]


def _optional_column(frame, requested: str | None, candidates: tuple[str, ...], file: str) -> str | None:
    from carelens.tables import require_columns

    if requested:
        require_columns(frame, [requested], file=file)
        return requested
    return next((c for c in candidates if c in frame.columns), None)


def _load_model(model_dir: Path | None):
    from carelens.feedback.model import FeedbackModel

    return FeedbackModel.load(model_dir)


@app.command()
def classify(
    input_file: Path = typer.Argument(..., metavar="IN", help="CSV, XLSX or parquet file of comments."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file (.csv, .xlsx or .parquet)."),
    text_column: str = typer.Option(None, "--text-column", help='Column with the comment text (default: "FFT answer" or a common name).'),
    model_dir: Path = typer.Option(None, "--model", help="Model folder (default: the packaged model)."),
    score_column: str = typer.Option(None, "--score-column", help='FFT score column (default: "FFT categorical answer" if present).'),
    id_column: str = typer.Option(None, "--id-column", help="Comment ID column, checked for duplicates."),
) -> None:
    """Tag every comment with topics, their categories and sentiment, and each topic's own sentiment and
    words (topic_sentiment, topic_evidence); keeps every input row and column."""
    import pandas as pd

    from carelens.feedback.training import FFT_SCORE_COLUMNS
    from carelens.progress import progress_task
    from carelens.tables import ensure_unique, read_table, write_table

    frame = read_table(input_file, dtype_str=True)
    text_col = resolve_text_column(frame, text_column, str(input_file))
    score_col = _optional_column(frame, score_column, FFT_SCORE_COLUMNS, str(input_file))
    id_col = _optional_column(frame, id_column, ("Comment ID", "comment_id", "ID", "id"), str(input_file))
    if id_col:
        dups = ensure_unique(frame, id_col)
        if dups:
            _err(f"warning: {input_file}: {len(dups)} duplicate value(s) in '{id_col}' (rows {', '.join(map(str, dups[:5]))}"
                 f"{'…' if len(dups) > 5 else ''}); all rows are kept and classified")
    model = _load_model(model_dir)
    texts = frame[text_col].tolist()
    scores = frame[score_col].tolist() if score_col else None
    parts = []
    with progress_task("Classifying comments", len(texts)) as advance:
        for start in range(0, len(texts), CHUNK):
            chunk = slice(start, start + CHUNK)
            parts.append(model.classify(texts[chunk], fft_scores=scores[chunk] if scores else None))
            advance(len(texts[chunk]))
    result = pd.concat(parts, ignore_index=True) if parts else model.classify([])
    out = frame.copy()
    for name, values in (
        ("topics", result["topics_text"]),
        ("categories", result["categories"].map("; ".join)),
        ("sentiment", result["sentiment"]),
        ("topic_sentiment", result["topic_sentiment"]),
        ("topic_evidence", result["topic_evidence"]),
    ):
        column = name if name not in frame.columns else f"{name} (carelens)"
        out[column] = values.set_axis(out.index)
    write_table(out, output)
    blank = int((result["topics_text"] == model.framework.labelling_not_possible).sum())
    typer.echo(f"classified {len(out):,} comments ({blank:,} with no usable text) with model {model.version} -> {output}")


@app.command()
def train(
    data: Path = typer.Argument(..., help="Labelled comments (CSV, XLSX or parquet)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write the model to."),
    text_column: str = typer.Option(None, "--text-column", help='Comment text column (default: "FFT answer" or a common name).'),
    framework_file: Path = typer.Option(None, "--framework", help="Framework file (YAML, JSON or CSV); default NHS England v7."),
    labels_column: str = typer.Option(None, "--labels-column", help="One column of joined label names (instead of one 0/1 column per label)."),
    label_sep: str = typer.Option(";", "--label-sep", help="Separator for --labels-column."),
    sentiment_column: str = typer.Option(None, "--sentiment-column", help='Sentiment 1-5 column (default: "Comment sentiment" if present).'),
    score_column: str = typer.Option(None, "--score-column", help="FFT score column used as a sentiment feature (default: auto)."),
    embedder: str = typer.Option("packaged", "--embedder", help='"packaged" (static, fast), "none", or a local sentence-transformers/model2vec folder.'),
    topic_kernel: str = typer.Option("auto", "--topic-kernel", help='"auto" (RBF kernel ridge up to 16,000 comments, linear SVMs above), "rbf" or "linear" (see BENCHMARKS.md).'),
    include_corrections: bool = typer.Option(False, "--include-corrections", help="Also train on staff corrections stored in the feedback store."),
    db: str = typer.Option(None, "--db", help="Store for --include-corrections (URL or DuckDB file; default: settings)."),
) -> None:
    """Train topic and sentiment models on a trust's own labels and framework."""
    from carelens.feedback.framework import load_framework
    from carelens.feedback.training import train_feedback_model
    from carelens.errors import ConfigError
    from carelens.feedback.topics import KERNELS
    from carelens.tables import read_table

    if topic_kernel not in KERNELS:
        raise ConfigError(f"--topic-kernel must be one of {', '.join(KERNELS)}, not {topic_kernel!r}", field="--topic-kernel")
    frame = read_table(data, dtype_str=True)
    text_col = resolve_text_column(frame, text_column, str(data))
    framework = load_framework(framework_file) if framework_file else None
    if include_corrections:
        frame = corrections_hook(frame, framework, text_col, db, labels_column=labels_column, label_sep=label_sep,
                                 sentiment_column=sentiment_column)
    from carelens.progress import progress_task

    with progress_task("Training topic and sentiment models", 100) as advance:
        done = [0]

        def moved(fraction: float, stage: str) -> None:  # the library reports 0..1 as it goes
            step = int(round(100 * fraction)) - done[0]
            if step > 0:
                advance(step)
                done[0] += step

        model = train_feedback_model(
            frame, framework, text_column=text_col, labels_column=labels_column, label_sep=label_sep,
            sentiment_column=sentiment_column or "auto", fft_score_column=score_column or "auto",
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
    data: Path = typer.Argument(..., help="Labelled comments the model has not been trained on."),
    model_dir: Path = typer.Option(None, "--model", help="Model folder (default: the packaged model)."),
    text_column: str = typer.Option(None, "--text-column"),
    labels_column: str = typer.Option(None, "--labels-column"),
    label_sep: str = typer.Option(";", "--label-sep"),
    sentiment_column: str = typer.Option(None, "--sentiment-column"),
    score_column: str = typer.Option(None, "--score-column"),
    report_dir: Path = typer.Option(Path("evaluation"), "--report-dir", help="Where to write evaluation.json/.md/.html."),
) -> None:
    """Per-label precision/recall/F1/support, micro/macro F1, exact match, Hamming loss, ROC AUC, sentiment."""
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from carelens.feedback.evaluation import evaluate_model, write_reports
    from carelens.feedback.labels import joined_labels, parse_flag_column, wide_labels
    from carelens.feedback.text import content_free_mask
    from carelens.feedback.training import FFT_SCORE_COLUMNS, SENTIMENT_COLUMNS, parse_sentiment
    from carelens.tables import read_table

    frame = read_table(data, dtype_str=True)
    text_col = resolve_text_column(frame, text_column, str(data))
    model = _load_model(model_dir)
    fw = model.framework
    if labels_column:
        from carelens.tables import require_columns

        require_columns(frame, [labels_column], file=str(data))
        Y, _ = joined_labels(frame, labels_column, label_sep, fw, file=str(data))
    else:
        Y = wide_labels(frame, fw, file=str(data))
    labels = list(fw.learnable_labels)
    lnp = fw.labelling_not_possible
    if lnp in frame.columns:  # evaluate the rule too when the data codes it
        Y = np.column_stack([Y, parse_flag_column(frame[lnp], column=lnp, file=str(data))])
        labels.append(lnp)
    elif labels_column:
        Y = np.column_stack([Y, content_free_mask(frame[text_col]).astype(np.int8)])
        labels.append(lnp)
    sent_col = _optional_column(frame, sentiment_column, SENTIMENT_COLUMNS, str(data))
    sentiment = parse_sentiment(frame[sent_col], column=sent_col, file=str(data)) if sent_col else None
    score_col = _optional_column(frame, score_column, FFT_SCORE_COLUMNS, str(data))
    result = evaluate_model(model, frame[text_col].tolist(), Y, labels, sentiment,
                            frame[score_col].tolist() if score_col else None)
    paths = write_reports(result, report_dir)
    t = result["topics"]
    table = Table(title=f"Topics ({t['rows']:,} comments, model {result['model_version']})")
    for col in ("label", "precision", "recall", "F1", "support", "ROC AUC"):
        table.add_column(col, justify="left" if col == "label" else "right")
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
    console.print(f"reports: {paths['json']}, {paths['markdown']}, {paths['html']}")


@app.command()
def load(
    input_file: Path = typer.Argument(..., metavar="FILE", help="Trust FFT export (CSV, XLSX or parquet)."),
    db: str = typer.Option(None, "--db", help="SQLAlchemy URL or DuckDB file (default: settings' database_url)."),
    mapping: list[str] = typer.Option(None, "--map", help='Column mapping, repeatable: --map "comment_text=FFT answer". '
                                      "Fields: comment_id, date, comment_text, question, fft_score, location_1..3, demographics."),
    mapping_file: Path = typer.Option(None, "--mapping-file", help="YAML/JSON file of field: column pairs."),
    model_dir: Path = typer.Option(None, "--model", help="Model folder (default: the packaged model)."),
    strict: bool = typer.Option(False, "--strict", help="Fail the whole load on any bad date or score."),
) -> None:
    """Validate, classify and store comments in one transaction; loading the same file twice adds nothing."""
    from carelens.feedback.loading import load_comments, parse_mapping_args

    result = load_comments(input_file, db=db, mapping=parse_mapping_args(mapping, mapping_file),
                           model_path=model_dir, strict=strict, source=str(input_file))
    for message in result.messages[:20]:
        _err(f"warning: {message}")
    if len(result.messages) > 20:
        _err(f"warning: ... and {len(result.messages) - 20:,} more")
    typer.echo(result.summary())


def corrections_hook(frame, framework, text_column: str, db: str | None, *, labels_column: str | None = None,
                     label_sep: str = ";", sentiment_column: str | None = None):
    """``train --include-corrections``: append staff corrections from the store as training rows,
    laid out like the training file (joined labels or one column per label), so they count."""
    import pandas as pd

    from carelens.feedback.framework import load_framework
    from carelens.feedback.loading import corrections_training_frame
    from carelens.store.engine import get_engine

    if labels_column:
        from carelens.tables import require_columns

        require_columns(frame, [labels_column], purpose="the joined labels (--labels-column)")
    extra, notes = corrections_training_frame(get_engine(db), framework or load_framework(), text_column=text_column,
                                              columns=[str(c) for c in frame.columns], labels_column=labels_column,
                                              label_sep=label_sep, sentiment_column=sentiment_column)
    for note in notes:
        _err(f"warning: {note}")
    _err(f"adding {len(extra):,} corrected comments from the store")
    if not len(extra):
        return frame
    # a corrected comment that is also in the training file: the staff correction is the later word
    texts = set(extra[text_column])
    kept = frame[~frame[text_column].isin(texts)]
    if len(kept) < len(frame):
        _err(f"{len(frame) - len(kept):,} training rows replaced by their stored corrections")
    return pd.concat([kept, extra], ignore_index=True)
