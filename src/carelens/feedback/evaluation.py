"""Evaluating a feedback model on labelled comments: the figures a trust needs before trusting it."""

from __future__ import annotations

import html
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

from carelens.feedback.model import FeedbackModel
from carelens.feedback.sentiment import to_three_classes


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


def report_html(markdown_text: str) -> str:
    """A dependency-free HTML rendering of the markdown report (tables and bullets only)."""
    body, in_table = [], False
    for line in markdown_text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-:"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        text = html.escape(line).replace("**", "")
        if line.startswith("# "):
            body.append(f"<h1>{text[2:]}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{text[3:]}</h2>")
        elif line.startswith("- "):
            body.append(f"<p>• {text[2:]}</p>")
        elif line:
            body.append(f"<p>{text}</p>")
    if in_table:
        body.append("</table>")
    style = ("body{font-family:Arial,sans-serif;max-width:60rem;margin:2rem auto;color:#231f20}"
             "table{border-collapse:collapse}td,th{border:1px solid #d8dde0;padding:4px 8px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}h1,h2{color:#005eb8}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Evaluation</title><style>{style}</style></head><body>{''.join(body)}</body></html>"


def write_reports(result: dict, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = report_markdown(result)
    paths = {"json": out / "evaluation.json", "markdown": out / "evaluation.md", "html": out / "evaluation.html"}
    paths["json"].write_text(json.dumps(result, indent=2), encoding="utf-8")
    paths["markdown"].write_text(md, encoding="utf-8")
    paths["html"].write_text(report_html(md), encoding="utf-8")
    return paths


def per_label_frame(result: dict) -> pd.DataFrame:
    return pd.DataFrame(result["topics"]["per_label"])
