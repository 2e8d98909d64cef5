"""A measure per place and period, for control charts and period comparisons (``feedback.comparison``).

Measures (:class:`Measure`), each a numerator over a denominator per (place, period), from the
store's in-memory view under the usual ``CommentFilters``:

- ``fft_good``: respondents answering "very good" or "good" / respondents with an FFT answer 1-5
  (each respondent once, however many comments they wrote);
- ``topic_share``: respondents with a comment about the topic / respondents with a comment;
- ``topic_negative``: the topic's comments that are negative / the topic's comments with a sentiment;
- ``mean_sentiment``: the mean sentiment of comments (1 very positive .. 5 very negative), for an XmR chart.

Privacy: a (place, period) cell from fewer respondents than the limit is suppressed (figures
missing, ``suppressed`` True), as every other breakdown (:mod:`carelens.privacy`).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from carelens.feedback.store.filters import CommentFilters
from carelens.feedback.store.queries import filter_mask
from carelens.feedback.store.view import StoreView, store_view
from carelens.privacy import threshold

KINDS = ("fft_good", "topic_share", "topic_negative", "mean_sentiment")
PERIODS = ("month", "quarter")


@dataclass(frozen=True)
class Measure:
    """What is charted: a kind from :data:`KINDS` and, for the topic kinds, the topic."""

    kind: str = "fft_good"
    topic: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"measure must be one of {', '.join(KINDS)}")
        if self.kind.startswith("topic_") and not self.topic:
            raise ValueError(f"measure {self.kind} needs a topic")

    @property
    def label(self) -> str:
        return {"fft_good": "% of FFT answers good or very good",
                "topic_share": f"% of respondents mentioning {self.topic}",
                "topic_negative": f"% of comments about {self.topic} that are negative",
                "mean_sentiment": "Mean sentiment of comments (1 very positive .. 5 very negative)"}[self.kind]

    @property
    def better(self) -> str:
        """Which way is better: higher % good; lower % negative and lower sentiment scores; a topic's
        share has no better way (more mentions of parking is neither), taken as lower (a concern when it grows)."""
        return "higher" if self.kind == "fft_good" else "lower"

    @property
    def chart(self) -> str:
        return "xmr" if self.kind == "mean_sentiment" else "p"

    @property
    def is_share(self) -> bool:
        return self.chart == "p"

    def key(self) -> str:
        return self.kind if not self.topic else f"{self.kind}:{self.topic}"

    @classmethod
    def from_key(cls, key: str) -> Measure:
        kind, _, topic = key.partition(":")
        return cls(kind, topic or None)


def _period_codes(view: StoreView, period: str) -> tuple[np.ndarray, list[str], list[tuple[date, date]]]:
    """Each comment's period code (-1: no date), the periods' names and (first day, last day)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    months = [(int(m[:4]), int(m[5:7])) for m in view.months]
    if period == "month":
        names = list(view.months)
        bounds = [(date(y, m, 1), date(y, m, monthrange(y, m)[1])) for y, m in months]
        return view.month_code, names, bounds
    quarters = sorted({(y, (m - 1) // 3 + 1) for y, m in months})
    index = {q: i for i, q in enumerate(quarters)}
    of_month = np.array([index[(y, (m - 1) // 3 + 1)] for y, m in months] + [-1], dtype=np.int64)
    codes = of_month[view.month_code]  # -1 (no date) indexes the trailing -1
    names = [f"{y} Q{q}" for y, q in quarters]
    bounds = [(date(y, 3 * q - 2, 1), date(y, 3 * q, monthrange(y, 3 * q)[1])) for y, q in quarters]
    return codes, names, bounds


def _place_codes(view: StoreView, level: int | None) -> tuple[np.ndarray, list[str]]:
    if level is None:
        return np.zeros(len(view.frame), dtype=np.int64), [""]
    codes, names = pd.factorize(view.frame[f"location_{level}"])
    return np.asarray(codes, dtype=np.int64), [str(n) for n in names]


def _people(view: StoreView, rows: np.ndarray, cell: np.ndarray, n_cells: int) -> np.ndarray:
    """Distinct respondents among comment ``rows`` per cell (a respondent's comments share a cell)."""
    if view.one_comment_each:
        return np.bincount(cell[rows], minlength=n_cells)
    first = np.full(view.n_responses, -1, dtype=np.int64)
    first[view.response_code[rows]] = rows  # any of a respondent's rows: they share place and period
    seen = first[first >= 0]
    return np.bincount(cell[seen], minlength=n_cells)


def measure_series(engine: sa.Engine, filters: CommentFilters | None, measure: Measure, *, level: int | None = None,
                   period: str = "month", suppress_below: int | None = None) -> pd.DataFrame:
    """The measure per (place, period): ``place`` ("" for the whole selection when ``level`` is None),
    ``period``, ``start``, ``end``, ``numerator``, ``denominator``, ``value``, ``respondents``,
    ``suppressed``; periods in time order. Only cells with someone in them are listed."""
    view = store_view(engine)
    mask = filter_mask(view, filters)
    periods, names, bounds = _period_codes(view, period)
    places, place_names = _place_codes(view, level)
    mask &= (periods >= 0) & (places >= 0)
    n_p, n_cells = len(names), len(place_names) * len(names)
    cell = places * n_p + periods
    rows = np.flatnonzero(mask)
    if measure.kind == "fft_good":
        first = view.first_of_response()
        seen = np.zeros(view.n_responses, dtype=bool)
        seen[view.response_code[rows]] = True
        resp_rows = first[seen]  # place, period and score are the response's: the same on each of its rows
        score = view.frame["fft_score"].to_numpy(dtype=float, na_value=np.nan)[resp_rows]
        rated = resp_rows[score <= 5]
        den = np.bincount(cell[rated], minlength=n_cells)
        num = np.bincount(cell[resp_rows[score <= 2]], minlength=n_cells)
        people = den
    elif measure.kind == "topic_share":
        people = _people(view, rows, cell, n_cells)
        col = view.topics.index(measure.topic) if measure.topic in view.topics else None
        with_topic = rows[np.asarray(view.topic_matrix[rows][:, col].todense()).ravel() > 0] if col is not None \
            else rows[:0]
        den, num = people, _people(view, with_topic, cell, n_cells)
    else:
        has = rows[view.group_code[rows] >= 0]
        if measure.kind == "topic_negative":
            col = view.topics.index(measure.topic) if measure.topic in view.topics else None
            has = has[np.asarray(view.topic_matrix[has][:, col].todense()).ravel() > 0] if col is not None else has[:0]
            num = np.bincount(cell[has[view.group_code[has] == 2]], minlength=n_cells)
        else:
            sentiment = view.frame["sentiment"].to_numpy(dtype=float, na_value=np.nan)
            num = np.bincount(cell[has], weights=sentiment[has], minlength=n_cells)
        den = np.bincount(cell[has], minlength=n_cells)
        people = _people(view, has, cell, n_cells)
    present = np.flatnonzero(den > 0)
    place_of, period_of = present // n_p, present % n_p
    with np.errstate(invalid="ignore", divide="ignore"):
        value = num[present] / den[present]
    out = pd.DataFrame({
        "place": np.asarray(place_names, dtype=object)[place_of],
        "period": np.asarray(names, dtype=object)[period_of],
        "period_index": period_of,
        "start": [bounds[i][0] for i in period_of], "end": [bounds[i][1] for i in period_of],
        "numerator": num[present].astype(float), "denominator": den[present].astype(float), "value": value,
        "respondents": people[present].astype(int),
    }).sort_values(["place", "period_index"], kind="stable").reset_index(drop=True)
    small = out["respondents"] < threshold(suppress_below)
    out["suppressed"] = small.to_numpy()
    out.loc[small, ["numerator", "denominator", "value"]] = np.nan
    out.attrs["periods"] = names
    out.attrs["bounds"] = bounds
    return out


def latest_periods(engine: sa.Engine, filters: CommentFilters | None = None, period: str = "month") -> list[tuple[str, date, date]]:
    """The periods the selection spans, oldest first: (name, first day, last day)."""
    view = store_view(engine)
    periods, names, bounds = _period_codes(view, period)
    used = np.unique(periods[filter_mask(view, filters) & (periods >= 0)])
    return [(names[i], *bounds[i]) for i in used]
