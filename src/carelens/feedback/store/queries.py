"""Read side of the feedback store: filtered comments and the summaries the dashboard draws.

Every query works on the cached in-memory view (:mod:`carelens.feedback.store.view`). Filters
become numpy masks (memoised, since one dashboard refresh asks several summaries of the same
filters); summaries are bincounts and sparse products; search runs RE2 over an Arrow array.

Privacy: the small-number rule is :mod:`carelens.privacy`'s, counted in *respondents* (a
return with two answers is one person): any breakdown cell whose comments come from fewer than
``suppress_below`` respondents (default: the setting) is suppressed (its counts set to missing and
``suppressed`` True), and so is a comment list from fewer than that many picked out by a
demographic filter (:func:`comments_suppressed`). Every text returned is redacted.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from scipy import sparse

from carelens.feedback.store.filters import CommentFilters, natural_sorted, search_words
from carelens.feedback.store.view import GROUPS, StoreView, respondents, store_view
from carelens.privacy import comment_list_withheld, count_suppressed, suppress_small_cells


# --------------------------------------------------------------------------- filtering
def _term_pattern(term: str) -> str:
    """A whole-word pattern matching ``term`` and its plural/singular (nurse/nurses, reply/replies)."""
    t = term.lower()
    bases = {t}
    if len(t) > 4 and t.endswith("ies"):
        bases.add(t[:-3] + "y")
    elif len(t) > 3 and t.endswith("es"):
        bases.update({t[:-2], t[:-1]})
    elif len(t) > 3 and t.endswith("s") and not t.endswith("ss"):
        bases.add(t[:-1])
    forms = set()
    for b in bases:
        forms.update({b, b + "s", b + "es"})
        if b.endswith("y") and len(b) > 2:
            forms.add(b[:-1] + "ies")
    return r"\b(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + r")\b"


def search_terms(search: str) -> list[str]:
    """The distinct words of a search box (quotes and punctuation around words ignored), in order.

    Each is one pass over the comments' text, so a repeated word is searched once; the words are
    :func:`carelens.feedback.store.filters.search_words` (whose number the filters bound), each
    stripped of leading and trailing characters that are not letters or digits.
    """
    distinct: dict[str, str] = {}
    for word in search_words(search):
        term = re.sub(r"^\W+|\W+$", "", word)
        if term:
            distinct.setdefault(term.lower(), term)
    return list(distinct.values())


def highlight_pattern(search: str) -> re.Pattern | None:
    """One compiled pattern matching any search term, for highlighting hits in comment text."""
    terms = search_terms(search)
    return re.compile("|".join(_term_pattern(t) for t in terms), re.IGNORECASE) if terms else None


def filter_mask(view: StoreView, filters: CommentFilters | None) -> np.ndarray:
    """Boolean mask over ``view.frame`` for ``filters`` (AND across fields, OR within a field).

    Memoised per view: the dashboard asks several summaries of the same filters in one refresh.
    Returns a fresh copy, so callers may combine masks in place.
    """
    if filters is None:
        filters = CommentFilters()
    key = filters.model_dump_json()
    cached = view.masks.get(key)
    if cached is not None:
        view.masks.move_to_end(key)
        return cached.copy()
    mask = _compute_mask(view, filters)
    view.masks[key] = mask
    while len(view.masks) > 32:
        view.masks.popitem(last=False)
    return mask.copy()


def _compute_mask(view: StoreView, filters: CommentFilters) -> np.ndarray:
    f = view.frame
    mask = np.ones(len(f), dtype=bool)
    if filters.date_from:
        mask &= (f["date"] >= pd.Timestamp(filters.date_from)).to_numpy(dtype=bool, na_value=False)
    if filters.date_to:
        mask &= (f["date"] <= pd.Timestamp(filters.date_to)).to_numpy(dtype=bool, na_value=False)
    for col in ("location_1", "location_2", "location_3", "question"):
        values = getattr(filters, col)
        if values:
            mask &= f[col].isin(values).to_numpy()
    if filters.fft_score:
        mask &= f["fft_score"].isin(filters.fft_score).to_numpy(dtype=bool, na_value=False)
    if filters.sentiment:
        mask &= f["sentiment"].isin(filters.sentiment).to_numpy(dtype=bool, na_value=False)
    if filters.topic:
        cols = [view.topics.index(t) for t in filters.topic if t in view.topics]
        mask &= (np.asarray(view.topic_matrix[:, cols].sum(axis=1)).ravel() > 0) if cols else False
    if filters.category:
        cols = [view.categories.index(c) for c in filters.category if c in view.categories]
        mask &= view.category_matrix[:, cols].any(axis=1) if cols else False
    for name, values in filters.demographics.items():
        col = f"demo:{name}"
        if values:
            mask &= f[col].isin(values).to_numpy(dtype=bool, na_value=False) if col in f else False
    if filters.flagged_only:
        mask &= f["flagged"].to_numpy()
    for term in search_terms(filters.search):
        idx = np.flatnonzero(mask)
        if not len(idx):
            break
        texts = view.text_arrow if len(idx) == len(mask) else view.text_arrow.take(pa.array(idx))
        hit = pc.match_substring_regex(texts, "(?i)" + _term_pattern(term)).to_numpy(zero_copy_only=False)
        mask[idx[~hit]] = False
    return mask


# --------------------------------------------------------------------------- comments
COMMENT_FIELDS = ["comment_key", "response_key", "comment_id", "date", "text", "question", "fft_score", "location_1",
                  "location_2", "location_3", "topics", "categories", "sentiment", "n_topics", "flagged",
                  "corrected", "model_topics", "model_sentiment"]


def _rows(view: StoreView, positions: np.ndarray, extra: list[str] | None = None) -> pd.DataFrame:
    return view.frame.iloc[positions][COMMENT_FIELDS + (extra or [])].reset_index(drop=True)


def filtered_comments(engine: sa.Engine, filters: CommentFilters | None = None, *, limit: int | None = None,
                      offset: int = 0) -> tuple[pd.DataFrame, int]:
    """(page of matching comments, newest first, with topics and redacted text; total matching).

    Columns: ``COMMENT_FIELDS`` plus one ``demo:<field>`` column per demographic field.
    """
    view = store_view(engine)
    idx = np.flatnonzero(filter_mask(view, filters))
    page = idx[offset: None if limit is None else offset + limit]
    return _rows(view, page, [f"demo:{d}" for d in view.demographic_fields]), len(idx)


def comments_suppressed(filters: CommentFilters | None, total: int, suppress_below: int | None = None) -> bool:
    """Whether a list of comments selected by ``filters``, from ``total`` respondents
    (:func:`filtered_respondents`), must be withheld: fewer than ``suppress_below`` picked out by a
    demographic filter (:mod:`carelens.privacy`)."""
    return comment_list_withheld(total, suppress_below,
                                 picked_by_demographics=filters is not None and any(filters.demographics.values()))


def filtered_respondents(engine: sa.Engine, filters: CommentFilters | None = None) -> int:
    """How many respondents the comments matching ``filters`` come from."""
    view = store_view(engine)
    return int(respondents(view, filter_mask(view, filters))[0])


def complex_comments(engine: sa.Engine, filters: CommentFilters | None = None, *, min_topics: int = 4,
                     min_length: int = 600, limit: int | None = 200) -> pd.DataFrame:
    """Comments that are long (>= ``min_length`` characters) or touch many topics, most topics first."""
    view = store_view(engine)
    f = view.frame
    mask = filter_mask(view, filters) & ((f["n_topics"] >= min_topics) | (f["text_length"] >= min_length)).to_numpy()
    idx = np.flatnonzero(mask)
    order = np.lexsort((-f["text_length"].to_numpy()[idx], -f["n_topics"].to_numpy()[idx]))
    idx = idx[order][:limit] if limit else idx[order]
    return _rows(view, idx, ["text_length"])


def comments_behind(engine: sa.Engine, filters: CommentFilters | None, extra: list[CommentFilters], *,
                    limit: int | None = 100, suppress_below: int | None = None) -> tuple[pd.DataFrame, int, bool]:
    """The comments behind one chart element: those matching ``filters`` and every one of ``extra``
    (the element's own filters, e.g. a month and an FFT answer, or both topics of a heatmap square).

    Returns (the first ``limit``, newest first; how many match; whether they are withheld). Those
    comments are a breakdown cell seen from the other side, so the count rule applies: from fewer
    respondents than the threshold and no comment is returned.
    """
    view = store_view(engine)
    mask = filter_mask(view, filters)
    for f in extra:
        mask &= filter_mask(view, f)
    idx = np.flatnonzero(mask)
    if count_suppressed(int(respondents(view, mask)[0]), suppress_below):
        return _rows(view, idx[:0]), len(idx), True
    return _rows(view, idx[:limit] if limit is not None else idx), len(idx), False


def comment_topics(engine: sa.Engine, comment_key: str) -> list[str]:
    """The topics every view shows for a stored comment (a staff correction where there is one,
    else the model's); [] if there is no such comment."""
    view = store_view(engine)
    row = view.position(comment_key)
    return [] if row is None else list(view.frame["topics"].iat[row])


def comment_labels(engine: sa.Engine, comment_key: str) -> dict | None:
    """What views show for one comment and what the model gave: ``topics``, ``sentiment``,
    ``model_topics``, ``model_sentiment``, ``corrected``, ``flagged`` (None: no such comment)."""
    view = store_view(engine)
    row = view.position(comment_key)
    if row is None:
        return None
    f = view.frame

    def value(col: str):
        v = f[col].iat[row]
        return None if pd.isna(v) else int(v)

    return {"topics": list(f["topics"].iat[row]), "model_topics": list(f["model_topics"].iat[row]),
            "sentiment": value("sentiment"), "model_sentiment": value("model_sentiment"),
            "corrected": bool(f["corrected"].iat[row]), "flagged": bool(f["flagged"].iat[row])}


# --------------------------------------------------------------------------- summaries
def _cells(codes: np.ndarray, n_cells: int, keep: np.ndarray | None = None) -> sparse.csr_matrix:
    """Comments x cells one-hot of ``codes`` (a code per comment; -1 or ``keep`` False: no cell)."""
    ok = codes >= 0 if keep is None else (codes >= 0) & keep
    rows = np.flatnonzero(ok)
    return sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, codes[ok])), shape=(len(codes), n_cells))


