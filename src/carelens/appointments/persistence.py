"""A DNA model on disk: the folder ``train`` writes and ``score``/``evaluate`` read.

The folder holds ``model.skops`` (the fitted ``DNAModel``), ``card.json`` (settings, validation
figures, fairness, the files' fingerprint) and ``MODEL_CARD.md`` (the same card for people).

Why this is apart from the estimator: a model folder is untrusted input (trusts share models), so
opening one goes through the shared safe loader with an exact list of the types a DNA model is
made of; that list, and the card's checks, are persistence's business, not the estimator's.
The model version is the first 12 hex digits of the SHA-256 of ``model.skops`` as written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from carelens.appointments.model import DNAModel
from carelens.errors import ModelError
from carelens.model_cards import write_card
from carelens.model_files import check_fingerprint, fingerprint, load_skops

MODEL_KIND = "carelens-appointments-dna"  # card.json's "kind": what sort of folder this is

# Exactly what a DNA model is made of (besides containers, scalars and arrays), for both estimators
# and both calibrations. The only function allowed is the input check scikit-learn's gradient
# boosting puts in its own preprocessing; a model naming any other callable is refused.
# skops names a class by the module it is defined in: ``DNAModel`` must stay in
# ``carelens.appointments.model`` (or keep an alias there), or every saved model would be refused.
MODEL_TYPES = frozenset({
    "carelens.appointments.model.DNAModel",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.pipeline.Pipeline",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.isotonic.IsotonicRegression",
    "functools.partial",
    "sklearn.utils.validation.check_array",
})


@dataclass
class LoadedModel:
    model: DNAModel
    card: dict[str, Any]
    directory: Path

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unknown"))

    @property
    def gap_days(self) -> float:
        """The card's history gap, checked: a card edited to a negative gap would leak outcomes."""
        from carelens.appointments.features import check_gap_days
        from carelens.errors import ConfigError

        try:
            return check_gap_days(self.card.get("gap_days", 3.0))
        except ConfigError as exc:
            raise ModelError(exc.message, file=str(self.directory / "card.json"), field="gap_days") from exc

    @property
    def trained_until(self) -> pd.Timestamp | None:
        """The last appointment the saved model learnt from (None on cards written before it was kept)."""
        value = self.card.get("trained_until")
        if value is None:
            return None
        try:
            return pd.Timestamp(value)
        except (TypeError, ValueError):
            raise ModelError(f"trained_until is not a date: {value!r}", file=str(self.directory / "card.json"),
                             field="trained_until") from None

    @property
    def trust_features(self) -> dict[str, str]:
        """The trust's own feature columns the model needs at scoring time, {column: kind}."""
        features = self.card.get("trust_features") or {}
        if not isinstance(features, dict) or not all(isinstance(k, str) and v in ("numeric", "categorical")
                                                     for k, v in features.items()):
            raise ModelError("trust_features must map column names to numeric or categorical",
                             file=str(self.directory / "card.json"), field="trust_features")
        return features


def save_model(model: DNAModel, directory: str | Path, card: dict[str, Any]) -> str:
    """Write ``model.skops`` and ``card.json`` (+ ``MODEL_CARD.md``); return the model version."""
    import skops.io as sio

    from carelens.appointments.card import render_markdown

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    blob = sio.dumps(model)
    version = hashlib.sha256(blob).hexdigest()[:12]
    (directory / "model.skops").write_bytes(blob)
    card = {**card, "model_version": version, "kind": MODEL_KIND,
            "fingerprint": fingerprint([directory / "model.skops"])}
    write_card(directory / "card.json", card)
    (directory / "MODEL_CARD.md").write_text(render_markdown(card))
    return version


def load_model(directory: str | Path) -> LoadedModel:
    """Load a model folder: the card, then ``model.skops`` through the exact type allow-list."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelError("a model is a folder (with card.json and model.skops); not found", file=str(directory))
    card_path, model_path = directory / "card.json", directory / "model.skops"
    if not card_path.exists() or not model_path.exists():
        raise ModelError("not a carelens appointments model (card.json or model.skops missing)", file=str(directory))
    try:
        card = json.loads(card_path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"card.json is not valid JSON: {exc}".splitlines()[0], file=str(card_path)) from exc
    if not isinstance(card, dict) or card.get("kind") != MODEL_KIND:
        raise ModelError("card.json is not an appointments DNA model card", file=str(card_path))
    model = load_skops(model_path, MODEL_TYPES, DNAModel)
    card["fingerprint"] = check_fingerprint(card, [model_path], card_path)
    return LoadedModel(model=model, card=card, directory=directory)
