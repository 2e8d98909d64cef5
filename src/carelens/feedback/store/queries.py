"""Read side of the feedback store: filtered comments and the summaries the dashboard draws.

Every query works on the cached in-memory view (:mod:`carelens.feedback.store.view`). Filters
become numpy masks (memoised, since one dashboard refresh asks several summaries of the same
filters); summaries are bincounts (per-cell respondents: :mod:`carelens.feedback.store.cell_counts`);
search runs RE2 over an Arrow array.

Privacy: the small-number rule is :mod:`carelens.privacy`'s, counted in *respondents* (a return
with two answers is one person), applied here, before anything leaves the store layer, to every
summary, total, label list and comment list:
- a breakdown row whose comments come from fewer than ``suppress_below`` respondents (default: the
  setting) is not returned at all (no count, date or label of it); inside a returned row, every
  count under the threshold is missing, and so is a second one where a single hidden count could
  be worked out from the row's total (:func:`carelens.privacy.suppress_counts`);
- a total under the threshold returns no count and no date span;
- a comment list from fewer than that many picked out by a demographic filter is withheld
  (:func:`comments_suppressed`); in any list, a demographic value shared by fewer than the
  threshold of the matching comments is blanked (:func:`filtered_comments`);
- the labels the filters offer (places, questions, demographic values) are those of at least
  the threshold of comments.
Every text returned is redacted.

Scope: filters carry the asker's location scopes (``CommentFilters.scoped``); :func:`filter_mask`
ANDs them into every mask, so every query here (summaries, lists, drill-through, options, search)
answers only about comments in scope, and suppression applies to what is in scope.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from carelens.access.roles import Scope
from carelens.feedback.store.filters import CommentFilters, natural_sorted, search_words
from carelens.feedback.store.cell_counts import month_category_entries, pair_entries, topic_entries
from carelens.feedback.store.view import GROUPS, StoreView, respondents, respondents_by_response_field, store_view
from carelens.privacy import (
    comment_list_withheld,
    count_suppressed,
    drop_suppressed_rows,
    suppress_counts,
    threshold,
)


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
    key = filters.cache_key()
    cached = view.masks.get(key)
    if cached is not None:
        view.masks.move_to_end(key)
        return cached.copy()
    mask = _compute_mask(view, filters)
    view.masks[key] = mask
    while len(view.masks) > 32:
        view.masks.popitem(last=False)
    return mask.copy()


def scope_mask(view: StoreView, scope: Scope) -> np.ndarray:
    """Comments in ``scope``: any of their location levels is one of its places (all, for everything)."""
    f = view.frame
    if scope.everything:
        return np.ones(len(f), dtype=bool)
    mask = np.zeros(len(f), dtype=bool)
    for level in (1, 2, 3):
        names = scope.level_names(level)
        if names:
            mask |= f[f"location_{level}"].isin(names).to_numpy(dtype=bool, na_value=False)
    return mask


def _compute_mask(view: StoreView, filters: CommentFilters) -> np.ndarray:
    f = view.frame
    mask = np.ones(len(f), dtype=bool)
    for scope in filters.scopes:
        mask &= scope_mask(view, scope)
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
                      offset: int = 0, suppress_below: int | None = None) -> tuple[pd.DataFrame, int]:
    """(page of matching comments, newest first, with topics and redacted text; total matching).

    Columns: ``COMMENT_FIELDS`` plus one ``demo:<field>`` column per demographic field. A
    demographic value is shown only where at least ``suppress_below`` of all the matching comments
    share it (counted over the whole match, not the page): a search or a place that picks out a
    few comments does not tell who wrote them.
    """
    view = store_view(engine)
    idx = np.flatnonzero(filter_mask(view, filters))
    page = idx[offset: None if limit is None else offset + limit]
    rows = _rows(view, page, [f"demo:{d}" for d in view.demographic_fields])
    if view.demographic_fields:
        n = threshold(suppress_below)
        for name in view.demographic_fields:
            codes, _ = _demo_codes(view, name)
            counts = np.bincount(codes[idx] + 1, minlength=1)  # +1: missing (-1) counts in bin 0
            rare = counts[codes[page] + 1] < n
            rows.loc[rare, f"demo:{name}"] = pd.NA
    return rows, len(idx)


def _demo_codes(view: StoreView, name: str) -> tuple[np.ndarray, pd.Index]:
    """One demographic column as integer codes (-1 missing), worked out once per view."""
    key = f"demo_codes:{name}"
    if key not in view.derived:
        codes, uniques = pd.factorize(view.frame[f"demo:{name}"])
        view.derived[key] = (np.asarray(codes, dtype=np.int64), uniques)
    return view.derived[key]


def comments_suppressed(filters: CommentFilters | None, total: int, suppress_below: int | None = None) -> bool:
    """Whether a list of comments selected by ``filters``, from ``total`` respondents
    (:func:`filtered_respondents`), must be withheld: fewer than ``suppress_below`` picked out by a
    demographic filter (:mod:`carelens.privacy`)."""
    return comment_list_withheld(total, suppress_below,
                                 picked_by_demographics=filters is not None and any(filters.demographics.values()))


def filtered_respondents(engine: sa.Engine, filters: CommentFilters | None = None) -> int:
    """How many respondents the comments matching ``filters`` come from."""
    view = store_view(engine)
    return respondents(view, filter_mask(view, filters))


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
    respondents than the threshold and no comment, and no count (None), is returned.
    """
    view = store_view(engine)
    mask = filter_mask(view, filters)
    for f in extra:
        mask &= filter_mask(view, f)
    idx = np.flatnonzero(mask)
    if count_suppressed(respondents(view, mask), suppress_below):
        return _rows(view, idx[:0]), None, True
    return _rows(view, idx[:limit] if limit is not None else idx), len(idx), False