def summary_totals(engine: sa.Engine, filters: CommentFilters | None = None, *,
                   suppress_below: int | None = None) -> dict:
    """Headline numbers: comments, respondents, date span, sentiment split (suppressed when the
    comments come from fewer respondents than the limit)."""
    view = store_view(engine)
    mask = filter_mask(view, filters)
    n = int(mask.sum())
    people = int(respondents(view, mask)[0])
    dates = view.frame["date"][mask]
    counts = np.bincount(view.group_code[mask][view.group_code[mask] >= 0], minlength=3)
    suppressed = count_suppressed(people, suppress_below)
    return {"comments": n, "respondents": people,
            "date_from": None if dates.isna().all() else dates.min().date().isoformat(),
            "date_to": None if dates.isna().all() else dates.max().date().isoformat(),
            "suppressed": suppressed,
            **{g: None if suppressed else int(c) for g, c in zip(GROUPS, counts)}}


def _group_onehot(codes: np.ndarray) -> sparse.csr_matrix:
    ok = codes >= 0
    return sparse.csr_matrix((np.ones(int(ok.sum()), dtype=np.int32), (np.flatnonzero(ok), codes[ok])), shape=(len(codes), 3))


def topic_summary(engine: sa.Engine, filters: CommentFilters | None = None, *,
                  suppress_below: int | None = None) -> pd.DataFrame:
    """Per sub-category: comments, respondents, share of all filtered comments, positive/neutral/negative counts.

    Sorted by comments, most first; cells from fewer respondents than ``suppress_below`` are suppressed.
    """
    view = store_view(engine)
    mask = filter_mask(view, filters)
    m = view.topic_matrix[np.flatnonzero(mask)]
    total = int(mask.sum())
    counts = np.asarray(m.sum(axis=0)).ravel()
    split = (m.T @ _group_onehot(view.group_code[mask])).toarray()
    frame = pd.DataFrame({"topic": view.topics, "category": [view.topic_category[t] for t in view.topics],
                          "comments": counts.astype(int), "respondents": respondents(view, mask, view.topic_matrix),
                          "share": counts / total if total else 0.0,
                          "positive": split[:, 0], "neutral": split[:, 1], "negative": split[:, 2]})
    frame = frame[frame["comments"] > 0].sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)
    return suppress_small_cells(frame, "respondents", ["comments", "respondents", "share", "positive", "neutral",
                                                       "negative"], suppress_below)


