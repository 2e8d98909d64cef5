"""Statistical process control in the NHS "Making Data Count" style: is a ward getting worse, or is
this month's figure just noise?

Pure functions over arrays (no store, no web), so every rule is unit-tested against hand-worked
examples (``tests/unit/test_spc.py``).

- :func:`p_chart` for proportions (% of respondents answering "good" or "very good", the share of
  respondents mentioning a topic, the share of a topic's comments that are negative): centre line
  p̄ = Σ numerators / Σ denominators; each point's limits p̄ ± 3·√(p̄(1−p̄)/nᵢ), so a month with few
  respondents has wide limits; clipped to 0..1.
- :func:`xmr_chart` for a measure without a denominator (a mean sentiment score): centre line the
  mean; limits mean ± 2.66 × the mean moving range (the average |xᵢ − xᵢ₋₁|).

The special-cause rules NHS boards use (Making Data Count, NHS England / Improvement), each marking
every point that takes part:

1. **Outside the limits**: a point above the upper or below the lower 3-sigma limit.
2. **Shift**: a run of :data:`RUN` (7) or more consecutive points on the same side of the centre
   line. A point exactly on the centre line ends a run.
3. **Trend**: :data:`RUN` (7) or more consecutive points each higher than the one before (or each
   lower). An equal value ends a trend.
4. **Two out of three near a limit**: two (or three) of any three consecutive points beyond two
   sigma on the same side of the centre line, i.e. in the outer third between the centre line and
   a process limit, or past it (Western Electric's rule 2, as MDC uses it). The points beyond two
   sigma are the ones marked; the third point of the three may be anywhere. On a p-chart the two
   sigma line is p̄ ± 2·√(p̄(1−p̄)/nᵢ) for each point, before the limits are clipped to 0..1 (so a
   lower limit clipped to 0 does not put the "near" line at a third of the centre); elsewhere it
   is the centre ± ⅔ of the distance to each limit.

A signal is *improvement* or *concern* by its direction and the measure's better direction (for %
good, higher is better; for % negative, lower is better); a point in signals of both directions is
*neither*. Points in no signal are *common cause* variation. Each class has the MDC colour and icon
(:data:`VARIATION`).

Limits come from every point, or from the first ``baseline`` points (MDC: freeze the limits on a
baseline period, then judge new points against it). Fewer than :data:`MIN_POINTS` points give
provisional limits (``provisional``); the page says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

RUN = 7  # points in a shift or a trend (NHS Making Data Count uses 7)
MIN_POINTS = 15  # fewer points than this: limits are provisional (Making Data Count's guidance)
XMR_SCALE = 2.66  # 3 / d2 for moving ranges of two points (d2 = 1.128)

IMPROVEMENT, CONCERN, NEITHER, COMMON = "improvement", "concern", "neither", "common cause"


@dataclass(frozen=True)
class Variation:
    """How a class of variation is shown: words, the MDC colour, the icon's letter."""

    label: str
    colour: str  # marker and icon colour (Making Data Count palette)
    text_colour: str  # text on white with at least 4.5:1 contrast (WCAG 2.1 AA)
    letter: str


VARIATION = {
    IMPROVEMENT: Variation("Special cause: improvement", "#289de0", "#005eb8", "I"),
    CONCERN: Variation("Special cause: concern", "#fab428", "#8a4b00", "C"),
    NEITHER: Variation("Special cause: neither better nor worse", "#361475", "#361475", "N"),
    COMMON: Variation("Common cause variation", "#7b7d7d", "#4c4e4e", "~"),
}


