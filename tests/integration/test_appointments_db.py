"""Appointments read from, and scores written back to, real databases (DuckDB; PostgreSQL if up)."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.appointments.io import read_appointments_source, write_scores_db
from carelens.appointments.synth import generate_appointments
from carelens.errors import StoreError, TableError


def _scores(ids, version, p=0.1):
    return pd.DataFrame(
        {
            "appointment_id": ids,
            "model_version": version,
            "dna_probability": p,
            "risk_band": "low",
            "reasons": "",
            "scored_at": pd.Timestamp("2024-01-01"),
        }
    )


def _round_trip(url: str, table: str) -> None:
    raw = generate_appointments(40, seed=2, future_days=10)
    engine = sa.create_engine(url)
    raw.to_sql(table + "_src", engine, index=False, if_exists="replace")
    frame, label = read_appointments_source(db_url=url, table=table + "_src")
    assert len(frame) == len(raw) and label == table + "_src"
    ids = raw["appointment_id"].tolist()[:30]
    assert write_scores_db(_scores(ids, "v1"), url, table) == 30
    write_scores_db(_scores(ids[:20], "v1", p=0.5), url, table)  # re-run replaces
    write_scores_db(_scores(ids[:5], "v2"), url, table)  # another version sits alongside
    with engine.connect() as conn:
        stored = pd.read_sql(sa.text(f"select * from {table}"), conn)
    assert len(stored) == 35
    assert stored.groupby(["appointment_id", "model_version"]).size().max() == 1
    v1 = stored[stored["model_version"] == "v1"].set_index("appointment_id")["dna_probability"]
    assert v1[ids[0]] == 0.5 and v1[ids[25]] == 0.1
    # A failing write (NULL probability) changes nothing: one transaction.
    bad = _scores(ids, "v1", p=0.9)
    bad.loc[29, "dna_probability"] = None
    with pytest.raises(StoreError, match="nothing was changed"):
        write_scores_db(bad, url, table)
    with engine.connect() as conn:
        again = pd.read_sql(sa.text(f"select * from {table}"), conn)
    assert len(again) == 35 and (again["dna_probability"] != 0.9).all()
    engine.dispose()


def test_duckdb_store_reads_appointments_and_upserts_scores(tmp_path):
    _round_trip(f"duckdb:///{tmp_path / 'store.duckdb'}", "dna_scores")


@pytest.mark.postgres
def test_postgres_reads_appointments_and_upserts_scores(postgres_url):
    _round_trip(postgres_url, f"dna_scores_{uuid.uuid4().hex[:8]}")


def test_missing_database_table_and_bad_names_are_clear_errors(tmp_path):
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    with pytest.raises(TableError, match="table not found"):
        read_appointments_source(db_url=url, table="nothing_here")
    with pytest.raises(TableError, match="invalid table name"):
        read_appointments_source(db_url=url, table="x; drop table y")
