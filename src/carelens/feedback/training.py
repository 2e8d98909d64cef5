"""Training a feedback model from a trust's labelled comments, and writing its model card."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from carelens import __version__
from carelens.errors import TableError
from carelens.feedback.features import TextFeatures
from carelens.feedback.framework import Framework, load_framework
from carelens.feedback.labels import joined_labels, wide_labels
from carelens.feedback.model import FeedbackModel
from carelens.feedback.sentiment import SENTIMENT_CLASSES, SentimentClassifier, frame_for
from carelens.feedback.text import content_free_mask
from carelens.feedback.topics import TopicClassifier
from carelens.tables import require_columns

FFT_SCORE_COLUMNS = ("FFT categorical answer", "FFT score", "fft_score", "Score")
SENTIMENT_COLUMNS = ("Comment sentiment", "sentiment", "Sentiment")


def _first_present(frame: pd.DataFrame, names) -> str | None:
    return next((c for c in names if c in frame.columns), None)


def parse_sentiment(values: pd.Series, *, column: str, file: str | None) -> np.ndarray:
    """Float array, NaN where blank; any other non-1..5 value is an error naming the row."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() in ("", "nan", "<NA>"):
            continue
        try:
            x = float(str(v).strip())
        except ValueError:
            x = np.nan
        if x not in SENTIMENT_CLASSES:
            raise TableError(f"sentiment must be 1 to 5 (or blank), found {str(v)[:20]!r}", file=file, row=i + 2, field=column)
        out[i] = x
    return out


def train_feedback_model(
    frame: pd.DataFrame,
    framework: Framework | None = None,
    *,
    text_column: str = "FFT answer",
    labels_column: str | None = None,
    label_sep: str = ";",
    sentiment_column: str | None = "auto",
    fft_score_column: str | None = "auto",
    embedder: str | None = "packaged",
    topic_kernel: str = "auto",
    use_framework_examples: bool = True,
    cv: int = 5,
    n_jobs: int = 2,
    source: str | None = None,
    data_description: str | None = None,
    progress=None,
) -> FeedbackModel:
    """Fit topic and (when labels exist) sentiment models; return a ready-to-save FeedbackModel.

    Content-free comments are left out of training: they are labelled by rule at prediction time.
    ``topic_kernel``: "auto" (RBF kernel ridge when the training set is small enough to hold its
    kernel in memory, else linear SVMs), "rbf" or "linear" (see TopicClassifier).
    ``progress(fraction, stage)``, if given, is called as training goes (0 to 1): the CLI's bar.
    """
    progress = progress or (lambda fraction, stage: None)
    started = time.perf_counter()
    require_columns(frame, [text_column], file=source, purpose="the comment text")
    if labels_column:
        require_columns(frame, [labels_column], file=source, purpose="the labels")
        Y, framework = joined_labels(frame, labels_column, label_sep, framework, file=source)
    else:
        framework = framework or load_framework()
        Y = wide_labels(frame, framework, file=source)
    texts = frame[text_column].tolist()
    keep = ~content_free_mask(texts)
    if keep.sum() < 10:
        raise TableError(f"only {int(keep.sum())} comments with text; at least 10 are needed to train", file=source, field=text_column)
    kept_labels = Y[keep]
    if not ((kept_labels.min(axis=0) == 0) & (kept_labels.max(axis=0) == 1)).any():
        # nothing to tell apart: every comment has the same labels (or none), so no label can be learnt
        same = [name for name, on in zip(framework.learnable_labels, kept_labels[0]) if on]
        raise TableError(f"every comment with text has the same labels ({'; '.join(same) or 'none'}); a model "
                         "learns a label from comments with it and comments without it",
                         file=source, field=labels_column or "labels")
    score_col = _first_present(frame, FFT_SCORE_COLUMNS) if fft_score_column == "auto" else fft_score_column
    if score_col is not None:
        require_columns(frame, [score_col], file=source, purpose="the FFT score")
    scores = frame[score_col].tolist() if score_col else None

    features = TextFeatures(embedder=embedder)
    topics = TopicClassifier(features=features, labels=framework.learnable_labels, kernel=topic_kernel, cv=cv, n_jobs=n_jobs)
    kept_texts = [t for t, k in zip(texts, keep) if k]
    Y_fit = Y[keep]
    examples: list = []
    if use_framework_examples:
        # the framework's own example comments are extra training rows: they give labels that are
        # rare in a trust's data (e.g. "Parking", one example in the public data) enough to learn from
        examples = [(ex, j) for j, name in enumerate(framework.learnable_labels)
                    for label in framework.labels if label.name == name for ex in label.examples]
        if examples:
            extra = np.zeros((len(examples), Y.shape[1]), dtype=Y.dtype)
            for i, (_, j) in enumerate(examples):
                extra[i, j] = 1
            kept_texts = kept_texts + [ex for ex, _ in examples]
            Y_fit = np.vstack([Y_fit, extra])
    # topics take ~85% of the time, sentiment the rest
    topics.fit(frame_for(kept_texts), Y_fit, progress=lambda fraction, stage: progress(0.85 * fraction, stage))

    sentiment = None
    sentiment_summary: dict = {"trained": False}
    sent_col = _first_present(frame, SENTIMENT_COLUMNS) if sentiment_column == "auto" else sentiment_column
    if sent_col:
        require_columns(frame, [sent_col], file=source, purpose="sentiment")
        y = parse_sentiment(frame[sent_col], column=sent_col, file=source)
        ok = keep & ~np.isnan(y)
        present = sorted({int(v) for v in y[ok]})
        if ok.sum() >= 20 and len(present) >= 2:
            sent_frame = frame_for([t for t, k in zip(texts, ok) if k], [s for s, k in zip(scores, ok) if k] if scores else None)
            progress(0.85, "sentiment")
            sentiment = SentimentClassifier(features=topics.features_, reuse_features=True, use_fft_score=scores is not None)
            sentiment.fit(sent_frame, y[ok].astype(int))
            sentiment_summary = {
                "trained": True,
                "rows": int(ok.sum()),
                "class_counts": {int(c): int((y[ok] == c).sum()) for c in present},
                "uses_fft_score": scores is not None,
                "shares_topic_features": True,
                "fft_score_column": score_col,
                "design": ("text first: logistic regression over the shared text features + negation and polarity "
                           "lexicon features; the FFT score only as a gated likelihood ratio"),
                "synthetic_sentences": int(sentiment.n_synthetic_),
                "synthetic_weight": sentiment.augment_weight if sentiment.augment else 0.0,
                "fft_score_gate": sentiment.gate,
            }

    progress(1.0, "done")
    card = build_card(topics, framework, sentiment_summary, n_rows=len(frame), n_kept=int(keep.sum()),
                      seconds=time.perf_counter() - started, source=source, data_description=data_description,
                      text_column=text_column, embedder=embedder, n_examples=len(examples))
    return FeedbackModel(topics=topics, framework=framework, sentiment=sentiment, card=card)


