"""The in-memory view of a feedback store: what every query filters and summarises.

Why an in-memory view: every filter change must answer in well under a second with 100,000+
comments, on DuckDB or on a trust's PostgreSQL. The store is read once into a pandas frame plus a
sparse comment x topic matrix, cached per database and refreshed when an upload or correction
lands (writes in this process invalidate it at once; a cheap revision query,
:func:`data_revision`, notices other processes' writes within ``REVISION_TTL`` seconds). Writes
still go only through the database. On a DuckDB store the check is a ``stat`` of the file while it
is unchanged (``db.engine.store_stamp``), and while another process holds the file (a CLI load)
the view in hand answers and the check is made again later: filters never wait for another's write.

What the view shows is the model's output with staff corrections applied (:func:`_apply_corrections`):
the latest correction not undone wins, for topics and for sentiment separately; the model's own
output stays beside it (``model_topics``, ``model_sentiment``). A correction or flag saved in
this process patches the cached view in place (:func:`apply_saved_correction`: one row, no
re-read), so saving feels instant however large the store.

Responses: one row per *comment*; ``response_code`` says which response (respondent's return) each
belongs to (a response's comments are next to each other), so counts that protect privacy count
respondents (:func:`respondents`).

Sentiment groups: positive = 1-2, neutral/mixed = 3, negative = 4-5 (``GROUPS``, ``group_code``).
"""

from __future__ import annotations

import ast
import json
import threading
import time
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from scipy import sparse

from carelens.db.bulk import read_frame
from carelens.db.engine import store_stamp, store_wait
from carelens.errors import StoreBusyError
from carelens.feedback.store.tables import (
    aliases,
    comment_topics,
    comments,
    corrections,
    predictions,
    responses,
    trust_mix,
    uploads,
)

GROUPS = ("positive", "neutral", "negative")
REVISION_TTL = 2.0


@dataclass
class StoreView:
    """One database's comments in memory, one row per comment, newest first.

    ``frame`` holds the scalar columns; ``topic_matrix`` (CSR, comments x ``topics``) the topics
    every view shows (corrections applied); ``category_matrix`` (bool, comments x ``categories``);
    ``month_code`` indexes ``months`` (-1 = no date); ``group_code`` indexes ``GROUPS`` (-1 = no
    sentiment); ``response_code`` numbers the responses 0..``n_responses``-1.
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
    stamp: tuple | None = None  # the DuckDB file's stamp when ``revision`` was read (see db.engine.store_stamp)
    response_code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_responses: int = 0
    one_comment_each: bool = True  # every response has one comment: respondents = comments
    demographic_fields: list[str] = field(default_factory=list)
    checked_at: float = 0.0
    masks: OrderedDict = field(default_factory=OrderedDict)
    # filter choices per (scope, threshold): no flag or correction changes them, so they live as
    # long as this view (a load or an alias reads a new one); every page view asks for them
    options_memo: OrderedDict = field(default_factory=OrderedDict)
    derived: dict = field(default_factory=dict)  # what queries work out once per view (e.g. demographic codes)
    by_labels: dict = field(default_factory=dict)  # name -> (topic matrix, what was built from it): from_labels
    _positions: pd.Index | None = None
    _first_of_response: np.ndarray | None = None

    def from_labels(self, name: str, build):
        """What ``build(topic_matrix)`` makes, kept while the view shows the same topics.

        Why keyed on the matrix object: a saved correction puts a new matrix in place
        (:func:`apply_saved_correction`) while queries may be running; what one of them builds from
        the old matrix is kept with the old one, so it is never taken for the new topics."""
        matrix = self.topic_matrix
        kept = self.by_labels.get(name)
        if kept is not None and kept[0] is matrix:
            return kept[1]
        value = build(matrix)
        self.by_labels[name] = (matrix, value)
        return value

    def position(self, comment_key: str) -> int | None:
        """The row of a comment (None if it is not in the view)."""
        if self._positions is None:
            self._positions = pd.Index(self.frame["comment_key"])
        loc = self._positions.get_indexer([comment_key])[0]
        return None if loc < 0 else int(loc)

    def first_of_response(self) -> np.ndarray:
        """The row of each response's first comment (response-level fields are the same on all)."""
        if self._first_of_response is None:  # responses never change within a view: worked out once
            code = self.response_code
            self._first_of_response = (np.zeros(0, dtype=np.int64) if self.n_responses == 0
                                       else np.flatnonzero(np.r_[True, code[1:] != code[:-1]]))
        return self._first_of_response