def comment_topics(engine: sa.Engine, comment_key: str, filters: CommentFilters | None = None) -> list[str]:
    """The topics every view shows for a stored comment (a staff correction where there is one,
    else the model's); [] if there is no such comment, or it is outside ``filters``' scopes."""
    return list(comment_row(engine, comment_key, filters).get("topics", []))


def comment_in_scope(engine: sa.Engine, comment_key: str, filters: CommentFilters | None) -> bool:
    """Whether ``comment_key`` is a stored comment inside ``filters``' scopes (a correction's check)."""
    return bool(comment_row(engine, comment_key, filters))


def keys_in_scope(engine: sa.Engine, filters: CommentFilters) -> set[str]:
    """The keys of the stored comments ``filters`` select (with their scopes)."""
    view = store_view(engine)
    return set(view.frame["comment_key"].to_numpy()[filter_mask(view, filters)])


def _in_scopes(view: StoreView, row: int, filters: CommentFilters | None) -> bool:
    return all(scope_mask(view, scope)[row] for scope in (filters.scopes if filters is not None else ()))


def comment_row(engine: sa.Engine, comment_key: str, filters: CommentFilters | None = None) -> dict:
    """One stored comment's fields, {} when there is none or it is outside the scopes of ``filters``
    (only their scopes count: a correction may be made on any comment its maker may see)."""
    view = store_view(engine)
    row = view.position(comment_key)
    if row is None or not _in_scopes(view, row, filters):
        return {}
    return _rows(view, np.array([row])).iloc[0].to_dict()


def comment_labels(engine: sa.Engine, comment_key: str, filters: CommentFilters | None = None) -> dict | None:
    """What views show for one comment and what the model gave: ``topics``, ``sentiment``,
    ``model_topics``, ``model_sentiment``, ``corrected``, ``flagged`` (None: no such comment, or
    outside ``filters``' scopes)."""
    view = store_view(engine)
    row = view.position(comment_key)
    if row is None or not _in_scopes(view, row, filters):
        return None
    f = view.frame

    def value(col: str):
        v = f[col].iat[row]
        return None if pd.isna(v) else int(v)

    return {"topics": list(f["topics"].iat[row]), "model_topics": list(f["model_topics"].iat[row]),
            "sentiment": value("sentiment"), "model_sentiment": value("model_sentiment"),
            "corrected": bool(f["corrected"].iat[row]), "flagged": bool(f["flagged"].iat[row])}


