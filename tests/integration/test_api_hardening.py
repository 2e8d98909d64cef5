"""The API under bad input and load (issue 17 items 10-11, issue 16's key on the docs): no 500, no
traceback or server path in an error, one line naming the field, concurrent loads counted right."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from carelens.config import Settings, hash_api_key
from carelens.feedback.synth import generate_comments
from tests.integration.api_server import serve_api

KEY = "hardening-key"
H = {"X-API-Key": KEY}
JSON = {**H, "Content-Type": "application/json"}


def strict_json(text: str):
    """The body as strict JSON: NaN or Infinity (which Python's json would take) fail the test."""
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    home = tmp_path_factory.mktemp("hardening")
    return Settings(home=home, database_url=f"duckdb:///{home / 'hard.duckdb'}", api_key_hashes=[hash_api_key(KEY)],
                    max_batch=50, max_request_bytes=300_000)


@pytest.fixture(scope="module")
def client(settings):
    from carelens.web.api import create_api

    with TestClient(create_api(settings), raise_server_exceptions=False) as c:
        csv = generate_comments(120, seed=8).to_csv(index=False).encode()
        r = c.post("/comments/upload", files={"file": ("export.csv", io.BytesIO(csv), "text/csv")}, headers=H)
        assert r.status_code == 200, r.text
        yield c


def assert_422_naming(r: httpx.Response, field: str) -> dict:
    body = strict_json(r.text)
    assert r.status_code == 422, r.text
    assert isinstance(body["detail"], list) and all({"loc", "msg", "type"} <= set(d) for d in body["detail"])
    assert body["field"] == field and body["message"].startswith(f"field '{field}'"), body
    return body


# --------------------------------------------------------------------------- numbers and text
@pytest.mark.parametrize("score", [b"1e400", b"-1e400", b"NaN", b"Infinity", b"4.5", b'"3"', b"true"])
def test_a_non_integer_fft_score_is_a_422_that_serialises(client, score):
    r = client.post("/classify", content=b'[{"comment_id": "1", "comment_text": "ok", "fft_score": ' + score + b"}]",
                    headers=JSON)
    assert_422_naming(r, "[0].fft_score")


def test_an_integral_number_is_an_integer_as_json_schema_says(client):
    r = client.post("/classify", json=[{"comment_id": "1", "comment_text": "Lovely staff", "fft_score": 1.0}], headers=H)
    assert r.status_code == 200 and r.json()[0]["comment_id"] == "1"


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400", "Infinity"])
def test_an_fft_score_of_inf_in_json_rows_is_a_row_problem_not_a_500(client, value):
    rows = [{"Comment ID": f"inf-{value}", "Comment": "Kind nurses", "FFT score": value}]
    r = client.post("/comments", json={"rows": rows}, headers=H)
    body = strict_json(r.text)
    assert r.status_code == 200 and body["rows_with_problems"] == 1
    assert "row 2, field 'FFT score'" in body["messages"][0]


def test_an_fft_score_of_inf_in_an_upload_is_a_row_problem_not_a_500(client):
    csv = b"Comment ID,Comment,FFT score\nu-1,Kind nurses,inf\nu-2,Cold food,1e400\nu-3,Clean ward,1\n"
    r = client.post("/comments/upload", files={"file": ("scores.csv", io.BytesIO(csv), "text/csv")}, headers=H)
    body = strict_json(r.text)
    assert r.status_code == 200 and body["rows_with_problems"] == 2 and body["rows_read"] == 3
    assert any("row 3, field 'FFT score'" in m for m in body["messages"])


def test_a_wrongly_typed_mapping_is_a_422_naming_the_field(client):
    rows = [{"Comment": "Kind nurses"}]
    assert_422_naming(client.post("/comments", json={"rows": rows, "mapping": {"demographics": 5}}, headers=H),
                      "mapping.demographics")
    assert_422_naming(client.post("/comments", json={"rows": rows, "mapping": {"colour": "x"}}, headers=H),
                      "mapping.colour")
    csv = io.BytesIO(b"Comment\nKind nurses\n")
    r = client.post("/comments/upload", files={"file": ("a.csv", csv, "text/csv")}, data={"mapping": '{"demographics": 5}'},
                    headers=H)
    assert_422_naming(r, "mapping.demographics")


@pytest.mark.parametrize("path, body, field", [
    ("/classify", '[{"comment_id": "1", "comment_text": "bad \\ud800 text"}]', "[0].comment_text"),
    ("/classify", '[{"comment_id": "\\udfff", "comment_text": "x"}]', "[0].comment_id"),
    ("/comments", '{"rows": [{"Comment": "a \\ud800"}]}', "rows[0].Comment"),
    ("/comments/query", '{"filters": {"search": "\\ud800"}}', "filters.search"),
    ("/comments/query", '{"filters": {"demographics": {"Sex\\ud800": ["F"]}}}', "filters.demographics.(key)"),
])
def test_a_lone_surrogate_is_a_422_naming_the_field(client, path, body, field):
    assert_422_naming(client.post(path, content=body.encode(), headers=JSON), field)


def test_a_lone_surrogate_in_raw_bytes_is_refused_too(client):
    body = '[{"comment_id": "1", "comment_text": "x\ud800"}]'.encode("utf-8", "surrogatepass")
    assert_422_naming(client.post("/classify", content=body, headers=JSON), "[0].comment_text")


def test_a_lone_surrogate_in_the_upload_mapping_is_a_422(client):
    csv = io.BytesIO(b"Comment\nKind nurses\n")
    r = client.post("/comments/upload", files={"file": ("a.csv", csv, "text/csv")},
                    data={"mapping": '{"comment_text": "Comment\\ud800"}'}, headers=H)
    assert_422_naming(r, "mapping.comment_text")


def test_strings_where_numbers_or_booleans_belong_are_refused(client):
    assert_422_naming(client.post("/comments/query", json={"limit": "5"}, headers=H), "limit")
    assert_422_naming(client.post("/comments/query", json={"filters": {"flagged_only": "true"}}, headers=H),
                      "filters.flagged_only")
    assert_422_naming(client.post("/comments/query", json={"filters": {"date_from": "0"}}, headers=H), "filters.date_from")
    assert client.post("/comments/query", json={"filters": {"date_from": "2024-01-01"}}, headers=H).status_code == 200


# --------------------------------------------------------------------------- search bounds
def test_a_search_is_bounded_in_words_and_characters(client):
    ten = " ".join(f"word{i}" for i in range(10))
    assert client.post("/comments/query", json={"filters": {"search": ten}}, headers=H).status_code == 200
    body = assert_422_naming(client.post("/comments/query", json={"filters": {"search": ten + " more"}}, headers=H),
                             "filters.search")
    assert "at most 10 words" in body["message"]
    body = assert_422_naming(client.post("/summaries/topics", json={"filters": {"search": "a,b,c,d,e,f,g,h,i,j,k"}},
                                         headers=H), "filters.search")
    assert_422_naming(client.post("/comments/query", json={"filters": {"search": "x" * 201}}, headers=H), "filters.search")
    spec = client.get("/openapi.json", headers=H).json()["components"]["schemas"]["FiltersIn"]["properties"]["search"]
    assert spec["maxLength"] == 200 and "{0,9}" in spec["pattern"]


# --------------------------------------------------------------------------- loads at once
def test_sixteen_loads_of_the_same_rows_at_once_store_each_comment_once(tmp_path):
    home = tmp_path
    settings = Settings(home=home, database_url=f"duckdb:///{home / 'c.duckdb'}", api_key_hashes=[hash_api_key(KEY)])
    rows = generate_comments(40, seed=12).astype(str).to_dict("records")
    with serve_api(settings) as url:
        httpx.post(f"{url}/classify", json=[{"comment_id": "w", "comment_text": "warm the model"}], headers=H, timeout=120)

        def load(i: int) -> httpx.Response:
            return httpx.post(f"{url}/comments", json={"rows": rows, "source": f"client {i}"}, headers=H, timeout=120)

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(load, range(16)))
        assert [r.status_code for r in answers] == [200] * 16, [r.text[:200] for r in answers if r.status_code != 200]
        bodies = [r.json() for r in answers]
        assert sum(b["rows_added"] for b in bodies) == 40
        assert all(b["rows_added"] + b["rows_already_stored"] == 40 for b in bodies)
        totals = httpx.post(f"{url}/summaries/totals", json={}, headers=H).json()["rows"][0]
        assert totals["comments"] == 40


