"""Signing in and the gate around the whole app, through HTTP as a browser or an attacker would:
local accounts (CSRF, lock-out, no session fixation, sign-out), sessions that expire, disabled
accounts, single sign-on against a local OpenID provider, a trusted proxy's header, the Origin
check, cookies and security headers."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from carelens.access import Role, audit, sessions, users
from carelens.access.tables import sessions as session_table
from carelens.config import Settings
from carelens.db import get_engine
from carelens.db.schema import now_utc
from carelens.web.security.identity import COOKIE
from tests.access_helpers import PASSWORD, add_user, sign_in
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, running_provider

HTML = {"Accept": "text/html"}
SAME = {"Origin": "http://testserver"}


def make(tmp_path, **settings):
    from carelens.web.app import create_app

    s = Settings(home=tmp_path, database_url=f"duckdb:///{tmp_path / 'store.duckdb'}", **settings)
    return create_app(s), get_engine(s.database_url), s


@pytest.fixture
def site(tmp_path):
    app, engine, _ = make(tmp_path, lockout_attempts=3)
    add_user(engine, "alice", Role.FEEDBACK_LEAD)
    return app, engine


def _csrf(client) -> str:
    page = client.get("/auth/login")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _login(client, name="alice", password=PASSWORD, origin=SAME, csrf=None):
    csrf = _csrf(client) if csrf is None else csrf
    return client.post("/auth/login", data={"username": name, "password": password, "csrf": csrf, "next": "/"},
                       headers=origin, follow_redirects=False)


def test_every_dashboard_path_needs_a_signed_in_user(site):
    app, _ = site
    client = TestClient(app, follow_redirects=False)
    page = client.get("/", headers=HTML)
    assert page.status_code == 303 and page.headers["location"] == "/auth/login?next=/"
    for path in ("/www/carelens.js", "/vendor/plotly-cartesian.min.js", "/lib/shiny-1.8.0/shiny.js", "/session/x/download/y"):
        assert client.get(path).status_code == 401, path
    assert client.get("/api/filters").status_code == 401 and client.get("/api/health").status_code == 200


def test_a_local_account_signs_in_with_a_new_session_and_signs_out(site):
    app, engine = site
    client = TestClient(app, follow_redirects=False)
    client.get("/auth/login")
    before = client.cookies[COOKIE]
    r = _login(client)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie  # plain http here
    assert client.cookies[COOKIE] != before  # no session fixation: the cookie before sign-in is not the one after
    page = client.get("/", headers=HTML)
    assert page.status_code == 200 and "alice (feedback lead)" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    # sign out needs the session's CSRF token: a forged form does nothing
    client.post("/auth/logout", data={"csrf": "forged"}, headers=SAME)
    assert client.get("/", headers=HTML).status_code == 200
    client.post("/auth/logout", data={"csrf": csrf}, headers=SAME)
    assert client.get("/", headers=HTML).status_code == 303
    actions = audit.events(engine, actor="alice")["action"].tolist()
    assert "sign_in" in actions and "sign_out" in actions


def test_over_https_the_cookie_is_secure(tmp_path):
    app, engine, _ = make(tmp_path)
    add_user(engine, "alice", Role.FEEDBACK_LEAD)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = _login(client, origin={"Origin": "https://testserver"})
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
    assert "max-age=31536000" in client.get("/auth/login").headers["strict-transport-security"]


def test_login_csrf_and_a_foreign_origin_are_refused(site):
    app, engine = site
    client = TestClient(app, follow_redirects=False)
    assert "message=expired" in _login(client, csrf="not-the-token").headers["location"]
    foreign = _login(client, origin={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and COOKIE not in foreign.headers.get("set-cookie", "")
    other = TestClient(app, follow_redirects=False)  # a form posted with another browser's token
    assert "message=expired" in _login(other, csrf=_csrf(client)).headers["location"]
    assert client.get("/", headers=HTML).status_code == 303 and other.get("/", headers=HTML).status_code == 303


def test_repeated_failures_lock_the_account_even_against_the_right_password(site):
    app, engine = site
    client = TestClient(app, follow_redirects=False)
    for _ in range(2):
        assert "message=wrong" in _login(client, password="not the password!").headers["location"]
    assert "message=locked" in _login(client, password="not the password!").headers["location"]  # the third locks
    assert "message=locked" in _login(client).headers["location"]  # right password, still locked
    assert client.get("/", headers=HTML).status_code == 303
    failed = audit.events(engine, action="sign_in_failed")
    assert len(failed) == 4 and set(failed["outcome"]) == {"refused"}
    # an unknown name gets the same answer as a wrong password (no telling which names exist)
    assert "message=wrong" in _login(client, name="mallory").headers["location"]
    # an administrator's reset unlocks it
    users.set_password(engine, "alice", "a brand new passphrase", actor="test")
    assert _login(client, password="a brand new passphrase").headers["location"] == "/"


def test_an_expired_or_idle_session_and_a_disabled_account_are_refused_at_once(site):
    app, engine = site
    client = TestClient(app, follow_redirects=False)
    csrf = sign_in(client, engine, "alice", Role.FEEDBACK_LEAD)
    assert client.get("/", headers=HTML).status_code == 200
    assert client.get("/api/filters").status_code == 200
    with engine.begin() as conn:  # the session's end has come (its absolute limit)
        conn.execute(session_table.update().values(expires_at=now_utc() - timedelta(seconds=1)))
    assert client.get("/", headers=HTML).status_code == 303 and client.get("/api/filters").status_code == 401
    csrf = sign_in(client, engine, "alice", Role.FEEDBACK_LEAD)
    with engine.begin() as conn:  # idle for longer than session_idle_minutes
        conn.execute(session_table.update().values(last_seen_at=now_utc() - timedelta(minutes=31)))
    assert client.get("/", headers=HTML).status_code == 303
    sign_in(client, engine, "alice", Role.FEEDBACK_LEAD)
    users.change_user(engine, "alice", disabled=True, actor="test")
    assert client.get("/", headers=HTML).status_code == 303 and client.get("/api/filters").status_code == 401
    assert csrf  # (the CSRF token of a dead session is worth nothing either)


def test_a_signed_in_browser_may_call_the_api_but_its_changes_need_the_csrf_token(site):
    app, engine = site
    client = TestClient(app, follow_redirects=False)
    csrf = sign_in(client, engine, "alice", Role.FEEDBACK_LEAD)
    body = {"filters": {}}
    assert client.post("/api/summaries/totals", json=body, headers=SAME).status_code == 403  # no token
    assert client.post("/api/summaries/totals", json=body, headers={**SAME, "X-CSRF-Token": csrf}).status_code == 200
    # from another site, refused whatever it carries
    r = client.post("/api/summaries/totals", json=body, headers={"Origin": "http://evil.example", "X-CSRF-Token": csrf})
    assert r.status_code == 403 and "rows" not in r.text


def test_security_headers_on_every_part_of_the_app(site):
    app, engine = site
    client = TestClient(app, follow_redirects=False)
    sign_in(client, engine, "alice", Role.FEEDBACK_LEAD)
    for path in ("/", "/auth/login", "/api/filters", "/api/health", "/www/carelens.js"):
        h = client.get(path, headers=HTML).headers
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff", path
        assert h["referrer-policy"] == "same-origin" and "frame-ancestors 'none'" in h["content-security-policy"], path
        scripts = re.search(r"script-src ([^;]+)", h["content-security-policy"]).group(1)
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, path
    assert client.get("/api/filters").headers["cache-control"] == "no-store"


def test_an_error_page_carries_no_trace_or_server_path(site):
    app, engine = site
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    sign_in(client, engine, "alice", Role.FEEDBACK_LEAD)
    r = client.post("/api/summaries/totals", content=b"{", headers={"Content-Type": "application/json", **SAME})
    assert r.status_code in (403, 422) and "Traceback" not in r.text and "/work" not in r.text and "site-packages" not in r.text


def test_a_trusted_proxys_header_names_the_user_only_from_that_proxy(tmp_path):
    app, engine, _ = make(tmp_path, trusted_header="X-Forwarded-User", trusted_proxies=["10.1.2.3"])
    add_user(engine, "bob@trust.nhs.uk", Role.PLANNER, password=None)
    header = {"X-Forwarded-User": "bob@trust.nhs.uk", **HTML}
    proxy = TestClient(app, client=("10.1.2.3", 4000), follow_redirects=False)
    page = proxy.get("/", headers=header)
    assert page.status_code == 200 and "bob@trust.nhs.uk (planner)" in page.text
    # anyone else sending the same header is nobody (and Posit Connect's own header is stripped too)
    stranger = TestClient(app, client=("10.9.9.9", 4000), follow_redirects=False)
    assert stranger.get("/", headers=header).status_code == 303
    forged = {"RStudio-Connect-Credentials": '{"user": "bob@trust.nhs.uk"}', **HTML}
    assert stranger.get("/", headers=forged).status_code == 303
    # a user the proxy names for the first time is added with no role: signed in, sees nothing
    page = proxy.get("/", headers={"X-Forwarded-User": "new.starter@trust.nhs.uk", **HTML})
    assert page.status_code == 200 and "no access yet" in page.text
    assert users.get_user(engine, "new.starter@trust.nhs.uk")["role"] is None


def test_posit_connects_credentials_header_when_it_is_the_trusted_one(tmp_path):
    app, engine, _ = make(tmp_path, trusted_header="RStudio-Connect-Credentials", trusted_proxies=["127.0.0.0/8"])
    add_user(engine, "carol", Role.CALLER, password=None)
    connect = TestClient(app, client=("127.0.0.1", 4000), follow_redirects=False)
    page = connect.get("/", headers={"RStudio-Connect-Credentials": '{"user": "carol", "groups": ["staff"]}', **HTML})
    assert page.status_code == 200 and "carol (caller)" in page.text


@pytest.fixture
def provider():
    with running_provider() as p:
        yield p


def _sso(client, provider, follow_to_callback=True):
    start = client.get("/auth/oidc/start?next=/comments", follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"].startswith(provider.issuer + "/authorize?")
    answer = httpx.get(start.headers["location"], follow_redirects=False)  # the browser at the provider
    assert answer.status_code == 302
    callback = answer.headers["location"].removeprefix("http://testserver")
    return client.get(callback, follow_redirects=False) if follow_to_callback else callback


def test_single_sign_on_with_a_local_openid_provider(tmp_path, provider):
    app, engine, _ = make(tmp_path, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
                          oidc_client_secret=CLIENT_SECRET, oidc_provider_name="Microsoft")
    add_user(engine, "alice@trust.nhs.uk", Role.VIEWER, "Ward 7", password=None)
    client = TestClient(app, follow_redirects=False)
    assert "Sign in with Microsoft" in client.get("/auth/login").text
    done = _sso(client, provider)
    assert done.status_code == 303 and done.headers["location"] == "/comments"
    assert "alice@trust.nhs.uk (viewer)" in client.get("/", headers=HTML).text
    assert audit.events(engine, action="sign_in")["detail"].str.contains("oidc").any()
    # a user the provider vouches for but carelens does not know: added with no role, sees nothing
    provider.user = "someone.new@trust.nhs.uk"
    fresh = TestClient(app, follow_redirects=False)
    _sso(fresh, provider)
    assert "no access yet" in fresh.get("/", headers=HTML).text


@pytest.mark.parametrize("tamper", [{"aud": "another-app"}, {"iss": "http://evil.example"}, {"nonce": "replayed"},
                                    {"exp": 1_000_000_000}, {"sign_with_other_key": True}])
def test_single_sign_on_refuses_a_token_that_is_wrong_in_any_way(tmp_path, provider, tamper):
    app, engine, _ = make(tmp_path, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET)
    provider.tamper = tamper
    client = TestClient(app, follow_redirects=False)
    done = _sso(client, provider)
    assert "message=sso" in done.headers["location"] and client.get("/", headers=HTML).status_code == 303
    assert (audit.events(engine, action="sign_in_failed")["outcome"] == "refused").any()


def test_single_sign_on_refuses_a_forged_state_a_replayed_code_and_another_browsers_answer(tmp_path, provider):
    app, engine, _ = make(tmp_path, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET)
    client = TestClient(app, follow_redirects=False)
    callback = _sso(client, provider, follow_to_callback=False)
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    assert "message=sso" in client.get(forged).headers["location"]
    # the answer meant for this browser, delivered to another (login CSRF): no sign-in in progress there
    other = TestClient(app, follow_redirects=False)
    assert "message=sso" in other.get(callback).headers["location"]
    assert other.get("/", headers=HTML).status_code == 303
    # the right browser with the right answer signs in; the same answer again (a replay) does not
    assert client.get(callback).headers["location"] == "/comments"
    assert "message=sso" in client.get(callback).headers["location"]
    assert provider.tokens_issued == 1  # the code was traded once only


def test_sessions_are_kept_only_as_hashes(site):
    app, engine = site
    client = TestClient(app, follow_redirects=False)
    _login(client)
    token = client.cookies[COOKIE]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(session_table.c.session_hash)).scalars().all()
    assert token not in stored and sessions._hash(token) in stored
