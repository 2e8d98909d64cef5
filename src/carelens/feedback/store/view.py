"""The in-memory view of a feedback store: what every query filters and summarises.

Why an in-memory view: every filter change must answer in well under a second with 100,000+
comments, on DuckDB or on a trust's PostgreSQL. The store is read once into a pandas frame plus a
sparse comment x topic matrix, cached per database and refreshed when an upload or correction
lands (writes in this process invalidate it at once; a cheap revision query,
:func:`data_revision`, notices other processes' writes within ``REVISION_TTL`` seconds). Writes
still go only through the database.

Sentiment groups: positive = 1-2, neutral/mixed = 3, negative = 4-5 (``GROUPS``, ``group_code``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from scipy import sparse

from carelens.db.bulk import read_frame
from carelens.feedback.store.tables import comment_topics, comments, corrections, predictions, uploads

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
    derived: dict = field(default_factory=dict)  # what queries work out once per view (e.g. demographic codes)


_views: dict[str, StoreView] = {}
_lock = threading.Lock()


def data_revision(conn: sa.Connection) -> tuple:
    """A cheap fingerprint of what is stored: changes after any upload or correction, from any process."""
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
    frame = read_frame(conn, stmt)
    topics_df = read_frame(
        conn,
        sa.select(comment_topics.c.comment_key, comment_topics.c.topic, comment_topics.c.category)
        .join(comments, comments.c.comment_key == comment_topics.c.comment_key)
        .join(uploads, sa.and_(uploads.c.upload_id == comments.c.upload_id,
                               uploads.c.model_version == comment_topics.c.model_version))
    )
    flag_df = read_frame(conn, sa.select(corrections.c.comment_key, corrections.c.kind).distinct())

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
        revision = data_revision(conn)
        view = _views.get(key)
        if view is not None and view.revision == revision:
            view.checked_at = time.monotonic()
            return view
        view = _read_view(conn, revision)
        _views[key] = view
    return view
