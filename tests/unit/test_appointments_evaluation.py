from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carelens.appointments.evaluation import (
    CostModel,
    expected_calibration_error,
    fairness_table,
    metrics,
    net_benefit,
    top_decile_share,
)


def test_ece_is_near_zero_for_outcomes_drawn_from_the_predicted_risk_and_large_when_off():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.4, 200_000)
    y = (rng.random(len(p)) < p).astype(float)
    assert expected_calibration_error(y, p) < 0.005
    assert expected_calibration_error(y, np.clip(p * 2, 0, 1)) > 0.1


def test_top_decile_share_counts_dnas_among_the_highest_risks():
    p = np.arange(100) / 100
    y = np.zeros(100)
    y[[95, 96, 10, 11]] = 1
    assert top_decile_share(y, p) == pytest.approx(0.5)


def test_net_benefit_of_reminding_everyone_follows_the_cost_model():
    y = np.array([1, 0, 0, 0], float)
    cost = CostModel(call_cost=5, slot_value=100, reminder_effect=0.5)
    nb = net_benefit(y, np.array([0.9, 0.05, 0.05, 0.05]), cost)
    assert nb["remind_everyone"] == pytest.approx((50 - 20) * 250)
    assert nb["remind_by_model_threshold"] == pytest.approx((50 - 5) * 250)
    assert nb["remind_no_one"] == 0


def test_fairness_table_reports_every_group_of_every_attribute():
    rng = np.random.default_rng(1)
    n = 2_000
    frame = pd.DataFrame(
        {
            "imd_decile": rng.integers(1, 11, n),
            "age": rng.integers(0, 95, n),
            "sex": rng.choice(["F", "M"], n),
            "ethnic_group": rng.choice(["White", "Asian", "Black"], n),
        }
    )
    p = rng.uniform(0, 0.3, n)
    y = (rng.random(n) < p).astype(float)
    table = fairness_table(frame, y, p)
    assert set(table["attribute"]) == {"IMD quintile", "age band", "sex", "ethnic group"}
    assert set(table.loc[table["attribute"] == "IMD quintile", "group"]) == {"Q1", "Q2", "Q3", "Q4", "Q5"}
    for _, part in table.groupby("attribute"):
        assert part["share_selected"].sum() == pytest.approx(1.0)
        assert part["share_of_dnas"].sum() == pytest.approx(1.0)
    assert metrics(y, p)["auroc"] > 0.55


def test_bootstrap_intervals_hold_the_estimate_and_narrow_with_more_patients():
    from carelens.appointments.evaluation import bootstrap_intervals

    rng = np.random.default_rng(3)

    def draw(n):
        p = rng.uniform(0.02, 0.4, n)
        y = (rng.random(n) < p).astype(float)
        return y, p, rng.integers(0, n // 3, n)

    small, large = draw(1_500), draw(30_000)
    ci_small = bootstrap_intervals(*small, draws=100)
    ci_large = bootstrap_intervals(*large, draws=100)
    lo, hi = ci_large["auroc_ci95"]
    assert lo < metrics(large[0], large[1])["auroc"] < hi
    assert (hi - lo) < 0.5 * (ci_small["auroc_ci95"][1] - ci_small["auroc_ci95"][0])
    assert 0 <= ci_large["ece_ci95"][0] <= ci_large["ece_ci95"][1] < 0.02