def categories_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                        suppress_below: int | None = None) -> pd.DataFrame:
    """Comments and respondents per (month, category); long format: month, category, comments,
    respondents, suppressed."""
    view = store_view(engine)
    mask = filter_mask(view, filters) & (view.month_code >= 0)
    n_months, n_cats = len(view.months), len(view.categories)
    rows, cats = np.nonzero(view.category_matrix & mask[:, None]) if n_cats else (np.zeros(0, int), np.zeros(0, int))
    cell = view.month_code[rows] * n_cats + cats
    table = np.bincount(cell, minlength=n_months * n_cats).reshape(n_months, n_cats) if n_cats else np.zeros((n_months, 0), int)
    cells = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cell)), shape=(len(mask), n_months * n_cats))
    people = respondents(view, mask, cells).reshape(n_months, n_cats) if n_cats else table
    mi, ci = np.nonzero(table)
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object)[mi],
                          "category": np.asarray(view.categories, dtype=object)[ci], "comments": table[mi, ci],
                          "respondents": people[mi, ci]})
    return suppress_small_cells(frame, "respondents", ["comments", "respondents"], suppress_below)


def sentiment_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                       suppress_below: int | None = None) -> pd.DataFrame:
    """Per month: comments, respondents, comments with a sentiment (``with_sentiment``: the base of
    shares, so positive + neutral + negative = 100 %), mean sentiment (1..5), and the
    positive/neutral/negative counts."""
    view = store_view(engine)
    mask = filter_mask(view, filters) & (view.month_code >= 0)
    codes, groups = view.month_code[mask], view.group_code[mask]
    sent = view.frame["sentiment"].to_numpy(dtype=float, na_value=np.nan)[mask]
    n_months = len(view.months)
    comments_n = np.bincount(codes, minlength=n_months)
    has = ~np.isnan(sent)
    s_n = np.bincount(codes[has], minlength=n_months)
    s_sum = np.bincount(codes[has], weights=sent[has], minlength=n_months)
    split = [np.bincount(codes[groups == g], minlength=n_months) for g in range(3)]
    people = respondents(view, mask, _cells(view.month_code, n_months))
    keep = comments_n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(s_n > 0, s_sum / np.maximum(s_n, 1), np.nan)
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object), "comments": comments_n, "respondents": people,
                          "with_sentiment": s_n, "mean_sentiment": mean,
                          "positive": split[0], "neutral": split[1], "negative": split[2]})[keep].reset_index(drop=True)
    return suppress_small_cells(frame, "respondents", ["comments", "respondents", "with_sentiment", "mean_sentiment",
                                                       "positive", "neutral", "negative"], suppress_below)


