"""Multi-label topic classifier: one model per label over shared text features.

Why this design: with ~6,000 labelled comments and labels as rare as a handful of examples, kernel
and linear models on TF-IDF + embeddings are as accurate as much larger models (BENCHMARKS.md) and
train in seconds. The default (``loss="squared"``, ``kernel="auto"``) is kernel ridge regression
with an RBF kernel over the L2-normalised features: every label is solved from one Cholesky
factorisation of the n x n kernel per fold, so 50 labels cost what one does; in cross-validation
on the public FFT data it matched the RBF-kernel SVMs (``loss="hinge"``, one libsvm fit per label
and fold, the default until 2026-12-03) and trains several times faster, which is what lets a
trust's own 10,000 comments x 50 codes train in about a minute. Above ``RBF_MAX_ROWS`` training
comments the kernel would not fit in memory and the model is a linear SVM per label.

Each label's raw score is calibrated (Platt scaling on out-of-fold scores) so the probabilities
mean what they say, and each label gets its own threshold, chosen by cross-validation on the
training data only to maximise that label's F1. Prediction with an RBF model is a product with the
support rows, split into dense and sparse columns and scored on every core (``_rbf_scores``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold
from sklearn.preprocessing import MultiLabelBinarizer, normalize
from sklearn.svm import SVC, LinearSVC

from carelens.feedback.evidence import TopicEvidence
from carelens.feedback.features import TextFeatures, as_frame
from carelens.feedback.text import clean_texts

# support-vector columns non-zero in more than this share of support rows are kept dense (see
# TopicClassifier._support_parts): with one BLAS thread per chunk, 0.07-0.15 was fastest of
# 0.3 / 0.2 / 0.15 / 0.1 / 0.07 / 0.05 / 0.03 on the shared data (0.03: 1.4x slower)
DENSE_COLUMN_SHARE = 0.1
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


LOSSES = ("squared", "hinge", "logistic")
# C of the linear models ("squared" fits its linear model, above RBF_MAX_ROWS, as a linear SVM)
DEFAULT_C = {"squared": 1.0, "hinge": 1.0, "logistic": 10.0}
# up to this many training rows the SVMs are solved exactly in the dual, on one precomputed linear
# kernel shared by every label and fold (faster, and the bias is not regularised); above it the
# n x n kernel would cost too much memory and liblinear's primal solver is used instead
KERNEL_MAX_ROWS = 6000
# the RBF model keeps an n x n kernel in memory while training: kernel ridge ("squared") a float32
# one (16,000 rows: 1 GB), the SVMs ("hinge") a float64 one (8,000 rows: 512 MB). Above this,
# kernel="auto" trains the linear model instead and kernel="rbf" refuses
RBF_MAX_ROWS = 16_000
SVM_RBF_MAX_ROWS = 8000
KERNELS = ("auto", "rbf", "linear")


def _gram(X) -> np.ndarray:
    """Linear kernel X @ X.T as a dense float64 array (what libsvm wants)."""
    return np.asarray((X @ X.T).toarray(), dtype=np.float64)


def _gram_split(X) -> np.ndarray:
    """X @ X.T as a dense float32 array, fast for text features.

    One sparse x sparse product spends nearly all its time in the few columns most rows share (the
    dense embedding block, common character n-grams): on 10,000 comments it took minutes. Those
    columns go through one dense BLAS product, the rest through the sparse one (as
    ``TopicClassifier._support_parts`` does at prediction). Same numbers.
    """
    Xc = X.tocsc()
    density = np.diff(Xc.indptr) / max(1, X.shape[0])
    dense = np.ascontiguousarray(Xc[:, np.flatnonzero(density > DENSE_COLUMN_SHARE)].toarray(), dtype=np.float32)
    rest = Xc[:, np.flatnonzero(density <= DENSE_COLUMN_SHARE)].tocsr().astype(np.float32)
    G = dense @ dense.T
    G += (rest @ rest.T).toarray()
    return G


def _merge_duplicate_rows(X, dual_coef: np.ndarray):
    """Support rows with one copy of each distinct row, their dual coefficients summed.

    Kernel ridge keeps every training comment; a tenth of the public data's comments are exact
    repeats of another ("Excellent service"), and k(x, s) a + k(x, s) b = k(x, s) (a + b), so
    each repeat is merged into one row: same scores, fewer products at prediction.
    """
    X = X.tocsr(copy=True)
    X.sort_indices()
    first: dict[tuple[bytes, bytes], int] = {}
    group = np.empty(X.shape[0], dtype=int)
    for i in range(X.shape[0]):
        a, b = X.indptr[i], X.indptr[i + 1]
        group[i] = first.setdefault((X.indices[a:b].tobytes(), X.data[a:b].tobytes()), len(first))
    if len(first) == X.shape[0]:
        return X, dual_coef
    keep = np.unique(group, return_index=True)[1]
    merged = np.zeros((dual_coef.shape[0], len(first)), dtype=dual_coef.dtype)
    np.add.at(merged.T, group, dual_coef.T)
    return X[keep], merged


def _rbf_from_cosine(S: np.ndarray, gamma: float) -> np.ndarray:
    """exp(-gamma * |x - z|^2) for unit vectors, from their dot products S (in place)."""
    S *= 2.0 * gamma
    S -= 2.0 * gamma
    return np.exp(S, out=S)


def _ridge_solve(K: np.ndarray, T: np.ndarray, alpha: float) -> np.ndarray:
    """Dual coefficients A of kernel ridge regression, (K + alpha I) A = T, for every column of T
    at once (one Cholesky factorisation: what makes a 50-label model train in seconds)."""
    from scipy.linalg import cho_factor, cho_solve

    K = np.array(K, dtype=np.float32, copy=True)
    K[np.diag_indices_from(K)] += np.float32(alpha)
    factor = cho_factor(K, lower=True, overwrite_a=True, check_finite=False)
    return cho_solve(factor, T.astype(np.float32), overwrite_b=False, check_finite=False)


def _fit_label_dual(K: np.ndarray, y, C: float):
    """SVM on a precomputed (non-linear) kernel: support rows, dual coefficients, intercept."""
    model = SVC(kernel="precomputed", C=C, class_weight="balanced", tol=1e-3, cache_size=50)
    model.fit(K, y)
    return model.support_, model.dual_coef_.ravel().astype(np.float32), float(model.intercept_[0])


def _fit_label_kernel(K: np.ndarray, X, y, C: float):
    """Exact linear SVM in the dual on a precomputed kernel, returned as primal weights."""
    model = SVC(kernel="precomputed", C=C, class_weight="balanced", tol=1e-3, cache_size=50)
    model.fit(K, y)
    sv = model.support_
    # decision(x) = sum_i dual_coef_i <x_i, x> + b = <sum_i dual_coef_i x_i, x> + b
    coef = np.asarray(X[sv].T @ model.dual_coef_.ravel()).ravel()
    return coef.astype(np.float32), float(model.intercept_[0])


def _fit_label(X, y, C: float, loss: str = "logistic"):
    if loss == "hinge":
        model = LinearSVC(C=C, loss="hinge", dual=True, class_weight="balanced", intercept_scaling=10.0,
                          max_iter=5000, tol=1e-4)
    else:
        model = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000, tol=1e-3)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():  # a label that is not quite converged is still a usable model
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model.coef_.ravel().astype(np.float32), float(model.intercept_[0])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class TopicClassifier(BaseEstimator, ClassifierMixin):
    """Predict which labels (sub-categories) a comment is about.

    ``fit(X, Y)``: X is a list of texts (or a frame with a 'text' column); Y is an (n, L) 0/1 matrix
    with ``labels`` naming its columns, or a list of label lists. Labels with fewer than
    ``min_positives`` examples are kept in the output but never predicted.

    ``loss``: "squared" (the default: with the RBF kernel, kernel ridge regression on +-1 targets,
    every label from one Cholesky factorisation per fold, penalty ``alpha``), "hinge" (SVMs, one per
    label) or "logistic" (linear only). Above ``RBF_MAX_ROWS`` (``kernel="auto"``) the model is
    linear: a linear SVM per label (logistic regression with loss="logistic"); ``C`` defaults to 1
    for it and 10 for logistic (chosen by cross-validation on the public FFT data; BENCHMARKS.md).
    ``fit(X, Y, progress=callable)`` reports (fraction done, stage) as it goes.
    """

    def __init__(
        self,
        features: TextFeatures | None = None,
        labels: Sequence[str] | None = None,
        C: float | None = None,
        loss: str = "squared",
        kernel: str = "auto",
        gamma: float = 1.0,
        alpha: float = 0.1,
        cv: int = 5,
        min_positives: int = 3,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.labels = labels
        self.C = C
        self.loss = loss
        self.kernel = kernel
        self.gamma = gamma
        self.alpha = alpha
        self.cv = cv
        self.min_positives = min_positives
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _targets(self, Y) -> tuple[np.ndarray, list[str]]:
        if isinstance(Y, np.ndarray) or hasattr(Y, "to_numpy"):
            matrix = np.asarray(Y).astype(np.int8)
            if matrix.ndim != 2:
                raise ValueError("Y must be a 2-D 0/1 matrix or a list of label lists")
            names = list(self.labels) if self.labels is not None else [str(i) for i in range(matrix.shape[1])]
            if len(names) != matrix.shape[1]:
                raise ValueError(f"{len(names)} label names for {matrix.shape[1]} columns of Y")
            return matrix, names
        binarizer = MultiLabelBinarizer(classes=list(self.labels) if self.labels is not None else None)
        matrix = binarizer.fit_transform(Y).astype(np.int8)
        return matrix, [str(c) for c in binarizer.classes_]

    def _scores(self, X, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        return np.asarray(X @ coef.T) + intercept

    def _fit_all(self, X, Y: np.ndarray, active: np.ndarray, K: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        coef = np.zeros((Y.shape[1], X.shape[1]), dtype=np.float32)
        intercept = np.full(Y.shape[1], -20.0)
        if K is not None:
            jobs = (delayed(_fit_label_kernel)(K, X, Y[:, j], self.C_) for j in np.flatnonzero(active))
        else:
            jobs = (delayed(_fit_label)(X, Y[:, j], self.C_, "logistic" if self.loss == "logistic" else "hinge") for j in np.flatnonzero(active))
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(jobs)
        for j, (c, b) in zip(np.flatnonzero(active), fitted):
            coef[j], intercept[j] = c, b
        return coef, intercept

    def _fit_all_dual(self, K: np.ndarray, Y: np.ndarray, active: np.ndarray):
        """RBF SVMs: (support rows, dual coefficients, intercept) per active label."""
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_label_dual)(K, Y[:, j], self.C_) for j in np.flatnonzero(active)
        )
        return dict(zip(np.flatnonzero(active), fitted))

    @staticmethod
    def _dual_scores(K_rows: np.ndarray, fitted: dict, n_labels: int) -> np.ndarray:
        scores = np.full((K_rows.shape[0], n_labels), -20.0)
        for j, (sv, dual, b) in fitted.items():
            scores[:, j] = K_rows[:, sv] @ dual + b
        return scores

    def _rbf_limit(self) -> int:
        return RBF_MAX_ROWS if self.loss == "squared" else min(RBF_MAX_ROWS, SVM_RBF_MAX_ROWS)

    def _fit_rbf(self, Xf, Y: np.ndarray, active: np.ndarray, tuned: np.ndarray, progress) -> np.ndarray:
        n = Xf.shape[0]
        if n > self._rbf_limit():
            raise ValueError(f'kernel="rbf" trains on at most {self._rbf_limit():,} comments ({n:,} given); use kernel="linear" or "auto"')
        if self.loss == "squared":
            return self._fit_rbf_ridge(Xf, Y, active, tuned, progress)
        Xn = normalize(Xf).astype(np.float32)
        K = _rbf_from_cosine(_gram(Xn), self.gamma)
        oof = np.full(Y.shape, -20.0)
        if tuned.any():
            for k, (train, test) in enumerate(KFold(self.cv, shuffle=True, random_state=self.random_state).split(Xn)):
                fold_tuned = tuned & (Y[train].sum(axis=0) >= 2) & (Y[train].sum(axis=0) < len(train))
                fitted = self._fit_all_dual(np.ascontiguousarray(K[np.ix_(train, train)]), Y[train], fold_tuned)
                oof[test] = self._dual_scores(K[np.ix_(test, train)], fitted, Y.shape[1])
                progress((k + 1) / (self.cv + 1), f"topics: fold {k + 1} of {self.cv}")
        # labels too rare to tune (fewer than 2 x cv examples) get a linear SVM instead: a kernel
        # model needs neighbours to generalise from, while with a handful of examples the linear
        # model keys on their words ("parking"), which is what staff expect of a rare topic
        self.linear_labels_ = active & ~tuned
        fitted = self._fit_all_dual(K, Y, active & tuned)
        del K
        support = np.unique(np.concatenate([sv for sv, _, _ in fitted.values()])) if fitted else np.zeros(0, dtype=int)
        position = {int(i): k for k, i in enumerate(support)}
        self.dual_coef_ = np.zeros((Y.shape[1], len(support)), dtype=np.float32)
        self.intercept_ = np.full(Y.shape[1], -20.0)
        for j, (sv, dual, b) in fitted.items():
            self.dual_coef_[j, [position[int(i)] for i in sv]] = dual
            self.intercept_[j] = b
        self.support_X_ = Xn[support].tocsr()
        self.coef_, self.linear_intercept_ = self._fit_all(Xf, Y, self.linear_labels_) if self.linear_labels_.any() else (None, None)
        return oof

    def _fit_rbf_ridge(self, Xf, Y: np.ndarray, active: np.ndarray, tuned: np.ndarray, progress) -> np.ndarray:
        """Kernel ridge regression with the RBF kernel: every label from one factorisation per fold.

        Same prediction as the RBF SVMs (dual coefficients over support rows, here every training
        row), so ``_rbf_scores`` serves both. In cross-validation on the public FFT data it matched
        or beat the SVMs (BENCHMARKS.md) and trains several times faster.
        """
        Xn = normalize(Xf).astype(np.float32)
        K = _rbf_from_cosine(_gram_split(Xn), self.gamma)  # float32, in place
        targets = (2.0 * Y - 1.0).astype(np.float32)
        targets[:, ~active] = 0.0
        oof = np.full(Y.shape, -20.0)
        if tuned.any():
            for k, (train, test) in enumerate(KFold(self.cv, shuffle=True, random_state=self.random_state).split(Xn)):
                offset = targets[train].mean(axis=0)
                A = _ridge_solve(K[np.ix_(train, train)], targets[train] - offset, self.alpha)
                fold = K[np.ix_(test, train)] @ A + offset
                oof[test[:, None], np.flatnonzero(tuned)[None, :]] = fold[:, tuned]
                progress((k + 1) / (self.cv + 1), f"topics: fold {k + 1} of {self.cv}")
        # as with the SVMs, labels too rare to tune get a linear SVM that keys on their words
        self.linear_labels_ = active & ~tuned
        ridge_labels = active & tuned
        progress(self.cv / (self.cv + 1), "topics: final fit")
        # targets are centred and their mean is the intercept: a comment unlike any training comment
        # (all kernel values near 0) scores the label's base rate, not 0, so it is not tagged
        offset = targets.mean(axis=0)
        A = _ridge_solve(K, targets - offset, self.alpha)
        del K
        progress((self.cv + 0.5) / (self.cv + 1), "topics: labels too rare to tune")
        dual_coef = np.zeros((Y.shape[1], Xn.shape[0]), dtype=np.float32)
        dual_coef[ridge_labels] = A.T[ridge_labels]
        self.intercept_ = np.where(ridge_labels, offset, -20.0)
        self.support_X_, self.dual_coef_ = _merge_duplicate_rows(Xn.tocsr(), dual_coef)
        self.coef_, self.linear_intercept_ = self._fit_all(Xf, Y, self.linear_labels_) if self.linear_labels_.any() else (None, None)
        return oof

    def _support_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
        """The support vectors split by column density, for fast similarities at prediction.

        A comment's dot products with every support vector, done as one sparse x sparse product,
        spend nearly all their time in the few columns most rows share (the dense embedding block,
        common character n-grams). Those columns go into a small dense matrix (a BLAS product);
        the rest stay sparse. Same numbers, ~20x faster (BENCHMARKS.md). Derived on first use and
        never saved: the model file keeps only the compact sparse ``support_X_``.
        """
        parts = self.__dict__.get("_support_cache")
        if parts is None:
            support = self.support_X_.tocsc()
            density = np.diff(support.indptr) / max(1, support.shape[0])
            dense_cols = np.flatnonzero(density > DENSE_COLUMN_SHARE)
            sparse_cols = np.flatnonzero(density <= DENSE_COLUMN_SHARE)
            parts = (dense_cols, sparse_cols,
                     np.ascontiguousarray(support[:, dense_cols].toarray(), dtype=np.float32),
                     support[:, sparse_cols].T.tocsr().astype(np.float32))
            self.__dict__["_support_cache"] = parts
        return parts

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # on Python 3.11 this is self.__dict__ itself: copy it
        state.pop("_support_cache", None)
        return state

    def _rbf_scores(self, Xf, chunk: int = 1024, n_jobs: int | None = None) -> np.ndarray:
        Xn = normalize(Xf).astype(np.float32).tocsr()
        out = np.empty((Xn.shape[0], len(self.intercept_)))

        dense_cols, sparse_cols, support_dense, support_sparse_T = self._support_parts()

        def score_chunk(start: int) -> None:
            rows = Xn[start:start + chunk]
            S = (rows[:, sparse_cols] @ support_sparse_T).toarray()
            S += rows[:, dense_cols].toarray() @ support_dense.T
            out[start:start + chunk] = _rbf_from_cosine(S, self.gamma) @ self.dual_coef_.T + self.intercept_

        starts = range(0, Xn.shape[0], chunk)
        # scipy's sparse product releases the GIL, so chunks on threads use every core (the dense
        # product is BLAS's, threaded already); one chunk (a single comment, a small batch) stays inline
        workers = min(max(1, int((self.n_jobs if n_jobs is None else n_jobs) or 1)), len(starts))
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(score_chunk, starts))
        else:
            for start in starts:
                score_chunk(start)
        return out

    def fit(self, X, Y, progress=None) -> TopicClassifier:
        progress = progress or (lambda fraction, stage: None)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, not {self.loss!r}")
        if self.kernel not in KERNELS:
            raise ValueError(f'kernel must be one of {KERNELS}, not {self.kernel!r}')
        if self.kernel == "rbf" and self.loss == "logistic":
            raise ValueError('kernel="rbf" needs loss="squared" or "hinge"')
        self.C_ = float(self.C) if self.C is not None else DEFAULT_C[self.loss]
        Y, names = self._targets(Y)
        self.labels_ = names
        self.features_ = clone(self.features) if self.features is not None else TextFeatures()
        Xf = self.features_.fit_transform(X)
        # which words speak for each label: ranks a comment's clauses for its topics (evidence.py)
        self.evidence_ = TopicEvidence().fit(self.features_.word_.transform(clean_texts(as_frame(X)["text"])), Y)
        if self.kernel == "auto":  # RBF where it fits in memory and the loss allows it
            self.kernel_ = "rbf" if self.loss != "logistic" and Xf.shape[0] <= self._rbf_limit() else "linear"
        else:
            self.kernel_ = self.kernel
        positives = Y.sum(axis=0)
        # a label needs a few positives (and some negatives) to be learnt at all
        active = (positives >= max(self.min_positives, 2)) & (positives < len(Y))
        # only labels with enough positives for every fold get calibrated, tuned thresholds;
        # rarer ones keep the balanced model's own boundary (probability 0.5)
        tuned = active & (positives >= 2 * self.cv)
        oof = np.full(Y.shape, -20.0)
        linear_loss = "logistic" if self.loss == "logistic" else "hinge"
        K = _gram(Xf) if linear_loss == "hinge" and self.kernel_ == "linear" and Xf.shape[0] <= KERNEL_MAX_ROWS else None
        progress(0.0, "topics")
        if self.kernel_ == "rbf":
            oof = self._fit_rbf(Xf, Y, active, tuned, progress)
        elif tuned.any():
            for k, (train, test) in enumerate(KFold(self.cv, shuffle=True, random_state=self.random_state).split(Xf)):
                fold_tuned = tuned & (Y[train].sum(axis=0) >= 2) & (Y[train].sum(axis=0) < len(train))
                K_fold = None if K is None else K[np.ix_(train, train)]
                coef, intercept = self._fit_all(Xf[train], Y[train], fold_tuned, K_fold)
                del K_fold
                oof[test] = self._scores(Xf[test], coef, intercept)
                progress((k + 1) / (self.cv + 1), f"topics: fold {k + 1} of {self.cv}")
        self.platt_ = np.tile(np.array([1.0, 0.0]), (Y.shape[1], 1))
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        for j in np.flatnonzero(tuned):
            platt = LogisticRegression(C=100.0).fit(oof[:, [j]], Y[:, j])
            self.platt_[j] = (platt.coef_[0, 0], platt.intercept_[0])
            proba = _sigmoid(oof[:, j] * self.platt_[j, 0] + self.platt_[j, 1])
            f1s = [f1_score(Y[:, j], proba >= t, zero_division=0) for t in THRESHOLD_GRID]
            self.thresholds_[j] = float(THRESHOLD_GRID[int(np.argmax(f1s))])
        self.tuned_ = tuned
        self._cv_targets_ = Y  # out-of-fold targets and probabilities feed the model card
        self.cv_proba_ = _sigmoid(oof * self.platt_[:, 0] + self.platt_[:, 1])
        if self.kernel_ != "rbf":
            self.coef_, self.intercept_ = self._fit_all(Xf, Y, active, K)
        del K
        progress(1.0, "topics")
        self.active_ = active
        self.n_positives_ = positives
        return self

    def predict_proba_features(self, Xf, n_jobs: int | None = None) -> np.ndarray:
        """Probabilities from already-computed features; ``n_jobs`` overrides the threads used."""
        if getattr(self, "kernel_", self.kernel) == "rbf":
            scores = self._rbf_scores(Xf, n_jobs=n_jobs)
            linear = getattr(self, "linear_labels_", None)
            if linear is not None and linear.any():
                scores[:, linear] = self._scores(Xf, self.coef_[linear], self.linear_intercept_[linear])
        else:
            scores = self._scores(Xf, self.coef_, self.intercept_)
        proba = _sigmoid(scores * self.platt_[:, 0] + self.platt_[:, 1])
        proba[:, ~self.active_] = 0.0
        return proba

    def predict_proba(self, X) -> np.ndarray:
        """(n, L) probability that each label applies."""
        return self.predict_proba_features(self.features_.transform(X))

    def predict(self, X) -> np.ndarray:
        """(n, L) 0/1 matrix, using each label's cross-validated threshold."""
        return (self.predict_proba(X) >= self.thresholds_).astype(np.int8)

    @property
    def classes_(self) -> np.ndarray:
        return np.array(self.labels_, dtype=object)
