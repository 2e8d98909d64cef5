"""The API's access control, tried as an attacker would: every route with a key of every role (403
and no data outside the role), a ward manager's key against other wards (filters, tampered bodies,
corrections), a revoked key (refused at once, no restart), and every small-number bypass the red
team found (each refused), with property-based tests that a scoped query never returns a row
outside its scope and that no route returns a count under the threshold."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carelens.access import Permission, Role, Scope, audit, keys
from carelens.access.roles import PERMISSIONS
from carelens.config import Settings, hash_api_key
from carelens.db import get_engine
from carelens.feedback.synth import generate_comments
from tests.access_helpers import api_key

WARD = "Ward 10"  # the viewer's ward (40 of the 600 synthetic comments)
SUMMARIES = ["totals", "topics", "categories-by-month", "sentiment-by-month", "fft-by-month", "cooccurrence", "complex"]
# What each route needs (a route added to the API without a line here fails test_every_route_is_in_the_matrix).
ROUTES = {
    ("POST", "/classify"): Permission.FEEDBACK_READ,
    ("POST", "/comments/upload"): Permission.FEEDBACK_UPLOAD,
    ("POST", "/comments"): Permission.FEEDBACK_UPLOAD,
    ("POST", "/comments/query"): Permission.FEEDBACK_READ,
    **{("POST", f"/summaries/{k}"): Permission.FEEDBACK_READ for k in SUMMARIES},
    ("GET", "/filters"): Permission.FEEDBACK_READ,
    **{("POST", f"/comparison/{k}"): Permission.FEEDBACK_READ for k in ("signals", "chart", "change", "demographics")},
    ("GET", "/comparison/demographics/mix"): Permission.FEEDBACK_READ,
    ("POST", "/comparison/demographics/mix"): Permission.MANAGE_ALIASES,
    ("POST", "/corrections"): Permission.FEEDBACK_CORRECT,
    ("POST", "/corrections/undo"): Permission.FEEDBACK_CORRECT,
    ("PUT", "/corrections/flag"): Permission.FEEDBACK_CORRECT,
    ("GET", "/corrections"): Permission.FEEDBACK_READ,
    ("GET", "/appointments/scores"): Permission.CALL_LIST,
}
COUNT_FIELDS = {"comments", "positive", "neutral", "negative", "respondents", *(f"score_{k}" for k in range(1, 7))}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from carelens.feedback.ingest import load_comments

    home = tmp_path_factory.mktemp("access")
    s = Settings(home=home, database_url=f"duckdb:///{home / 'store.duckdb'}", api_key_hashes=[hash_api_key("old-key")],
                 max_batch=50, max_request_bytes=300_000)
    engine = get_engine(s.database_url)
    export = generate_comments(600, seed=5)
    load_comments(export, engine=engine, progress=False)
    role_keys = {role: api_key(engine, f"key-{role.value}", role) for role in Role if role is not Role.VIEWER}
    role_keys[Role.VIEWER] = api_key(engine, "key-viewer", Role.VIEWER, WARD)
    return s, engine, export, role_keys


@pytest.fixture(scope="module")
def client(store):
    from carelens.web.api import create_api

    with TestClient(create_api(store[0]), raise_server_exceptions=False) as c:
        yield c


def H(key: str) -> dict:
    return {"X-API-Key": key}


def _request(client, method: str, path: str, key: str, comment_key: str):
    csv = "Comment ID,FFT answer,Ward / team\nmx-1,Matrix test comment,Matrix ward\n".encode()
    kwargs = {
        ("POST", "/classify"): {"json": [{"comment_id": "1", "comment_text": "Lovely staff"}]},
        ("POST", "/comments/upload"): {"files": {"file": ("m.csv", io.BytesIO(csv), "text/csv")}},
        ("POST", "/comparison/demographics/mix"): {  # a field no comment has: the other tests' figures unchanged
            "files": {"file": ("mix.csv", io.BytesIO(b"field,value,share\nReligion,None,1\n"), "text/csv")},
            "data": {"source": "matrix"}},
        ("POST", "/comments"): {"json": {"rows": [{"FFT answer": "Matrix row", "Ward / team": "Matrix ward"}], "source": "m"}},
        ("POST", "/corrections"): {"json": {"comment_key": comment_key, "kind": "interesting"}},
        ("POST", "/corrections/undo"): {"json": {"comment_key": comment_key}},
        ("PUT", "/corrections/flag"): {"json": {"comment_key": comment_key, "flagged": True}},
    }.get((method, path), {"json": {"filters": {}}} if method == "POST" else {})
    return client.request(method, path, headers=H(key), **kwargs)


def test_every_route_is_in_the_matrix(client, store):
    document = client.get("/openapi.json", headers=H(store[3][Role.ADMIN])).json()
    found = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops if p != "/health"}
    assert found == set(ROUTES)


@pytest.mark.parametrize("role", list(Role))
def test_every_route_answers_a_role_without_its_permission_403_and_no_data(client, store, role):
    _, engine, export, role_keys = store
    comment_key = f"id:{export['Comment ID'].iloc[0]}"
    for (method, path), permission in ROUTES.items():
        r = _request(client, method, path, role_keys[role], comment_key)
        if permission in PERMISSIONS[role]:
            assert r.status_code != 403, (role, path, r.text)
        else:
            assert r.status_code == 403, (role, path, r.status_code)
            assert set(r.json()) <= {"detail", "field"} and role.value in r.json()["detail"], r.text
    # the document describing the API needs an identity with a role, no more
    assert client.get("/openapi.json", headers=H(role_keys[role])).status_code == 200
    refused = audit.events(engine, actor=f"key:key-{role.value}", outcome="refused")
    refused = refused[refused["detail"].str.contains('"status": 403')]  # the viewer's 404 (a comment outside its ward) apart
    assert len(refused) == sum(p not in PERMISSIONS[role] for p in ROUTES.values())


def test_a_user_or_key_without_a_role_gets_nothing(client, store):
    _, engine, _, _ = store
    from carelens.access.tables import keys as key_table

    key = api_key(engine, "key-norole", Role.CALLER)
    with engine.begin() as conn:
        conn.execute(key_table.update().where(key_table.c.name == "key-norole").values(role=None))
    for (method, path) in ROUTES:
        assert _request(client, method, path, key, "id:x").status_code == 403, path


def test_a_revoked_key_is_refused_at_once_without_a_restart(client, store):
    _, engine, _, _ = store
    key = api_key(engine, "key-short-lived", Role.FEEDBACK_LEAD)
    assert client.get("/filters", headers=H(key)).status_code == 200
    keys.revoke_key(engine, "key-short-lived", actor="test")
    r = client.get("/filters", headers=H(key))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.get("/filters", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_a_key_from_the_settings_file_still_works_as_an_admin_key_with_a_warning(client, capsys):
    r = client.get("/filters", headers=H("old-key"))
    assert r.status_code == 200
    assert client.post("/comments/query", json={"filters": {}}, headers=H("old-key")).json()["total"] >= 600


# --------------------------------------------------------------------------- a ward manager's key
def _in_ward(export: pd.DataFrame) -> pd.DataFrame:
    return export[(export["Division"] == WARD) | (export["Directorate"] == WARD) | (export["Ward / team"] == WARD)]


def test_a_ward_managers_key_reads_only_their_ward_whatever_the_filters_say(client, store):
    _, _, export, role_keys = store
    key = role_keys[Role.VIEWER]
    ward = _in_ward(export)
    body = client.post("/comments/query", json={"filters": {}, "limit": 1000}, headers=H(key)).json()
    assert body["total"] == len(ward) and {c["location_3"] for c in body["comments"]} == {WARD}
    # URL/body tampering: asking for another ward, another division, or everything by search
    for filters in ({"location_3": ["Ward 20"]}, {"location_1": ["Surgery", "Medicine"]}, {"search": "staff"}):
        got = client.post("/comments/query", json={"filters": filters, "limit": 1000}, headers=H(key)).json()
        assert all(c["location_3"] == WARD for c in got["comments"]), filters
    assert client.post("/comments/query", json={"filters": {"location_3": ["Ward 20"]}}, headers=H(key)).json()["total"] == 0
    # a scope cannot be sent: the filters have no such field
    for sneaky in ({"scope": []}, {"_scopes": []}, {"scopes": [{"everything": True}]}):
        assert client.post("/comments/query", json={"filters": sneaky}, headers=H(key)).status_code == 422
    totals = client.post("/summaries/totals", json={"filters": {}}, headers=H(key)).json()["rows"][0]
    assert totals["comments"] == len(ward)
    options = client.get("/filters", headers=H(key)).json()
    assert options["location_3"] == [WARD] and options["comments"] == len(ward)
    assert set(options["location_1"]) <= set(ward["Division"])


def test_a_ward_managers_key_cannot_flag_or_see_corrections_outside_their_ward(client, store):
    _, engine, export, role_keys = store
    key = role_keys[Role.VIEWER]
    outside = f"id:{export.loc[export['Ward / team'] != WARD, 'Comment ID'].iloc[-1]}"  # not flagged before
    inside = f"id:{_in_ward(export)['Comment ID'].iloc[0]}"
    r = client.post("/corrections", json={"comment_key": outside, "kind": "interesting"}, headers=H(key))
    assert r.status_code == 404  # answered as if it did not exist
    # nor take a flag off, or undo a correction, there
    assert client.put("/corrections/flag", json={"comment_key": outside, "flagged": False}, headers=H(key)).status_code == 404
    assert client.post("/corrections/undo", json={"comment_key": outside}, headers=H(key)).status_code == 404
    undo_events = audit.events(engine, actor="key:key-viewer", action="undo_correction")
    assert undo_events["outcome"].iloc[0] == "refused" and outside in undo_events["detail"].iloc[0]
    lead = role_keys[Role.FEEDBACK_LEAD]
    assert client.post("/corrections", json={"comment_key": outside, "kind": "interesting", "note": "call 07700 900123"},
                       headers=H(lead)).status_code == 201
    assert client.post("/corrections", json={"comment_key": inside, "kind": "interesting"}, headers=H(key)).status_code == 201
    seen = client.get("/corrections", headers=H(key)).json()
    assert {c["comment_key"] for c in seen} == {inside} and seen[0]["created_by"] == "key:key-viewer"
    everything = client.get("/corrections", headers=H(lead)).json()
    note = next(c["note"] for c in everything if c["comment_key"] == outside and c["note"])
    assert "07700" not in note and "call" in note  # correction notes are redacted


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_location_scoped_query_never_returns_a_row_outside_its_scope(store, data):
    from carelens.feedback.store import queries
    from carelens.feedback.store.filters import CommentFilters

    _, engine, export, _ = store
    places = sorted({(i, v) for i, col in enumerate(["Division", "Directorate", "Ward / team"], start=1)
                     for v in export[col].dropna().unique()})
    chosen = data.draw(st.lists(st.sampled_from(places), max_size=3))
    any_level = data.draw(st.booleans())
    scope = Scope(places=frozenset(((None if any_level else lv), name) for lv, name in chosen))
    asked = CommentFilters(
        location_1=data.draw(st.lists(st.sampled_from(sorted(export["Division"].unique())), max_size=2)),
        location_3=data.draw(st.lists(st.sampled_from(sorted(export["Ward / team"].unique())), max_size=2)),
        sentiment=data.draw(st.lists(st.integers(1, 5), max_size=2)),
        search=data.draw(st.sampled_from(["", "staff", "wait", "parking food"])),
    )
    filters = asked.scoped(scope)
    names = {name for _, name in scope.places}
    allowed = {lv: scope.level_names(lv) for lv in (1, 2, 3)}

    def inside(row) -> bool:
        return any(row[f"location_{lv}"] in allowed[lv] for lv in (1, 2, 3))

    page, total = queries.filtered_comments(engine, filters, suppress_below=10)
    assert all(inside(r) for r in page.to_dict("records"))
    behind, _, _ = queries.comments_behind(engine, filters, [CommentFilters()], limit=None, suppress_below=1)
    assert all(inside(r) for r in behind.to_dict("records"))
    assert all(inside(r) for r in queries.complex_comments(engine, filters, limit=None).to_dict("records"))
    unscoped, _ = queries.filtered_comments(engine, asked, suppress_below=10)
    expected = [k for k, r in zip(unscoped["comment_key"], unscoped.to_dict("records")) if inside(r)]
    assert sorted(page["comment_key"]) == sorted(expected) and total == len(expected)
    options = queries.filter_options(engine, CommentFilters().scoped(scope), suppress_below=1)
    in_scope = unscoped.iloc[0:0] if not names else None
    assert in_scope is None or options["location_3"] == []
    # a scope only narrows: scoping again with everything does not widen it
    assert queries.filtered_comments(engine, filters.scoped(Scope.all()), suppress_below=10)[1] == total


# --------------------------------------------------------------------------- the small-number rule
def test_totals_under_the_threshold_give_no_count_and_no_dates(client, store):
    _, _, export, role_keys = store
    lead = H(role_keys[Role.FEEDBACK_LEAD])
    one = export.iloc[7]
    pick = {"location_3": [one["Ward / team"]], "search": one["FFT answer"].split()[1]}
    total = client.post("/summaries/totals", json={"filters": pick}, headers=lead).json()["rows"][0]
    assert total["suppressed"] is True
    assert {total[k] for k in ("comments", "date_from", "date_to", "positive", "neutral", "negative")} == {None}


def test_complex_comments_under_a_demographic_filter_are_withheld(client, store):
    _, _, export, role_keys = store
    lead = H(role_keys[Role.FEEDBACK_LEAD])
    for value in export["Ethnicity"].value_counts().index[::-1]:  # rarest first
        r = client.post("/summaries/complex", json={"filters": {"demographics": {"Ethnicity": [value]}}}, headers=lead)
        body = r.json()
        if body["withheld"]:
            assert body["rows"] == []
            return
    pytest.fail("no small demographic group in the test data")


def test_a_search_that_picks_out_one_comment_does_not_give_its_writer_away(client, store):
    from carelens.feedback.exports import comments_for_export
    from carelens.feedback.store.filters import CommentFilters

    _, engine, export, role_keys = store
    lead = H(role_keys[Role.FEEDBACK_LEAD])
    one = export.iloc[11]
    pick = {"location_3": [one["Ward / team"]], "search": " ".join(one["FFT answer"].split()[:3])}
    body = client.post("/comments/query", json={"filters": pick}, headers=lead).json()
    assert 0 < body["total"] < 10 and body["comments"]
    assert all(set(c["demographics"].values()) == {None} for c in body["comments"])  # shown text, no age/sex/ethnicity
    table = comments_for_export(engine, CommentFilters(**pick), ("Division", "Directorate", "Ward / team"), 10)
    assert len(table) == body["total"] and table[["Age band", "Sex", "Ethnicity"]].isna().all().all()
    # in a long list, a value shared by at least 10 of the matches is shown
    many = client.post("/comments/query", json={"filters": {}, "limit": 50}, headers=lead).json()
    assert any(c["demographics"]["Sex"] in ("Male", "Female") for c in many["comments"])


def _counts(rows: list[dict]) -> list:
    return [v for row in rows for k, v in row.items() if k in COUNT_FIELDS]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_route_returns_a_count_under_the_threshold(client, store, data):
    _, _, export, role_keys = store
    key = data.draw(st.sampled_from([role_keys[Role.FEEDBACK_LEAD], role_keys[Role.VIEWER]]))
    filters = {k: v for k, v in {
        "location_3": data.draw(st.lists(st.sampled_from(sorted(export["Ward / team"].unique())), max_size=2)),
        "sentiment": data.draw(st.lists(st.integers(1, 5), max_size=3, unique=True)),
        "fft_score": data.draw(st.lists(st.integers(1, 6), max_size=3, unique=True)),
        "demographics": data.draw(st.sampled_from([{}, {"Sex": ["Female"]}, {"Age band": ["75+"]}])),
        "search": data.draw(st.sampled_from(["", "staff", "waiting time", "kind"])),
    }.items() if v}
    for kind in SUMMARIES:
        body = client.post(f"/summaries/{kind}", json={"filters": filters}, headers=H(key)).json()
        assert all(v is None or v >= 10 for v in _counts(body["rows"])), (kind, filters, body["rows"])
        if kind == "totals" and body["rows"][0]["comments"] is None:
            assert body["rows"][0]["date_from"] is None and body["rows"][0]["date_to"] is None
    page = client.post("/comments/query", json={"filters": filters}, headers=H(key)).json()
    if filters.get("demographics") and page["withheld"]:
        assert page["total"] is None
    assert not page["withheld"] or not page["comments"]
    options = client.get("/filters", headers=H(key)).json()
    assert options["comments"] is None or options["comments"] >= 10


def test_label_lists_name_only_groups_of_at_least_the_threshold(client, store):
    _, _, export, role_keys = store
    options = client.get("/filters", headers=H(role_keys[Role.FEEDBACK_LEAD])).json()
    counts = export["Ward / team"].value_counts()
    assert set(options["location_3"]) == set(counts[counts >= 10].index)
    ethnicity = export["Ethnicity"].value_counts()
    assert set(options["demographics"]["Ethnicity"]) == set(ethnicity[ethnicity >= 10].index)
    assert set(ethnicity[ethnicity < 10].index)  # the test data has small groups to hide


def test_api_requests_are_in_the_audit_log_with_their_filters(client, store):
    _, engine, _, role_keys = store
    client.post("/comments/query", json={"filters": {"search": "parking"}}, headers=H(role_keys[Role.VIEWER]))
    events = audit.events(engine, actor="key:key-viewer", action="view")
    detail = json.loads(events["detail"].iloc[0])
    assert events["target"].iloc[0] == "api POST /comments/query" and detail["filters"] == {"search": "parking"}
    assert events["outcome"].iloc[0] == "ok" and events["role"].iloc[0] == "viewer"
