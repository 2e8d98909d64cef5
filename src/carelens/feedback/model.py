"""A feedback model: topic + sentiment classifiers, their framework, and a model card, in one folder.

Folder layout: ``topics.skops``, ``sentiment.skops`` (optional), ``framework.json``, ``card.json``.
skops files are loaded only if every type inside is on an allow-list of scikit-learn, NumPy, SciPy
and carelens classes, so opening a model someone sends you cannot run arbitrary code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carelens import __version__
from carelens.errors import ModelError
from carelens.feedback.framework import Framework
from carelens.feedback.sentiment import SENTIMENT_CLASSES, SentimentClassifier, frame_for
from carelens.feedback.text import content_free_mask
from carelens.feedback.topics import TopicClassifier

MODEL_FORMAT = "carelens-feedback-model/1"
_SAFE_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "carelens.feedback.", "collections.", "joblib.", "numpy")


def packaged_model_path() -> Path:
    return Path(str(resources.files("carelens.feedback").joinpath("models", "default")))


def _dump(obj: Any, path: Path) -> None:
    import zipfile

    import skops.io as sio

    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED, compresslevel=6)


def _load(path: Path) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise ModelError(f"not a readable skops file ({type(exc).__name__})", file=str(path)) from exc
    unsafe = [t for t in untrusted if not t.startswith(_SAFE_PREFIXES)]
    if unsafe:
        raise ModelError(
            "refusing to load: the file contains types that are not scikit-learn, NumPy, SciPy or "
            f"carelens ({', '.join(unsafe[:3])})",
            file=str(path),
        )
    try:
        return sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise ModelError(f"could not load the model ({type(exc).__name__}: {exc})".splitlines()[0], file=str(path)) from exc


@dataclass
class FeedbackModel:
    """Topics and sentiment for free-text comments, with the framework they refer to."""

    topics: TopicClassifier
    framework: Framework
    sentiment: SentimentClassifier | None = None
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unversioned"))

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        _dump(self.topics, directory / "topics.skops")
        if self.sentiment is not None:
            shared = self._shares_features()
            features, self.sentiment.features_ = self.sentiment.features_, None if shared else self.sentiment.features_
            try:  # shared text features are stored once, with the topic model
                _dump(self.sentiment, directory / "sentiment.skops")
            finally:
                self.sentiment.features_ = features
        elif (directory / "sentiment.skops").exists():
            (directory / "sentiment.skops").unlink()
        (directory / "framework.json").write_text(
            json.dumps(self.framework.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        card = {"format": MODEL_FORMAT, **self.card}
        (directory / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, path: str | Path | None = None) -> FeedbackModel:
        """Load a model folder; ``None`` loads the model that ships with carelens."""
        directory = Path(path) if path is not None else packaged_model_path()
        if not directory.exists():
            raise ModelError("model folder not found", file=str(directory))
        if not directory.is_dir():
            raise ModelError("a model is a folder (with card.json and topics.skops), not a file", file=str(directory))
        card_path = directory / "card.json"
        if not card_path.exists() or not (directory / "topics.skops").exists():
            raise ModelError("not a carelens feedback model (card.json or topics.skops missing)", file=str(directory))
        try:
            card = json.loads(card_path.read_text("utf-8"))
            framework = Framework.from_dict(json.loads((directory / "framework.json").read_text("utf-8")), source=str(directory / "framework.json"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"corrupt model folder ({exc})".splitlines()[0], file=str(directory)) from exc
        if card.get("format") != MODEL_FORMAT:
            raise ModelError(f"unknown model format {card.get('format')!r}; expected {MODEL_FORMAT}", file=str(card_path))
        topics = _load(directory / "topics.skops")
        if not isinstance(topics, TopicClassifier):
            raise ModelError("topics.skops does not hold a TopicClassifier", file=str(directory))
        sentiment = None
        if (directory / "sentiment.skops").exists():
            sentiment = _load(directory / "sentiment.skops")
            if not isinstance(sentiment, SentimentClassifier):
                raise ModelError("sentiment.skops does not hold a SentimentClassifier", file=str(directory))
            if sentiment.features_ is None:
                sentiment.features_ = topics.features_
        return cls(topics=topics, framework=framework, sentiment=sentiment, card=card)

    def _shares_features(self) -> bool:
        return bool(self.card.get("sentiment", {}).get("shares_topic_features"))

    # ------------------------------------------------------------------ prediction
    def classify(self, texts, question_types=None, fft_scores=None) -> pd.DataFrame:
        """One output row per input text, same order.

        Columns: ``topics`` (list), ``topics_text`` ("; "-joined), ``categories`` (list),
        ``sentiment`` (Int64; missing when content-free or no sentiment model), ``probabilities``
        (label -> probability), ``sentiment_probabilities`` (1..5 -> probability).
        """
        texts = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
        n = len(texts)
        free = content_free_mask(texts)
        labels = self.topics.labels_
        lnp = self.framework.labelling_not_possible
        proba = np.zeros((n, len(labels)))
        sent = pd.array([pd.NA] * n, dtype="Int64")
        sent_proba = np.zeros((n, len(SENTIMENT_CLASSES)))
        idx = np.flatnonzero(~free)
        if len(idx):
            sub_texts = [texts[i] for i in idx]
            sub_scores = None if fft_scores is None else [list(fft_scores)[i] for i in idx]
            frame = frame_for(sub_texts, sub_scores)
            Xf = self.topics.features_.transform(frame)  # vectorise once for both models
            proba[idx] = self.topics.predict_proba_features(Xf)
            if self.sentiment is not None:
                if self._shares_features():
                    sp = self.sentiment.predict_proba_features(Xf, frame)
                else:
                    sp = self.sentiment.predict_proba(frame)
                sent_proba[idx] = sp
                sent[idx] = np.asarray(SENTIMENT_CLASSES)[sp.argmax(axis=1)]
        predicted = proba >= self.topics.thresholds_
        label_arr = np.asarray(labels, dtype=object)
        categories_of = {name: self.framework.category_of(name) if name in self.framework.label_names else "General" for name in labels}
        categories_of.setdefault(lnp, "General")
        topics_col, cats_col, probs_col, sprobs_col = [], [], [], []
        for i in range(n):
            if free[i]:
                chosen = [lnp]
                probs_col.append({})
                sprobs_col.append({})
            else:
                chosen = list(label_arr[predicted[i]])
                probs_col.append({label: round(float(p), 4) for label, p in zip(labels, proba[i]) if p >= 0.01})
                sprobs_col.append({c: round(float(p), 4) for c, p in zip(SENTIMENT_CLASSES, sent_proba[i])} if self.sentiment is not None else {})
            topics_col.append(chosen)
            cats: dict[str, None] = {}
            for t in chosen:
                cats.setdefault(categories_of.get(t, "General"), None)
            cats_col.append(list(cats))
        return pd.DataFrame(
            {
                "topics": topics_col,
                "topics_text": ["; ".join(t) for t in topics_col],
                "categories": cats_col,
                "sentiment": sent,
                "probabilities": probs_col,
                "sentiment_probabilities": sprobs_col,
            }
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


__all__ = ["FeedbackModel", "packaged_model_path", "MODEL_FORMAT", "__version__"]
