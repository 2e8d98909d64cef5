"""Dense sentence embeddings for the topic and sentiment models.

The default is a *static* embedding model (model2vec) distilled from all-MiniLM-L6-v2 and shipped
inside the package: it keeps part of the transformer's gain at ~100x its speed on a CPU, needs no
model hub, and loads from safetensors (no pickle). ``SentenceTransformerEmbedder`` lets a trust use
any local sentence-transformers model (slower, optional extra) as an "accurate mode".

Embedders are referenced from saved models by a *spec* string ("packaged", "none", or a path), and
resolved at use, so model files stay small and never contain code or tokenizers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from carelens.errors import ModelError

PACKAGED = "packaged"
NONE = "none"


def packaged_embedder_path() -> Path:
    return Path(str(resources.files("carelens.feedback").joinpath("models", "static-embedder")))


class StaticEmbedder(BaseEstimator, TransformerMixin):
    """Mean of static token vectors (model2vec), L2-normalised, float32.

    scikit-learn style: ``path`` is the only parameter (``None`` = the packaged model), ``fit`` is
    a no-op (the vectors are pre-trained), ``transform(texts)`` returns an (n, dim) array. The
    folder is checked when the embedder is made, so a wrong path fails at once with the folder
    named, not in the middle of a long job.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = path
        self._model = _load_static_model(self.model_dir)

    @property
    def model_dir(self) -> Path:
        return Path(self.path) if self.path else packaged_embedder_path()

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def fit(self, texts=None, y=None) -> StaticEmbedder:
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in texts]
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.encode(texts, max_length=512, batch_size=4096), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)  # a text with no known token stays all zeros

    def __sklearn_clone__(self) -> StaticEmbedder:  # the loaded vectors are read-only: share them
        return self


def _load_static_model(path: Path):
    if not (path / "model.safetensors").exists():
        raise ModelError("no model2vec model (model.safetensors) found", file=str(path))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from model2vec import StaticModel
    except ImportError as exc:  # pragma: no cover - model2vec is a core dependency
        raise ModelError("model2vec is not installed: pip install model2vec") from exc
    try:
        import logging

        # huggingface_hub warns that a local folder's README has no "model card metadata": noise to users
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
        return StaticModel.from_pretrained(str(path))
    except Exception as exc:
        raise ModelError(f"could not load the static embedder ({type(exc).__name__}: {exc})".splitlines()[0], file=str(path)) from exc


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model directory (needs the 'accurate' extra: torch)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(
                "this model uses a sentence-transformers encoder; install it with "
                "pip install 'carelens[accurate]' (and torch)",
                file=str(self.path),
            ) from exc
        try:
            self._model = SentenceTransformer(str(self.path), device="cpu")
        except Exception as exc:
            message = f"could not load the sentence-transformers model ({type(exc).__name__}: {exc})"
            raise ModelError(message.splitlines()[0], file=str(self.path)) from exc

    def fit(self, texts=None, y=None) -> SentenceTransformerEmbedder:
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in texts]
        if len(texts) == 0:
            dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            return np.zeros((0, int(dim())), dtype=np.float32)
        return np.asarray(
            self._model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True), dtype=np.float32
        )


def _is_model2vec(path: Path) -> bool:
    import json

    try:
        config = json.loads((path / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return config.get("model_type") == "model2vec" and (path / "model.safetensors").exists()


@lru_cache(maxsize=4)
def resolve_embedder(spec: str | None):
    """Turn a spec string into an embedder (cached per process), or None for "none"."""
    if spec is None or spec == NONE:
        return None
    if spec == PACKAGED:
        return StaticEmbedder()
    path = Path(spec)
    if _is_model2vec(path):
        return StaticEmbedder(path)
    if (path / "modules.json").exists():
        return SentenceTransformerEmbedder(path)
    raise ModelError("embedder not found: expected a model2vec or sentence-transformers folder", file=spec)