# --------------------------------------------------------------------------- summaries
def summary_totals(engine: sa.Engine, filters: CommentFilters | None = None, *,
                   suppress_below: int | None = None) -> dict:
    """Headline numbers: comments, respondents, date span, sentiment split (suppressed when the
    comments come from fewer respondents than the limit)."""
    view = store_view(engine)
    mask = filter_mask(view, filters)
    n = int(mask.sum())
    people = respondents(view, mask)
    dates = view.frame["date"][mask]
    counts = np.bincount(view.group_code[mask][view.group_code[mask] >= 0], minlength=3)
    if count_suppressed(people, suppress_below):  # no count, no date span: nothing of a small cell leaves
        return {"comments": None, "respondents": None, "date_from": None, "date_to": None, "suppressed": True,
                **{g: None for g in GROUPS}}
    split = suppress_counts(pd.DataFrame([counts], columns=list(GROUPS)), list(GROUPS), suppress_below,
                            partition=True).iloc[0]
    return {"comments": n, "respondents": people,
            "date_from": None if dates.isna().all() else dates.min().date().isoformat(),
            "date_to": None if dates.isna().all() else dates.max().date().isoformat(),
            "suppressed": False,
            **{g: None if pd.isna(split[g]) else int(split[g]) for g in GROUPS}}


def sentiment_shares(totals: dict) -> dict[str, float | None]:
    """Each sentiment group's share of :func:`summary_totals`' comments with a sentiment; None for a
    hidden group (fewer than the threshold). When some group is hidden the others' shares are of all
    the comments (the number with a sentiment would give the hidden one away)."""
    counts = {g: totals.get(g) for g in GROUPS}
    if totals.get("suppressed") or not totals.get("comments"):
        return {g: None for g in GROUPS}
    whole = sum(counts.values()) if all(v is not None for v in counts.values()) else totals["comments"]
    return {g: None if v is None or not whole else v / whole for g, v in counts.items()}


def topic_summary(engine: sa.Engine, filters: CommentFilters | None = None, *,
                  suppress_below: int | None = None) -> pd.DataFrame:
    """Per sub-category: comments, respondents, share of all filtered comments, positive/neutral/negative counts.

    Sorted by comments, most first; cells from fewer respondents than ``suppress_below`` are suppressed.
    """
    return _kept(engine, "topic_summary", filters, suppress_below, _topic_summary)


def _kept(engine: sa.Engine, name: str, filters: CommentFilters | None, suppress_below: int | None, compute):
    """``compute(view, filters, suppress_below)``, kept beside the filter's mask (and dropped with it
    when a correction changes the view): one Overview redraw asks for the same summary twice (the
    topic chart and its table; the FFT headline and the FFT chart). A copy is returned, so a
    caller's changes never reach the kept one."""
    view = store_view(engine)
    key = (name, (filters or CommentFilters()).cache_key(), threshold(suppress_below))
    kept = view.masks.get(key)
    if kept is not None:
        view.masks.move_to_end(key)
        return kept.copy()
    frame = compute(view, filters, suppress_below)
    view.masks[key] = frame
    while len(view.masks) > 32:
        view.masks.popitem(last=False)
    return frame.copy()


def _topic_summary(view: StoreView, filters: CommentFilters | None, suppress_below: int | None) -> pd.DataFrame:
    mask = filter_mask(view, filters)
    total = int(mask.sum())
    rows, topic, new = topic_entries(view).select(mask)
    n_topics = len(view.topics)
    counts = np.bincount(topic, minlength=n_topics)
    group = view.group_code[rows]
    split = np.bincount(topic[group >= 0] * 3 + group[group >= 0], minlength=n_topics * 3).reshape(n_topics, 3)
    frame = pd.DataFrame({"topic": view.topics, "category": [view.topic_category[t] for t in view.topics],
                          "comments": counts.astype(int),
                          "respondents": counts if new is None else np.bincount(topic[new], minlength=n_topics),
                          "share": counts / total if total else 0.0,
                          "positive": split[:, 0], "neutral": split[:, 1], "negative": split[:, 2]})
    frame = frame[frame["comments"] > 0].sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)
    frame = drop_suppressed_rows(frame, "respondents", suppress_below)
    return suppress_counts(frame, ["positive", "neutral", "negative"], suppress_below, partition=True)


