"""Patient feedback: topics (multi-label, by framework) and sentiment (1 very positive ... 5 very negative).

Importing this package is cheap; the classes pull in scikit-learn when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from carelens.feedback.framework import LABELLING_NOT_POSSIBLE, Framework, Label, load_framework

if TYPE_CHECKING:  # pragma: no cover
    from carelens.feedback.model import FeedbackModel
    from carelens.feedback.sentiment import SentimentClassifier
    from carelens.feedback.topics import TopicClassifier
    from carelens.feedback.training import train_feedback_model

_LAZY = {
    "FeedbackModel": "carelens.feedback.model",
    "TopicClassifier": "carelens.feedback.topics",
    "SentimentClassifier": "carelens.feedback.sentiment",
    "train_feedback_model": "carelens.feedback.training",
    "TextFeatures": "carelens.feedback.features",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = ["Framework", "Label", "LABELLING_NOT_POSSIBLE", "load_framework", *_LAZY]
