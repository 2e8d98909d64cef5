"""The control charts of ``feedback.spc`` against examples worked out by hand (NHS Making Data Count rules)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carelens.feedback.spc import (
    COMMON,
    CONCERN,
    IMPROVEMENT,
    NEITHER,
    classify_points,
    funnel_limits,
    latest_signal,
    p_chart,
    shifts,
    trends,
    xmr_chart,
)


def test_p_chart_limits_and_a_point_above_them():
    # by hand: p̄ = (5+6+4+30)/200 = 0.225; σ = √(0.225·0.775/50) = 0.0590550; limits 0.225 ± 0.177165
    chart = p_chart(["Jan", "Feb", "Mar", "Apr"], [5, 6, 4, 30], [50, 50, 50, 50])
    assert chart["centre"].tolist() == pytest.approx([0.225] * 4)
    assert chart["upper"].iloc[0] == pytest.approx(0.402165, abs=1e-6)
    assert chart["lower"].iloc[0] == pytest.approx(0.047835, abs=1e-6)
    assert chart["value"].tolist() == pytest.approx([0.1, 0.12, 0.08, 0.6])
    assert chart["outside"].tolist() == [False, False, False, True]
    assert chart["variation"].tolist() == [COMMON, COMMON, COMMON, IMPROVEMENT]
    assert chart.attrs["provisional"]  # four points: limits are provisional
    assert latest_signal(chart) == {"variation": IMPROVEMENT, "rules": "outside the limits", "value": 0.6,
                                    "centre": pytest.approx(0.225), "period": "Apr"}


def test_p_chart_limits_widen_for_small_months_and_stay_between_0_and_1():
    # p̄ = 9/20 = 0.45; n=10: 3σ = 3·√(0.45·0.55/10) = 0.471964 -> upper 0.921964, lower 0 (clipped)
    chart = p_chart([1, 2], [1, 8], [10, 10], better="lower")
    assert chart["upper"].iloc[0] == pytest.approx(0.921964, abs=1e-6) and chart["lower"].iloc[0] == 0.0
    assert chart["variation"].tolist() == [COMMON, COMMON]
    # a month with nobody is left out, not drawn at 0
    assert p_chart([1, 2, 3], [1, 0, 8], [10, 0, 10])["period"].tolist() == [1, 3]


def test_p_chart_limits_can_come_from_a_baseline_period():
    # baseline: first three months only: p̄ = 30/300 = 0.1; 3σ = 3·√(0.1·0.9/100) = 0.09
    chart = p_chart(range(5), [10, 10, 10, 25, 40], [100] * 5, better="lower", baseline=3)
    assert chart["centre"].iloc[0] == pytest.approx(0.1) and chart["upper"].iloc[0] == pytest.approx(0.19)
    assert chart["variation"].tolist()[-2:] == [CONCERN, CONCERN]  # more negatives: a concern when lower is better


def test_xmr_chart_limits_from_the_mean_moving_range():
    # mean = 88/6 = 14.6667; moving ranges 2,1,2,1,18 -> mean 4.8; limits 14.6667 ± 2.66·4.8 = ± 12.768
    chart = xmr_chart(list("abcdef"), [10, 12, 11, 13, 12, 30])
    assert chart["centre"].iloc[0] == pytest.approx(88 / 6)
    assert chart["upper"].iloc[0] == pytest.approx(88 / 6 + 12.768)
    assert chart["lower"].iloc[0] == pytest.approx(88 / 6 - 12.768)
    assert chart["moving_range"].tolist()[1:] == [2, 1, 2, 1, 18] and math.isnan(chart["moving_range"].iloc[0])
    assert chart["outside"].tolist() == [False] * 5 + [True]


def test_a_run_of_seven_on_one_side_is_a_shift_and_a_point_on_the_line_ends_it():
    above, below = shifts(np.array([1, 1, 1, 1, 1, 1, 1, -1, 1, 1]), 0)
    assert above.tolist() == [True] * 7 + [False] * 3 and not below.any()
    above, _ = shifts(np.array([1, 1, 1, 0, 1, 1, 1, 1]), 0)  # runs of 3 and 4: no shift
    assert not above.any()
    _, below = shifts(np.array([-1] * 6), 0)  # six is not enough
    assert not below.any()


def test_seven_points_each_higher_than_the_last_are_a_trend_and_an_equal_one_ends_it():
    up, down = trends(np.array([1, 2, 3, 4, 5, 6, 7, 7, 8]))
    assert up.tolist() == [True] * 7 + [False, False] and not down.any()
    up, _ = trends(np.array([1, 2, 3, 4, 5, 6]))  # six points: no trend
    assert not up.any()
    _, down = trends(np.array([9, 8, 7, 6, 5, 4, 3, 2]))
    assert down.all()


def test_the_direction_of_a_signal_depends_on_which_way_is_better():
    values = np.array([0.5] * 3 + [0.2] * 7)  # seven low points after three high ones
    centre, upper, lower = np.full(10, 0.35), np.full(10, 0.9), np.full(10, 0.0)
    higher = classify_points(values, centre, upper, lower, "higher")
    assert higher["variation"].tolist()[-7:] == [CONCERN] * 7 and higher["shift"].tolist()[-7:] == [True] * 7
    lower_is_better = classify_points(values, centre, upper, lower, "lower")
    assert lower_is_better["variation"].tolist()[-7:] == [IMPROVEMENT] * 7
    # points above the upper limit inside a falling trend are both: neither better nor worse
    both = classify_points(np.array([40, 35, 30, 25, 20, 15, 10.0]), np.full(7, 20.0), np.full(7, 22.0),
                           np.full(7, 0.0), "higher")
    assert both["variation"].tolist() == [NEITHER] * 4 + [CONCERN] * 3
    assert both["trend"].all() and both["outside"].tolist() == [True] * 4 + [False] * 3


def test_funnel_limits_around_the_trusts_proportion():
    lower, upper = funnel_limits([100, 400], 0.8)  # 3·√(0.8·0.2/100) = 0.12; /400: 0.06
    assert lower.tolist() == pytest.approx([0.68, 0.74]) and upper.tolist() == pytest.approx([0.92, 0.86])


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 50)), min_size=1, max_size=40))
def test_p_chart_values_stay_within_0_and_1_and_every_point_gets_a_class(pairs):
    num = [min(a, b) for a, b in pairs]
    den = [b for _, b in pairs]
    chart = p_chart(range(len(pairs)), num, den)
    assert ((chart["value"] >= 0) & (chart["value"] <= 1)).all()
    assert (chart["lower"] <= chart["centre"] + 1e-12).all() and (chart["centre"] <= chart["upper"] + 1e-12).all()
    assert set(chart["variation"]) <= {COMMON, IMPROVEMENT, CONCERN, NEITHER}