_views: dict[str, StoreView] = {}
_polled: dict[str, tuple] = {}  # url -> (file stamp, revision) of the last poll (poll_revision)
_lock = threading.Lock()


def data_revision(conn: sa.Connection) -> tuple:
    """A cheap fingerprint of what is stored: changes after any upload, correction, undo, alias or
    trust mix, from any process (the dashboard's pages redraw when it changes)."""
    up = conn.execute(sa.select(sa.func.count(), sa.func.max(uploads.c.loaded_at))).one()
    co = conn.execute(sa.select(sa.func.count(), sa.func.max(corrections.c.created_at),
                                sa.func.count(corrections.c.undone_at), sa.func.max(corrections.c.undone_at))).one()
    al = conn.execute(sa.select(sa.func.count(), sa.func.max(aliases.c.created_at))).one()
    mx = conn.execute(sa.select(sa.func.count(), sa.func.max(trust_mix.c.loaded_at))).one()
    return (up[0], str(up[1]), co[0], str(co[1]), co[2], str(co[3]), al[0], str(al[1]), mx[0], str(mx[1]))


CORRECTIONS_PART = slice(2, 6)  # where data_revision keeps the corrections' count and times
VIEW_PART = slice(0, 8)  # uploads, corrections, aliases: what the view is read from (not the trust mix)


