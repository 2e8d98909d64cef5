"""Retraining on staff corrections: ``carelens feedback train --include-corrections``.

Staff who correct a comment's topics or sentiment on the dashboard (``store/corrections.py``) are
telling the model what it got wrong; these functions turn the stored corrections into training rows
laid out like the trust's own training file, so that they count exactly as labelled rows do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from carelens.feedback.framework import Framework


def corrections_training_frame(engine, framework: Framework, *, text_column: str, columns: list[str],
                               labels_column: str | None = None, label_sep: str = ";",
                               sentiment_column: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Stored wrong-topics corrections as extra training rows laid out like the training file.

    With ``labels_column`` (a file of joined label names) the corrected topics are joined into that
    column; otherwise one 0/1 column per framework label (and, for labels the framework maps from v6
    columns, the first such column present in ``columns``, so the mapping reads them). The original
    text goes in ``text_column`` and a corrected sentiment in ``sentiment_column`` (default: the
    file's sentiment column, else "Comment sentiment"). Returns (rows, notes): notes name the
    corrected topics the training framework does not have (those topics are left out, not guessed).
    """
    from carelens.feedback.store.corrections import corrected_comments
    from carelens.feedback.training import SENTIMENT_COLUMNS

    fixed = corrected_comments(engine)
    learnable = list(framework.learnable_labels)
    known = set(learnable)
    unknown = sorted({t for ts in fixed["topics"] for t in ts if t not in known})
    notes = [f"{len([1 for ts in fixed['topics'] if t in ts]):,} correction(s) name topic {t!r}, which the training "
             "framework does not have; left out" for t in unknown]
    out = pd.DataFrame({text_column: fixed["comment_text"].astype(str)})
    if labels_column:
        out[labels_column] = [f"{label_sep} ".join(t for t in ts if t in known) for ts in fixed["topics"]]
    else:
        for label in learnable:
            values = [int(label in ts) for ts in fixed["topics"]]
            sources = [c for c in framework.v6_mapping.get(label, []) if c in columns]
            for j, c in enumerate(sources):
                out[c] = values if j == 0 else 0
            out[label] = values
    if fixed["sentiment"].notna().any():
        target = sentiment_column or next((c for c in SENTIMENT_COLUMNS if c in columns), "Comment sentiment")
        out[target] = fixed["sentiment"].astype("string").fillna("").to_numpy()
    return out, notes


@dataclass
class CorrectedTraining:
    """The training rows with the corrections merged in, and what the merge did (for the user)."""

    frame: pd.DataFrame
    added: int  # corrected comments taken from the store
    replaced: int  # training rows a correction replaced
    warnings: list[str] = field(default_factory=list)


def with_corrections(frame: pd.DataFrame, engine, framework: Framework, *, text_column: str,
                     labels_column: str | None = None, label_sep: str = ";",
                     sentiment_column: str | None = None, file: str | None = None) -> CorrectedTraining:
    """The training file plus the store's corrected comments.

    A corrected comment that is also in the training file replaces that row: the staff correction
    is the later word on it.
    """
    if labels_column:
        from carelens.tables import require_columns

        require_columns(frame, [labels_column], file=file, purpose="the joined labels (--column labels=NAME)")
    extra, notes = corrections_training_frame(engine, framework, text_column=text_column,
                                              columns=[str(c) for c in frame.columns], labels_column=labels_column,
                                              label_sep=label_sep, sentiment_column=sentiment_column)
    if not len(extra):
        return CorrectedTraining(frame, 0, 0, notes)
    kept = frame[~frame[text_column].isin(set(extra[text_column]))]
    return CorrectedTraining(pd.concat([kept, extra], ignore_index=True), len(extra), len(frame) - len(kept), notes)
