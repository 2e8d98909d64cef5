"""Read side of the feedback store: filtered comments and the summaries the dashboard draws.

Why an in-memory view: every filter change must answer in well under a second with 100,000+
comments, on DuckDB or on a trust's PostgreSQL. The store is read once into a pandas frame plus a
sparse comment x topic matrix, cached per database and refreshed when an upload or correction
lands (writes in this process invalidate it at once; a cheap revision query notices other
processes' writes within ``REVISION_TTL`` seconds). Filters become numpy masks (memoised, since
one dashboard refresh asks several summaries of the same filters); summaries are bincounts and
sparse products; search runs RE2 over an Arrow array. Writes still go only through the database.

Privacy: any breakdown cell covering fewer than ``suppress_below`` (default 10) comments is
suppressed (its counts set to missing and ``suppressed`` True), and so is a comment list of fewer
than that many picked out by a demographic filter (:func:`comments_suppressed`). Every text
returned is redacted.

Sentiment groups: positive = 1-2, neutral/mixed = 3, negative = 4-5.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from scipy import sparse

from carelens.store.filters import CommentFilters
from carelens.store.tables import comment_topics, comments, corrections, predictions, uploads

SUPPRESS_BELOW = 10
SENTIMENT_GROUPS = {1: "positive", 2: "positive", 3: "neutral", 4: "negative", 5: "negative"}
GROUPS = ("positive", "neutral", "negative")
REVISION_TTL = 2.0


@dataclass
class StoreView:
    """One database's comments in memory, one row per comment, newest first.

    ``frame`` holds the scalar columns; ``topic_matrix`` (CSR, comments x ``topics``) the
    predicted topics; ``category_matrix`` (bool, comments x ``categories``); ``month_code``
    indexes ``months`` (-1 = no date); ``group_code`` indexes ``GROUPS`` (-1 = no sentiment).
    """

    frame: pd.DataFrame
    topics: list[str]
    topic_category: dict[str, str]
    topic_matrix: sparse.csr_matrix
    categories: list[str]
    category_matrix: np.ndarray
    months: list[str]
    month_code: np.ndarray
    group_code: np.ndarray
    text_arrow: pa.Array
    revision: tuple
    demographic_fields: list[str] = field(default_factory=list)
    checked_at: float = 0.0
    masks: OrderedDict = field(default_factory=OrderedDict)


_views: dict[str, StoreView] = {}
_lock = threading.Lock()


def _revision(conn: sa.Connection) -> tuple:
    up = conn.execute(sa.select(sa.func.count(), sa.func.max(uploads.c.loaded_at))).one()
    co = conn.execute(sa.select(sa.func.count(), sa.func.max(corrections.c.created_at))).one()
    return (up[0], str(up[1]), co[0], str(co[1]))


def _read_view(conn: sa.Connection, revision: tuple) -> StoreView:
    stmt = (
        sa.select(comments.c.comment_key, comments.c.comment_id, comments.c.date, comments.c.text_redacted.label("text"),
                  comments.c.question, comments.c.fft_score, comments.c.location_1, comments.c.location_2,
                  comments.c.location_3, comments.c.demographics, predictions.c.sentiment)
        .join(uploads, uploads.c.upload_id == comments.c.upload_id)
        .outerjoin(predictions, sa.and_(predictions.c.comment_key == comments.c.comment_key,
                                        predictions.c.model_version == uploads.c.model_version))
        .order_by(comments.c.date.desc().nulls_last(), comments.c.comment_key)
    )
    frame = _read_frame(conn, stmt)
    topics_df = _read_frame(
        conn,
        sa.select(comment_topics.c.comment_key, comment_topics.c.topic, comment_topics.c.category)
        .join(comments, comments.c.comment_key == comment_topics.c.comment_key)
        .join(uploads, sa.and_(uploads.c.upload_id == comments.c.upload_id,
                               uploads.c.model_version == comment_topics.c.model_version))
    )
    flag_df = _read_frame(conn, sa.select(corrections.c.comment_key, corrections.c.kind).distinct())

    n = len(frame)
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    month = frame["date"].dt.strftime("%Y-%m")
    month_cat = pd.Categorical(month)
    frame["month"] = month
    frame["fft_score"] = pd.array(frame["fft_score"], dtype="Int64")
    frame["sentiment"] = pd.array(frame["sentiment"], dtype="Int64")
    frame["text"] = frame["text"].fillna("")
    frame["text_length"] = frame["text"].str.len()
    sent = frame["sentiment"].to_numpy(dtype=float, na_value=np.nan)
    group_code = np.full(n, -1, dtype=np.int8)
    group_code[(sent == 1) | (sent == 2)] = 0
    group_code[sent == 3] = 1
    group_code[(sent == 4) | (sent == 5)] = 2

    pairs = topics_df[["topic", "category"]].drop_duplicates("topic")
    topic_category = dict(zip(pairs["topic"], pairs["category"]))
    topics = sorted(topic_category)
    rows = pd.Index(frame["comment_key"]).get_indexer(topics_df["comment_key"])
    cols = pd.Index(topics).get_indexer(topics_df["topic"])
    ok = rows >= 0
    matrix = sparse.csr_matrix((np.ones(int(ok.sum()), dtype=np.int32), (rows[ok], cols[ok])), shape=(n, len(topics)))
    matrix.data[:] = 1  # duplicates (never expected) count once
    categories = sorted(set(topic_category.values()))
    cat_of_topic = sparse.csr_matrix((np.ones(len(topics), dtype=np.int32),
                                      (np.arange(len(topics)), [categories.index(topic_category[t]) for t in topics])),
                                     shape=(len(topics), len(categories)))
    category_matrix = (matrix @ cat_of_topic).toarray() > 0
    frame["n_topics"] = np.asarray(matrix.sum(axis=1)).ravel()
    names = np.asarray(topics, dtype=object)
    ptr, ind = matrix.indptr, matrix.indices
    cat_names = {t: topic_category[t] for t in topics}
    if len(topics) <= 62:  # few distinct topic sets: encode each row's set as bits, build each list once
        bits = matrix @ (np.int64(1) << np.arange(len(topics), dtype=np.int64))
        codes, uniques = pd.factorize(np.asarray(bits).ravel())
        sets = [[names[j] for j in range(len(topics)) if (int(u) >> j) & 1] for u in uniques]
        cat_sets = [list(dict.fromkeys(cat_names[t] for t in ts)) for ts in sets]
        # rows with the same set share one (read-only by convention) list object
        frame["topics"] = pd.Series(sets, dtype=object).take(codes).to_numpy()
        frame["categories"] = pd.Series(cat_sets, dtype=object).take(codes).to_numpy()
    else:
        frame["topics"] = [list(names[ind[ptr[i]:ptr[i + 1]]]) for i in range(n)]
        frame["categories"] = [list(dict.fromkeys(cat_names[t] for t in ts)) for ts in frame["topics"]]
    frame["flagged"] = frame["comment_key"].isin(flag_df.loc[flag_df["kind"] == "interesting", "comment_key"])
    frame["corrected"] = frame["comment_key"].isin(flag_df.loc[flag_df["kind"] == "wrong_topics", "comment_key"])
    demo_fields: list[str] = []
    if frame["demographics"].notna().any():
        codes, uniques = pd.factorize(frame["demographics"])  # few distinct combinations: parse each once
        parsed = pd.DataFrame([json.loads(d) if isinstance(d, str) and d else {} for d in uniques])
        demo = parsed.reindex(np.where(codes >= 0, codes, len(parsed))).reset_index(drop=True)
        demo_fields = [str(c) for c in demo.columns]
        for c in demo_fields:
            frame[f"demo:{c}"] = demo[c].astype("string").to_numpy()
    frame = frame.drop(columns="demographics")
    return StoreView(frame=frame, topics=topics, topic_category=topic_category, topic_matrix=matrix,
                     categories=categories, category_matrix=category_matrix,
                     months=[str(m) for m in month_cat.categories], month_code=np.asarray(month_cat.codes),
                     group_code=group_code, text_arrow=pa.array(frame["text"].to_numpy(dtype=object), type=pa.large_string()),
                     revision=revision, demographic_fields=demo_fields, checked_at=time.monotonic())


def _read_frame(conn: sa.Connection, stmt: sa.Select) -> pd.DataFrame:
    """Run a parameterless SELECT into a frame; DuckDB hands over columns natively (10x faster)."""
    if conn.dialect.name == "duckdb":
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        return conn.connection.driver_connection.execute(sql).df()
    result = conn.execute(stmt)
    return pd.DataFrame(list(map(tuple, result.fetchall())), columns=list(result.keys()))


def invalidate(engine: sa.Engine) -> None:
    """Forget the cached view of ``engine`` (called after every write made through carelens)."""
    _views.pop(engine.url.render_as_string(hide_password=False), None)


def store_view(engine: sa.Engine) -> StoreView:
    """The cached in-memory view of ``engine``'s store, re-read if anything was written since."""
    key = engine.url.render_as_string(hide_password=False)
    view = _views.get(key)
    if view is not None and time.monotonic() - view.checked_at < REVISION_TTL:
        return view
    with _lock, engine.connect() as conn:
        revision = _revision(conn)
        view = _views.get(key)
        if view is not None and view.revision == revision:
            view.checked_at = time.monotonic()
            return view
        view = _read_view(conn, revision)
        _views[key] = view
    return view


