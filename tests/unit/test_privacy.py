"""The small-number rule in one place: its threshold from settings, counts, cells and comment lists."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from carelens import privacy


def test_the_threshold_comes_from_settings_unless_given(monkeypatch, tmp_path):
    monkeypatch.setenv("CARELENS_HOME", str(tmp_path))
    monkeypatch.delenv("CARELENS_SUPPRESS_BELOW", raising=False)
    monkeypatch.delenv("CARELENS_CONFIG", raising=False)
    assert privacy.threshold() == privacy.DEFAULT_SUPPRESS_BELOW == 10
    monkeypatch.setenv("CARELENS_SUPPRESS_BELOW", "25")
    assert privacy.threshold() == 25 and privacy.count_suppressed(24) and not privacy.count_suppressed(25)
    assert privacy.threshold(5) == 5 and not privacy.count_suppressed(0, 0)  # 0: a figure that needs no protection


@given(total=st.integers(0, 60), below=st.integers(1, 50), by_demographics=st.booleans())
def test_the_count_rule_withholds_every_list_the_list_rule_does(total, below, by_demographics):
    listed = privacy.comment_list_withheld(total, below, picked_by_demographics=by_demographics)
    assert listed == (by_demographics and 0 < total < below)
    if listed:
        assert privacy.count_suppressed(total, below)
    assert privacy.count_suppressed(total, below) == (total < below)


def test_small_cells_lose_their_figures_and_are_marked():
    frame = pd.DataFrame({"topic": ["a", "b", "c"], "comments": [3, 10, 40], "share": [0.05, 0.19, 0.76]})
    out = privacy.suppress_small_cells(frame, "comments", ["comments", "share"], 10)
    assert out["suppressed"].tolist() == [True, False, False]
    assert out["comments"].isna().tolist() == [True, False, False] and out["share"].isna().tolist() == [True, False, False]
    assert out.loc[1, "comments"] == 10 and out.loc[2, "share"] == 0.76
