"""``GET /api/appointments/scores``: published DNA scores read back through the API (DuckDB store)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from carelens.access import Role
from carelens.appointments.store import dna_models, dna_scores
from carelens.config import Settings
from carelens.db import get_engine
from carelens.db.bulk import upsert_frame
from carelens.web.api import create_api
from tests.access_helpers import api_key

HEADERS: dict[str, str] = {}  # the caller's key, made by the client fixture


def publish(engine, version: str, n: int, start: datetime, published_at: datetime) -> pd.DataFrame:
    frame = pd.DataFrame({
        "appointment_id": [f"{version}-{i:04d}" for i in range(n)],
        "model_version": version,
        "patient_id": [f"P{i % 7}" for i in range(n)],
        "appointment_datetime": [start + timedelta(hours=9 * i) for i in range(n)],
        "specialty": ["Cardiology", "Dermatology", None][0:1] * n,
        "site": "Main",
        "consultation_medium": "face to face",
        "dna_probability": [round(0.05 + 0.9 * i / n, 4) for i in range(n)],
        "risk_band": ["low" if i < n * 0.7 else "medium" if i < n * 0.9 else "high" for i in range(n)],
        "reasons": ["missed 2 of their last 5 appointments" if i % 2 else "" for i in range(n)],
        "scored_at": published_at,
        "attendance_status": pd.array([None] * n, dtype="Int16"),
    })
    with engine.begin() as conn:
        upsert_frame(conn, dna_models, pd.DataFrame([{"model_version": version, "card": "{}", "published_at": published_at}]))
        upsert_frame(conn, dna_scores, frame)
    return frame


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    store = tmp_path_factory.mktemp("api_scores") / "store.duckdb"
    settings = Settings(database_url=f"duckdb:///{store}")
    engine = get_engine(settings.database_url)
    # the call list's data: a key of the role that calls patients (a settings-file key is an admin's)
    HEADERS["X-API-Key"] = api_key(engine, "scores-reader", Role.CALLER)
    with TestClient(create_api(settings)) as c:
        yield c, engine


def test_nothing_published_yet_is_an_empty_page(client) -> None:
    c, _ = client
    body = c.get("/appointments/scores", headers=HEADERS).json()
    assert body == {"model_version": None, "total": 0, "offset": 0, "scores": []}


def test_scores_of_the_latest_model_by_appointment_time_with_filters_and_pages(client) -> None:
    c, engine = client
    publish(engine, "old0000000", 10, datetime(2025, 2, 3, 8), datetime(2025, 1, 1))
    new = publish(engine, "new0000000", 60, datetime(2025, 2, 3, 8), datetime(2025, 2, 1))
    body = c.get("/appointments/scores", headers=HEADERS).json()
    assert body["model_version"] == "new0000000" and body["total"] == 60
    first = body["scores"][0]
    assert set(first) == {"appointment_id", "appointment_datetime", "specialty", "site", "consultation_medium",
                          "dna_probability", "risk_band", "reasons", "model_version", "scored_at"}
    assert "patient_id" not in first  # no patient identifier through this route
    assert [s["appointment_id"] for s in body["scores"]] == new["appointment_id"].tolist()

    high = c.get("/appointments/scores", params={"band": ["high", "medium"]}, headers=HEADERS).json()
    assert high["total"] == int(new["risk_band"].isin(["high", "medium"]).sum())
    assert {s["risk_band"] for s in high["scores"]} == {"high", "medium"}

    day = c.get("/appointments/scores", params={"since": "2025-02-04", "until": "2025-02-04"}, headers=HEADERS).json()
    expected = new[new["appointment_datetime"].dt.date == pd.Timestamp("2025-02-04").date()]
    assert [s["appointment_id"] for s in day["scores"]] == expected["appointment_id"].tolist()

    page = c.get("/appointments/scores", params={"limit": 25, "offset": 50}, headers=HEADERS).json()
    assert page["total"] == 60 and page["offset"] == 50 and len(page["scores"]) == 10
    old = c.get("/appointments/scores", params={"model_version": "old0000000"}, headers=HEADERS).json()
    assert old["total"] == 10


def test_bad_queries_and_missing_keys_are_refused(client) -> None:
    c, _ = client
    assert c.get("/appointments/scores").status_code == 401
    for params in ({"band": "extreme"}, {"since": "03/02/2025"}, {"until": "0"}, {"limit": 0}, {"limit": 10_001},
                   {"offset": -1}):
        response = c.get("/appointments/scores", params=params, headers=HEADERS)
        assert response.status_code == 422, params
        assert response.json()["field"]
    assert "/appointments/scores" in c.get("/openapi.json", headers=HEADERS).json()["paths"]
