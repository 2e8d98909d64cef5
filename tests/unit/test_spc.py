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
    two_of_three,
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
    # two-sigma lines 0.225 ± 0.118110: Jan (0.1) and Mar (0.08) are two of three beyond the lower one
    assert chart["two_of_three"].tolist() == [True, False, True, False]
    assert chart["variation"].tolist() == [CONCERN, COMMON, CONCERN, IMPROVEMENT]
    assert chart.attrs["provisional"]  # four points: limits are provisional
    assert latest_signal(chart) == {"variation": IMPROVEMENT, "rules": "outside the limits", "value": 0.6,
                                    "centre": pytest.approx(0.225), "period": "Apr"}


def test_p_chart_limits_widen_for_small_months_and_stay_between_0_and_1():
    # p̄ = 9/20 = 0.45; n=10: 3σ = 3·√(0.45·0.55/10) = 0.471964 -> upper 0.921964, lower 0 (clipped)
    chart = p_chart([1, 2], [1, 8], [10, 10], better="lower")
    assert chart["upper"].iloc[0] == pytest.approx(0.921964, abs=1e-6) and chart["lower"].iloc[0] == 0.0
    # the two-sigma lines come from sigma, not from the clipped limits: 0.45 ± 2·0.157321
    assert chart["near_upper"].iloc[0] == pytest.approx(0.764643, abs=1e-6)
    assert chart["near_lower"].iloc[0] == pytest.approx(0.135357, abs=1e-6)
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


# --- rule 4: two out of three near a limit (beyond two sigma, on one side) -----------------------
# Limits at ±3 around a centre line of 0: the two-sigma lines are at ±2.
FLAT = {"centre": np.zeros(5), "upper": np.full(5, 3.0), "lower": np.full(5, -3.0)}


def test_two_of_three_points_near_the_upper_limit_signal_and_only_they_are_marked():
    chart = classify_points(np.array([0, 2.5, 0.5, 2.6, 0]), **FLAT, better="higher")
    assert chart["two_of_three"].tolist() == [False, True, False, True, False]  # the middle point takes no part
    assert chart["variation"].tolist() == [COMMON, IMPROVEMENT, COMMON, IMPROVEMENT, COMMON]
    assert not chart[["outside", "shift", "trend"]].to_numpy().any()
    lower_is_better = classify_points(np.array([0, 2.5, 0.5, 2.6, 0]), **FLAT, better="lower")
    assert lower_is_better["variation"].tolist() == [COMMON, CONCERN, COMMON, CONCERN, COMMON]
    # near the lower limit: the same rule, the other way
    low = classify_points(np.array([-2.1, -2.9, 0, 0, 0]), **FLAT, better="higher")
    assert low["two_of_three"].tolist() == [True, True, False, False, False]
    assert low["variation"].tolist()[:2] == [CONCERN, CONCERN]


def test_two_near_points_on_opposite_sides_do_not_signal():
    for values in ([0, 2.5, -2.5, 0, 0], [2.5, -2.5, 0, 0, 0], [0, 0, -2.9, 2.9, 0]):
        chart = classify_points(np.array(values, dtype=float), **FLAT, better="higher")
        assert not chart["two_of_three"].any(), values
        assert set(chart["variation"]) == {COMMON}, values


def test_one_near_point_in_three_does_not_signal_nor_do_two_further_apart():
    for values in ([0, 2.5, 1.9, 1.5, 0], [2.5, 0, 0, 2.5, 0], [0, 0, 0, 2, 2]):  # 2 is on the line, not beyond
        chart = classify_points(np.array(values, dtype=float), **FLAT, better="higher")
        assert not chart["two_of_three"].any(), values
    # two near points need a third to make three: a two-point chart has no window
    up, down = two_of_three(np.array([2.5, 2.5]), 2.0, -2.0)
    assert not up.any() and not down.any()


def test_points_beyond_the_limit_count_as_beyond_two_sigma():
    chart = classify_points(np.array([0, 3.5, 2.2, 0, 0]), **FLAT, better="higher")
    assert chart["outside"].tolist() == [False, True, False, False, False]
    assert chart["two_of_three"].tolist() == [False, True, True, False, False]