def topic_lists(view: StoreView, positions: np.ndarray) -> tuple[list[list[str]], list[list[str]]]:
    """Topics and their categories (unique, in order) for the given rows of the view."""
    sub = view.topic_matrix[positions]
    names = np.asarray(view.topics, dtype=object)
    topics = [list(names[sub.indices[sub.indptr[i]:sub.indptr[i + 1]]]) for i in range(sub.shape[0])]
    cats = [list(dict.fromkeys(view.topic_category[t] for t in ts)) for ts in topics]
    return topics, cats


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
    """The words of a search box (quotes and punctuation ignored)."""
    return [w for w in re.findall(r"[\w'’-]+", search or "") if w.strip("'’-")]


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
COMMENT_FIELDS = ["comment_key", "comment_id", "date", "text", "question", "fft_score", "location_1",
                  "location_2", "location_3", "topics", "categories", "sentiment", "n_topics", "flagged",
                  "corrected"]


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


def comments_suppressed(filters: CommentFilters | None, total: int, suppress_below: int = SUPPRESS_BELOW) -> bool:
    """Whether a list of ``total`` comments must be withheld: fewer than ``suppress_below`` comments
    picked out by a demographic filter could identify the patients who wrote them (their age band,
    ethnicity ... would be disclosed beside their words). Lists selected by place, topic or search
    alone are shown however short, since their text is redacted and says nothing new about the writer."""
    return bool(filters is not None and any(filters.demographics.values()) and 0 < total < suppress_below)


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


