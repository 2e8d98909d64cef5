"""Shared fixtures: where the shared data lives (tests using it skip cleanly when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CARELENS_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_file(*parts: str) -> Path:
    """Path to a file under ../shared/data, or skip the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not available: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("CARELENS_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CARELENS_TEST_POSTGRES_URL not set (.ci/run starts a server)")
    return url


@pytest.fixture
def postgres_schema_url(postgres_url):
    """A URL on a fresh PostgreSQL schema of its own (dropped afterwards), so tests do not see each other."""
    import uuid
    from urllib.parse import quote

    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pytest_collection_modifyitems(config, items) -> None:
    """Browser tests run one after another on one xdist worker (``--dist loadgroup``): each starts a
    server and a chromium, and two at once on a 2-core machine made their waits race the page."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
