"""WCAG 2.1 AA contrast of the dashboard's coloured text (issue 12: the "Negative" badge was white on
orange at 2.5:1): every sentiment badge, the no-sentiment badge and the Making Data Count words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carelens.feedback.spc import VARIATION
from carelens.web.dashboard.data import NO_SENTIMENT_COLOUR, SENTIMENT_COLOURS, SENTIMENT_TEXT, contrast_ratio
from carelens.web.dashboard.widgets import sentiment_badge

AA = 4.5


def test_the_contrast_ratio_matches_known_pairs():
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ed8b00") == pytest.approx(2.53, abs=0.01)  # the old Negative badge
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("score", range(1, 6))
def test_every_sentiment_badge_reads_at_aa(score):
    assert contrast_ratio(SENTIMENT_TEXT[score], SENTIMENT_COLOURS[score]) >= AA
    html = str(sentiment_badge(score))
    assert f"color:{SENTIMENT_TEXT[score]}" in html and f"background:{SENTIMENT_COLOURS[score]}" in html


def test_the_no_sentiment_badge_and_the_signal_words_read_at_aa():
    assert contrast_ratio("#ffffff", NO_SENTIMENT_COLOUR) >= AA
    css = (Path(__file__).parents[2] / "src/carelens/web/dashboard/www/carelens.css").read_text()
    assert re.search(r"\.badge\.sent-na \{ background: " + NO_SENTIMENT_COLOUR, css)
    for variation in VARIATION.values():
        assert contrast_ratio(variation.text_colour, "#ffffff") >= AA, variation.label
