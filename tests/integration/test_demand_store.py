"""Kept scenarios in the store, on DuckDB and PostgreSQL: saved in one transaction with their data,
listed, opened with every table as it was, refused under a name already taken, replaced on request."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.db import get_engine
from carelens.demand.data import data_fingerprint
from carelens.demand.store import (delete_scenario, list_scenarios, load_scenario, load_stored_data, save_scenario,
                                   stored_datasets)
from carelens.errors import StoreError
from tests.integration.test_db_migrations import new_database  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    from carelens.demand import load_data, load_params
    from carelens.demand.params import adjust
    from carelens.demand.scenario import run_scenario
    from carelens.demand.synth import synthesise

    root = synthesise(tmp_path_factory.mktemp("store_trust") / "trust", spells=1_500, seed=8)
    params, data = load_params(root / "params.json"), load_data(root)
    base = run_scenario(params, data, name="Base", runs=4, points=2, created_by="planner")
    other = run_scenario(adjust(params, theatre_utilisation=0.7), data, name="Theatres 70%", runs=4, points=2)
    return data, base, other


def _same_tables(a, b) -> None:
    for name, frame in a.tables.items():
        got = b.tables[name][frame.columns]
        want = frame.reset_index(drop=True)
        text = [c for c in want.columns if not pd.api.types.is_numeric_dtype(want[c])]
        pd.testing.assert_frame_equal(got.astype({c: str for c in text}), want.astype({c: str for c in text}),
                                      check_dtype=False, obj=name)


def test_a_scenario_is_kept_with_its_data_and_opens_as_it_was(new_database, kept):  # noqa: F811
    data, base, other = kept
    url = new_database()
    run_id = save_scenario(base, url, data)
    save_scenario(other, url, data)  # the same data: kept once
    listed = list_scenarios(url)
    assert set(listed.name) == {"Theatres 70%", "Base"} and listed.created.is_monotonic_decreasing
    row = listed.set_index("name").loc["Base"]
    assert row.run_id == run_id and row.created_by == "planner" and row.has_data and row.can_open
    assert row.data_fingerprint == data_fingerprint(data) and row.runs == 4 and row.end_year == 2035
    opened = load_scenario(url, "Base")
    assert opened.params.raw == base.params.raw and opened.params.capacity == base.params.capacity
    assert opened.years == base.years and opened.created == base.created and opened.carelens_version
    _same_tables(base, opened)
    sets = stored_datasets(url)
    assert len(sets) == 1 and sets.fingerprint.iloc[0] == base.data_fingerprint
    again = load_stored_data(url, base.data_fingerprint)
    assert data_fingerprint(again) == base.data_fingerprint and again.fyear == data.fyear
    assert "stored data" in again.root  # named without any server path


def test_a_name_already_taken_is_refused_and_changes_nothing(new_database, kept):  # noqa: F811
    data, base, _ = kept
    url = new_database()
    save_scenario(base, url, data)
    with get_engine(url).connect() as conn:
        before = conn.execute(sa.text("select count(*) from demand_summary")).scalar()
    with pytest.raises(StoreError) as err:
        save_scenario(base, url, data)
    assert "'Base' is already stored" in str(err.value) and err.value.field == "name"
    with get_engine(url).connect() as conn:
        assert conn.execute(sa.text("select count(*) from demand_summary")).scalar() == before
    save_scenario(base, url, data, replace=True)
    assert list(list_scenarios(url).name) == ["Base"]
    with get_engine(url).connect() as conn:
        assert conn.execute(sa.text("select count(*) from demand_summary")).scalar() == before
    delete_scenario(url, "Base")
    assert list_scenarios(url).empty
    with pytest.raises(StoreError, match="no scenario named 'Base'"):
        load_scenario(url, "Base")


def test_a_failed_write_leaves_no_half_scenario(new_database, kept):  # noqa: F811
    data, base, _ = kept
    url = new_database()
    bad = dict(base.tables, run_totals=base.tables["run_totals"].assign(year="not a year"))
    from dataclasses import replace

    with pytest.raises(StoreError, match="could not write demand results"):
        save_scenario(replace(base, tables=bad), url, data)
    assert list_scenarios(url).empty and stored_datasets(url).empty
    with get_engine(url).connect() as conn:
        assert conn.execute(sa.text("select count(*) from demand_summary")).scalar() == 0