# --------------------------------------------------------------------------- summaries
def _suppress(frame: pd.DataFrame, count_col: str, value_cols: list[str], below: int) -> pd.DataFrame:
    small = frame[count_col] < below
    frame["suppressed"] = small.to_numpy()
    for c in value_cols:
        frame[c] = frame[c].astype("Float64" if frame[c].dtype.kind == "f" else "Int64")
        frame.loc[small, c] = pd.NA
    return frame


def summary_totals(engine: sa.Engine, filters: CommentFilters | None = None, *,
                   suppress_below: int = SUPPRESS_BELOW) -> dict:
    """Headline numbers: comments, date span, sentiment split (suppressed when under the limit)."""
    view = store_view(engine)
    mask = filter_mask(view, filters)
    n = int(mask.sum())
    dates = view.frame["date"][mask]
    counts = np.bincount(view.group_code[mask][view.group_code[mask] >= 0], minlength=3)
    suppressed = n < suppress_below
    return {"comments": n,
            "date_from": None if dates.isna().all() else dates.min().date().isoformat(),
            "date_to": None if dates.isna().all() else dates.max().date().isoformat(),
            "suppressed": suppressed,
            **{g: None if suppressed else int(c) for g, c in zip(GROUPS, counts)}}


def _group_onehot(codes: np.ndarray) -> sparse.csr_matrix:
    ok = codes >= 0
    return sparse.csr_matrix((np.ones(int(ok.sum()), dtype=np.int32), (np.flatnonzero(ok), codes[ok])), shape=(len(codes), 3))


def topic_summary(engine: sa.Engine, filters: CommentFilters | None = None, *,
                  suppress_below: int = SUPPRESS_BELOW) -> pd.DataFrame:
    """Per sub-category: comments, share of all filtered comments, positive/neutral/negative counts.

    Sorted by comments, most first; cells under ``suppress_below`` comments are suppressed.
    """
    view = store_view(engine)
    mask = filter_mask(view, filters)
    m = view.topic_matrix[np.flatnonzero(mask)]
    total = int(mask.sum())
    counts = np.asarray(m.sum(axis=0)).ravel()
    split = (m.T @ _group_onehot(view.group_code[mask])).toarray()
    frame = pd.DataFrame({"topic": view.topics, "category": [view.topic_category[t] for t in view.topics],
                          "comments": counts.astype(int), "share": counts / total if total else 0.0,
                          "positive": split[:, 0], "neutral": split[:, 1], "negative": split[:, 2]})
    frame = frame[frame["comments"] > 0].sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)
    return _suppress(frame, "comments", ["comments", "share", "positive", "neutral", "negative"], suppress_below)