def _read_view(conn: sa.Connection, revision: tuple) -> StoreView:
    stmt = (
        sa.select(comments.c.comment_key, comments.c.response_key, responses.c.response_id.label("comment_id"),
                  responses.c.date, comments.c.text_redacted.label("text"), comments.c.question, responses.c.fft_score,
                  responses.c.location_1, responses.c.location_2, responses.c.location_3, responses.c.demographics,
                  predictions.c.sentiment)
        .join(responses, responses.c.response_key == comments.c.response_key)
        .join(uploads, uploads.c.upload_id == comments.c.upload_id)
        .outerjoin(predictions, sa.and_(predictions.c.comment_key == comments.c.comment_key,
                                        predictions.c.model_version == uploads.c.model_version))
        .order_by(responses.c.date.desc().nulls_last(), comments.c.response_key, comments.c.comment_key)
    )
    frame = read_frame(conn, stmt)
    topics_df = read_frame(
        conn,
        sa.select(comment_topics.c.comment_key, comment_topics.c.topic, comment_topics.c.category)
        .join(comments, comments.c.comment_key == comment_topics.c.comment_key)
        .join(uploads, sa.and_(uploads.c.upload_id == comments.c.upload_id,
                               uploads.c.model_version == comment_topics.c.model_version))
    )
    active = read_frame(conn, sa.select(corrections.c.comment_key, corrections.c.kind, corrections.c.topics,
                                        corrections.c.sentiment, corrections.c.created_at)
                        .where(corrections.c.undone_at.is_(None)))

    n = len(frame)
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    month = frame["date"].dt.strftime("%Y-%m")
    month_cat = pd.Categorical(month)
    frame["month"] = month
    frame["fft_score"] = pd.array(frame["fft_score"], dtype="Int64")
    frame["model_sentiment"] = pd.array(frame.pop("sentiment"), dtype="Int64")
    frame["text"] = frame["text"].fillna("")
    frame["text_length"] = frame["text"].str.len()
    response_code, _ = pd.factorize(frame["response_key"])
    n_responses = int(response_code.max()) + 1 if n else 0

    pairs = topics_df[["topic", "category"]].drop_duplicates("topic")
    topic_category = dict(zip(pairs["topic"], pairs["category"]))
    from carelens.feedback.framework import model_framework

    try:  # corrected topics the model never gave in this store still need their category
        framework_category = {lab.name: lab.category for lab in model_framework(None).labels}
    except Exception:  # noqa: BLE001 - no packaged model: categories of stored topics only
        framework_category = {}
    for names in active.loc[active["topics"].notna(), "topics"]:
        for t in _split_topics(names):
            topic_category.setdefault(t, framework_category.get(t, "General"))
    topics = sorted(topic_category)
    rows = pd.Index(frame["comment_key"]).get_indexer(topics_df["comment_key"])
    cols = pd.Index(topics).get_indexer(topics_df["topic"])
    ok = rows >= 0
    matrix = sparse.csr_matrix((np.ones(int(ok.sum()), dtype=np.int32), (rows[ok], cols[ok])), shape=(n, len(topics)))
    matrix.data[:] = 1  # duplicates (never expected) count once
    categories = sorted(set(topic_category.values()))
    view = StoreView(frame=frame, topics=topics, topic_category=topic_category, topic_matrix=matrix,
                     categories=categories, category_matrix=np.zeros((n, len(categories)), dtype=bool),
                     months=[str(m) for m in month_cat.categories], month_code=np.asarray(month_cat.codes, dtype=np.int64),
                     group_code=np.full(n, -1, dtype=np.int8),
                     text_arrow=pa.array(frame["text"].to_numpy(dtype=object), type=pa.large_string()),
                     revision=revision, response_code=np.asarray(response_code, dtype=np.int64),
                     n_responses=n_responses, one_comment_each=n_responses == n, checked_at=time.monotonic())
    frame["model_topics"] = _topic_lists(view, matrix)
    _apply_corrections(view, active)
    demo_fields: list[str] = []
    if frame["demographics"].notna().any():
        codes, uniques = pd.factorize(frame["demographics"])  # few distinct combinations: parse each once
        parsed = pd.DataFrame([json.loads(d) if isinstance(d, str) and d else {} for d in uniques])
        demo = parsed.reindex(np.where(codes >= 0, codes, len(parsed))).reset_index(drop=True)
        demo_fields = [str(c) for c in demo.columns]
        for c in demo_fields:
            frame[f"demo:{c}"] = demo[c].astype("string").to_numpy()
    from carelens.feedback.store.aliases import apply_aliases

    apply_aliases(frame, read_frame(conn, sa.select(aliases.c.field, aliases.c.spelling, aliases.c.canonical)))
    view.frame = frame.drop(columns="demographics")
    view.demographic_fields = demo_fields
    return view


def _split_topics(joined: str | None) -> list[str]:
    return [t.strip() for t in (joined or "").split(";") if t.strip()]


def _topic_lists(view: StoreView, matrix: sparse.csr_matrix) -> np.ndarray:
    """Each row's topic names as a list (rows with the same set share one list: read-only by convention)."""
    n, names = matrix.shape[0], np.asarray(view.topics, dtype=object)
    if len(view.topics) <= 62:  # few distinct topic sets: encode each row's set as bits, build each list once
        bits = matrix @ (np.int64(1) << np.arange(len(view.topics), dtype=np.int64))
        codes, uniques = pd.factorize(np.asarray(bits).ravel())
        sets = [[names[j] for j in range(len(view.topics)) if (int(u) >> j) & 1] for u in uniques]
        return pd.Series(sets, dtype=object).take(codes).to_numpy()
    ptr, ind = matrix.indptr, matrix.indices
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = list(names[ind[ptr[i]:ptr[i + 1]]])
    return out


