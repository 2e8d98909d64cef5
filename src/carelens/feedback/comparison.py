"""Where is it getting worse? Places over time against their own past and against the trust.

Builds on :mod:`carelens.feedback.store.trends` (a measure per place and period, suppressed per
respondent) and :mod:`carelens.feedback.spc` (the control charts and their rules). The dashboard's
comparison page and the board report call these; they draw nothing.

- :func:`place_chart`: one place's control chart (its own past), with the trust's value per period
  beside it;
- :func:`signals`: every place at a location level whose latest period is a special cause;
- :func:`period_change`: each place this period against the one before (or any two periods), with
  whether the change is more than chance;
- :func:`compare_with_trust`: each place's value in a period against the trust's, with funnel limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from carelens.feedback.spc import COMMON, VARIATION, funnel_limits, latest_signal, p_chart, xmr_chart
from carelens.feedback.store.filters import CommentFilters, natural_key
from carelens.feedback.store.trends import Measure, measure_series


@dataclass(frozen=True)
class Period:
    """A stretch of days (both ends included) with a name for people."""

    start: date
    end: date

    @property
    def name(self) -> str:
        return period_words(self.start, self.end)

    def previous(self) -> Period:
        """The period of the same length just before (a calendar month before a whole month)."""
        from dateutil.relativedelta import relativedelta

        day = timedelta(days=1)
        if self.start.day == 1 and (self.end + day).day == 1:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            return Period(self.start - relativedelta(months=months), self.start - day)
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - day)


def period_words(start: date | None, end: date | None) -> str:
    """"1 to 30 November 2026", "28 October to 3 November 2026", "1 December 2025 to 31 January 2026"."""
    if start is None and end is None:
        return "all dates"
    if start is None:
        return f"up to {end.day} {end:%B %Y}"
    if end is None:
        return f"from {start.day} {start:%B %Y}"
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} to {end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} to {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


def chart_of(series: pd.DataFrame, measure: Measure, *, baseline: int | None = None) -> pd.DataFrame:
    """The control chart of one place's series (suppressed periods left out: they cannot be shown)."""
    shown = series[~series["suppressed"]]
    if measure.chart == "xmr":
        chart = xmr_chart(shown["period"], shown["value"], better=measure.better, baseline=baseline)
    else:
        chart = p_chart(shown["period"], shown["numerator"], shown["denominator"], better=measure.better,
                        baseline=baseline)
    meta = shown.set_index("period")
    for column in ("start", "end", "respondents"):
        chart[column] = [meta.at[p, column] for p in chart["period"]]
    chart.attrs["hidden"] = int(series["suppressed"].sum())
    return chart


