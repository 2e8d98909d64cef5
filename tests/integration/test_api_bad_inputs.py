"""The bad-input corpus of the REST API (issue 17): every route against the bad requests a caller
sends: no key or a wrong one, a body that is not JSON, JSON of the wrong shape, a field of the
wrong type, NUL characters, numbers JSON cannot hold, strings too long, an upload that is not a
table; and, property-based, any JSON value at all.

For every case: no 500, a status the route's OpenAPI document declares, a strict JSON body whose
``detail`` says what is wrong (a 422 names the field), and the store's rows as they were.
The CLI's corpus is ``tests/e2e/test_bad_inputs.py``; the schemathesis run against the published
document is ``test_api_schemathesis.py``.
"""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carelens.access import Role
from carelens.config import Settings, hash_api_key
from carelens.db import get_engine
from carelens.feedback.synth import generate_comments
from tests.access_helpers import api_key

KEY = "bad-inputs-key"
H = {"X-API-Key": KEY}
JSON_H = {**H, "Content-Type": "application/json"}

# Every route with a body, and one body it accepts (the bad ones are made from it).
GOOD = {
    ("POST", "/classify"): [{"comment_id": "1", "comment_text": "Kind staff", "fft_score": 1}],
    ("POST", "/comments"): {"rows": [{"Comment ID": "good-1", "Comment": "Kind staff"}]},
    ("POST", "/comments/query"): {"filters": {"search": "staff"}, "limit": 5},
    **{("POST", f"/summaries/{name}"): {"filters": {"date_from": "2024-01-01"}}
       for name in ("totals", "topics", "categories-by-month", "sentiment-by-month", "fft-by-month", "cooccurrence",
                    "complex")},
    ("POST", "/corrections"): {"comment_key": "id:nope", "kind": "interesting"},
    ("POST", "/corrections/undo"): {"comment_key": "id:nope"},
    ("PUT", "/corrections/flag"): {"comment_key": "id:nope", "flagged": True},
}
GETS = ["/health", "/filters", "/corrections", "/appointments/scores"]
WRITES = {"/comments", "/comments/upload", "/corrections", "/corrections/undo", "/corrections/flag"}

# Bodies no route accepts, as raw bytes.
RAW_BODIES = {
    "not JSON": b"{not json",
    "empty": b"",
    "NUL byte": b"\x00",
    "a number": b"7",
    "a string": b'"comments"',
    "NaN": b"NaN",
    "1e400": b"1e400",
    "not UTF-8": b'{"filters": "\xff\xfe"}',
    "deep nesting": b"[" * 2_000 + b"]" * 2_000,
}


def with_value(body, value):
    """``body`` with its first field (or its first item's first field) set to ``value``."""
    if isinstance(body, list):
        return [with_value(body[0], value)]
    key = next(iter(body))
    inner = body[key]
    if isinstance(inner, dict) and inner:
        return {**body, key: with_value(inner, value)}
    if isinstance(inner, list) and inner and isinstance(inner[0], dict):
        return {**body, key: [with_value(inner[0], value)]}
    return {**body, key: value}