def _categories_of(view: StoreView, topic_lists) -> list[list[str]]:
    cache: dict[int, list[str]] = {}
    out = []
    for ts in topic_lists:
        key = id(ts)
        if key not in cache:
            cache[key] = list(dict.fromkeys(view.topic_category[t] for t in ts))
        out.append(cache[key])
    return out


def _group(sentiment: np.ndarray) -> np.ndarray:
    group = np.full(len(sentiment), -1, dtype=np.int8)
    group[(sentiment == 1) | (sentiment == 2)] = 0
    group[sentiment == 3] = 1
    group[(sentiment == 4) | (sentiment == 5)] = 2
    return group


def latest_corrections(active: pd.DataFrame) -> tuple[dict[str, list[str]], dict[str, int], set[str]]:
    """From the corrections not undone: each comment's corrected topics and sentiment (the latest of
    each wins) and the flagged comments."""
    active = active.sort_values("created_at", kind="stable")
    with_topics = active[(active["kind"] == "wrong_topics") & active["topics"].notna()]
    topics = {k: _split_topics(t) for k, t in zip(with_topics["comment_key"], with_topics["topics"])}
    with_sentiment = active[active["sentiment"].notna() & active["kind"].isin(["wrong_topics", "sentiment"])]
    sentiment = {k: int(s) for k, s in zip(with_sentiment["comment_key"], with_sentiment["sentiment"])}
    flagged = set(active.loc[active["kind"] == "interesting", "comment_key"])
    return topics, sentiment, flagged


def _apply_corrections(view: StoreView, active: pd.DataFrame) -> None:
    """Set what every view shows (``topics``, ``categories``, ``sentiment``, the matrices, flags) from
    the model's output and the active corrections."""
    frame = view.frame
    topics, sentiment, flagged = latest_corrections(active)
    matrix = view.topic_matrix
    rows = {view.position(k): ts for k, ts in topics.items()}
    rows = {r: ts for r, ts in rows.items() if r is not None}
    if rows:
        keep = np.ones(matrix.shape[0], dtype=np.int32)
        keep[list(rows)] = 0
        col = {t: j for j, t in enumerate(view.topics)}
        r_idx = np.repeat(list(rows), [len(ts) for ts in rows.values()])
        c_idx = [col[t] for ts in rows.values() for t in ts]
        corrected = sparse.csr_matrix((np.ones(len(c_idx), dtype=np.int32), (r_idx, c_idx)), shape=matrix.shape)
        matrix = (sparse.diags(keep, dtype=np.int32) @ matrix + corrected).tocsr()
        matrix.data[:] = 1
        matrix.eliminate_zeros()
    matrix.sort_indices()  # pairs of topics are read in column order (queries.topic_cooccurrence)
    view.topic_matrix = matrix
    shown = frame["model_topics"].to_numpy(dtype=object).copy()
    for r, ts in rows.items():
        shown[r] = list(ts)
    frame["topics"] = shown
    frame["categories"] = _categories_of(view, shown)
    frame["n_topics"] = np.asarray(matrix.sum(axis=1)).ravel()
    view.category_matrix = _category_matrix(view, matrix)
    sent = frame["model_sentiment"].copy()
    for key, value in sentiment.items():
        r = view.position(key)
        if r is not None:
            sent.iat[r] = value
    frame["sentiment"] = sent
    view.group_code = _group(sent.to_numpy(dtype=float, na_value=np.nan))
    frame["flagged"] = frame["comment_key"].isin(flagged)
    frame["corrected"] = frame["comment_key"].isin(set(topics) | set(sentiment))
    view.masks.clear()


def _category_matrix(view: StoreView, matrix: sparse.csr_matrix) -> np.ndarray:
    if not view.topics:
        return np.zeros((matrix.shape[0], 0), dtype=bool)
    cat_of_topic = sparse.csr_matrix((np.ones(len(view.topics), dtype=np.int32),
                                      (np.arange(len(view.topics)),
                                       [view.categories.index(view.topic_category[t]) for t in view.topics])),
                                     shape=(len(view.topics), len(view.categories)))
    return (matrix @ cat_of_topic).toarray() > 0


