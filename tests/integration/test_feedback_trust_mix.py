"""The trust's own demographic mix (issue 12, item 6) on DuckDB and PostgreSQL: loaded from a file
(library, CLI, API), read back beside the respondents' own mix on the "Who we hear from" figures,
matched through the stored spellings and aliases; a load replaces a field's mix at once, a failed
load changes nothing, only an admin may load, every load is in the audit log, and a suppressed
share cannot be worked out through the mix."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from carelens.access import Role, audit
from carelens.cli.app import main
from carelens.config import Settings
from carelens.errors import CarelensError, TableError
from carelens.feedback.ingest import load_comments
from carelens.feedback.model_cache import cached_model
from carelens.feedback.store import CommentFilters
from carelens.feedback.store.aliases import add_aliases
from carelens.feedback.store.demographics import respondents_by_demographic
from carelens.feedback.store.trust_mix import list_mix, remove_mix, replace_mix
from carelens.feedback.trust_mix import parse_mix, read_mix
from tests.access_helpers import api_key

# 40 respondents on two wards: 24 White British, 4 "White - British" (another export's spelling),
# 8 Asian or Asian British, 4 blank; Ward 2 has 4 White British, 4 "White - British" and 3 Asian or
# Asian British respondents
ETHNICITY = ["White British"] * 24 + ["White - British"] * 4 + ["Asian or Asian British"] * 8 + [""] * 4
WARDS = ["Ward 1"] * 20 + ["Ward 2"] * 8 + ["Ward 1"] * 5 + ["Ward 2"] * 3 + ["Ward 1"] * 4
CENSUS = ("field,value,share\nethnicity,White British,70%\nethnicity,white - british,6%\n"
          "Ethnicity,Asian or Asian British,18%\nEthnicity,Mixed,2%\nEthnicity,Not stated,4%\n")


@pytest.fixture()
def store(engine):
    n = len(ETHNICITY)
    frame = pd.DataFrame({"Comment ID": [f"r{i}" for i in range(n)], "Date": ["01/03/2025"] * n, "Ward": WARDS,
                          "FFT score": ["1"] * n, "Ethnicity": ETHNICITY,
                          "Comments": [f"The staff were kind, visit {i}" for i in range(n)]})
    load_comments(frame, engine=engine, model=cached_model(), progress=False,
                  mapping={"location_3": "Ward", "demographics": ["Ethnicity"]})
    return engine


def census(text: str = CENSUS):
    return parse_mix(pd.read_csv(io.StringIO(text), dtype="string"), "census.csv")


def rows_of(engine) -> list[tuple]:
    return sorted(tuple(r) for r in list_mix(engine)[["field", "value", "share", "source"]].itertuples(index=False))


def test_a_mix_round_trips_under_the_stored_field_name_and_a_reload_replaces_it(store):
    summary = replace_mix(store, census(), "ONS Census 2021, our catchment", who="tester")
    assert summary == [{"field": "Ethnicity", "values": 5, "scale": "percent", "replaced": 0}]
    assert rows_of(store) == sorted([
        ("Ethnicity", "White British", pytest.approx(0.70), "ONS Census 2021, our catchment"),
        ("Ethnicity", "white - british", pytest.approx(0.06), "ONS Census 2021, our catchment"),
        ("Ethnicity", "Asian or Asian British", pytest.approx(0.18), "ONS Census 2021, our catchment"),
        ("Ethnicity", "Mixed", pytest.approx(0.02), "ONS Census 2021, our catchment"),
        ("Ethnicity", "Not stated", pytest.approx(0.04), "ONS Census 2021, our catchment")])
    assert set(list_mix(store)["loaded_by"]) == {"tester"}
    replace_mix(store, census("field,value,share\nSex,Female,0.5\nSex,Male,0.5\n"), "Patient records 2024")
    # another field: loaded beside; the same field again, in another spelling: replaces it whole
    again = replace_mix(store, census("field,value,share\nETHNICITY,White British,0.8\nETHNICITY,Other,0.2\n"),
                        "Patient records 2024")
    assert again == [{"field": "Ethnicity", "values": 2, "scale": "fraction", "replaced": 5}]
    assert rows_of(store) == [("Ethnicity", "Other", pytest.approx(0.2), "Patient records 2024"),
                              ("Ethnicity", "White British", pytest.approx(0.8), "Patient records 2024"),
                              ("Sex", "Female", 0.5, "Patient records 2024"),
                              ("Sex", "Male", 0.5, "Patient records 2024")]
    assert remove_mix(store, "sex") == 2 and set(list_mix(store)["field"]) == {"Ethnicity"}


def test_a_mix_changes_the_revision_the_dashboard_polls_but_keeps_the_comments_in_memory(store):
    """The in-memory view of the comments holds no mix, so loading one must not make the next page
    view read every comment again (seconds at 1,000,000 comments), while the pages still redraw."""
    from carelens.feedback.store.view import poll_revision, store_view

    view, polled = store_view(store), poll_revision(store)
    replace_mix(store, census(), "ONS Census 2021")
    assert poll_revision(store) != polled  # the pages see the change and redraw
    assert store_view(store) is view and store_view(store).revision[8] == 5  # the view stays, its revision moves on
    assert respondents_by_demographic(store, suppress_below=3).attrs["mixes"][0]["source"] == "ONS Census 2021"
    remove_mix(store, "Ethnicity")
    assert store_view(store) is view and not respondents_by_demographic(store, suppress_below=3).attrs.get("mixes")


def test_a_load_that_fails_half_way_leaves_every_field_as_it_was(store, monkeypatch):
    replace_mix(store, census(), "ONS Census 2021")
    before = rows_of(store)

    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit, "record", broken)  # after the deletes and inserts, inside the transaction
    with pytest.raises(RuntimeError):
        replace_mix(store, census("field,value,share\nEthnicity,Other,1\nSex,Female,1\n"), "Later", who="tester")
    assert rows_of(store) == before
    with pytest.raises(CarelensError, match="say where the mix comes from"):
        replace_mix(store, census(), "  ")
    assert rows_of(store) == before


def test_the_page_s_figures_put_the_mix_beside_the_respondents_matched_through_spellings_and_aliases(store):
    replace_mix(store, census(), "ONS Census 2021")
    table = respondents_by_demographic(store, suppress_below=3).set_index("value")
    assert table.attrs["mixes"][0]["field"] == "Ethnicity" and table.attrs["mixes"][0]["source"] == "ONS Census 2021"
    # case and spaces aside, each mix value lands on the stored value; "Not stated" on the blank ones
    assert table.loc["White British", "mix_share"] == pytest.approx(0.70)
    assert table.loc["White - British", "mix_share"] == pytest.approx(0.06)
    assert table.loc["(not stated)", "mix_share"] == pytest.approx(0.04)
    assert table.loc["Asian or Asian British", "share"] == pytest.approx(8 / 40)
    assert table.loc["Asian or Asian British", "mix_difference"] == pytest.approx(8 / 40 - 0.18)
    # a value of the mix no respondent holds is listed: whose voice is missing
    mixed = table.loc["Mixed"]
    assert mixed["mix_share"] == pytest.approx(0.02) and mixed["suppressed"] and pd.isna(mixed["respondents"])
    assert pd.isna(mixed["trust_respondents"]) and pd.isna(mixed["mix_difference"])
    # an alias merging two spellings of the value merges their mix shares too
    add_aliases(store, "demo:Ethnicity", ["White - British"], "White British")
    merged = respondents_by_demographic(store, suppress_below=3).set_index("value")
    assert "White - British" not in merged.index
    assert merged.loc["White British", "respondents"] == 28
    assert merged.loc["White British", "mix_share"] == pytest.approx(0.76)


def test_a_suppressed_share_stays_hidden_beside_the_mix(store):
    replace_mix(store, census(), "ONS Census 2021")
    ward = respondents_by_demographic(store, CommentFilters(location_3=["Ward 2"]), suppress_below=4).set_index("value")
    asian = ward.loc["Asian or Asian British"]  # 3 respondents on Ward 2: fewer than 4
    assert asian["suppressed"] and pd.isna(asian["respondents"]) and pd.isna(asian["share"])
    assert pd.isna(asian["mix_difference"]) and asian["mix_share"] == pytest.approx(0.18)
    assert ward.loc["White - British", "respondents"] == 4 and ward.loc["White - British", "share"] == 4 / 11
    shown = ward[~ward["suppressed"]]
    assert len(shown) == 2
    assert (shown["mix_difference"] == shown["share"] - shown["mix_share"]).all()


def test_the_cli_loads_lists_and_removes_a_mix_recording_each_change(store, tmp_path, capsys):
    url = store.url.render_as_string(hide_password=False)
    path = tmp_path / "census.csv"
    path.write_text(CENSUS, encoding="utf-8")
    assert main(["feedback", "mix", "load", str(path), "--source", "ONS Census 2021", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "Ethnicity: 5 values (percent)" in out and "trust mix of 1 field loaded" in out
    assert main(["feedback", "mix", "list", "--db", url]) == 0
    assert "Asian or Asian British\t18.0%\tONS Census 2021" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("field,value,share\nEthnicity,Other,0.5\nEthnicity,White British,0.4\n", encoding="utf-8")
    before = rows_of(store)
    assert main(["feedback", "mix", "load", str(bad), "--source", "x", "--db", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"error: {bad}, field 'share': the shares of Ethnicity (rows 2-3) add up to 0.9: they must add "
                       "up to 1 (fractions) or 100 (percent), within 2%")
    assert rows_of(store) == before
    assert main(["feedback", "mix", "remove", "Ethnicity", "--db", url]) == 0
    assert list_mix(store).empty
    logged = audit.events(store)
    assert logged["action"].tolist()[:2] == ["mix_remove", "mix_load"]
    assert logged["actor"].str.startswith("cli:").all() and logged["target"].tolist()[1] == "ONS Census 2021"


def test_the_api_loads_the_mix_for_admins_only_and_answers_it_beside_the_demographics(store, tmp_path):
    from carelens.web.api import create_api

    url = store.url.render_as_string(hide_password=False)
    admin = {"X-API-Key": api_key(store, "mix-admin", Role.ADMIN)}
    lead = {"X-API-Key": api_key(store, "mix-lead", Role.FEEDBACK_LEAD)}
    settings = Settings(home=tmp_path, database_url=url, suppress_below=3)
    with TestClient(create_api(settings)) as client:
        send = {"file": ("census.csv", io.BytesIO(CENSUS.encode()), "text/csv")}
        r = client.post("/comparison/demographics/mix", files=send, data={"source": "ONS Census 2021"}, headers=lead)
        assert r.status_code == 403 and "manage aliases or the trust mix" in r.json()["detail"]
        assert list_mix(store).empty
        send = {"file": ("census.csv", io.BytesIO(CENSUS.encode()), "text/csv")}
        r = client.post("/comparison/demographics/mix", files=send, data={"source": "ONS Census 2021"}, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json() == {"source": "ONS Census 2021",
                            "fields": [{"field": "Ethnicity", "values": 5, "scale": "percent", "replaced": 0}]}
        bad = {"file": ("bad.csv", io.BytesIO(b"field,value,share\nEthnicity,Other,lots\n"), "text/csv")}
        r = client.post("/comparison/demographics/mix", files=bad, data={"source": "x"}, headers=admin)
        assert r.status_code == 400 and r.json()["detail"].startswith("bad.csv, row 2, field 'share'"), r.text
        assert len(list_mix(store)) == 5
        r = client.get("/comparison/demographics/mix", headers=lead)  # any reader sees the mix
        assert r.status_code == 200 and {row["value"] for row in r.json()["rows"]} >= {"Mixed", "White British"}
        r = client.post("/comparison/demographics", json={}, headers=lead)
        body = r.json()
        assert r.status_code == 200 and body["mixes"][0]["source"] == "ONS Census 2021"
        rows = {row["value"]: row for row in body["rows"]}
        assert rows["Asian or Asian British"]["mix_share"] == pytest.approx(0.18)
        assert rows["Mixed"]["respondents"] is None and rows["Mixed"]["mix_difference"] is None
    loads = audit.events(store, action="mix_load")
    assert loads["outcome"].tolist() == ["failed", "ok"] and loads["actor"].tolist() == ["key:mix-admin"] * 2


def test_read_mix_is_what_the_cli_reads(tmp_path):
    path = tmp_path / "census.csv"
    path.write_text(CENSUS, encoding="utf-8")
    assert read_mix(path).rows["value"].tolist() == census().rows["value"].tolist()
    with pytest.raises(TableError, match="file not found"):
        read_mix(tmp_path / "none.csv")

