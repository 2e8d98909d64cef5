"""Where is it getting worse? The comparison of places on a real store (issue 12, item 3): a ward
whose answers turn poor in the last month, built into the data, is found by its control chart, by
the signals table, by the period comparison and against the trust; the API and the board report
say the same; small cells stay suppressed per respondent."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from carelens.config import Settings, hash_api_key
from carelens.db import get_engine
from carelens.feedback import comparison
from carelens.feedback.exports import build_report
from carelens.feedback.ingest import load_comments
from carelens.feedback.model_cache import cached_model
from carelens.feedback.spc import COMMON, CONCERN
from carelens.feedback.store import CommentFilters
from carelens.feedback.store.trends import Measure, latest_periods, measure_series
from carelens.feedback.synth import generate_returns
from carelens.reports.render import render_html

WARD = "Ward 10"
LEVELS = ("Division", "Directorate", "Ward / team")
KEY = "compare-key"


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return generate_returns(4800, seed=11, months=12, worse={WARD: 11})


@pytest.fixture(scope="module")
def engine(tmp_path_factory, returns):
    eng = get_engine(tmp_path_factory.mktemp("compare") / "store.duckdb")
    load_comments(returns, engine=eng, model=cached_model(), progress=False)
    return eng


def latest_month(engine) -> comparison.Period:
    _, start, end = latest_periods(engine)[-1]
    return comparison.Period(start, end)


def test_fft_good_counts_each_respondent_once_per_place_and_month(engine, returns):
    series = measure_series(engine, None, Measure("fft_good"), level=3, suppress_below=0)
    rated = returns[returns["Overall, how was your experience of our service?"] != "Don't know"]
    assert int(series["denominator"].sum()) == len(rated)
    good = rated["Overall, how was your experience of our service?"].isin(["Very good", "Good"])
    assert int(series["numerator"].sum()) == int(good.sum())
    ward = series[series["place"] == WARD]
    assert ward["period"].tolist() == series.attrs["periods"]  # every month has someone on the ward
    assert ward["value"].iloc[-1] < 0.5 < ward["value"].iloc[:-1].min()


def test_the_ward_built_to_get_worse_is_a_concern_in_the_latest_month(engine):
    found = comparison.signals(engine, None, Measure("fft_good"), level=3, suppress_below=10)
    assert found["place"].iloc[0] == WARD and found["variation"].iloc[0] == CONCERN
    assert "outside the limits" in found["rules"].iloc[0]
    assert found["provisional"].iloc[0]  # 12 months: fewer than 15 points
    # chance alone flags few of the 15 others (3-sigma limits, runs of 7)
    assert (found["variation"] == CONCERN).sum() <= 3
    chart, trust = comparison.place_chart(engine, None, Measure("fft_good"), level=3, place=WARD, suppress_below=10)
    assert chart["variation"].iloc[-1] == CONCERN and (chart["variation"].iloc[:-1] == COMMON).all()
    assert chart["value"].iloc[-1] < chart["lower"].iloc[-1]
    assert len(trust) == 12 and not trust["suppressed"].any()


def test_every_ward_is_listed_on_request_and_sentiment_has_an_xmr_chart(engine):
    whole = comparison.signals(engine, None, Measure("fft_good"), level=3, suppress_below=10, include_common=True)
    assert len(whole) == 17 and (whole["variation"] == COMMON).sum() >= 13
    assert whole["place"].iloc[0] == WARD  # concerns first
    chart, _ = comparison.place_chart(engine, None, Measure("mean_sentiment"), level=3, place=WARD, suppress_below=10)
    moving = chart["value"].diff().abs().iloc[1:].mean()
    assert chart["upper"].iloc[0] == pytest.approx(chart["value"].mean() + 2.66 * moving)
    assert chart["value"].iloc[-1] > chart["centre"].iloc[-1]  # more negative comments on the ward
    # a division's chart: its wards together
    division, _ = comparison.place_chart(engine, None, Measure("fft_good"), level=1, place="Medicine", suppress_below=10)
    assert len(division) == 12 and division["denominator"].sum() > chart["respondents"].sum()


def test_this_month_against_last_names_the_ward_as_a_change_beyond_chance(engine):
    table = comparison.period_change(engine, None, Measure("fft_good"), level=3, current=latest_month(engine),
                                     suppress_below=10)
    ward = table.set_index("place").loc[WARD]
    assert ward["change"] < -0.3 and ward["significant"]
    assert table["significant"].sum() <= 3
    assert table.attrs["previous"].end == latest_month(engine).start - pd.Timedelta(days=1)
    worst = comparison.period_change(engine, None, Measure("fft_good"), level=3, current=latest_month(engine),
                                     suppress_below=10, worst_first=True)
    assert worst["place"].iloc[0] == WARD and sorted(worst["place"]) == sorted(table["place"])


def test_against_the_trust_the_ward_is_below_its_funnel(engine):
    table = comparison.compare_with_trust(engine, None, Measure("fft_good"), level=3, span=latest_month(engine),
                                          suppress_below=10)
    assert table.set_index("place").loc[WARD, "outside"] == "below"
    assert table["trust"].nunique() == 1


def test_small_places_and_months_are_suppressed_per_respondent(engine):
    series = measure_series(engine, None, Measure("topic_share", "Staff manner & personal attributes"), level=3,
                            suppress_below=30)
    small = series[series["suppressed"]]
    assert len(small) and small["value"].isna().all() and (small["respondents"] < 30).all()
    assert comparison.signals(engine, None, Measure("fft_good"), level=3, suppress_below=10_000).empty


def test_the_board_report_compares_periods_names_signals_and_the_ward_of_each_quote(engine):
    report = build_report(engine, CommentFilters(), LEVELS, suppress_below=10)
    assert "Whole trust" in set(report.comparison["place"])
    ward = report.comparison.set_index("place").loc[WARD]
    assert ward["significant"] and ward["change"] < 0
    assert WARD in set(report.signals["place"]) and report.signals["variation"].iloc[0] == CONCERN
    assert report.quotes["place"].str.len().gt(0).all()
    html = render_html(report)
    assert "This period against the one before" in html and "Statistical signals" in html
    assert f"<td>{WARD}</td>" in html and "Special cause: concern" in html
    assert all(f"<footer>{escape(place)} · " in html for place in report.quotes["place"])


def test_a_report_for_whole_months_says_so_in_words(engine):
    month = latest_month(engine)
    report = build_report(engine, CommentFilters(date_from=month.start, date_to=month.end), LEVELS, suppress_below=10)
    assert report.filters.startswith(f"1 to {month.end.day} {month.end:%B %Y}")
    assert month.name in report.comparison_title and month.previous().name in report.comparison_title


@pytest.fixture(scope="module")
def client(tmp_path_factory, engine):
    from carelens.web.api import create_api

    home = tmp_path_factory.mktemp("api")
    settings = Settings(home=home, database_url=str(engine.url), api_key_hashes=[hash_api_key(KEY)],
                        suppress_below=10)
    with TestClient(create_api(settings)) as c:
        yield c


def test_the_api_answers_signals_charts_and_changes(client):
    h = {"X-API-Key": KEY}
    r = client.post("/comparison/signals", json={"level": 3}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["place"] == WARD and r.json()["rows"][0]["variation"] == "concern"
    r = client.post("/comparison/chart", json={"level": 3, "place": WARD}, headers=h)
    body = r.json()
    assert r.status_code == 200 and len(body["points"]) == 12 and len(body["trust"]) == 12
    assert body["points"][-1]["variation"] == "concern" and body["points"][-1]["outside"]
    last = body["points"][-1]
    assert last["near_lower"] < last["centre"] < last["near_upper"]  # the two-sigma lines, unclipped
    r = client.post("/comparison/change", json={"level": 3, "measure": "fft_good"}, headers=h)
    rows = r.json()["rows"]
    assert r.status_code == 200 and rows[0]["place"] == WARD and rows[0]["significant"] and rows[0]["change"] < 0
    r = client.post("/comparison/signals", json={"measure": "topic_share"}, headers=h)
    assert r.status_code == 422 and "topic" in r.text
    r = client.post("/comparison/change", json={"current": {"first": "2025-11-30", "last": "2025-11-01"},
                                                "previous": {"first": "2025-01-01", "last": "2025-01-31"}}, headers=h)
    body = r.json()
    assert r.status_code == 200 and (body["current_from"], body["current_to"]) == ("2025-11-01", "2025-11-30")
    assert body["previous_from"] == "2025-01-01" and body["rows"]
    r = client.post("/comparison/change", json={"filters": {"location_3": ["No such ward"]}}, headers=h)
    assert r.status_code == 200 and r.json()["rows"] == [] and r.json()["current_from"] is None


def test_who_we_hear_from_counts_each_respondent_once_and_suppresses_small_values(engine, returns):
    from carelens.feedback.store.demographics import NOT_STATED, respondents_by_demographic

    table = respondents_by_demographic(engine, CommentFilters(location_3=[WARD]), suppress_below=10)
    assert set(table["field"]) == {"Age group", "Gender", "Ethnicity"}
    ward = returns[returns["Ward / team"] == WARD]
    gender = table[table["field"] == "Gender"].set_index("value")
    for value, count in ward["Gender"].value_counts().items():
        if count >= 10:
            assert gender.loc[value, "respondents"] == count and not gender.loc[value, "suppressed"]
            assert gender.loc[value, "share"] == pytest.approx(count / len(ward))
        else:
            assert gender.loc[value, "suppressed"] and pd.isna(gender.loc[value, "respondents"])
    assert gender["trust_respondents"].sum() == returns["Gender"].value_counts()[lambda c: c >= 10].sum()
    shares = table[table["field"] == "Ethnicity"].set_index("value")["trust_share"]
    assert shares.dropna().sum() <= 1 and NOT_STATED not in shares.index  # "Not stated" is a value in this data
    everyone = respondents_by_demographic(engine, None, suppress_below=0)
    assert everyone.groupby("field")["respondents"].sum().eq(len(returns)).all()


def test_the_api_answers_who_we_hear_from(client):
    r = client.post("/comparison/demographics", json={"filters": {"location_1": ["Medicine"]}},
                    headers={"X-API-Key": KEY})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert {row["field"] for row in rows} == {"Age group", "Gender", "Ethnicity"}
    assert all((row["respondents"] is None) == row["suppressed"] for row in rows)


@pytest.fixture(scope="module")
def near_engine(tmp_path_factory):
    """One ward, 40 respondents a month for 8 months: 26 answer "very good" in each of the first six,
    36 in the last two (by hand: p̄ = 228/320 = 0.7125, σ = √(0.7125·0.2875/40) = 0.07157, so the
    two-sigma line is 0.8556 and the upper limit 0.9272: 0.9 is near the limit, not past it)."""
    rows = []
    for month in range(1, 9):
        good = 36 if month > 6 else 26
        rows += [{"Comment ID": f"n{month}-{i}", "Date": f"15/{month:02d}/2025", "Ward": "Ward A",
                  "FFT score": "1" if i < good else "4", "Comments": f"The staff were kind, visit {month}-{i}"}
                 for i in range(40)]
    eng = get_engine(tmp_path_factory.mktemp("near") / "store.duckdb")
    load_comments(pd.DataFrame(rows), engine=eng, model=cached_model(), progress=False, mapping={"location_3": "Ward"})
    return eng


def test_two_months_near_the_limit_are_a_signal_in_the_table_the_api_and_the_board_report(near_engine, tmp_path):
    from carelens.web.api import create_api

    found = comparison.signals(near_engine, None, Measure("fft_good"), level=3, suppress_below=10)
    assert found[["place", "variation", "rules"]].values.tolist() == [["Ward A", "improvement", "2 of 3 near a limit"]]
    assert found["value"].iloc[0] == pytest.approx(0.9) and found["centre"].iloc[0] == pytest.approx(0.7125)
    chart, _ = comparison.place_chart(near_engine, None, Measure("fft_good"), level=3, place="Ward A", suppress_below=10)
    assert chart["two_of_three"].tolist() == [False] * 6 + [True, True] and not chart["outside"].any()
    report = build_report(near_engine, CommentFilters(), LEVELS, suppress_below=10)
    ward = report.signals[report.signals["place"] == "Ward A"]
    assert "2 of 3 near a limit" in set(ward["rules"]) and "2 of 3 near a limit" in render_html(report)
    settings = Settings(home=tmp_path, database_url=str(near_engine.url), api_key_hashes=[hash_api_key(KEY)],
                        suppress_below=10)
    with TestClient(create_api(settings)) as c:
        r = c.post("/comparison/chart", json={"level": 3, "place": "Ward A"}, headers={"X-API-Key": KEY})
        assert r.status_code == 200, r.text
        assert [p["two_of_three"] for p in r.json()["points"]] == [False] * 6 + [True, True]
        r = c.post("/comparison/signals", json={"level": 3}, headers={"X-API-Key": KEY})
        assert r.json()["rows"][0]["rules"] == "2 of 3 near a limit"