def apply_saved_correction(engine: sa.Engine, comment_key: str, active: pd.DataFrame, before: tuple,
                           after: tuple) -> None:
    """Patch the cached view after a correction, undo or flag of one comment saved by this process.

    ``active`` is that comment's corrections not undone (after the write); ``before``/``after`` the
    store's revision either side of it. Only when the cached view is exactly the store before the
    write is it patched (one row: its topics in the matrix, categories, sentiment, flags) and
    marked as the store after it; otherwise it is dropped and read again, as after a load.
    """
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        view = _views.get(key)
        if view is None or view.revision != before:
            _views.pop(key, None)
            return
        row = view.position(comment_key)
        topics, sentiment, flagged = latest_corrections(active)
        new_topics = topics.get(comment_key)
        if row is None or (new_topics and any(t not in view.topic_category for t in new_topics)):
            _views.pop(key, None)  # a comment or topic the view does not know: read it all again
            return
        frame = view.frame
        shown = new_topics if new_topics is not None else frame["model_topics"].iat[row]
        cols = np.sort(np.fromiter((view.topics.index(t) for t in set(shown)), dtype=np.int32))
        m = view.topic_matrix
        start, end = m.indptr[row], m.indptr[row + 1]
        indices = np.concatenate([m.indices[:start], cols, m.indices[end:]])
        indptr = m.indptr.copy()
        indptr[row + 1:] += len(cols) - (end - start)
        value = sentiment.get(comment_key, frame["model_sentiment"].iat[row])
        if np.array_equal(m.indices[start:end], cols) and _same_sentiment(value, frame["sentiment"].iat[row]):
            matrix = m  # a flag, or a correction back to what is shown: labels unchanged, what was built from them stands
        else:
            matrix = sparse.csr_matrix((np.ones(len(indices), dtype=np.int32), indices, indptr), shape=m.shape)
        category = np.zeros(len(view.categories), dtype=bool)
        for t in shown:
            category[view.categories.index(view.topic_category[t])] = True
        view.category_matrix[row] = category
        col = frame.columns.get_loc
        frame.iat[row, col("topics")] = list(shown)
        frame.iat[row, col("categories")] = list(dict.fromkeys(view.topic_category[t] for t in shown))
        frame.iat[row, col("n_topics")] = len(cols)
        frame.iat[row, col("sentiment")] = value
        view.group_code[row] = _group(np.array([np.nan if pd.isna(value) else float(value)]))[0]
        frame.iat[row, col("flagged")] = comment_key in flagged
        frame.iat[row, col("corrected")] = new_topics is not None or comment_key in sentiment
        # the new matrix goes in last, as a new object: a query running now keeps the old one whole,
        # and what StoreView.from_labels builds from the new one sees every change above
        view.topic_matrix = matrix
        view.masks.clear()
        view.revision = after
        view.checked_at = time.monotonic()


def _same_sentiment(a, b) -> bool:
    """Whether two sentiment values (1-5, or missing) are the same."""
    if pd.isna(a) or pd.isna(b):
        return pd.isna(a) and pd.isna(b)
    return int(a) == int(b)


def respondents_by_response_field(view: StoreView, mask: np.ndarray, codes: np.ndarray, n_cells: int) -> np.ndarray:
    """Respondents per cell when the cell is a field of the response (its month: every comment of a
    return has its date): each response with a comment under ``mask`` counts once, in its cell
    (``codes``: the cell of each comment row, -1 for none). A count over the responses, cheaper
    than :mod:`carelens.feedback.store.cell_counts`' entries when the cell is the response's own."""
    seen = np.zeros(view.n_responses, dtype=bool)
    seen[view.response_code[mask]] = True
    cells = codes[view.first_of_response()[seen]]
    return np.bincount(cells[cells >= 0], minlength=n_cells)