@pytest.mark.postgres
def test_concurrent_loads_on_postgresql_store_each_comment_once(postgres_schema_url):
    from carelens.db import get_engine
    from carelens.feedback.ingest import load_comments

    engine = get_engine(postgres_schema_url)
    try:
        frame = generate_comments(30, seed=13)
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: load_comments(frame, engine=engine, source=f"t{i}", progress=False), range(8)))
        assert sum(r.rows_added for r in results) == 30
        assert all(r.rows_added + r.rows_already_stored == 30 for r in results)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- what errors say
@pytest.mark.parametrize("name, content", [("broken.parquet", b"not parquet"), ("broken.xlsx", b"not a zip"),
                                           ("empty.csv", b"")])
def test_upload_errors_name_the_file_sent_never_a_server_path(client, name, content):
    r = client.post("/comments/upload", files={"file": (name, io.BytesIO(content), "application/octet-stream")}, headers=H)
    body = strict_json(r.text)
    assert r.status_code == 400 and name in body["detail"]
    assert tempfile.gettempdir() not in r.text and "upload." not in r.text and "Traceback" not in r.text


def test_an_unexpected_error_is_a_500_without_trace_or_path(client, monkeypatch):
    from carelens.feedback.store import queries

    def broken(engine):
        raise RuntimeError(f"boom in {tempfile.gettempdir()}/secret/place.py")

    monkeypatch.setattr(queries, "filter_options", broken)
    r = client.get("/filters", headers=H)
    assert r.status_code == 500 and strict_json(r.text)["detail"].startswith("internal error")
    assert "secret" not in r.text and "Traceback" not in r.text and tempfile.gettempdir() not in r.text