def place_chart(engine: sa.Engine, filters: CommentFilters | None, measure: Measure, *, level: int | None,
                place: str | None, period: str = "month", baseline: int | None = None,
                suppress_below: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the place's control chart, the trust's series) for ``measure``; ``place`` None or ``level``
    None: the whole selection (the trust)."""
    trust = measure_series(engine, filters, measure, period=period, suppress_below=suppress_below)
    if level is None or not place:
        return chart_of(trust, measure, baseline=baseline), trust
    narrowed = (filters or CommentFilters()).model_copy(update={f"location_{level}": [place]})
    series = measure_series(engine, narrowed, measure, level=level, period=period, suppress_below=suppress_below)
    return chart_of(series[series["place"] == place], measure, baseline=baseline), trust


def signals(engine: sa.Engine, filters: CommentFilters | None, measure: Measure, *, level: int, period: str = "month",
            baseline: int | None = None, suppress_below: int | None = None, include_common: bool = False) -> pd.DataFrame:
    """One row per place whose chart's latest point is in the selection's latest period and is a
    special cause: place, period, start, end, value, centre, variation, rules, respondents, points,
    provisional (``include_common``: every place, common cause too). Concerns first."""
    series = measure_series(engine, filters, measure, level=level, period=period, suppress_below=suppress_below)
    periods = series.attrs.get("periods", [])
    latest = series["period_index"].max() if len(series) else None
    rows = []
    for place, one in series.groupby("place", sort=False):
        chart = chart_of(one, measure, baseline=baseline)
        if chart.empty or chart["period"].iloc[-1] != (periods[latest] if latest is not None else None):
            continue
        signal = latest_signal(chart)
        if signal is None and not include_common:
            continue
        last = chart.iloc[-1]
        rows.append({"place": place, "period": last["period"], "start": last["start"], "end": last["end"],
                     "value": float(last["value"]), "centre": float(last["centre"]),
                     "variation": signal["variation"] if signal else COMMON, "rules": signal["rules"] if signal else "",
                     "respondents": int(last["respondents"]), "points": len(chart),
                     "provisional": bool(chart.attrs["provisional"])})
    out = pd.DataFrame(rows, columns=["place", "period", "start", "end", "value", "centre", "variation", "rules",
                                      "respondents", "points", "provisional"])
    order = {"concern": 0, "neither": 1, "improvement": 2, COMMON: 3}
    out = out.assign(_o=out["variation"].map(order)).sort_values(["_o", "place"], key=lambda c: c if c.name == "_o"
                                                                  else c.map(natural_key), kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def _totals(engine, filters: CommentFilters | None, measure: Measure, level: int | None, span: Period,
            suppress_below: int | None) -> pd.DataFrame:
    """The measure per place over one period (one value each: the period as a whole)."""
    within = (filters or CommentFilters()).model_copy(update={"date_from": span.start, "date_to": span.end})
    series = measure_series(engine, within, measure, level=level, period="month", suppress_below=0)
    out = series.groupby("place").agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"),
                                      respondents=("respondents", "sum"))
    out["value"] = out["numerator"] / out["denominator"]
    from carelens.privacy import threshold

    small = out["respondents"] < threshold(suppress_below)
    out.loc[small, ["numerator", "denominator", "value"]] = np.nan
    out["suppressed"] = small
    return out


def period_change(engine: sa.Engine, filters: CommentFilters | None, measure: Measure, *, level: int | None,
                  current: Period, previous: Period | None = None, suppress_below: int | None = None,
                  worst_first: bool = False) -> pd.DataFrame:
    """Each place in ``current`` against ``previous`` (default: the period of the same length before):
    place, now, before, change (percentage points for shares), respondents now and before, and
    ``significant``: for shares, a two-proportion z-test beyond 3 standard errors (the charts' own
    standard: a change that large is unlikely to be chance); suppressed cells are missing. Places in
    natural order, or ``worst_first``: changes beyond chance, then the biggest moves the wrong way.
    """
    previous = previous or current.previous()
    now = _totals(engine, filters, measure, level, current, suppress_below)
    before = _totals(engine, filters, measure, level, previous, suppress_below)
    both = now.join(before, how="outer", lsuffix="_now", rsuffix="_before")
    out = pd.DataFrame({"place": both.index, "now": both["value_now"].to_numpy(), "before": both["value_before"].to_numpy(),
                        "respondents_now": both["respondents_now"].fillna(0).astype(int).to_numpy(),
                        "respondents_before": both["respondents_before"].fillna(0).astype(int).to_numpy()})
    out["change"] = out["now"] - out["before"]
    sig = []
    for rec in both.to_dict("records"):
        n1, n2 = rec["denominator_now"], rec["denominator_before"]
        if not measure.is_share or any(pd.isna(v) or v == 0 for v in (n1, n2)):
            sig.append(False)
            continue
        pooled = (rec["numerator_now"] + rec["numerator_before"]) / (n1 + n2)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        sig.append(bool(se > 0 and abs(rec["value_now"] - rec["value_before"]) > 3 * se))
    out["significant"] = sig
    out.attrs.update({"current": current, "previous": previous})
    out = out.sort_values("place", key=lambda c: c.map(natural_key), kind="stable")
    if worst_first:  # changes beyond chance first, then the largest moves the wrong way; unknown changes last
        worse = -out["change"] if measure.better == "higher" else out["change"]
        out = out.assign(_w=worse.fillna(-np.inf)).sort_values(["significant", "_w"], ascending=False,
                                                                kind="stable").drop(columns="_w")
    return out.reset_index(drop=True)


def compare_with_trust(engine: sa.Engine, filters: CommentFilters | None, measure: Measure, *, level: int,
                       span: Period, suppress_below: int | None = None) -> pd.DataFrame:
    """Each place's value over ``span`` against the trust's, with 3-sigma funnel limits for its size:
    place, value, denominator, trust, lower, upper, outside ("above"/"below"/"")."""
    places = _totals(engine, filters, measure, level, span, suppress_below)
    trust = _totals(engine, filters, measure, None, span, 0)
    overall = float(trust["value"].iloc[0]) if len(trust) else float("nan")
    places = places[~places["suppressed"]]
    lower, upper = funnel_limits(places["denominator"], overall) if measure.is_share else (
        np.full(len(places), np.nan), np.full(len(places), np.nan))
    out = pd.DataFrame({"place": places.index, "value": places["value"].to_numpy(),
                        "denominator": places["denominator"].to_numpy(), "trust": overall, "lower": lower,
                        "upper": upper})
    out["outside"] = np.where(out["value"] > out["upper"], "above", np.where(out["value"] < out["lower"], "below", ""))
    return out.sort_values("place", key=lambda c: c.map(natural_key), kind="stable").reset_index(drop=True)


def report_period(engine: sa.Engine, filters: CommentFilters | None) -> Period | None:
    """The period a board report compares: the filters' dates when both are set, else the latest
    month with comments under the filters (None: no dated comment)."""
    from carelens.feedback.store.trends import latest_periods

    filters = filters or CommentFilters()
    if filters.date_from and filters.date_to:
        return Period(filters.date_from, filters.date_to)
    months = latest_periods(engine, filters, "month")
    return Period(months[-1][1], months[-1][2]) if months else None


def report_signals(engine: sa.Engine, filters: CommentFilters | None, *, level: int, topics: list[str],
                   suppress_below: int | None = None, limit: int = 15) -> pd.DataFrame:
    """The special causes a board should hear of: for % good FFT answers, mean sentiment and how
    negative each of ``topics`` is, the places at ``level`` whose latest month is a special cause.

    The charts need history, so the filters' first day is dropped (their last day is kept: the
    latest month is the report's). Columns: place, measure (words), period, variation, label and
    colour (its MDC words and text colour), rules, value, centre, share (True: value and centre are
    proportions); concerns first, at most ``limit``.
    """
    history = (filters or CommentFilters()).model_copy(update={"date_from": None})
    measures = [Measure("fft_good"), Measure("mean_sentiment"), *(Measure("topic_negative", t) for t in topics)]
    frames = []
    for m in measures:
        found = signals(engine, history, m, level=level, suppress_below=suppress_below)
        if not found.empty:
            frames.append(found.assign(measure=m.label, share=m.is_share))
    columns = ["place", "measure", "period", "variation", "label", "colour", "rules", "value", "centre", "share"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["label"] = out["variation"].map(lambda v: VARIATION[v].label)  # the report's words and colours, so
    out["colour"] = out["variation"].map(lambda v: VARIATION[v].text_colour)  # reports/ need not know spc
    order = {"concern": 0, "neither": 1, "improvement": 2}
    out = out.assign(_o=out["variation"].map(order)).sort_values("_o", kind="stable")
    return out[columns].head(limit).reset_index(drop=True)
