"""`carelens users|keys|audit ...` as an administrator uses them: staff added with roles and places,
a key made, used and revoked (refused at once), the audit log read, exported and pruned, and the
retention the server enforces; bad input gets one line naming the option."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from carelens.access import Role, audit, keys, users
from carelens.access.passwords import verify_password
from carelens.access.tables import audit as audit_table
from carelens.cli.app import main
from carelens.db import get_engine
from carelens.db.schema import new_id, now_utc


@pytest.fixture
def store(tmp_path):
    return str(tmp_path / "store.duckdb")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_staff_added_listed_changed_and_disabled(store, capsys, monkeypatch):
    code, out, _ = run(capsys, "users", "add", "JSmith", "--role", "viewer", "--location", "Ward 7",
                       "--location", "3=Ward 9", "--generate-password", "--db", store)
    assert code == 0 and "added jsmith: role viewer" in out and "Ward 7" in out
    password = out.split("password (shown once): ")[1].strip()
    engine = get_engine(store)
    user = users.get_user(engine, "jsmith")
    assert verify_password(user["password_hash"], password) and password not in user["password_hash"]

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    assert run(capsys, "users", "add", "lead@trust.nhs.uk", "--role", "feedback-lead", "--password-stdin",
               "--db", store)[0] == 0
    assert run(capsys, "users", "add", "caller1", "--role", "caller", "--sso", "--db", store)[0] == 0
    _, listed, _ = run(capsys, "users", "list", "--db", store)
    assert all(name in listed for name in ("jsmith", "lead@trust.nhs.uk", "caller1")) and password not in listed

    assert run(capsys, "users", "set", "jsmith", "--role", "planner", "--db", store)[0] == 0
    assert users.get_user(engine, "jsmith")["role"] == "planner"
    assert run(capsys, "users", "disable", "caller1", "--db", store)[0] == 0
    assert users.get_user(engine, "caller1")["disabled"]

    events = audit.events(engine)
    assert {"user_add", "user_change"} <= set(events["action"])
    assert len(events[events["action"] == "user_change"]) == 2  # the role, then the disabling
    assert events["actor"].str.startswith("cli:").all()
    assert not events["detail"].fillna("").str.contains(password).any()  # never a password in the log


@pytest.mark.parametrize(("args", "field"), [
    (["users", "add", "x", "--role", "superuser", "--sso"], "--role"),
    (["users", "add", "y", "--role", "viewer", "--location", "Floor=Ward 1", "--sso"], "--location"),
    (["keys", "create", "k", "--role", "wizard"], "--role"),
    (["audit", "list", "--outcome", "maybe"], "--outcome"),
    (["keys", "revoke", "no-such-key"], None),
])
def test_bad_input_is_one_line(store, capsys, args, field):
    code, out, err = run(capsys, *args, "--db", store)
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert field is None or field in err


def test_a_key_made_on_the_command_line_works_until_revoked(store, capsys):
    from fastapi.testclient import TestClient

    from carelens.config import Settings
    from carelens.web.api import create_api

    code, out, err = run(capsys, "keys", "create", "etl-feed", "--role", "feedback_lead", "--db", store)
    key = out.strip()
    assert code == 0 and "shown once" in err and len(key) > 30
    _, listed, _ = run(capsys, "keys", "list", "--db", store)
    assert "etl-feed" in listed and key not in listed
    with TestClient(create_api(Settings(database_url=f"duckdb:///{store}"))) as client:
        assert client.get("/filters", headers={"X-API-Key": key}).status_code == 200
        assert run(capsys, "keys", "revoke", "etl-feed", "--db", store)[0] == 0
        assert client.get("/filters", headers={"X-API-Key": key}).status_code == 401  # at once, no restart
    assert keys.authenticate(get_engine(store), key) is None


def test_the_audit_log_is_read_filtered_exported_and_pruned(store, capsys, tmp_path):
    engine = get_engine(store)
    run(capsys, "users", "add", "alice", "--role", "planner", "--sso", "--db", store)
    old = {"event_id": new_id(), "happened_at": now_utc() - timedelta(days=900), "actor": "user:bob", "role": "viewer",
           "via": "password", "action": "view", "target": "overview", "detail": None, "outcome": "ok"}
    with engine.begin() as conn:
        conn.execute(audit_table.insert(), [old])

    code, out, _ = run(capsys, "audit", "list", "--action", "user_add", "--db", store)
    assert code == 0 and "alice" in out and "bob" not in out
    code, out, _ = run(capsys, "audit", "list", "--user", "bob", "--db", store)
    assert "overview" in out
    target = tmp_path / "audit.csv"
    assert run(capsys, "audit", "list", "-o", str(target), "--db", store)[0] == 0
    exported = pd.read_csv(target, encoding="utf-8-sig")
    assert len(exported) == 2 and set(exported["action"]) == {"user_add", "view"}
    assert "audit_export" in set(audit.events(engine)["action"])  # reading the log out is recorded too

    code, out, _ = run(capsys, "audit", "prune", "--older-than", "2y", "--db", store)
    assert code == 0 and "removed 1 audit events" in out
    left = audit.events(engine)
    assert "user:bob" not in set(left["actor"]) and left["action"].iloc[0] == "audit_prune"


def test_the_server_enforces_the_retention_and_records_only_what_it_removed(store):
    engine = get_engine(store)
    with engine.begin() as conn:
        conn.execute(audit_table.insert(), [
            {"event_id": new_id(), "happened_at": now_utc() - timedelta(days=days), "actor": "user:bob", "role": None,
             "via": None, "action": "view", "target": None, "detail": None, "outcome": "ok"} for days in (1, 40, 400)])
    assert audit.enforce_retention(engine, 30) == 2
    assert audit.enforce_retention(engine, 30) == 0
    events = audit.events(engine)
    assert list(events["action"]) == ["audit_prune", "view"]  # one record of the pruning that removed something
    assert events["actor"].iloc[0] == audit.RETENTION_ACTOR
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar() == 2


def test_a_store_without_users_says_how_to_add_one(store, capsys):
    code, out, _ = run(capsys, "users", "list", "--db", store)
    assert code == 0 and "users add" in out
    assert Role.ADMIN.value == "admin"