def categories_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                        suppress_below: int = SUPPRESS_BELOW) -> pd.DataFrame:
    """Comments per (month, category); long format: month, category, comments, suppressed."""
    view = store_view(engine)
    mask = filter_mask(view, filters) & (view.month_code >= 0)
    codes = view.month_code[mask]
    cats = view.category_matrix[mask]
    n_months = len(view.months)
    table = np.column_stack([np.bincount(codes[cats[:, j]], minlength=n_months) for j in range(len(view.categories))]) \
        if view.categories else np.zeros((n_months, 0), dtype=int)
    mi, ci = np.nonzero(table)
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object)[mi],
                          "category": np.asarray(view.categories, dtype=object)[ci], "comments": table[mi, ci]})
    return _suppress(frame, "comments", ["comments"], suppress_below)


def sentiment_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                       suppress_below: int = SUPPRESS_BELOW) -> pd.DataFrame:
    """Per month: comments, mean sentiment (1..5), positive/neutral/negative counts."""
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
    keep = comments_n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(s_n > 0, s_sum / np.maximum(s_n, 1), np.nan)
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object), "comments": comments_n, "mean_sentiment": mean,
                          "positive": split[0], "neutral": split[1], "negative": split[2]})[keep].reset_index(drop=True)
    return _suppress(frame, "comments", ["comments", "mean_sentiment", "positive", "neutral", "negative"], suppress_below)


def fft_by_month(engine: sa.Engine, filters: CommentFilters | None = None, *,
                 suppress_below: int = SUPPRESS_BELOW) -> pd.DataFrame:
    """Per month: respondents with a score 1-5, mean FFT score and share good (1-2) over them, and the
    count of each answer ``score_1`` .. ``score_6`` (6 = "don't know", not in the mean or the share)."""
    view = store_view(engine)
    score = view.frame["fft_score"].to_numpy(dtype=float, na_value=np.nan)
    base = filter_mask(view, filters) & (view.month_code >= 0)
    n_months = len(view.months)
    per_score = {k: np.bincount(view.month_code[base & (score == k)], minlength=n_months) for k in range(1, 7)}
    mask = base & (score <= 5)
    codes, s = view.month_code[mask], score[mask]
    n = np.bincount(codes, minlength=n_months)
    total = np.bincount(codes, weights=s, minlength=n_months)
    good = np.bincount(codes[s <= 2], minlength=n_months)
    keep = n > 0
    frame = pd.DataFrame({"month": np.asarray(view.months, dtype=object)[keep], "respondents": n[keep],
                          "mean_score": total[keep] / n[keep], "share_good": good[keep] / n[keep],
                          **{f"score_{k}": v[keep] for k, v in per_score.items()}})
    return _suppress(frame, "respondents", ["respondents", "mean_score", "share_good", *(f"score_{k}" for k in range(1, 7))],
                     suppress_below)


def topic_cooccurrence(engine: sa.Engine, filters: CommentFilters | None = None, *,
                       suppress_below: int = SUPPRESS_BELOW) -> pd.DataFrame:
    """Pairs of sub-categories in the same comment: topic_a, topic_b, comments (a < b), suppressed."""
    view = store_view(engine)
    m = view.topic_matrix[np.flatnonzero(filter_mask(view, filters))]
    co = (m.T @ m).toarray()
    a, b = np.triu_indices(len(view.topics), k=1)
    frame = pd.DataFrame({"topic_a": np.asarray(view.topics, dtype=object)[a],
                          "topic_b": np.asarray(view.topics, dtype=object)[b], "comments": co[a, b]})
    frame = frame[frame["comments"] > 0].sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)
    return _suppress(frame, "comments", ["comments"], suppress_below)


def filter_options(engine: sa.Engine) -> dict:
    """Values for the dashboard's filter controls: locations, questions, topics by category, etc."""
    view = store_view(engine)
    f = view.frame

    def values(col: str) -> list[str]:
        return sorted(str(v) for v in f[col].dropna().unique())

    cats: dict[str, list[str]] = {}
    for t in view.topics:
        cats.setdefault(view.topic_category[t], []).append(t)
    return {
        "date_min": None if f["date"].isna().all() else f["date"].min().date().isoformat(),
        "date_max": None if f["date"].isna().all() else f["date"].max().date().isoformat(),
        "location_1": values("location_1"), "location_2": values("location_2"), "location_3": values("location_3"),
        "question": values("question"),
        "fft_score": sorted(int(v) for v in f["fft_score"].dropna().unique()),
        "categories": cats,
        "demographics": {d: values(f"demo:{d}") for d in view.demographic_fields},
        "comments": len(f),
    }
