"""Spellings merged across uploads (issue 12, item 4): two exports that spell a ward and an ethnicity
differently show one value everywhere once an alias says so, from the library and from the CLI;
removing the alias brings the spellings back; stored rows are never rewritten."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.cli.app import main
from carelens.db import get_engine
from carelens.errors import CarelensError
from carelens.feedback import comparison
from carelens.feedback.exports import comments_for_export
from carelens.feedback.ingest import load_comments
from carelens.feedback.model_cache import cached_model
from carelens.feedback.store import CommentFilters, queries
from carelens.feedback.store.aliases import add_aliases, field_key, list_aliases, remove_aliases
from carelens.feedback.store.demographics import respondents_by_demographic
from carelens.feedback.store.trends import Measure, measure_series

LEVELS = ("Division", "Directorate", "Ward / team")


def export(ward: str, ethnicity: str, prefix: str, n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({"Comment ID": [f"{prefix}{i}" for i in range(n)], "Date": ["01/03/2025"] * n,
                         "Ward": [ward] * n, "FFT score": ["1"] * n, "Ethnicity": [ethnicity] * n,
                         "Comments": [f"The nurses were kind and caring, visit {prefix}{i}" for i in range(n)]})


@pytest.fixture()
def engine(tmp_path):
    eng = get_engine(tmp_path / "store.duckdb")
    model = cached_model()
    mapping = {"location_3": "Ward", "demographics": ["Ethnicity"]}
    load_comments(export("Ward 10", "White British", "a"), engine=eng, model=model, progress=False, mapping=mapping)
    load_comments(export(" ward  10", "White - British", "b"), engine=eng, model=model, progress=False, mapping=mapping)
    load_comments(export("Wd10", "White British", "c"), engine=eng, model=model, progress=False, mapping=mapping)
    return eng


def test_an_alias_merges_spellings_in_every_view_and_can_be_removed(engine):
    assert queries.filter_options(engine)["location_3"] == ["Ward 10", "ward  10", "Wd10"]  # as stored
    assert add_aliases(engine, "location_3", ["ward 10", "WD10", "Ward 10"], "Ward 10", by="tester") == 2
    assert queries.filter_options(engine)["location_3"] == ["Ward 10"]
    _, total = queries.filtered_comments(engine, CommentFilters(location_3=["Ward 10"]))
    assert total == 36
    series = measure_series(engine, None, Measure("fft_good"), level=3, suppress_below=10)
    table = comparison.period_change(engine, None, Measure("fft_good"), level=3,
                                     current=comparison.Period(pd.Timestamp("2025-03-01").date(),
                                                               pd.Timestamp("2025-03-31").date()), suppress_below=10)
    assert table["place"].tolist() == ["Ward 10"] and table["respondents_now"].iloc[0] == 36
    assert series["place"].tolist() == ["Ward 10"]
    exported = comments_for_export(engine, CommentFilters(), LEVELS, 10)
    assert set(exported["Ward / team"]) == {"Ward 10"}
    # a demographic value too
    add_aliases(engine, "demo:Ethnicity", ["White - British"], "White British", by="tester")
    mix = respondents_by_demographic(engine, suppress_below=10)
    assert mix[["value", "respondents"]].values.tolist() == [["White British", 36]]
    listed = list_aliases(engine)
    assert len(listed) == 3 and set(listed["created_by"]) == {"tester"}
    # stored rows keep their spelling; removing the alias brings it back
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text("select location_3 from fb_responses")).scalars())
    assert "Wd10" in stored
    assert remove_aliases(engine, "location_3", ["wd10"]) == 1
    assert queries.filter_options(engine)["location_3"] == ["Ward 10", "Wd10"]


def test_an_alias_of_an_alias_follows_it(engine):
    add_aliases(engine, "location_3", ["Wd10"], "ward 10")
    add_aliases(engine, "location_3", ["ward 10"], "Ward 10")
    assert queries.filter_options(engine)["location_3"] == ["Ward 10"]


def test_fields_are_named_as_people_name_them():
    assert field_key("Ward / team", LEVELS, ["Ethnicity"]) == "location_3"
    assert field_key("division", LEVELS, []) == "location_1"
    assert field_key("ethnicity", LEVELS, ["Ethnicity"]) == "demo:Ethnicity"
    with pytest.raises(CarelensError, match="unknown field 'Floor'.*Division, Directorate, Ward / team, Ethnicity"):
        field_key("Floor", LEVELS, ["Ethnicity"])


def test_the_cli_adds_lists_and_removes_aliases(engine, capsys):
    db = str(engine.url.database)

    def run(*args: str) -> tuple[int, str]:
        code = main(["feedback", "alias", *args, "--db", db])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, out = run("add", "Ward / team", "ward 10", "Wd10", "--as", "Ward 10")
    assert code == 0 and "2 spellings of Ward / team now shown as 'Ward 10'" in out
    code, out = run("list")
    assert code == 0 and "location_3\twd10\t-> Ward 10\t(cli," in out
    assert queries.filter_options(engine)["location_3"] == ["Ward 10"]
    code, out = run("add", "Floor", "x", "--as", "y")
    assert code != 0 and "unknown field 'Floor'" in out and "Traceback" not in out
    code, out = run("remove", "ward / team", "WD10")
    assert code == 0 and "1 alias removed" in out