def categories_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                        suppress_below: int | None = None) -> pd.DataFrame:
    """Comments and respondents per (month, category); long format: month, category, comments,
    respondents, suppressed."""
    view = store_view(engine)
    n_months, n_cats = len(view.months), len(view.categories)
    comments_n, people = month_category_entries(view).counts(filter_mask(view, filters))
    table, people = comments_n.reshape(n_months, n_cats), people.reshape(n_months, n_cats)
    mi, ci = np.nonzero(table)
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object)[mi],
                          "category": np.asarray(view.categories, dtype=object)[ci], "comments": table[mi, ci],
                          "respondents": people[mi, ci]})
    return drop_suppressed_rows(frame, "respondents", suppress_below)


def sentiment_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                       suppress_below: int | None = None) -> pd.DataFrame:
    """Per month: comments, respondents, comments with a sentiment (``with_sentiment``: the base of
    shares, so positive + neutral + negative = 100 %), mean sentiment (1..5), and the
    positive/neutral/negative counts."""
    view = store_view(engine)
    mask = filter_mask(view, filters)
    n_months = len(view.months)
    # one bincount over (month, sentiment 0-5) cells gives every column (0: no sentiment)
    codes = _month_sentiment_codes(view)[mask]
    grid = np.bincount(codes[codes >= 0], minlength=n_months * 6).reshape(n_months, 6)
    comments_n, s_n, s_sum = grid.sum(axis=1), grid[:, 1:].sum(axis=1), grid @ np.arange(6)
    split = grid[:, 1:3].sum(axis=1), grid[:, 3], grid[:, 4:6].sum(axis=1)  # positive 1-2, neutral 3, negative 4-5
    people = respondents_by_response_field(view, mask & (view.month_code >= 0), view.month_code, n_months)
    keep = comments_n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(s_n > 0, s_sum / np.maximum(s_n, 1), np.nan)
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object), "comments": comments_n, "respondents": people,
                          "with_sentiment": s_n, "mean_sentiment": mean,
                          "positive": split[0], "neutral": split[1], "negative": split[2]})[keep].reset_index(drop=True)
    frame = drop_suppressed_rows(frame, "respondents", suppress_below)
    return suppress_counts(frame, ["positive", "neutral", "negative"], suppress_below, partition=True)


def _month_sentiment_codes(view: StoreView) -> np.ndarray:
    """Each comment's ``month * 6 + sentiment`` (sentiment 1-5, 0 for none; -1: no date), kept with
    the labels it was read from (a correction of sentiment puts a new topic matrix in place too)."""
    def build(_matrix) -> np.ndarray:
        sentiment = view.frame["sentiment"].to_numpy(dtype=float, na_value=0.0)
        sentiment = np.where((sentiment >= 1) & (sentiment <= 5), sentiment, 0).astype(np.int64)
        return np.where(view.month_code >= 0, view.month_code * 6 + sentiment, -1)
    return view.from_labels("month_sentiment", build)


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
    return _kept(engine, "fft_by_month", filters, suppress_below, _fft_by_month)


def _fft_by_month(view: StoreView, filters: CommentFilters | None, suppress_below: int | None) -> pd.DataFrame:
    months, score = response_scores(view, filter_mask(view, filters))
    dated = months >= 0
    months, score = months[dated], score[dated]
    n_months = len(view.months)
    # one pass: (month, answer) cells counted together (answers 1-6; no answer is left out)
    answered = (score >= 1) & (score <= 6)
    grid = np.bincount(months[answered] * 6 + score[answered].astype(np.int64) - 1,
                       minlength=n_months * 6).reshape(n_months, 6)
    per_score = {k: grid[:, k - 1] for k in range(1, 7)}
    n = grid[:, :5].sum(axis=1)
    total = grid[:, :5] @ np.arange(1, 6)
    good = grid[:, :2].sum(axis=1)
    keep = n > 0
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object)[keep], "respondents": n[keep],
                          "mean_score": total[keep] / n[keep], "share_good": good[keep] / n[keep],
                          **{f"score_{k}": v[keep] for k, v in per_score.items()}})
    frame = drop_suppressed_rows(frame, "respondents", suppress_below)
    # answers 1-5 are the parts of ``respondents``; "don't know" (6) is counted beside them
    frame = suppress_counts(frame, [f"score_{k}" for k in range(1, 6)], suppress_below, partition=True)
    return suppress_counts(frame, ["score_6"], suppress_below)