# Wrong values put in each route's first field.
WRONG_VALUES = {
    "NUL in text": "bad\x00text",
    "201 characters": "x" * 201,
    "a list": ["a", "b"],
    "an object": {"a": 1},
    "a boolean": True,
    "a huge integer": 10**30,
    "null": None,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from carelens.web.api import create_api

    home = tmp_path_factory.mktemp("api-bad-inputs")
    settings = Settings(home=home, database_url=f"duckdb:///{home / 'store.duckdb'}",
                        api_key_hashes=[hash_api_key(KEY)], max_batch=50, max_request_bytes=200_000)
    with TestClient(create_api(settings), raise_server_exceptions=False) as c:
        csv = generate_comments(40, seed=4).to_csv(index=False).encode()
        r = c.post("/comments/upload", files={"file": ("export.csv", io.BytesIO(csv), "text/csv")}, headers=H)
        assert r.status_code == 200, r.text
        c.store_url = settings.database_url
        c.document = c.get("/openapi.json", headers=H).json()
        # published scores are read with a key of the role that makes calls (issue 16), not an admin's
        c.caller_headers = {"X-API-Key": api_key(get_engine(settings.database_url), "caller", Role.CALLER)}
        yield c


def rows(client) -> dict[str, int]:
    engine = sa.create_engine(client.store_url)
    try:
        with engine.connect() as conn:
            # the audit log records refused requests too, by design (issue 16): not the store's data
            return {t: conn.execute(sa.text(f'select count(*) from "{t}"')).scalar_one()
                    for t in sa.inspect(conn).get_table_names() if t != "access_audit"}
    finally:
        engine.dispose()


def strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def check_refusal(client, method: str, path: str, r, before: dict[str, int] | None = None) -> dict:
    """A refusal the route declares, in strict JSON, saying what is wrong; the store unchanged."""
    assert r.status_code != 500, r.text
    declared = set(client.document["paths"][path][method.lower()]["responses"])
    assert str(r.status_code) in declared, (method, path, r.status_code, r.text)
    body = strict_json(r.text)
    if r.status_code >= 400:
        assert isinstance(body, dict) and body.get("detail"), body
        assert "Traceback" not in r.text
        if r.status_code == 422:  # the field at fault named, or the body when it is no JSON at all
            assert isinstance(body["detail"], list) and body["field"], body
            assert body["message"].startswith((f"field '{body['field']}'", "the request body")), body
    if before is not None and (r.status_code >= 400 or path not in WRITES):
        assert rows(client) == before, (method, path)
    return body


ROUTES = sorted(GOOD)
CASES = (
    [pytest.param(m, p, "raw", name, id=f"{m} {p}: {name}") for (m, p) in ROUTES for name in RAW_BODIES]
    + [pytest.param(m, p, "value", name, id=f"{m} {p}: {name}") for (m, p) in ROUTES for name in WRONG_VALUES]
    + [pytest.param(m, p, "shape", "list for object" if isinstance(GOOD[m, p], dict) else "object for list",
                    id=f"{m} {p}: wrong top-level shape") for (m, p) in ROUTES]
    + [pytest.param(m, p, "key", name, id=f"{m} {p}: {name}") for (m, p) in ROUTES
       for name in ("no key", "wrong key")]
    + [pytest.param("GET", p, "key", name, id=f"GET {p}: {name}") for p in GETS if p != "/health"
       for name in ("no key", "wrong key")]
)


@pytest.mark.parametrize("method, path, kind, name", CASES)
def test_a_bad_request_is_refused_saying_what_is_wrong(client, method, path, kind, name):
    before = rows(client)
    good = GOOD.get((method, path))
    headers = JSON_H
    if kind == "raw":
        content = RAW_BODIES[name]
    elif kind == "value":
        content = json.dumps(with_value(good, WRONG_VALUES[name])).encode()
    elif kind == "shape":
        content = json.dumps([good] if isinstance(good, dict) else {"rows": good}).encode()
    else:
        content = None if good is None else json.dumps(good).encode()
        headers = {"Content-Type": "application/json", **({"X-API-Key": "wrong"} if name == "wrong key" else {})}
    r = client.request(method, path, content=content, headers=headers)
    body = check_refusal(client, method, path, r, before)
    if kind == "key":
        assert r.status_code == 401, r.text
    elif kind == "raw" and not (name == "empty" and path.startswith("/summaries/")):  # a summary's body is optional
        assert r.status_code in (400, 413, 422), (r.status_code, body)
    elif kind == "shape":
        assert r.status_code == 422, (r.status_code, body)


@pytest.mark.parametrize("path", ["/corrections", "/corrections/undo", "/corrections/flag"])
def test_a_correction_of_an_unknown_comment_is_a_404_naming_the_key(client, path):
    method = "PUT" if path.endswith("flag") else "POST"
    before = rows(client)
    r = client.request(method, path, json=GOOD[method, path], headers=H)
    body = check_refusal(client, method, path, r, before)
    assert r.status_code == 404 and body["field"] == "comment_key"


@pytest.mark.parametrize("query, field", [
    ("since=2024-13-45", "since"), ("until=yesterday", "until"), ("band=extreme", "band"), ("limit=-1", "limit"),
    ("limit=1e400", "limit"), ("offset=NaN", "offset"), ("model_version=" + "v" * 40, "model_version"),
])
def test_a_bad_query_of_the_published_scores_is_a_422_naming_it(client, query, field):
    r = client.get(f"/appointments/scores?{query}", headers=client.caller_headers)
    body = check_refusal(client, "GET", "/appointments/scores", r)
    assert r.status_code == 422 and body["field"].startswith(f"query.{field}"), body


UPLOADS = {
    "binary": ("export.csv", bytes(range(256)) * 4),
    "empty": ("export.csv", b""),
    "header only": ("export.csv", b"Comment ID,Comment\n"),
    "CSV named .xlsx": ("export.xlsx", b"Comment\nKind staff\n"),
    "junk named .parquet": ("export.parquet", b"PAR1 not parquet"),
    "wrong extension": ("export.docx", b"Comment\nKind staff\n"),
    "no extension": ("export", b"Comment\nKind staff\n"),
    "blank header line": ("export.csv", b"\nKind staff\n"),
    "over-long ward": ("export.csv", b"Comment,Ward\nKind staff," + b"w" * 5_000 + b"\n"),
    "300-character ID": ("export.csv", b"Comment ID,Comment\n" + b"9" * 300 + b",Kind staff\n"),
}


@pytest.mark.parametrize("name", list(UPLOADS))
def test_an_upload_that_is_not_a_good_table_is_refused_naming_the_file_sent(client, name):
    filename, content = UPLOADS[name]
    before = rows(client)
    data = {"mapping": json.dumps({"location_1": "Ward"})} if "ward" in name else None
    r = client.post("/comments/upload", files={"file": (filename, io.BytesIO(content), "application/octet-stream")},
                    data=data, headers=H)
    body = check_refusal(client, "POST", "/comments/upload", r, before)
    assert r.status_code in (400, 415, 422), body
    assert filename in json.dumps(body), body


@pytest.mark.parametrize("field, value", [("mapping", "{not json"), ("mapping", "[1, 2]"), ("strict", "perhaps"),
                                          ("header_row", "0"), ("header_row", "1e400")])
def test_an_upload_with_a_bad_form_field_is_a_422_naming_it(client, field, value):
    before = rows(client)
    r = client.post("/comments/upload", files={"file": ("export.csv", io.BytesIO(b"Comment\nKind staff\n"), "text/csv")},
                    data={field: value}, headers=H)
    body = check_refusal(client, "POST", "/comments/upload", r, before)
    assert r.status_code == 422 and body["field"].startswith(field), body


MIXES = {
    "binary": ("mix.csv", bytes(range(256)) * 4, "mix.csv"),
    "empty": ("mix.csv", b"", "mix.csv"),
    "an export, not a mix": ("mix.csv", b"Comment ID,Comment\n1,Kind staff\n", "'share'"),
    "wrong extension": ("mix.docx", b"field,value,share\nSex,F,1\n", "mix.docx"),
    "shares not adding up": ("mix.csv", b"field,value,share\nSex,F,0.5\nSex,M,0.3\n", "shares of Sex"),
    "a word for a share": ("mix.csv", b"field,value,share\nSex,F,half\n", "row 2"),
    "NUL in a value": ("mix.csv", b"field,value,share\nSex,F\x00,1\n", "NUL"),
}


@pytest.mark.parametrize("name", list(MIXES))
def test_a_trust_mix_that_is_not_a_good_mix_is_refused_naming_the_file_row_or_column(client, name):
    filename, content, said = MIXES[name]
    before = rows(client)
    r = client.post("/comparison/demographics/mix", files={"file": (filename, io.BytesIO(content), "text/csv")},
                    data={"source": "census"}, headers=H)
    body = check_refusal(client, "POST", "/comparison/demographics/mix", r, before)
    assert r.status_code in (400, 415) and said in body["detail"], body
    assert rows(client) == before


@pytest.mark.parametrize("source", ["", "   ", "x" * 501])
def test_a_trust_mix_without_a_source_is_refused_naming_it(client, source):
    before = rows(client)
    r = client.post("/comparison/demographics/mix", files={"file": ("mix.csv", io.BytesIO(b"field,value,share\nSex,F,1\n"),
                                                                    "text/csv")}, data={"source": source}, headers=H)
    body = check_refusal(client, "POST", "/comparison/demographics/mix", r, before)
    assert r.status_code in (400, 422) and "source" in json.dumps(body), body
    assert rows(client) == before


def test_nul_in_loaded_rows_is_kept_as_a_replacement_character_and_said(client):
    before = rows(client)
    r = client.post("/comments", json={"rows": [{"Comment ID": "nul-1", "Comment": "Kind\x00 staff"}]}, headers=H)
    body = check_refusal(client, "POST", "/comments", r)
    assert r.status_code == 200 and body["comments_added"] == 1, body
    assert any("NUL" in m and "row 2" in m for m in body["messages"]), body
    assert rows(client)["fb_comments"] == before["fb_comments"] + 1


# Any JSON value a caller could send, to every route with a body: never a 500, always declared.
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["comment_id", "comment_text", "fft_score", "rows", "mapping", "filters", "limit", "offset",
                         "search", "comment_key", "kind", "topics", "sentiment", "flagged", "date_from", "x"]),
        inner, max_size=4),
    max_leaves=10,
)


@pytest.mark.parametrize("method, path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=ANY_JSON)
def test_any_json_body_gets_a_declared_answer(client, method, path, value):
    r = client.request(method, path, content=json.dumps(value).encode(), headers=JSON_H)
    check_refusal(client, method, path, r)