def test_the_latest_point_near_a_limit_names_the_rule():
    chart = xmr_chart(list("abcdefgh"), [10, 11, 10, 11, 10, 11, 10, 11.9])
    # mean 84.9/8 = 10.6125; moving ranges all 1 but the last (1.9): mean 7.9/7; limits ± 2.66 x 7.9/7
    assert chart["upper"].iloc[0] == pytest.approx(10.6125 + 2.66 * 7.9 / 7)
    near = 10.6125 + 2 / 3 * 2.66 * 7.9 / 7  # the two-sigma line, 12.6141: 11.9 is not beyond it
    assert near > 11.9 and not chart["two_of_three"].any() and latest_signal(chart) is None
    # limits from the first 8 (mean 10.5, moving range 1): upper 13.16, two-sigma line 12.2733
    chart = xmr_chart(range(11), [10, 11, 10, 11, 10, 11, 10, 11, 12.5, 11, 12.8], baseline=8)
    assert chart["upper"].iloc[0] == pytest.approx(13.16) and not chart["outside"].any()
    assert chart["near_upper"].iloc[0] == pytest.approx(10.5 + 2 / 3 * 2.66) and \
        chart["near_lower"].iloc[0] == pytest.approx(10.5 - 2 / 3 * 2.66)
    assert chart["two_of_three"].tolist() == [False] * 8 + [True, False, True]
    assert latest_signal(chart) == {"variation": IMPROVEMENT, "rules": "2 of 3 near a limit", "value": 12.8,
                                    "centre": pytest.approx(10.5), "period": 10}


def test_a_p_chart_judges_each_point_against_its_own_two_sigma_line():
    # by hand: p̄ = 225/450 = 0.5; n=100: σ = 0.05 (two-sigma line 0.6 / 0.4, limits 0.65 / 0.35);
    # n=25: σ = 0.1 (lines 0.7 / 0.3, limits 0.8 / 0.2)
    chart = p_chart(range(6), [50, 17, 62, 18, 41, 37], [100, 25, 100, 25, 100, 100])
    assert chart["centre"].iloc[0] == pytest.approx(0.5)
    assert chart["upper"].tolist() == pytest.approx([0.65, 0.8, 0.65, 0.8, 0.65, 0.65])
    # 0.68 of 25 is not near (its line is 0.7), though it would be against a month of 100's line;
    # 0.62 of 100 and 0.72 of 25 are: two of three, marked; 0.37 of 100 is near the lower line, alone
    assert chart["two_of_three"].tolist() == [False, False, True, True, False, False]
    assert chart["variation"].tolist() == [COMMON, COMMON, IMPROVEMENT, IMPROVEMENT, COMMON, COMMON]
    assert not chart[["outside", "shift", "trend"]].to_numpy().any()


def test_a_lower_limit_clipped_at_zero_does_not_pull_the_two_sigma_line_up():
    # p̄ = 5/100 = 0.05; n=20: σ = √(0.05·0.95/20) = 0.048734; the lower limit (0.05 − 0.146) is clipped
    # to 0, and the two-sigma line (0.05 − 0.097) is below 0: no month can be near it
    chart = p_chart(range(5), [0, 0, 2, 1, 2], [20] * 5)
    assert chart["lower"].tolist() == [0.0] * 5
    assert not chart["two_of_three"].any() and set(chart["variation"]) == {COMMON}
    # the limits alone (⅔ of the way to a clipped 0) would have called the two empty months near
    by_limits = classify_points(chart["value"], chart["centre"], chart["upper"], chart["lower"], "higher")
    assert by_limits["two_of_three"].tolist()[:2] == [True, True]


@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(1, 40))
def test_a_constant_series_never_signals(value, length):
    chart = xmr_chart(range(length), [value] * length)
    assert set(chart["variation"]) <= {COMMON}
    assert not chart[["outside", "shift", "trend", "two_of_three"]].to_numpy().any()


@given(st.floats(-1e3, 1e3, allow_nan=False), st.floats(1e-3, 1e3),
       st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=40))
def test_a_series_within_one_sigma_never_meets_rule_4(centre, sigma, offsets):
    values = np.array([centre + sigma * o for o in offsets])
    n = len(values)
    chart = classify_points(values, np.full(n, centre), np.full(n, centre + 3 * sigma), np.full(n, centre - 3 * sigma),
                            "higher")
    assert not chart["two_of_three"].any() and not chart["outside"].any()
