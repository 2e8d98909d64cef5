"""The REST API through an HTTP client: auth, classify, load, query, summaries, corrections, bad input."""

from __future__ import annotations

import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from carelens.config import Settings, hash_api_key
from carelens.feedback.synth import generate_comments

KEY = "test-key-123"
H = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from carelens.web.api import create_api

    home = tmp_path_factory.mktemp("api")
    settings = Settings(home=home, database_url=f"duckdb:///{home / 'api.duckdb'}", api_key_hashes=[hash_api_key(KEY)],
                        max_batch=50, max_request_bytes=200_000)
    with TestClient(create_api(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def loaded(client):
    csv = generate_comments(150, seed=5).to_csv(index=False).encode()
    r = client.post("/comments/upload", files={"file": ("export.csv", io.BytesIO(csv), "text/csv")}, headers=H)
    assert r.status_code == 200, r.text
    return r.json()


def test_health_needs_no_key(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}])
def test_every_other_route_refuses_a_missing_or_wrong_key(client, headers):
    r = client.post("/classify", json=[{"comment_id": "1", "comment_text": "x"}], headers=headers)
    assert r.status_code == 401
    assert client.get("/filters", headers=headers).status_code == 401


def test_classify_returns_one_result_per_comment_in_order(client):
    items = [{"comment_id": "b", "comment_text": "The nurses were kind and caring"},
             {"comment_id": "a", "comment_text": "Did not answer", "question_type": "What was good?"},
             {"comment_id": "c", "comment_text": "I waited over four hours to be seen", "fft_score": 5}]
    r = client.post("/classify", json=items, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 200
    out = r.json()
    assert [o["comment_id"] for o in out] == ["b", "a", "c"]
    assert out[1]["topics"] == ["Labelling not possible"] and out[1]["sentiment"] is None
    assert "Staff manner & personal attributes" in out[0]["topics"] and out[0]["sentiment"] in (1, 2)
    assert "Timeliness of care" in out[2]["topics"] and out[2]["sentiment"] >= 4
    assert all(0 <= p <= 1 for p in out[0]["probabilities"].values())


def test_bad_classify_input_gets_a_4xx_naming_the_field(client):
    r = client.post("/classify", json=[{"comment_id": "1"}], headers=H)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "comment_text"
    r = client.post("/classify", json=[{"comment_id": "1", "comment_text": "x", "fft_score": 9}], headers=H)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "fft_score"
    r = client.post("/classify", json=[{"comment_id": str(i), "comment_text": "x"} for i in range(51)], headers=H)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    r = client.post("/classify", content=b"x" * 300_000, headers={**H, "Content-Type": "application/json"})
    assert r.status_code == 413

    def chunked():  # no Content-Length: the bytes received are counted
        for _ in range(30):
            yield b"x" * 10_000

    r = client.post("/classify", content=chunked(), headers={**H, "Content-Type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_upload_loads_once_and_a_second_upload_adds_nothing(client, loaded):
    assert loaded["rows_added"] == 150 and loaded["mapping"]["comment_text"] == "FFT answer"
    csv = generate_comments(150, seed=5).to_csv(index=False).encode()
    r = client.post("/comments/upload", files={"file": ("export.csv", io.BytesIO(csv), "text/csv")}, headers=H)
    assert r.json()["rows_added"] == 0 and r.json()["rows_already_stored"] == 150


def test_json_rows_load_with_a_mapping_and_row_messages(client, loaded):
    rows = [{"id": "j1", "says": "Lovely food", "score": "1"}, {"id": "j2", "says": "Cold food", "score": "11"}]
    r = client.post("/comments", json={"rows": rows, "mapping": {"comment_id": "id", "comment_text": "says", "fft_score": "score"}}, headers=H)
    body = r.json()
    assert r.status_code == 200 and body["rows_added"] == 2 and body["rows_with_problems"] == 1
    assert "row 3, field 'score'" in body["messages"][0]
    r = client.post("/comments", json={"rows": rows, "mapping": {"comment_text": "nope"}}, headers=H)
    assert r.status_code == 400 and r.json()["field"] == "nope"


def test_upload_of_an_unsupported_file_type_is_refused(client):
    r = client.post("/comments/upload", files={"file": ("notes.pdf", io.BytesIO(b"%PDF"), "application/pdf")}, headers=H)
    assert r.status_code == 415 and "file" in r.json()["detail"]
    r = client.post("/comments/upload", files={"file": ("a.csv", io.BytesIO(b"a\n1\n"), "text/csv")}, data={"mapping": "[1]"}, headers=H)
    # a 422's detail is always FastAPI's list (it was a string here); the field is named as in every 422
    assert r.status_code == 422 and r.json()["field"] == "mapping" and r.json()["detail"][0]["loc"] == ["body", "mapping"]


def test_query_uses_the_dashboard_filters_and_pages(client, loaded):
    r = client.post("/comments/query", json={"filters": {"location_1": ["Surgery"], "sentiment": [4, 5]}, "limit": 5}, headers=H)
    body = r.json()
    assert r.status_code == 200 and body["total"] >= len(body["comments"])
    assert all(c["location_1"] == "Surgery" and c["sentiment"] in (4, 5) for c in body["comments"])
    assert set(body["comments"][0]["demographics"]) == {"Age band", "Sex", "Ethnicity"}
    r = client.post("/comments/query", json={"filters": {"fft_score": [0]}}, headers=H)
    assert r.status_code == 422 and "fft_score" in json.dumps(r.json())
    r = client.post("/comments/query", json={"filters": {"colour": ["red"]}}, headers=H)
    assert r.status_code == 422 and "colour" in json.dumps(r.json())


@pytest.mark.parametrize("kind", ["totals", "topics", "categories-by-month", "sentiment-by-month", "fft-by-month", "cooccurrence", "complex"])
def test_every_summary_answers_with_suppression_marked(client, loaded, kind):
    r = client.post(f"/summaries/{kind}", json={"filters": {}}, headers=H)
    assert r.status_code == 200 and r.json()["suppress_below"] == 10
    rows = r.json()["rows"]
    if kind not in ("complex",):
        # 150 comments over a year: no month holds 10 of one category, no two topics meet in 10 comments,
        # and such rows are not returned at all (issue 16: no label of a suppressed cell)
        assert (rows or kind in ("categories-by-month", "cooccurrence")) and all("suppressed" in row for row in rows)
        assert all(row.get("comments") is None for row in rows if row["suppressed"] and "comments" in row)


def test_unknown_summary_is_a_404_or_422(client):
    assert client.post("/summaries/colours", json={}, headers=H).status_code in (404, 422)


def test_flags_and_corrections_are_recorded_and_listed(client, loaded):
    key = client.post("/comments/query", json={"limit": 1}, headers=H).json()["comments"][0]["comment_key"]
    r = client.post("/corrections", json={"comment_key": key, "kind": "wrong_topics", "topics": ["Parking"]}, headers=H)
    assert r.status_code == 201
    r = client.post("/corrections", json={"comment_key": key, "kind": "wrong_topics", "topics": ["Car parks"]}, headers=H)
    assert r.status_code == 400 and r.json()["field"] == "topics"
    r = client.post("/corrections", json={"comment_key": key, "kind": "like"}, headers=H)
    assert r.status_code == 422
    listed = client.get("/corrections", headers=H).json()
    assert [c["comment_key"] for c in listed] == [key] and listed[0]["created_by"].startswith("api:")


def test_openapi_documents_the_routes(client):
    paths = client.get("/openapi.json", headers=H).json()["paths"]
    assert {"/classify", "/comments", "/comments/upload", "/comments/query", "/corrections", "/health"} <= set(paths)
    schemes = client.get("/openapi.json", headers=H).json()["components"]["securitySchemes"]
    assert any(s["type"] == "apiKey" and s["name"] == "X-API-Key" for s in schemes.values())


def test_api_docs_work_offline_from_files_in_the_package(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr.net" not in page.text and "unpkg.com" not in page.text
    scripts = re.findall(r'src="([^"]+\.js)"', page.text)
    assert scripts, page.text[:500]
    for src in scripts:  # the Swagger UI bundle is served by carelens itself
        asset = client.get(src.removeprefix(str(client.base_url)))
        assert asset.status_code == 200 and len(asset.content) > 100_000


def test_every_documented_route_but_health_refuses_a_request_without_a_key(client):
    spec = client.get("/openapi.json", headers=H).json()
    checked = 0
    for path, operations in spec["paths"].items():
        for method in operations:
            r = client.request(method.upper(), path.replace("{kind}", "topics"), json={})
            if path == "/health":
                assert r.status_code == 200
            else:
                assert r.status_code == 401, (method, path, r.status_code)
                checked += 1
    assert checked >= 8


def test_a_422_carries_one_line_naming_the_field(client):
    r = client.post("/classify", json=[{"comment_id": "1", "comment_text": "ok"}, {"comment_id": "2"}], headers=H)
    assert r.status_code == 422
    assert r.json()["field"] == "[1].comment_text" and r.json()["message"].startswith("field '[1].comment_text'")
    r = client.post("/comments/query", json={"filters": {"sentiment": [7]}}, headers=H)
    assert r.json()["field"] == "filters.sentiment" and "1 to 5" in r.json()["message"]
    r = client.post("/classify", content=b"[{oops", headers={**H, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body" and "not valid JSON" in r.json()["message"]


def test_a_small_demographic_selection_is_withheld_and_not_counted(client, loaded):
    options = client.get("/filters", headers=H).json()
    field, values = next(iter(options["demographics"].items()))
    for value in values:
        r = client.post("/comments/query", json={"filters": {"demographics": {field: [value]}, "location_1": ["Surgery"],
                                                             "sentiment": [5]}}, headers=H)
        body = r.json()
        assert r.status_code == 200
        if body["withheld"]:  # issue 16: neither the comments nor how many (a count under 10) are returned
            assert body["total"] is None and body["comments"] == []
            break
        assert body["total"] == 0 or body["total"] >= 10
    else:
        pytest.fail("no small demographic selection found in the test data")
    # a list this short picked out by place, topic or search alone is shown: its text is redacted
    from carelens.feedback.store.filters import CommentFilters
    from carelens.feedback.store.queries import comments_suppressed

    assert not comments_suppressed(CommentFilters(location_1=["Surgery"], search="rude"), 3)
    assert comments_suppressed(CommentFilters(demographics={field: [value]}), 3)
    assert not comments_suppressed(CommentFilters(demographics={field: [value]}), 10)


def test_an_upload_that_needed_a_fallback_encoding_says_so_by_file_name_not_server_path(client):
    csv = "Comment ID,FFT answer,Date\nenc-1,Parking £5 – too dear,03/25/2024\nenc-2,Café shut,03/04/2024\n".encode("cp1252")
    r = client.post("/comments/upload", files={"file": ("excel export.csv", io.BytesIO(csv), "text/csv")}, headers=H)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows_added"] == 2 and body["rows_with_problems"] == 0
    assert body["messages"][0] == "excel export.csv: not UTF-8; read as Windows-1252 (cp1252, Excel's usual CSV encoding)"
    assert body["messages"][1].startswith("excel export.csv, column 'Date': dates are month first")
    assert "/tmp" not in r.text and "upload.csv" not in r.text