def response_scores(view: StoreView, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(month code, FFT score as float, NaN when none) of each respondent with a comment under
    ``mask``: an FFT answer counts once per respondent, however many comments they wrote."""
    first = view.first_of_response()
    seen = np.zeros(view.n_responses, dtype=bool)
    seen[view.response_code[mask]] = True
    rows = first[seen]
    return view.month_code[rows], view.frame["fft_score"].to_numpy(dtype=float, na_value=np.nan)[rows]


def fft_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                 suppress_below: int | None = None) -> pd.DataFrame:
    """Per month: respondents with a score 1-5, mean FFT score and share good (1-2) over them, and the
    count of each answer ``score_1`` .. ``score_6`` (6 = "don't know", not in the mean or the share).
    Each respondent counts once, however many comments they wrote."""
    view = store_view(engine)
    months, score = response_scores(view, filter_mask(view, filters))
    dated = months >= 0
    months, score = months[dated], score[dated]
    n_months = len(view.months)
    per_score = {k: np.bincount(months[score == k], minlength=n_months) for k in range(1, 7)}
    rated = score <= 5
    codes, s = months[rated], score[rated]
    n = np.bincount(codes, minlength=n_months)
    total = np.bincount(codes, weights=s, minlength=n_months)
    good = np.bincount(codes[s <= 2], minlength=n_months)
    keep = n > 0
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object)[keep], "respondents": n[keep],
                          "mean_score": total[keep] / n[keep], "share_good": good[keep] / n[keep],
                          **{f"score_{k}": v[keep] for k, v in per_score.items()}})
    return suppress_small_cells(frame, "respondents", ["respondents", "mean_score", "share_good", *(f"score_{k}" for k in range(1, 7))],
                                suppress_below)


def _pair_cells(view: StoreView, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(comment row, pair code a * T + b with a < b) for every pair of topics within each of ``rows``."""
    m = view.topic_matrix[rows]
    counts = np.diff(m.indptr)
    out_rows, out_codes = [], []
    t = len(view.topics)
    for k in np.unique(counts[counts >= 2]):
        which = np.flatnonzero(counts == k)
        starts = m.indptr[which]
        cols = m.indices[starts[:, None] + np.arange(k)]  # each row's k topic columns (sorted)
        a, b = np.triu_indices(k, 1)
        out_rows.append(np.repeat(rows[which], len(a)))
        out_codes.append((cols[:, a] * t + cols[:, b]).ravel())
    if not out_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_rows), np.concatenate(out_codes).astype(np.int64)