def build_card(topics: TopicClassifier, framework: Framework, sentiment: dict, *, n_rows: int, n_kept: int,
               seconds: float, source: str | None, data_description: str | None, text_column: str,
               embedder: str | None, n_examples: int = 0) -> dict:
    """Model card: what the model is, what it was trained on, and how well it did in cross-validation."""
    # cross-validated topic metrics come from the out-of-fold probabilities computed during fit
    # scored on the trust's own comments only (the first ``n_kept`` rows): the framework's example
    # comments appended after them are short and plain, and scoring them too flattered the card's
    # figure (packaged model, 16 per sub-category: macro 0.699 with them, 0.649 without)
    y_true = np.asarray(topics._cv_targets_)[:n_kept] if hasattr(topics, "_cv_targets_") else None
    per_label = {}
    metrics: dict = {}
    if y_true is not None:
        pred = (topics.cv_proba_[:n_kept] >= topics.thresholds_).astype(int)
        for j, name in enumerate(topics.labels_):
            per_label[name] = {
                "positives": int(topics.n_positives_[j]),
                "threshold": float(topics.thresholds_[j]),
                "cv_f1": round(float(f1_score(y_true[:, j], pred[:, j], zero_division=0)), 4) if topics.tuned_[j] else None,
            }
        active = np.asarray(topics.tuned_, dtype=bool)
        metrics = {}
        if active.any():  # no label with enough examples to cross-validate: no macro figure rather than an error
            metrics["topic_macro_f1_cv"] = round(float(f1_score(y_true[:, active], pred[:, active], average="macro",
                                                                zero_division=0)), 4)
        metrics["topic_micro_f1_cv"] = round(float(f1_score(y_true, pred, average="micro", zero_division=0)), 4)
        metrics["note"] = ("out-of-fold on the training data, comments with text only (not the framework's example "
                           "comments), over labels with enough examples to cross-validate; 'Labelling not possible' "
                           "is set by rule")
    stamp = datetime.now(UTC)
    return {
        "model_version": f"{framework.name.split()[0].lower()}-{stamp.strftime('%Y%m%d%H%M%S')}",
        "created": stamp.isoformat(timespec="seconds"),
        "carelens_version": __version__,
        "framework": {"name": framework.name, "version": framework.version, "labels": len(framework.labels)},
        "training_data": {
            "source": source,
            "description": data_description,
            "rows": n_rows,
            "rows_with_text": n_kept,
            "text_column": text_column,
            "framework_examples": n_examples,
            "framework_examples_note": ("the framework's example comments (framework.json) were added to the topic "
                                        "model's training rows, one per example"),
        },
        "features": {"embedder": embedder or "none", "word_ngrams": list(topics.features_.word_ngrams), "char_ngrams": list(topics.features_.char_ngrams),
                     "embedding_weight": topics.features_.embedding_weight},
        "topic_model": {"loss": topics.loss, "kernel": topics.kernel_, "kernel_asked": topics.kernel, "C": topics.C_,
                        **({"gamma": topics.gamma} if topics.kernel_ == "rbf" else {}),
                        **({"alpha": topics.alpha} if topics.kernel_ == "rbf" and topics.loss == "squared" else {})},
        "topics": {"labels": per_label, "never_predicted": [n for n, a in zip(topics.labels_, topics.active_) if not a]},
        "sentiment": sentiment,
        "cv_metrics": metrics,
        "training_seconds": round(seconds, 1),
        "intended_use": (
            "Tag free-text patient feedback with topics and sentiment so staff can find and read the "
            "comments that matter. Not for judging individual staff or patients; always read the comments."
        ),
    }
