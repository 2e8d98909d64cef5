"""The Trust mix page lists shares as census tables write them."""

from carelens.web.dashboard.pages.trust_mix import _percent


def test_shares_keep_a_decimal_where_one_is_needed_and_a_small_share_never_shows_as_nothing():
    assert [_percent(s) for s in (0.7, 0.125, 0.004, 1.0, 0.0)] == ["70%", "12.5%", "0.4%", "100%", "0%"]
