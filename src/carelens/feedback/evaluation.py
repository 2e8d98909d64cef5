"""Evaluating a feedback model on labelled comments: the figures a trust needs before trusting it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)

from carelens.errors import TableError
from carelens.feedback import columns
from carelens.feedback.framework import Framework
from carelens.feedback.model import FeedbackModel
from carelens.feedback.sentiment import to_three_classes

REPORT_FORMATS = {"json": ".json", "markdown": ".md", "html": ".html"}


def topic_metrics(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray, labels: list[str]) -> dict:
    """Per-label and overall multi-label metrics. Macro F1 and AUC are over labels present in the data."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    present = y_true.sum(axis=0) > 0
    aucs = []
    per_label = []
    for j, name in enumerate(labels):
        auc = None
        if present[j] and y_true[:, j].sum() < len(y_true):
            auc = float(roc_auc_score(y_true[:, j], proba[:, j]))
            aucs.append(auc)
        per_label.append({"label": name, "precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
                          "support": int(s[j]), "roc_auc": auc})
    return {
        "per_label": per_label,
        "macro_f1": float(f1_score(y_true[:, present], y_pred[:, present], average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "exact_match": float(accuracy_score(y_true, y_pred)),
        "hamming_loss": float(hamming_loss(y_true, y_pred)),
        "macro_roc_auc": float(np.mean(aucs)) if aucs else None,
        "labels_with_support": int(present.sum()),
        "rows": int(len(y_true)),
    }


def sentiment_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    t3, p3 = to_three_classes(y_true), to_three_classes(y_pred)
    return {
        "rows": int(len(y_true)),
        "accuracy_5": float(accuracy_score(y_true, y_pred)),
        "macro_f1_5": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "accuracy_3": float(accuracy_score(t3, p3)),
        "macro_f1_3": float(f1_score(t3, p3, average="macro", zero_division=0)),
    }


def evaluate_model(
    model: FeedbackModel,
    texts: list,
    Y: np.ndarray,
    labels: list[str],
    sentiment: np.ndarray | None = None,
    fft_scores: list | None = None,
) -> dict:
    """Score every row; topic metrics over ``labels`` (the model's names, incl. 'Labelling not possible')."""
    out = model.classify(texts, fft_scores=fft_scores)
    index = {name: j for j, name in enumerate(labels)}
    pred = np.zeros_like(Y)
    proba = np.zeros(Y.shape, dtype=float)
    for i, (topics, probs) in enumerate(zip(out["topics"], out["probabilities"])):
        for t in topics:
            if t in index:
                pred[i, index[t]] = 1
                if not probs:  # rule-based label (content-free): certain
                    proba[i, index[t]] = 1.0
        for name, p in probs.items():
            if name in index:
                proba[i, index[name]] = p
    result = {"model_version": model.version, "topics": topic_metrics(Y, pred, proba, labels)}
    if sentiment is not None and model.sentiment is not None:
        ok = ~np.isnan(sentiment) & out["sentiment"].notna().to_numpy()
        if ok.any():
            result["sentiment"] = sentiment_metrics(sentiment[ok].astype(int), out["sentiment"].to_numpy()[ok].astype(int))
    return result


def label_matrix(frame: pd.DataFrame, framework: Framework, *, text_column: str, labels_column: str | None = None,
                 label_sep: str = ";", file: str | None = None) -> tuple[np.ndarray, list[str]]:
    """The true labels of a labelled file (one 0/1 column per label, or ``labels_column`` of joined
    names) as a matrix, and the label of each column.

    "Labelling not possible" is set by a rule, not learnt; it is evaluated too when the data codes
    it (a column of that name), or, with joined labels, from the same content-free rule, so that a
    file of joined labels is scored on it like a wide file.
    """
    from carelens.feedback.labels import joined_labels, parse_flag_column, wide_labels
    from carelens.feedback.text import content_free_mask
    from carelens.tables import require_columns

    if labels_column:
        require_columns(frame, [labels_column], file=file)
        Y, _ = joined_labels(frame, labels_column, label_sep, framework, file=file)
    else:
        Y = wide_labels(frame, framework, file=file)
    labels = list(framework.learnable_labels)
    lnp = framework.labelling_not_possible
    if lnp in frame.columns:
        Y = np.column_stack([Y, parse_flag_column(frame[lnp], column=lnp, file=file)])
        labels.append(lnp)
    elif labels_column:
        Y = np.column_stack([Y, content_free_mask(frame[text_column]).astype(np.int8)])
        labels.append(lnp)
    return Y, labels


def evaluate_table(model: FeedbackModel, frame: pd.DataFrame, *, text: str | None = None, labels: str | None = None,
                   label_sep: str = ";", sentiment: str | None = None, fft_score: str | None = None,
                   file: str | None = None) -> dict:
    """Evaluate ``model`` on a labelled table laid out like a training file. Column roles not given
    are found by their common names (the sentiment and FFT score are optional)."""
    from carelens.feedback.training import FFT_SCORE_COLUMNS, SENTIMENT_COLUMNS, parse_sentiment

    text_col = columns.text_column(frame, text, file)
    if frame.empty:
        raise TableError("no comments to evaluate on (the file has a header but no rows)", file=file)
    Y, names = label_matrix(frame, model.framework, text_column=text_col, labels_column=labels, label_sep=label_sep,
                            file=file)
    sent_col = columns.optional_column(frame, sentiment, SENTIMENT_COLUMNS, file)
    truth = parse_sentiment(frame[sent_col], column=sent_col, file=file) if sent_col else None
    score_col = columns.optional_column(frame, fft_score, FFT_SCORE_COLUMNS, file)
    return evaluate_model(model, frame[text_col].tolist(), Y, names, truth,
                          frame[score_col].tolist() if score_col else None)


def report_markdown(result: dict, *, title: str = "Feedback model evaluation") -> str:
    t = result["topics"]
    lines = [f"# {title}", "", f"Model version: `{result['model_version']}`; {t['rows']:,} comments.", "",
             "## Topics", "",
             f"- Macro F1 (over {t['labels_with_support']} labels present): **{t['macro_f1']:.3f}**",
             f"- Micro F1: **{t['micro_f1']:.3f}**",
             f"- Exact match: {t['exact_match']:.3f}; Hamming loss: {t['hamming_loss']:.4f}",
             f"- Macro ROC AUC: {t['macro_roc_auc']:.3f}" if t["macro_roc_auc"] is not None else "- Macro ROC AUC: n/a",
             "", "| label | precision | recall | F1 | support | ROC AUC |", "|---|---:|---:|---:|---:|---:|"]
    for row in t["per_label"]:
        auc = f"{row['roc_auc']:.3f}" if row["roc_auc"] is not None else "–"
        lines.append(f"| {row['label']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} | {auc} |")
    s = result.get("sentiment")
    if s:
        lines += ["", "## Sentiment", "",
                  f"- 5 classes: accuracy {s['accuracy_5']:.3f}, macro F1 **{s['macro_f1_5']:.3f}**",
                  f"- 3 classes (positive / mixed / negative): accuracy {s['accuracy_3']:.3f}, macro F1 **{s['macro_f1_3']:.3f}**",
                  f"- {s['rows']:,} comments with a coded sentiment"]
    return "\n".join(lines) + "\n"


def report_html(result: dict, *, title: str = "Feedback model evaluation") -> str:
    """The same report as :func:`report_markdown`, as one standalone page
    (``reports/templates/feedback_evaluation.html``, escaped by the shared Jinja environment)."""
    from carelens.reports.templating import render

    return render("feedback_evaluation.html", title=title, result=result, t=result["topics"],
                  s=result.get("sentiment"))


def report_json(result: dict) -> str:
    return json.dumps(result, indent=2)


def write_report(result: dict, path: str | Path) -> Path:
    """One report file, its format chosen by the extension (.json, .md or .html)."""
    path = Path(path)
    render = {".json": report_json, ".md": report_markdown, ".html": report_html}[path.suffix.lower()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
    return path


def write_reports(result: dict, out_dir: str | Path) -> dict[str, Path]:
    """evaluation.json, evaluation.md and evaluation.html in ``out_dir``."""
    out = Path(out_dir)
    return {name: write_report(result, out / f"evaluation{ext}") for name, ext in REPORT_FORMATS.items()}
