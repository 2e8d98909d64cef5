"""Dense sentence embeddings for the topic and sentiment models.

The default is a *static* embedding model (model2vec format) distilled from all-MiniLM-L6-v2 and
shipped inside the package: it keeps part of the transformer's gain at ~100x its speed on a CPU,
needs no model hub, and loads from safetensors (no pickle). ``SentenceTransformerEmbedder`` lets a
trust use any local sentence-transformers model (slower, optional extra) as an "accurate mode".

A static model is only a token-vector table and a tokenizer, so it is read here with
``safetensors`` and ``tokenizers`` directly, doing the same arithmetic as ``model2vec.StaticModel``
(the test suite checks the vectors are identical): the model2vec package itself is not a runtime
dependency, because it also brings code to download from and push to the Hugging Face hub, which a
packaged local model never needs.

Embedders are referenced from saved models by a *spec* string ("packaged", "none", or a path), and
resolved at use, so model files stay small and never contain code or tokenizers.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from carelens.errors import ModelError

PACKAGED = "packaged"
NONE = "none"

MAX_TOKENS = 512  # tokens per comment: the packaged model's max_length (model2vec's default too)
BATCH_SIZE = 4096  # comments tokenised at once (the tokenizer spreads a batch over the cores)


def packaged_embedder_path() -> Path:
    return Path(str(resources.files("carelens.feedback").joinpath("models", "static-embedder")))


class StaticEmbedder(BaseEstimator, TransformerMixin):
    """Mean of static token vectors (a model2vec folder), L2-normalised, float32.

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
        return self._model.dim

    def fit(self, texts=None, y=None) -> StaticEmbedder:
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in texts]
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)  # a text with no known token stays all zeros

    def __sklearn_clone__(self) -> StaticEmbedder:  # the loaded vectors are read-only: share them
        return self


class _StaticVectors:
    """A model2vec folder read with safetensors + tokenizers: a token-vector table and a tokenizer.

    ``encode`` repeats model2vec's ``StaticModel.encode`` step for step (cut each text to
    ``MAX_TOKENS`` x the median token length in characters, tokenise without special tokens and
    truncate to ``MAX_TOKENS``, drop the unknown token, average the vectors in the table's dtype
    over texts of equal token count, then normalise when the folder's config says so), because the
    saved topic and sentiment models were trained on exactly those vectors.
    """

    def __init__(self, folder: Path) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text("utf-8"))
        with safe_open(str(folder / "model.safetensors"), framework="numpy") as tensors:
            names = set(tensors.keys())
            self.embedding = tensors.get_tensor("embeddings")
            # vocabulary-quantised folders map token ids to shared rows, each token with a weight
            self.weights = tensors.get_tensor("weights") if "weights" in names else None
            self.token_mapping = tensors.get_tensor("mapping") if "mapping" in names else None
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        padding = self.tokenizer.padding
        if padding is not None:  # keep the pad token but never pad: texts are averaged one by one
            self.tokenizer.enable_padding(
                pad_id=padding["pad_id"], pad_token=padding["pad_token"],
                pad_type_id=padding["pad_type_id"], length=0,
            )
        self.tokenizer.enable_truncation(MAX_TOKENS)
        vocabulary = self.tokenizer.get_vocab()
        if self.token_mapping is None and len(vocabulary) != len(self.embedding):
            raise ValueError(f"{len(vocabulary)} tokens but {len(self.embedding)} vectors")
        self.unknown_id = _unknown_token_id(self.tokenizer)
        self.max_chars = MAX_TOKENS * int(np.median([len(token) for token in vocabulary]))
        self.normalize = bool(config.get("normalize", False))

    @property
    def dim(self) -> int:
        return int(self.embedding.shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        texts = [text[: self.max_chars] for text in texts]
        batches = (texts[i : i + BATCH_SIZE] for i in range(0, len(texts), BATCH_SIZE))
        return np.concatenate([self._encode_batch(batch) for batch in batches])

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        ids = [[i for i in e.ids if i != self.unknown_id] for e in encodings]
        dtype = np.dtype(np.float32) if self.embedding.dtype == np.int8 else self.embedding.dtype
        out = np.zeros((len(ids), self.dim), dtype=dtype)
        if self.token_mapping is None and self.weights is None:
            by_length: dict[int, list[int]] = defaultdict(list)
            for row, token_ids in enumerate(ids):
                if token_ids:
                    by_length[len(token_ids)].append(row)
            for rows in by_length.values():
                same_length = np.array([ids[r] for r in rows], dtype=np.int64)
                out[rows] = self.embedding[same_length].mean(axis=1)
        else:
            for row, token_ids in enumerate(ids):
                if token_ids:
                    mapped = token_ids if self.token_mapping is None else self.token_mapping[token_ids]
                    vectors = self.embedding[mapped]
                    if self.weights is not None:
                        vectors = vectors * self.weights[token_ids][:, None]
                    out[row] = vectors.mean(axis=0)
        if self.normalize:
            out32 = out.astype(np.float32)
            norms = np.linalg.norm(out32, axis=1, keepdims=True) + 1e-32
            return (out32 / norms).astype(out.dtype)
        return out


def _unknown_token_id(tokenizer) -> int | None:
    """The unknown token's id, dropped from every text (a word-level model maps new words to it)."""
    model = tokenizer.model
    if hasattr(model, "unk_token"):  # WordPiece, BPE, WordLevel
        return None if model.unk_token is None else tokenizer.token_to_id(model.unk_token)
    return json.loads(tokenizer.to_str())["model"].get("unk_id")  # Unigram


def _load_static_model(path: Path) -> _StaticVectors:
    if not (path / "model.safetensors").exists():
        raise ModelError("no model2vec model (model.safetensors) found", file=str(path))
    try:
        return _StaticVectors(path)
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
