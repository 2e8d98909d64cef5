"""Every store table under Alembic, on DuckDB and PostgreSQL: what the migrations create is what the
capabilities declare, and a store left by release 0.1.0 upgrades in place keeping every row.

Each test gets fresh empty databases (DuckDB files in tmp, or PostgreSQL schemas dropped after).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from urllib.parse import quote

import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.db import get_engine, open_engine
from carelens.db.introspect import describe
from carelens.db.migrate import current_revision, head_revision, upgrade
from carelens.db.schema import load_all_tables
from carelens.errors import StoreError
from tests.integration.release_0_1_store import (
    FEEDBACK_TABLES,
    RELEASE_REVISION,
    migrate_like_release,
    write_demand_results,
)

# some of the tables revisions after release 0.1.0 add (0005: kept scenarios, their year-by-year totals and data)
ADDED_SINCE_RELEASE = {"demand_scenarios", "demand_run_totals", "demand_datasets", "demand_dataset_tables"}
DEMAND_TABLES = ["demand_scenario_runs", "demand_summary", "demand_summary_by_site", "demand_summary_by_age_sex",
                 "demand_summary_by_specialty", "demand_waterfall", "demand_avoided_activity", "demand_capacity",
                 "demand_capacity_totals", "demand_runs"]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request, tmp_path):
    """A maker of empty databases of one kind (URLs); everything made is dropped afterwards."""
    made: list[tuple[str, str | None]] = []

    def make() -> str:
        if request.param == "duckdb":
            url = f"duckdb:///{tmp_path / f'store_{len(made)}.duckdb'}"
            made.append((url, None))
            return url
        base = request.getfixturevalue("postgres_url")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
        made.append((url, schema))
        return url

    yield make
    for url, schema in made:
        get_engine(url, migrate=False).dispose()
        if schema:
            admin = sa.create_engine(request.getfixturevalue("postgres_url"))
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture(scope="module")
def projection(tmp_path_factory):
    """A small real projection and its result tables (what `carelens demand run --db` stores)."""
    from carelens.demand import load_data, load_params, run_model
    from carelens.demand.outputs import result_tables
    from carelens.demand.synth import synthesise

    root = synthesise(tmp_path_factory.mktemp("demand_trust"), spells=3_000, seed=3)
    result = run_model(load_params(root / "params.json"), load_data(root), runs=3, workers=1, seed=1, progress=False)
    return result, result_tables(result)


def _shape(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        return describe(conn)


def _rows(engine: sa.Engine, table: str, sql: str | None = None) -> list[tuple]:
    """A table's rows (or a query's) as a sorted list, numbers compared to 12 significant digits (so
    a figure stored as text by release 0.1.0 and the same figure as a double compare equal)."""
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(sql or f"SELECT * FROM {table}"), conn)
    frame = frame[sorted(frame.columns)]

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "NULL"
        if isinstance(value, (datetime, date, pd.Timestamp)):
            return pd.Timestamp(value).isoformat()
        try:
            return f"{float(value):.12g}"
        except (TypeError, ValueError):
            return str(value)

    return sorted(tuple(cell(v) for v in row) for row in frame.itertuples(index=False, name=None))


def _fill_release_store(engine: sa.Engine, projection) -> None:
    """Rows in every table release 0.1.0 had, written as it wrote them."""
    from carelens.appointments.store import dna_calls, dna_models, dna_scores

    uploads, comments, predictions, comment_topics, corrections = (FEEDBACK_TABLES[t] for t in (
        "uploads", "comments", "predictions", "comment_topics", "corrections"))

    now = datetime(2026, 11, 3, 9, 30)
    with engine.begin() as conn:
        conn.execute(uploads.insert(), [{"upload_id": "u1", "source": "export.csv", "loaded_at": now, "rows_read": 3,
                                         "rows_added": 3, "rows_skipped": 0, "model_version": "m1", "loaded_by": None}])
        conn.execute(comments.insert(), [
            {"comment_key": f"id:{i}", "comment_id": str(i), "upload_id": "u1", "date": date(2026, 10, i + 1),
             "comment_text": f"text {i}", "text_redacted": f"text {i}", "question": "Q", "fft_score": i + 1,
             "location_1": "Surgery", "location_2": None, "location_3": "Ward 1", "demographics": '{"Sex": "F"}'}
            for i in range(3)])
        conn.execute(predictions.insert(), [{"comment_key": f"id:{i}", "model_version": "m1", "sentiment": i + 1,
                                             "probabilities": "{}", "predicted_at": now} for i in range(3)])
        conn.execute(comment_topics.insert(), [{"comment_key": f"id:{i}", "model_version": "m1", "topic": t,
                                                "category": "General"} for i in range(2) for t in ("Parking", "Staff")])
        conn.execute(corrections.insert(), [{"correction_id": "c1", "comment_key": "id:0", "kind": "interesting",
                                             "topics": None, "sentiment": None, "note": None, "created_by": "pxlead",
                                             "created_at": now}])
        conn.execute(dna_models.insert(), [{"model_version": "v1", "card": "{}", "published_at": now}])
        conn.execute(dna_scores.insert(), [
            {"appointment_id": f"a{i}", "model_version": "v1", "patient_id": "p1", "appointment_datetime": now,
             "specialty": "Cardiology", "site": "Main", "consultation_medium": "Face to face",
             "dna_probability": 0.25 * i, "risk_band": "low", "reasons": "", "scored_at": now,
             "attendance_status": None} for i in range(2)])
        conn.execute(dna_calls.insert(), [{"call_id": "k1", "appointment_id": "a0", "patient_id": "p1", "called_at": now,
                                           "outcome": "no_answer", "note": "", "recorded_by": "caller"}])
    result, tables = projection
    # A first scenario without activity avoidance: to_sql made that table's figures text columns.
    empty_avoided = pd.DataFrame(columns=["activity", "strategy", "measure", "principal", "p10", "p50", "p90"])
    write_demand_results(engine, result, {**tables, "avoided_activity": empty_avoided})
    write_demand_results(engine, result, tables)


def _release_store(url: str, projection) -> sa.Engine:
    engine = open_engine(url)
    migrate_like_release(engine)
    _fill_release_store(engine, projection)
    assert current_revision(engine) == RELEASE_REVISION
    return engine


def _all_tables(engine: sa.Engine) -> list[str]:
    return sorted(t for t in _shape(engine) if t != "alembic_version")


def test_the_migrations_create_exactly_the_tables_the_capabilities_declare(new_database):
    migrated = get_engine(new_database())
    declared = open_engine(new_database())
    with declared.begin() as conn:
        load_all_tables().create_all(conn)
    want = _shape(declared)
    got = {k: v for k, v in _shape(migrated).items() if k != "alembic_version"}
    assert set(got) == set(want)
    for table in want:
        assert got[table] == want[table], f"{table}: migrated {got[table]} but declared {want[table]}"
    assert set(DEMAND_TABLES) <= set(got) and current_revision(migrated) == head_revision()
    declared.dispose()


# Revision 0006 split fb_comments into responses and comments and added columns to two tables.
CHANGED_BY_0006 = {"fb_comments": None, "fb_uploads": ["comments_added"], "fb_corrections": ["undone_at", "undone_by"]}
# fb_comments as release 0.1.0 had it, read back from the upgraded store
COMMENTS_AS_RELEASE = (
    "SELECT c.comment_key, r.response_id AS comment_id, c.upload_id, r.date, c.comment_text, c.text_redacted, "
    "c.question, r.fft_score, r.location_1, r.location_2, r.location_3, r.demographics "
    "FROM fb_comments c JOIN fb_responses r ON r.response_key = c.response_key")


def test_a_release_0_1_store_upgrades_in_place_keeping_every_row(new_database, projection):
    old = _release_store(new_database(), projection)
    tables = _all_tables(old)
    assert set(DEMAND_TABLES) <= set(tables)
    before = {t: _rows(old, t) for t in tables}
    assert all(before[t] for t in tables if t != "demand_avoided_activity") and len(before["demand_scenario_runs"]) == 2

    upgrade(old)

    assert current_revision(old) == head_revision()
    added = set(_all_tables(old)) - set(tables)  # every table kept; later revisions add new ones
    assert set(tables) <= set(_all_tables(old))
    assert ADDED_SINCE_RELEASE | {"fb_responses"} <= added
    for table in added - {"fb_responses"}:  # new and empty (fb_responses is filled: see below)
        assert _rows(old, table) == [], table
    for table in tables:
        if table not in CHANGED_BY_0006:
            assert _rows(old, table) == before[table], table
    # every comment of release 0.1.0 is now a response with that one comment, every value kept
    assert _rows(old, "fb_comments", COMMENTS_AS_RELEASE) == before["fb_comments"]
    with old.connect() as conn:
        responses = conn.execute(sa.text("SELECT count(*), count(DISTINCT response_key) FROM fb_responses")).one()
        keys = conn.execute(sa.text("SELECT count(*) FROM fb_comments WHERE response_key <> comment_key")).scalar()
    assert tuple(responses) == (len(before["fb_comments"]),) * 2 and keys == 0
    for table, added in CHANGED_BY_0006.items():  # the other tables: old columns as they were, new ones empty
        if added:
            kept = [c for c in _shape(old)[table].columns if c[0] not in added]
            sql = f"SELECT {', '.join(c[0] for c in kept)} FROM {table}"
            assert _rows(old, table, sql) == before[table], table
            assert _rows(old, table, f"SELECT {', '.join(added)} FROM {table}") == [("NULL",) * len(added)] * len(before[table])
    fresh = get_engine(new_database())
    assert _shape(old) == _shape(fresh)
    old.dispose()


def test_an_upgraded_store_shows_its_comments_and_loading_their_file_again_adds_nothing(new_database, projection):
    """What staff see after the upgrade: the same comments, flags and topics; and the export they
    loaded under release 0.1.0 (ID-keyed and ID-less rows) is recognised, not stored twice."""
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.model_cache import cached_model
    from carelens.feedback.store import CommentFilters, queries

    url = new_database()
    old = _release_store(url, projection)
    upgrade(old)
    old.dispose()
    engine = get_engine(url)
    page, total = queries.filtered_comments(engine)
    assert total == 3 and sorted(page["comment_key"]) == ["id:0", "id:1", "id:2"]
    flagged = queries.filtered_comments(engine, CommentFilters(flagged_only=True))[0]
    assert flagged["comment_key"].tolist() == ["id:0"] and list(flagged["topics"][0]) == ["Parking", "Staff"]
    assert queries.fft_totals(engine, suppress_below=0)["respondents"] == 3
    export = pd.DataFrame({"Comment ID": ["0", "1", "2"], "Date": ["01/10/2026", "02/10/2026", "03/10/2026"],
                           "FFT answer": ["text 0", "text 1", "text 2"], "FFT score": ["1", "2", "3"],
                           "Division": ["Surgery"] * 3, "Ward / team": ["Ward 1"] * 3, "FFT question": ["Q"] * 3})
    again = load_comments(export, engine=engine, model=cached_model(), progress=False)
    assert (again.rows_added, again.rows_already_stored, again.comments_added) == (0, 3, 0), again.summary()
    assert queries.filtered_comments(engine)[1] == 3


def test_an_upgraded_store_takes_new_projections(new_database, projection):
    from carelens.demand.store import write_to_store

    url = new_database()
    _release_store(url, projection).dispose()
    result, tables = projection
    run_id = write_to_store(result, url, tables)
    engine = get_engine(url)  # the store write_to_store migrated
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM demand_scenario_runs")).scalar()
        stored = conn.execute(sa.text("SELECT count(*) FROM demand_summary WHERE run_id = :r"), {"r": run_id}).scalar()
    assert runs == 3 and stored == len(tables["summary"])


def test_an_unknown_column_stops_the_upgrade_and_changes_nothing(new_database, projection):
    old = _release_store(new_database(), projection)
    with old.begin() as conn:
        conn.execute(sa.text("ALTER TABLE demand_summary ADD COLUMN planner_note TEXT"))
    before = _rows(old, "demand_summary")
    with pytest.raises(StoreError, match="planner_note"):
        upgrade(old)
    assert current_revision(old) == RELEASE_REVISION
    assert _rows(old, "demand_summary") == before
    old.dispose()


def test_going_back_to_release_0_1_and_upgrading_again_keeps_its_new_rows(new_database, projection):
    url = new_database()
    old = _release_store(url, projection)
    upgrade(old)
    upgrade_to = head_revision()
    from alembic import command

    from carelens.db.migrate import alembic_config

    command.downgrade(alembic_config(old), RELEASE_REVISION)
    result, tables = projection
    write_demand_results(old, result, tables)  # release 0.1.0 appends to the tables it finds
    before = {t: _rows(old, t) for t in DEMAND_TABLES}
    upgrade(old)
    assert current_revision(old) == upgrade_to
    assert {t: _rows(old, t) for t in DEMAND_TABLES} == before
    assert _shape(old) == _shape(get_engine(new_database()))
    old.dispose()


def test_an_upgraded_store_lists_its_old_runs_and_keeps_named_scenarios(new_database, projection, tmp_path):
    """Issue 15: a store with release 0.1.0's projections upgrades in place; they are listed (under a
    name made of their scenario and run id) beside scenarios kept since, which keep their data."""
    from carelens.demand import load_data, load_params
    from carelens.demand.scenario import run_scenario
    from carelens.demand.store import list_scenarios, load_scenario, load_stored_data, save_scenario
    from carelens.demand.synth import synthesise

    url = new_database()
    _release_store(url, projection).dispose()
    root = synthesise(tmp_path / "trust", spells=1_000, seed=3)
    data = load_data(root)
    kept = run_scenario(load_params(root / "params.json"), data, name="After the upgrade", runs=2, points=2)
    save_scenario(kept, url, data)
    listed = list_scenarios(url)
    assert len(listed) == 3
    old = listed[~listed.can_open]
    assert len(old) == 2 and old.name.str.startswith("synthetic (run ").all() and not old.has_data.any()
    new = listed[listed.can_open].iloc[0]
    assert new["name"] == "After the upgrade" and new.has_data
    assert load_scenario(url, "After the upgrade").tables["summary"].shape == kept.tables["summary"].shape
    assert load_stored_data(url, kept.data_fingerprint).fyear == 2023
    with pytest.raises(StoreError, match="stored without its params"):
        load_scenario(url, old.name.iloc[0])
    with get_engine(url).connect() as conn:  # the old runs' rows are untouched
        assert conn.execute(sa.text("SELECT count(*) FROM demand_scenario_runs")).scalar() == 3


def test_a_new_duckdb_store_opens_again_after_its_process_stopped_before_a_checkpoint(tmp_path):
    """A fresh store runs every revision in one transaction; if the process then stops without a
    checkpoint (a killed process), DuckDB replays its write-ahead log on the next open.
    DuckDB 2.0 cannot replay a rename of a table created in the same transaction, so no revision may
    rename one (0006 copies aside instead). carelens' own connections checkpoint as they are handed
    back, so the process here migrates on one connection with checkpoints turned off, then dies."""
    import subprocess
    import sys

    db = tmp_path / "fresh.duckdb"
    code = (
        "import os, sqlalchemy as sa; from carelens.db.migrate import upgrade; "
        "e = sa.create_engine('duckdb:///' + os.environ['STORE'], poolclass=sa.pool.StaticPool); "
        "c = e.connect(); c.exec_driver_sql('PRAGMA disable_checkpoint_on_shutdown'); "
        "c.exec_driver_sql(\"SET checkpoint_threshold = '10GB'\"); c.commit(); c.close(); "
        "upgrade(e); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**__import__("os").environ, "STORE": str(db)})
    assert db.with_name(db.name + ".wal").exists()  # the log was left to replay
    engine = get_engine(db, migrate=False)
    with engine.connect() as conn:  # opening it replays the log
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
        assert conn.exec_driver_sql("SELECT count(*) FROM fb_comments").scalar() == 0
    engine.dispose()
