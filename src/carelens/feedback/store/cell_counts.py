"""Comments and respondents per cell (topic, month x category, pair of topics) in one pass.

Why this module: the Overview counts, on every filter change, how many comments *and how many
respondents* each topic, each month's category and each pair of topics has. With two-question
returns a respondent with a topic in both answers must count once, which the general way (a
responses x comments matrix times a comments x cells matrix, per chart) made the slowest part of
a redraw at 1,000,000 comments (~100 ms for months x categories, ~85 ms for pairs).

Here every (comment, cell) incidence of the view is listed once per view as *entries*, ordered by
(respondent, cell), so that a respondent's entries for one cell sit together. Under any filter mask
(response-level or not: a sentiment or a search picks single comments) the counts are then
gathers and bincounts: an entry is kept when its comment is under the mask, and a kept entry is a
*new respondent* for its cell when the kept entry before it has another (respondent, cell) key.

The entries depend on the topics shown (corrections change them), so they are kept with the
topic matrix they were built from (:meth:`StoreView.from_labels`): a saved correction replaces that
matrix, and the next query builds them again (tens of ms at 1,000,000 comments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from carelens.feedback.store.view import StoreView


@dataclass(frozen=True)
class CellEntries:
    """Every (comment row, cell) pair of one incidence, ordered by (respondent, cell).

    ``keys`` (respondent * ``n_cells`` + cell, ascending) is None when every respondent wrote one
    comment: then respondents are comments and no entry is ever a repeat.
    """

    rows: np.ndarray
    cells: np.ndarray
    keys: np.ndarray | None
    n_cells: int

    @classmethod
    def build(cls, view: StoreView, rows: np.ndarray, cells: np.ndarray, n_cells: int) -> CellEntries:
        rows, cells = np.asarray(rows, dtype=np.int64), np.asarray(cells, dtype=np.int64)
        if view.one_comment_each:
            return cls(rows=rows, cells=cells, keys=None, n_cells=n_cells)
        keys = view.response_code[rows] * n_cells + cells
        # a respondent's comments are neighbours, so the keys are nearly in order: a stable sort is quick
        order = np.argsort(keys, kind="stable")
        return cls(rows=rows[order], cells=cells[order], keys=keys[order], n_cells=n_cells)

    def select(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(rows, cells, new) of the entries whose comment is under ``mask``; ``new`` marks each
        respondent's first kept entry in a cell (None: every entry is one)."""
        kept = mask[self.rows]
        rows, cells = self.rows[kept], self.cells[kept]
        if self.keys is None:
            return rows, cells, None
        keys = self.keys[kept]
        new = np.empty(len(keys), dtype=bool)
        new[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        return rows, cells, new

    def counts(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(comments, respondents) per cell under ``mask``."""
        _, cells, new = self.select(mask)
        comments = np.bincount(cells, minlength=self.n_cells)
        people = comments if new is None else np.bincount(cells[new], minlength=self.n_cells)
        return comments, people


def _nonzero(matrix: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr)), matrix.indices.astype(np.int64)


def topic_entries(view: StoreView) -> CellEntries:
    """Cells: the view's topics (columns of ``topic_matrix``)."""
    def build(matrix: sparse.csr_matrix) -> CellEntries:
        rows, cols = _nonzero(matrix)
        return CellEntries.build(view, rows, cols, len(view.topics))
    return view.from_labels("entries:topics", build)


def month_category_entries(view: StoreView) -> CellEntries:
    """Cells: month x category (``month * len(categories) + category``), dated comments only.

    Built from the topic matrix itself, not ``category_matrix``, so that entries and the matrix
    they are kept with always agree, even while a correction is being patched in."""
    def build(matrix: sparse.csr_matrix) -> CellEntries:
        n_cats = len(view.categories)
        rows, cols = _nonzero(matrix)
        category_of = np.array([view.categories.index(view.topic_category[t]) for t in view.topics], dtype=np.int64)
        has = np.zeros((matrix.shape[0], n_cats), dtype=bool)
        has[rows, category_of[cols]] = True  # a comment's category once, however many topics
        has &= (view.month_code >= 0)[:, None]
        rows, cats = np.nonzero(has)
        return CellEntries.build(view, rows, view.month_code[rows] * n_cats + cats, len(view.months) * n_cats)
    return view.from_labels("entries:month_category", build)


def pair_entries(view: StoreView) -> CellEntries:
    """Cells: pairs of topics in one comment, ``a * len(topics) + b`` with a < b."""
    def build(matrix: sparse.csr_matrix) -> CellEntries:
        t = len(view.topics)
        counts = np.diff(matrix.indptr)
        rows, codes = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for k in np.unique(counts[counts >= 2]):  # comments with k topics together: k(k-1)/2 pairs each
            which = np.flatnonzero(counts == k)
            cols = matrix.indices[matrix.indptr[which][:, None] + np.arange(k)].astype(np.int64)  # sorted
            a, b = np.triu_indices(k, 1)
            rows.append(np.repeat(which, len(a)))
            codes.append((cols[:, a] * t + cols[:, b]).ravel())
        return CellEntries.build(view, np.concatenate(rows), np.concatenate(codes), t * t)
    return view.from_labels("entries:pairs", build)