def respondents(view: StoreView, mask: np.ndarray) -> int:
    """How many respondents (responses) the comments under ``mask`` come from (per cell:
    :mod:`carelens.feedback.store.cell_counts`, :func:`respondents_by_response_field`). With one
    comment per response this is the comment count."""
    if view.one_comment_each:
        return int(np.count_nonzero(mask))
    seen = np.zeros(view.n_responses, dtype=bool)
    seen[view.response_code[mask]] = True
    return int(seen.sum())


def invalidate(engine: sa.Engine) -> None:
    """Forget the cached view of ``engine`` (called after every load made through carelens)."""
    _views.pop(engine.url.render_as_string(hide_password=False), None)
    _polled.pop(engine.url.render_as_string(hide_password=False), None)


def revision_changed(engine: sa.Engine) -> None:
    """After a write the view does not hold (the trust mix): ask for the revision again at the next
    query and poll, but keep the view (:func:`store_view` re-reads it only when its part changed)."""
    key = engine.url.render_as_string(hide_password=False)
    _polled.pop(key, None)
    view = _views.get(key)
    if view is not None:
        view.checked_at, view.stamp = 0.0, None


def store_view(engine: sa.Engine) -> StoreView:
    """The cached in-memory view of ``engine``'s store, re-read if anything was written since."""
    key = engine.url.render_as_string(hide_password=False)
    view = _views.get(key)
    if view is not None and time.monotonic() - view.checked_at < REVISION_TTL:
        return view
    with _lock:
        view = _views.get(key)
        stamp = store_stamp(engine)
        if view is not None and stamp is not None and stamp == view.stamp:
            view.checked_at = time.monotonic()  # the file is as it was when the view was read
            return view
        try:
            # with a view in hand, do not queue behind another process's write to a DuckDB store
            # (a CLI load holds the file for seconds): answer from the view, check again later
            with store_wait(0) if view is not None else nullcontext(), engine.connect() as conn:
                revision = data_revision(conn)
                if view is not None and view.revision[VIEW_PART] == revision[VIEW_PART]:
                    # nothing the view holds changed (at most the trust mix, which it does not hold):
                    # no re-read, which at 1,000,000 comments takes seconds
                    view.revision, view.checked_at, view.stamp = revision, time.monotonic(), stamp
                    return view
                view = _read_view(conn, revision)
                view.stamp = stamp
        except StoreBusyError:
            if view is None:
                raise
            view.checked_at = time.monotonic()
            return view
        _views[key] = view
    return view


def data_part(revision: str) -> str:
    """A :func:`poll_revision` answer without its corrections part (what a filter's choices depend
    on: loads, aliases, the trust mix); an answer that is no revision (an error) is kept whole."""
    try:
        parts = ast.literal_eval(revision)
    except (ValueError, SyntaxError):
        return revision
    if not isinstance(parts, tuple) or len(parts) <= CORRECTIONS_PART.stop:
        return revision
    return repr(parts[:CORRECTIONS_PART.start] + parts[CORRECTIONS_PART.stop:])


def poll_revision(engine: sa.Engine, previous: str | None = None) -> str:
    """:func:`data_revision` as text, for the dashboard's poll every few seconds.

    While another process holds a DuckDB store (a nightly load writing), the ``previous`` answer
    stands and the next poll asks again, instead of every dashboard session waiting for the file.
    """
    key = engine.url.render_as_string(hide_password=False)
    stamp = store_stamp(engine)
    known = _polled.get(key)
    if stamp is not None and known is not None and known[0] == stamp:
        return known[1]  # the DuckDB file has not changed since this revision was read
    try:
        with store_wait(0) if previous is not None else nullcontext(), engine.connect() as conn:
            revision = str(data_revision(conn))
    except StoreBusyError:
        if previous is None:
            raise
        return previous
    _polled[key] = (stamp, revision)
    return revision