def topic_cooccurrence(engine: sa.Engine, filters: CommentFilters | None = None, *,
                       suppress_below: int | None = None) -> pd.DataFrame:
    """Pairs of sub-categories in the same comment: topic_a, topic_b, comments, respondents (a < b),
    suppressed."""
    view = store_view(engine)
    t = len(view.topics)
    a, b = np.triu_indices(t, k=1)
    comments_n, people = pair_entries(view).counts(filter_mask(view, filters))
    comments_n, people = comments_n[a * t + b], people[a * t + b]
    frame = pd.DataFrame({"topic_a": np.asarray(view.topics, dtype=object)[a],
                          "topic_b": np.asarray(view.topics, dtype=object)[b], "comments": comments_n,
                          "respondents": people})
    frame = frame[frame["comments"] > 0].sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)
    return drop_suppressed_rows(frame, "respondents", suppress_below)


def fft_totals(engine: sa.Engine, filters: CommentFilters | None = None, *,
               suppress_below: int | None = None) -> dict:
    """FFT answers over the whole selection: ``respondents`` (scores 1-5, dated), ``share_good``
    (very good or good; None when ``suppressed``: fewer respondents than the threshold).

    Suppressed on the total, not per month: a headline covering every month together protects the
    people behind it if the total is large enough, even where single months are not.
    """
    fft = fft_by_month(engine, filters, suppress_below=0)
    respondents_n = int(fft["respondents"].astype(float).sum()) if len(fft) else 0
    if count_suppressed(respondents_n, suppress_below):
        return {"respondents": None, "share_good": None, "suppressed": True}
    good = float((fft["share_good"].astype(float) * fft["respondents"].astype(float)).sum()) / respondents_n
    return {"respondents": respondents_n, "share_good": good, "suppressed": False}


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


_options_lock = threading.Lock()

def filter_options(engine: sa.Engine, filters: CommentFilters | None = None, *,
                   suppress_below: int | None = None) -> dict:
    """Values for the filter controls, within ``filters``' scopes (only their scopes count).

    A place, question or demographic value is offered only when at least ``suppress_below``
    comments in scope have it, and the date span only when the comments in scope are that many:
    a label list must not show that some small group exists. ``comments`` is how many comments
    are in scope (None when fewer than the threshold), ``has_comments`` whether there are any.
    """
    view = store_view(engine)
    f = view.frame
    scoped = CommentFilters()
    for scope in (filters.scopes if filters is not None else ()):
        scoped = scoped.scoped(scope)
    n = threshold(suppress_below)
    key = (scoped.cache_key(), n)
    with _options_lock:
        if key in view.options_memo:
            view.options_memo.move_to_end(key)
            return dict(view.options_memo[key])
    mask = filter_mask(view, scoped)
    n_in = int(mask.sum())
    shown = f[mask] if n_in < len(f) else f

    def values(col: str) -> list[str]:
        counts = shown[col].value_counts()
        return natural_sorted(str(v) for v, c in counts.items() if c >= n)

    # each distinct (level 1, level 2, level 3) with enough comments, once: lets a chosen division
    # narrow the wards offered without showing that a small place exists
    levels = ["location_1", "location_2", "location_3"]
    sizes = shown.groupby(levels, dropna=False, observed=True).size()
    places = sizes[sizes >= n].reset_index()[levels]

    cats: dict[str, list[str]] = {}
    for t in view.topics:
        cats.setdefault(view.topic_category[t], []).append(t)
    dated = shown["date"].dropna()
    span = not dated.empty and not count_suppressed(n_in, n)
    options = {
        "date_min": dated.min().date().isoformat() if span else None,
        "date_max": dated.max().date().isoformat() if span else None,
        "location_1": values("location_1"), "location_2": values("location_2"), "location_3": values("location_3"),
        # each distinct (level 1, level 2, level 3) once: lets a chosen division narrow the wards offered
        "places": [tuple(None if pd.isna(v) else str(v) for v in row) for row in places.itertuples(index=False)],
        "question": values("question"),
        "fft_score": sorted(int(v) for v in shown["fft_score"].dropna().unique()),
        "categories": cats,
        "demographics": {d: values(f"demo:{d}") for d in view.demographic_fields},
        "comments": None if count_suppressed(n_in, n) else n_in,
        "has_comments": n_in > 0,
    }
    with _options_lock:
        view.options_memo[key] = options
        while len(view.options_memo) > 16:
            view.options_memo.popitem(last=False)
    return dict(options)