def test_a_user_error_quoting_a_server_path_shows_only_its_last_part(tmp_path):
    from carelens.web.api import create_api

    missing = tmp_path / "models" / "not-there"
    settings = Settings(home=tmp_path, database_url=f"duckdb:///{tmp_path / 'm.duckdb'}", api_key_hashes=[hash_api_key(KEY)],
                        feedback_model=str(missing))
    with TestClient(create_api(settings), raise_server_exceptions=False) as c:
        r = c.post("/classify", json=[{"comment_id": "1", "comment_text": "ok"}], headers=H)
    assert r.status_code == 400 and "not-there" in r.json()["detail"] and str(tmp_path) not in r.text


def test_every_route_declares_its_refusals(client):
    spec = client.get("/openapi.json", headers=H).json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert "413" in codes, (method, path)
            if path != "/health":
                assert {"401", "400"} <= codes, (method, path)
            if "requestBody" in operation:
                assert "422" in codes and operation["responses"]["422"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ValidationErrorBody"}, (method, path)


def test_a_405_lists_every_method_of_the_path(client):
    r = client.request("PUT", "/corrections", headers=H)
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET", "POST"}


# --------------------------------------------------------------------------- who did what
def test_a_correction_is_recorded_as_the_calling_key_and_cannot_name_another(client):
    key = client.post("/comments/query", json={"limit": 1}, headers=H).json()["comments"][0]["comment_key"]
    r = client.post("/corrections", json={"comment_key": key, "kind": "interesting", "created_by": "someone else"}, headers=H)
    assert_422_naming(r, "interesting.created_by")
    r = client.post("/corrections", json={"comment_key": key, "kind": "interesting", "note": "a good example"}, headers=H)
    assert r.status_code == 201
    listed = client.get("/corrections", headers=H).json()
    mine = [c for c in listed if c["correction_id"] == r.json()["correction_id"]]
    assert mine[0]["created_by"] == "api:" + hashlib.sha256(KEY.encode()).hexdigest()[:12]
    assert mine[0]["created_at"].endswith("Z")


def test_a_correction_of_an_unknown_comment_is_a_404_and_a_topic_correction_needs_topics(client):
    r = client.post("/corrections", json={"comment_key": "id:nope", "kind": "interesting"}, headers=H)
    assert r.status_code == 404 and strict_json(r.text)["field"] == "comment_key"
    key = client.post("/comments/query", json={"limit": 1}, headers=H).json()["comments"][0]["comment_key"]
    assert_422_naming(client.post("/corrections", json={"comment_key": key, "kind": "wrong_topics", "topics": []}, headers=H),
                      "wrong_topics.topics")
    topics = client.get("/openapi.json", headers=H).json()["components"]["schemas"]["TopicCorrectionIn"]["properties"]["topics"]
    assert "Parking" in topics["items"]["enum"]


def test_the_complex_list_is_withheld_like_the_comment_list_under_a_small_demographic_filter(client):
    options = client.get("/filters", headers=H).json()
    field, values = next(iter(options["demographics"].items()))
    for value in values:
        filters = {"demographics": {field: [value]}, "location_1": [options["location_1"][0]]}
        listed = client.post("/comments/query", json={"filters": filters}, headers=H).json()
        if listed["withheld"]:
            complex_ = client.post("/summaries/complex", json={"filters": filters}, headers=H).json()
            assert complex_["rows"] == [] or complex_["withheld"] is True
            return
    pytest.skip("no small demographic selection in the test data")


# --------------------------------------------------------------------------- the document and the docs
def test_the_openapi_document_needs_a_key_and_the_docs_pages_hold_nothing_without_one(client):
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers={"X-API-Key": "wrong"}).status_code == 401
    for page in ("/docs", "/redoc"):
        text = client.get(page).text
        assert "/comments/query" not in text and "X-API-Key" in text  # a shell that asks for the key
    assert "/comments/query" in client.get("/openapi.json", headers=H).json()["paths"]


def test_mounted_under_api_the_document_points_requests_there(settings):
    with serve_api(settings) as url:
        document = httpx.get(f"{url}/openapi.json", headers=H).json()
        assert document["servers"] == [{"url": "/api"}]
        assert 'data-openapi="/api/openapi.json"' in httpx.get(f"{url}/docs").text


# --------------------------------------------------------------------------- start-up
def test_an_api_that_cannot_be_imported_stops_start_up_with_the_reason(settings, monkeypatch):
    from carelens.errors import CarelensError
    from carelens.web.app import create_app

    monkeypatch.setitem(sys.modules, "fastapi_offline", None)  # as if the package were missing
    with pytest.raises(CarelensError, match="REST API cannot be loaded.*fastapi_offline"):
        create_app(settings)
