"""Turning comments into model features: word and character TF-IDF, plus dense embeddings.

Word n-grams catch topic words; character n-grams survive typos and the spelling found in free
text; the static embedding adds meaning shared between different words ("rude" / "unkind"). The
FFT score (1 very good ... 5 very poor) is an optional extra column: it helps sentiment a lot, and
is missing-safe (a blank score simply adds nothing); the sentiment model appends it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from carelens.feedback.embeddings import PACKAGED, resolve_embedder
from carelens.feedback.text import clean_texts

FFT_SCORES = ("1", "2", "3", "4", "5", "6")  # 6 = "don't know"; anything else counts as missing
# words whose character n-grams are remembered between batches (see char_wb_tfidf): ~100 MB at most
CHAR_CACHE_WORDS = 200_000


def as_frame(X) -> pd.DataFrame:
    """Accept a list/Series of texts or a DataFrame with 'text' (+ optional 'fft_score')."""
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError("a feature frame needs a 'text' column")
        return X
    return pd.DataFrame({"text": list(X)})


def normalise_fft_score(values: Sequence[object]) -> np.ndarray:
    out = []
    for v in values:
        try:
            s = str(int(float(v)))  # "1", 1, 1.0 -> "1"
        except (TypeError, ValueError, OverflowError):  # blank, text, inf/1e400/NaN: no score
            s = ""
        out.append(s if s in FFT_SCORES else "")
    return np.array(out, dtype=object)


def fft_score_onehot(frame: pd.DataFrame, weight: float = 1.0) -> sparse.csr_matrix:
    """One-hot FFT score (all zeros when blank or absent, so a missing score adds nothing)."""
    scores = normalise_fft_score(frame["fft_score"] if "fft_score" in frame else [None] * len(frame))
    onehot = np.stack([(scores == s) for s in FFT_SCORES], axis=1).astype(np.float32)
    return sparse.csr_matrix(onehot * np.float32(weight))


def char_wb_tfidf(vectorizer: TfidfVectorizer, texts: Sequence[str], cache: dict[str, list[int]] | None = None) -> sparse.csr_matrix:
    """``vectorizer.transform(texts)`` for a fitted ``analyzer="char_wb"`` TF-IDF, ~5x faster.

    char_wb n-grams never cross a word boundary, so a text's n-gram counts are the sum of its
    words' counts: each distinct word of the batch is split into n-grams once (scikit-learn does
    it for every occurrence), then a (texts x words) count matrix times a (words x n-grams) one
    gives exactly the counts scikit-learn would, and its own TF-IDF step weights them. ``cache``
    (word -> n-gram ids) carries the splitting over from batch to batch: most words of a new batch
    have been seen before.
    """
    preprocess = vectorizer.build_preprocessor()
    analyze = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    word_ids: dict[str, int] = {}
    text_rows: list[int] = []
    text_words: list[int] = []
    for i, text in enumerate(texts):
        for word in preprocess(text).split():
            text_rows.append(i)
            text_words.append(word_ids.setdefault(word, len(word_ids)))
    gram_rows: list[int] = []
    gram_cols: list[int] = []
    cache = {} if cache is None else cache
    if len(cache) > CHAR_CACHE_WORDS:
        cache.clear()
    for word, j in word_ids.items():
        ids = cache.get(word)
        if ids is None:
            ids = cache[word] = [vocabulary[g] for g in analyze(word) if g in vocabulary]
        gram_rows.extend([j] * len(ids))
        gram_cols.extend(ids)
    n_words = len(word_ids)
    A = sparse.csr_matrix((np.ones(len(text_rows), dtype=np.float32), (text_rows, text_words)), shape=(len(texts), n_words))
    B = sparse.csr_matrix((np.ones(len(gram_rows), dtype=np.float32), (gram_rows, gram_cols)), shape=(n_words, len(vocabulary)))
    counts = (A @ B).astype(vectorizer.dtype).tocsr()
    counts.sort_indices()
    return vectorizer._tfidf.transform(counts, copy=False)


class TextFeatures(BaseEstimator, TransformerMixin):
    """Sparse feature matrix: [word TF-IDF | char TF-IDF | weighted embedding]."""

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        min_df: int = 2,
        max_char_features: int = 150_000,
        embedder: str | None = PACKAGED,
        embedding_weight: float = 1.0,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_char_features = max_char_features
        self.embedder = embedder
        self.embedding_weight = embedding_weight

    def fit(self, X, y=None) -> TextFeatures:
        texts = clean_texts(as_frame(X)["text"])
        min_df = self.min_df if len(texts) >= 20 else 1  # tiny training sets (tests, small trusts)
        self.word_ = TfidfVectorizer(
            ngram_range=tuple(self.word_ngrams), min_df=min_df, sublinear_tf=True,
            strip_accents="unicode", dtype=np.float32,
        ).fit(texts)
        self.char_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(self.char_ngrams), min_df=min_df,
            sublinear_tf=True, max_features=self.max_char_features, dtype=np.float32,
        ).fit(texts)
        embedder = resolve_embedder(self.embedder)
        self.embedding_dim_ = 0 if embedder is None else int(embedder.transform(["x"]).shape[1])
        self.n_features_out_ = len(self.word_.vocabulary_) + len(self.char_.vocabulary_) + self.embedding_dim_
        return self

    def transform(self, X) -> sparse.csr_matrix:
        frame = as_frame(X)
        texts = clean_texts(frame["text"])
        blocks = [self.word_.transform(texts), char_wb_tfidf(self.char_, texts, self.__dict__.setdefault("_char_cache", {}))]
        embedder = resolve_embedder(self.embedder)
        if embedder is not None and self.embedding_dim_:
            dense = embedder.transform(texts) * np.float32(self.embedding_weight)
            blocks.append(sparse.csr_matrix(dense))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    # ------------------------------------------------------------------ persistence
    # A fitted vocabulary is a dict of tens of thousands of n-grams. skops writes each dict value
    # as its own array file, so a model took ~10 s to open; it is stored instead as one array of
    # terms in index order (a plain unicode array: no pickle) and rebuilt into a dict on load.
    _VECTORIZERS = ("word_", "char_")

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # on Python 3.11 this is self.__dict__ itself: copy it
        state.pop("_char_cache", None)  # derived at prediction time, never saved
        for name in self._VECTORIZERS:
            vectorizer = state.get(name)
            if vectorizer is not None and isinstance(getattr(vectorizer, "vocabulary_", None), dict):
                vectorizer = copy.copy(vectorizer)
                terms = [""] * len(vectorizer.vocabulary_)
                for term, index in vectorizer.vocabulary_.items():
                    terms[index] = term
                vectorizer.vocabulary_ = np.array(terms, dtype=str)
                state[name] = vectorizer
        return state

    def __setstate__(self, state: dict) -> None:
        for name in self._VECTORIZERS:
            vectorizer = state.get(name)
            if vectorizer is not None and isinstance(getattr(vectorizer, "vocabulary_", None), np.ndarray):
                vectorizer.vocabulary_ = {term: index for index, term in enumerate(vectorizer.vocabulary_.tolist())}
        super().__setstate__(state)