def topic_cooccurrence(engine: sa.Engine, filters: CommentFilters | None = None, *,
                       suppress_below: int | None = None) -> pd.DataFrame:
    """Pairs of sub-categories in the same comment: topic_a, topic_b, comments, respondents (a < b),
    suppressed."""
    view = store_view(engine)
    mask = filter_mask(view, filters)
    m = view.topic_matrix[np.flatnonzero(mask)]
    co = (m.T @ m).toarray()
    t = len(view.topics)
    a, b = np.triu_indices(t, k=1)
    comments_n = co[a, b]
    if view.one_comment_each:
        people = comments_n
    else:
        rows, codes = _pair_cells(view, np.flatnonzero(mask))
        seen = pd.unique(view.response_code[rows] * (t * t) + codes)  # each (respondent, pair) once
        people_by_code = np.bincount(seen % (t * t), minlength=t * t)
        people = people_by_code[a * t + b]
    frame = pd.DataFrame({"topic_a": np.asarray(view.topics, dtype=object)[a],
                          "topic_b": np.asarray(view.topics, dtype=object)[b], "comments": comments_n,
                          "respondents": people})
    frame = frame[frame["comments"] > 0].sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)
    return suppress_small_cells(frame, "respondents", ["comments", "respondents"], suppress_below)


def fft_totals(engine: sa.Engine, filters: CommentFilters | None = None, *,
               suppress_below: int | None = None) -> dict:
    """FFT answers over the whole selection: ``respondents`` (scores 1-5, dated), ``share_good``
    (very good or good; None when ``suppressed``: fewer respondents than the threshold).

    Suppressed on the total, not per month: a headline covering every month together protects the
    people behind it if the total is large enough, even where single months are not.
    """
    fft = fft_by_month(engine, filters, suppress_below=0)
    respondents_n = int(fft["respondents"].astype(float).sum()) if len(fft) else 0
    suppressed = count_suppressed(respondents_n, suppress_below)
    good = None
    if not suppressed and respondents_n:
        good = float((fft["share_good"].astype(float) * fft["respondents"].astype(float)).sum()) / respondents_n
    return {"respondents": respondents_n, "share_good": good, "suppressed": suppressed}


def cooccurrence_grid(engine: sa.Engine, filters: CommentFilters | None = None, *, top: int = 15,
                      suppress_below: int | None = None) -> pd.DataFrame:
    """The ``top`` sub-categories most often mentioned with another, as a symmetric grid (rows and
    columns in that order) of how many comments mention both. Missing: suppressed pairs, pairs never
    mentioned together, and the diagonal. Empty when no pair is shown."""
    pairs = topic_cooccurrence(engine, filters, suppress_below=suppress_below)
    pairs = pairs[~pairs["suppressed"]]
    if pairs.empty:
        return pd.DataFrame(dtype=float)
    counts = pd.concat([pairs[["topic_a", "comments"]].rename(columns={"topic_a": "t"}),
                        pairs[["topic_b", "comments"]].rename(columns={"topic_b": "t"})])
    chosen = counts.groupby("t")["comments"].sum().sort_values(ascending=False).head(top).index.tolist()
    grid = pd.DataFrame(float("nan"), index=chosen, columns=chosen)
    for a, b, c in pairs[["topic_a", "topic_b", "comments"]].itertuples(index=False):
        if a in grid.index and b in grid.columns:
            grid.loc[a, b] = grid.loc[b, a] = float(c)
    return grid


def filter_options(engine: sa.Engine) -> dict:
    """Values for the dashboard's filter controls: locations, questions, topics by category, etc."""
    view = store_view(engine)
    f = view.frame

    def values(col: str) -> list[str]:
        return natural_sorted(f[col].dropna().unique())

    places = f[["location_1", "location_2", "location_3"]].drop_duplicates()

    cats: dict[str, list[str]] = {}
    for t in view.topics:
        cats.setdefault(view.topic_category[t], []).append(t)
    return {
        "date_min": None if f["date"].isna().all() else f["date"].min().date().isoformat(),
        "date_max": None if f["date"].isna().all() else f["date"].max().date().isoformat(),
        "location_1": values("location_1"), "location_2": values("location_2"), "location_3": values("location_3"),
        # each distinct (level 1, level 2, level 3) once: lets a chosen division narrow the wards offered
        "places": [tuple(None if pd.isna(v) else str(v) for v in row) for row in places.itertuples(index=False)],
        "question": values("question"),
        "fft_score": sorted(int(v) for v in f["fft_score"].dropna().unique()),
        "categories": cats,
        "demographics": {d: values(f"demo:{d}") for d in view.demographic_fields},
        "comments": len(f),
    }
