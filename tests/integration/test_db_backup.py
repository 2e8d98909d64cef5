"""``carelens db backup`` / ``db restore`` on real DuckDB stores: backup, change, restore, rows as at backup."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carelens.access import audit
from carelens.cli.app import main
from carelens.db import get_engine
from carelens.db.backup import backup_store, restore_store
from carelens.errors import StoreError
from carelens.feedback.ingest import load_comments


def export(start: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "Comment ID": [str(i) for i in range(start, start + n)],
        "Date": ["2024-04-0" + str(1 + i % 9) for i in range(start, start + n)],
        "FFT answer": [str(1 + i % 5) for i in range(start, start + n)],
        "Comment": [f"Comment {i}: the nurses were kind but parking was hard" for i in range(start, start + n)],
    })


def everything(path: Path) -> dict[str, list]:
    """Every row of every table, sorted: the store's whole content."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
    finally:
        con.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    load_comments(export(1, 20), db=str(path), source="march.csv", progress=False)
    return path


def test_backup_change_restore_gives_the_rows_as_at_backup(store: Path, tmp_path: Path, capsys) -> None:
    at_backup = everything(store)
    assert len(at_backup["fb_comments"]) == 20
    backup = tmp_path / "backups" / "carelens.duckdb"
    backup.parent.mkdir()
    assert main(["db", "backup", "-o", str(backup), "--db", str(store)]) == 0
    assert "20 comments" in capsys.readouterr().out
    assert everything(backup) == at_backup  # the backup is a whole store file
    assert backup.stat().st_mode & 0o777 == 0o600  # patient comments: the owner's only

    load_comments(export(100, 15), db=str(store), source="april.csv", progress=False)  # change
    with get_engine(store).begin() as conn:
        conn.exec_driver_sql("DELETE FROM fb_comments WHERE response_key IN (SELECT response_key FROM fb_responses WHERE response_id = '1')")
    assert everything(store) != at_backup

    assert main(["db", "restore", str(backup), "--db", str(store)]) == 2  # holds data: asks for --yes
    assert "add --yes" in capsys.readouterr().err
    assert main(["db", "restore", str(backup), "--db", str(store), "--yes"]) == 0
    assert "20 comments" in capsys.readouterr().out
    restored = everything(store)
    # every table as at backup, but the audit log, which outlives a restore (append-only)
    assert {t: v for t, v in restored.items() if t != "access_audit"} == \
        {t: v for t, v in at_backup.items() if t != "access_audit"}
    events = audit.events(get_engine(store))
    assert list(events["action"]) == ["db_restore", "db_backup"]  # newest first; the backup's event was put back
    assert list(events["outcome"]) == ["ok", "ok"] and events["actor"].str.startswith("cli:").all()
    assert '"audit_events_kept": 1' in events["detail"].iloc[0]
    # the restored store is a working store: the loader sees the restored rows as stored
    again = load_comments(export(1, 20), db=str(store), source="march.csv", progress=False)
    assert again.rows_added == 0 and again.rows_already_stored == 20


def test_a_backup_never_overwrites_and_a_failed_one_leaves_nothing(store: Path, tmp_path: Path) -> None:
    existing = tmp_path / "keep.duckdb"
    existing.write_bytes(b"precious")
    with pytest.raises(StoreError, match="already exists"):
        backup_store(store, existing)
    assert existing.read_bytes() == b"precious"
    with pytest.raises(StoreError, match="folder does not exist"):
        backup_store(store, tmp_path / "missing" / "b.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.duckdb", "store.duckdb"]


def test_a_restore_that_fails_leaves_the_store_as_it_was(store: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.duckdb"
    backup_store(store, backup)
    # something in the store that the restore does not replace and the backup also has: COPY fails midway
    for path in (store, backup):
        con = duckdb.connect(str(path))
        con.execute("CREATE SEQUENCE trust_sequence")
        con.close()
    load_comments(export(100, 5), db=str(store), source="april.csv", progress=False)
    before = everything(store)
    with pytest.raises(StoreError, match="restore failed, the store is as it was"):
        restore_store(store, backup)
    assert everything(store) == before


def test_a_backup_from_a_newer_carelens_or_not_a_store_is_refused(store: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.duckdb"
    backup_store(store, backup)
    con = duckdb.connect(str(backup))
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.close()
    before = everything(store)
    with pytest.raises(StoreError, match="made by a newer carelens"):
        restore_store(store, backup)
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (a INTEGER)").close()
    with pytest.raises(StoreError, match="not a carelens store backup"):
        restore_store(store, other)
    text = tmp_path / "b.csv"
    text.write_text("a,b\n1,2\n")
    with pytest.raises(StoreError, match="not a DuckDB store"):
        restore_store(store, text)
    assert everything(store) == before


def test_an_older_backup_is_brought_up_to_date(tmp_path: Path) -> None:
    from carelens.db.migrate import current_revision, head_revision, upgrade

    old = tmp_path / "old.duckdb"
    engine = get_engine(old, migrate=False)
    upgrade(engine, "0001")  # a store as the first revision left it
    store = tmp_path / "store.duckdb"
    restore_store(store, old)
    assert current_revision(get_engine(store)) == head_revision()


def test_postgresql_is_told_to_use_pg_dump(capsys) -> None:
    url = "postgresql+psycopg://carelens:s3cret@db.trust.nhs.uk:5432/carelens"
    assert main(["db", "backup", "-o", "x.duckdb", "--db", url]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "pg_dump --format=custom --file carelens.dump 'postgresql://carelens@db.trust.nhs.uk:5432/carelens'" in err
    assert "pg_restore" in err and "s3cret" not in err
    assert main(["db", "restore", "x.duckdb", "--db", url, "--yes"]) == 2
    assert "pg_restore" in capsys.readouterr().err


@pytest.mark.postgres
def test_the_pg_dump_and_pg_restore_commands_we_print_work(postgres_url: str, tmp_path: Path, capsys,
                                                           monkeypatch) -> None:
    """Run exactly the commands ``db backup`` prints for a PostgreSQL store, on a scratch database."""
    import re
    import shlex
    import shutil
    import subprocess
    import uuid

    import sqlalchemy as sa

    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore not installed")
    server = sa.make_url(postgres_url)
    scratch = server.set(database=f"carelens_backup_{uuid.uuid4().hex[:8]}")
    url = scratch.render_as_string(hide_password=False)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{scratch.database}"')
    try:
        load_comments(export(1, 20), db=url, source="march.csv", progress=False)
        at_backup = pd.read_sql("SELECT * FROM fb_comments ORDER BY comment_key", get_engine(url))
        assert main(["db", "backup", "-o", "x.duckdb", "--db", url]) == 2
        message = capsys.readouterr().err
        dump = re.search(r"(pg_dump [^']*'[^']*')", message).group(1)
        restore = re.search(r"(pg_restore [^']*'[^']*' carelens\.dump)", message).group(1)
        env = {"PATH": "/usr/bin:/bin", **({"PGPASSWORD": server.password} if server.password else {})}
        subprocess.run(shlex.split(dump), cwd=tmp_path, env=env, check=True, timeout=120)
        load_comments(export(100, 15), db=url, source="april.csv", progress=False)  # change
        get_engine(url).dispose()  # pg_restore --clean drops tables: no open connection may hold them
        subprocess.run(shlex.split(restore), cwd=tmp_path, env=env, check=True, timeout=120)
        restored = pd.read_sql("SELECT * FROM fb_comments ORDER BY comment_key", get_engine(url))
        pd.testing.assert_frame_equal(restored, at_backup)
    finally:
        get_engine(url, migrate=False).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
        admin.dispose()