def _runs(flags: np.ndarray, min_length: int) -> np.ndarray:
    """True at every point that belongs to a run of ``min_length`` or more consecutive True values."""
    out = np.zeros(len(flags), dtype=bool)
    start = None
    for i, flag in enumerate(list(flags) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= min_length:
                out[start:i] = True
            start = None
    return out


def _slack(line: np.ndarray) -> np.ndarray:
    """How far past a line a value must be to count as beyond it: a hair (1e-12 of its size), so
    that rounding in a mean (a constant series' mean a last digit off its values) is not a signal."""
    return 1e-12 * np.maximum(1.0, np.abs(line))


def _above(values: np.ndarray, line) -> np.ndarray:
    line = np.broadcast_to(np.asarray(line, dtype=float), values.shape)
    return values > line + _slack(line)


def _below(values: np.ndarray, line) -> np.ndarray:
    line = np.broadcast_to(np.asarray(line, dtype=float), values.shape)
    return values < line - _slack(line)


def shifts(values: np.ndarray, centre: np.ndarray | float, run: int = RUN) -> tuple[np.ndarray, np.ndarray]:
    """(points in a run above the centre line, points in a run below it), runs of ``run`` or more."""
    values = np.asarray(values, dtype=float)
    return _runs(_above(values, centre), run), _runs(_below(values, centre), run)


def trends(values: np.ndarray, run: int = RUN) -> tuple[np.ndarray, np.ndarray]:
    """(points in an increasing trend, points in a decreasing one) of ``run`` or more points."""
    values = np.asarray(values, dtype=float)
    up, down = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    if len(values) < 2:
        return up, down
    step = np.diff(values)
    # a trend of k points has k-1 steps in one direction: mark both ends of each step in the run
    for steps, out in ((step > 0, up), (step < 0, down)):
        in_run = _runs(steps, run - 1)
        out[:-1] |= in_run
        out[1:] |= in_run
    return up, down


def two_of_three(values: np.ndarray, near_upper, near_lower) -> tuple[np.ndarray, np.ndarray]:
    """(points in a "two of three" above, points in one below): each point beyond its two-sigma
    line (``near_upper`` / ``near_lower``, one per point or one for all) that is one of two or more
    such points, on the same side, within some three consecutive points.

    Windows are whole: a chart of fewer than three points has none. A point exactly on a two-sigma
    line is not beyond it.
    """
    values = np.asarray(values, dtype=float)
    beyond_up, beyond_down = _above(values, near_upper), _below(values, near_lower)
    out = []
    for beyond in (beyond_up, beyond_down):
        marked = np.zeros(len(values), dtype=bool)
        for start in range(len(values) - 2):
            window = beyond[start:start + 3]
            if window.sum() >= 2:
                marked[start:start + 3] |= window
        out.append(marked)
    return out[0], out[1]


def two_sigma_lines(centre, upper, lower) -> tuple[np.ndarray, np.ndarray]:
    """(upper, lower) two-sigma lines of limits at centre ± 3 sigma: ⅔ of the way to each limit."""
    centre = np.asarray(centre, dtype=float)
    return centre + 2 / 3 * (np.asarray(upper, dtype=float) - centre), \
        centre - 2 / 3 * (centre - np.asarray(lower, dtype=float))


def classify_points(values: np.ndarray, centre, upper, lower, better: str, *, near_upper=None,
                    near_lower=None) -> pd.DataFrame:
    """Every rule's flags for each point and its variation class (:data:`IMPROVEMENT`, ...).

    ``near_upper`` / ``near_lower``: the two-sigma lines of rule 4 (default: the centre plus ⅔ of
    the distance to each limit, which is two sigma wherever a limit is centre ± 3 sigma)."""
    if better not in ("higher", "lower"):
        raise ValueError("better must be 'higher' or 'lower'")
    values = np.asarray(values, dtype=float)
    centre_ = np.broadcast_to(np.asarray(centre, dtype=float), values.shape)
    upper_ = np.broadcast_to(np.asarray(upper, dtype=float), values.shape)
    lower_ = np.broadcast_to(np.asarray(lower, dtype=float), values.shape)
    default_upper, default_lower = two_sigma_lines(centre_, upper_, lower_)
    near_upper = default_upper if near_upper is None else near_upper
    near_lower = default_lower if near_lower is None else near_lower
    above_limit, below_limit = _above(values, upper_), _below(values, lower_)
    run_above, run_below = shifts(values, centre_)
    trend_up, trend_down = trends(values)
    near_above, near_below = two_of_three(values, near_upper, near_lower)
    high = above_limit | run_above | trend_up | near_above
    low = below_limit | run_below | trend_down | near_below
    good, bad = (high, low) if better == "higher" else (low, high)
    variation = np.where(good & bad, NEITHER, np.where(good, IMPROVEMENT, np.where(bad, CONCERN, COMMON)))
    return pd.DataFrame({"outside": above_limit | below_limit, "shift": run_above | run_below,
                         "trend": trend_up | trend_down, "two_of_three": near_above | near_below,
                         "variation": variation})


def _frame(periods, values, centre, upper, lower, better: str, baseline: int | None, extra: dict,
           near: tuple | None = None) -> pd.DataFrame:
    near_upper, near_lower = near if near is not None else two_sigma_lines(centre, upper, lower)
    flags = classify_points(values, centre, upper, lower, better, near_upper=near_upper, near_lower=near_lower)
    # the two-sigma lines are kept beside the limits so charts can draw what rule 4 measures against
    out = pd.DataFrame({"period": list(periods), "value": values, "centre": centre, "upper": upper, "lower": lower,
                        "near_upper": near_upper, "near_lower": near_lower, **extra})
    out = pd.concat([out, flags], axis=1)
    out.attrs.update({"better": better, "baseline": baseline, "provisional": len(values) < MIN_POINTS})
    return out


def p_chart(periods: Sequence, numerators: Sequence[float], denominators: Sequence[float], *, better: str = "higher",
            baseline: int | None = None) -> pd.DataFrame:
    """A p-chart: one row per period with ``value`` (proportion), ``centre``, ``upper``, ``lower``,
    ``near_upper`` / ``near_lower`` (the two-sigma lines, unclipped), the rules' flags (``outside``,
    ``shift``, ``trend``, ``two_of_three``) and ``variation``.

    Periods with a denominator of 0 are left out. ``baseline``: compute the centre and limits from
    the first ``baseline`` periods only.
    """
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    keep = den > 0
    periods = [p for p, k in zip(periods, keep) if k]
    num, den = num[keep], den[keep]
    if (num < 0).any() or (num > den).any():
        raise ValueError("each numerator must be between 0 and its denominator")
    base = slice(0, baseline) if baseline else slice(None)
    total = den[base].sum()
    pbar = float(num[base].sum() / total) if total else float("nan")
    sigma = np.sqrt(pbar * (1 - pbar) / den) if len(den) else np.zeros(0)
    centre = np.full(len(den), pbar)
    upper = np.minimum(1.0, pbar + 3 * sigma)
    lower = np.maximum(0.0, pbar - 3 * sigma)
    # rule 4's two-sigma lines from sigma itself, not from the limits clipped to 0..1
    return _frame(periods, num / den if len(den) else num, centre, upper, lower, better, baseline,
                  {"numerator": num, "denominator": den}, near=(pbar + 2 * sigma, pbar - 2 * sigma))


def xmr_chart(periods: Sequence, values: Sequence[float], *, better: str = "higher",
              baseline: int | None = None) -> pd.DataFrame:
    """An XmR (individuals) chart: like :func:`p_chart`, with ``moving_range`` per point.

    Missing values are left out. Limits: mean ± 2.66 × mean moving range of the baseline points.
    """
    x = np.asarray(values, dtype=float)
    keep = ~np.isnan(x)
    periods = [p for p, k in zip(periods, keep) if k]
    x = x[keep]
    moving = np.r_[np.nan, np.abs(np.diff(x))] if len(x) else np.zeros(0)
    base = slice(0, baseline) if baseline else slice(None)
    mean = float(x[base].mean()) if len(x[base]) else float("nan")
    mr = moving[base][1:]
    mr_bar = float(mr.mean()) if len(mr) else float("nan")
    centre = np.full(len(x), mean)
    return _frame(periods, x, centre, centre + XMR_SCALE * mr_bar, centre - XMR_SCALE * mr_bar, better, baseline,
                  {"moving_range": moving})


# each rule's flag column and its words (the signals tables' "Why", the board report's)
RULE_WORDS = (("outside", "outside the limits"), ("shift", f"a run of {RUN}+ on one side"),
              ("trend", f"a trend of {RUN}+"), ("two_of_three", "2 of 3 near a limit"))


def latest_signal(chart: pd.DataFrame) -> dict | None:
    """The last period's special cause, if it has one: {variation, rules (words), value, centre,
    period}; None for common cause or an empty chart."""
    if chart.empty:
        return None
    last = chart.iloc[-1]
    if last["variation"] == COMMON:
        return None
    rules = [words for flag, words in RULE_WORDS if bool(last.get(flag, False))]
    return {"variation": str(last["variation"]), "rules": ", ".join(rules), "value": float(last["value"]),
            "centre": float(last["centre"]), "period": last["period"]}


def funnel_limits(denominators: Sequence[float], proportion: float) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) 3-sigma limits around ``proportion`` for groups of the given sizes: a unit's
    proportion outside them differs from the whole (the trust) by more than chance."""
    n = np.asarray(denominators, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(proportion * (1 - proportion) / n)
    return np.maximum(0.0, proportion - 3 * sigma), np.minimum(1.0, proportion + 3 * sigma)
