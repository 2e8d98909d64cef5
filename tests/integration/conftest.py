"""Fixtures shared by the integration tests."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from carelens.db import get_engine


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """A migrated store: a DuckDB file, or a fresh schema of the test PostgreSQL (dropped afterwards)."""
    if request.param == "duckdb":
        yield get_engine(tmp_path / "store.duckdb")
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    eng = get_engine(f"{base}{sep}options={quote(f'-csearch_path={schema}')}")
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
