"""How a DuckDB store is shared between processes (``carelens.db.engine``), against real files and
real second processes holding DuckDB's lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from carelens.db import checkpoint, get_engine, store_wait
from carelens.db.engine import store_stamp
from carelens.errors import StoreBusyError, StoreError


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that opens the DuckDB file (taking its lock) for ``seconds``."""
    proc = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); "
                             f"print('held', flush=True); time.sleep({seconds}); c.close()"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    get_engine(path)  # created and migrated
    return path


def test_no_connection_is_held_between_operations(store: Path) -> None:
    engine = get_engine(store)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    # another process can open the file at once: this one let it go
    out = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(store)!r}).close(); print('ok')"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_a_connection_waits_for_a_short_holder_then_works(store: Path) -> None:
    engine = get_engine(store)
    holder = hold(store, 1.5)
    try:
        started = time.monotonic()
        with store_wait(30), engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        assert time.monotonic() - started >= 0.5  # it waited for the holder
    finally:
        holder.wait(timeout=30)


def test_a_holder_past_the_wait_is_one_line_naming_it(store: Path) -> None:
    engine = get_engine(store)
    holder = hold(store, 30)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError) as caught, store_wait(0.5), engine.connect():
            pass
        assert 0.5 <= time.monotonic() - started < 10
        with pytest.raises(StoreBusyError), store_wait(0), engine.connect():
            pass
    finally:
        holder.kill()
        holder.wait()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{store}: the store is in use by another process (PID {holder.pid}: python -c import duckdb")
    assert "within 0.5 s" in message and "PostgreSQL" in message


def test_the_dashboards_checks_keep_their_answer_while_another_process_writes(store: Path) -> None:
    from carelens.feedback.store.view import poll_revision, store_view

    engine = get_engine(store)
    revision = poll_revision(engine)
    view = store_view(engine)
    view.checked_at = 0  # due for a revision check
    holder = hold(store, 30)
    os.utime(store)  # as if just written: the file stamp is not trusted, so the checks must open the file
    try:
        started = time.monotonic()
        assert poll_revision(engine, revision) == revision
        assert store_view(engine) is view  # answered from memory, not queued behind the holder
        assert time.monotonic() - started < 2
        with pytest.raises(StoreBusyError), store_wait(0.2):
            poll_revision(engine)  # nothing to fall back on: it says so
    finally:
        holder.kill()
        holder.wait()


def test_every_write_is_in_the_file_not_only_the_wal(store: Path) -> None:
    engine = get_engine(store)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE extra (a INTEGER)")
        conn.exec_driver_sql("INSERT INTO extra VALUES (1), (2)")
    assert not Path(f"{store}.wal").exists()
    # also when another connection of this process keeps the database open meanwhile
    with engine.connect() as reader:
        reader.exec_driver_sql("SELECT count(*) FROM extra").scalar()
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO extra VALUES (3)")
        wal = Path(f"{store}.wal")
        assert not wal.exists() or wal.stat().st_size == 0
    assert checkpoint(engine) is True


@pytest.mark.parametrize("content", [b'{"a": 1}\n', b"id,text\n1,hello\n", b"", b"PAR1" + bytes(20)])
def test_an_existing_file_that_is_not_a_duckdb_store_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mystore.json"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="exists but is not a DuckDB store"):
        get_engine(path)
    assert path.read_bytes() == content


def test_a_new_path_becomes_a_store_and_a_folder_is_refused(tmp_path: Path) -> None:
    engine = get_engine(tmp_path / "new" / "store.json")  # any name: a new file is a new store
    with engine.connect() as conn:
        assert "fb_comments" in sa.inspect(conn).get_table_names()
    con = duckdb.connect(str(tmp_path / "new" / "store.json"), read_only=True)  # a real DuckDB file
    try:
        assert con.execute("SELECT count(*) FROM fb_comments").fetchone() == (0,)
    finally:
        con.close()
    with pytest.raises(StoreError, match="is a folder"):
        get_engine(tmp_path)


def _age(path: Path, seconds: float = 5) -> None:
    """Make the file look last written ``seconds`` ago (its stamp is trusted only after a second)."""
    past = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(past, past))


def test_the_file_stamp_changes_with_every_write_and_only_then(store: Path) -> None:
    engine = get_engine(store)
    assert store_stamp(get_engine(f"sqlite:///{store.parent / 'x.db'}", migrate=False)) is None
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (a INTEGER)")
    assert store_stamp(engine) is None  # written within the last second: not trusted, ask the database
    _age(store)
    stamp = store_stamp(engine)
    assert stamp is not None
    with engine.connect() as conn:  # reads leave it alone
        conn.exec_driver_sql("SELECT count(*) FROM probe").scalar()
    assert store_stamp(engine) == stamp
    subprocess.run([sys.executable, "-c", f"import duckdb; c = duckdb.connect({str(store)!r}); "
                    "c.execute('INSERT INTO probe VALUES (1)'); c.close()"], check=True, timeout=60)
    _age(store, 2)
    assert store_stamp(engine) not in (None, stamp)


def test_the_dashboard_sees_another_process_write_through_the_stamp(store: Path) -> None:
    from carelens.feedback.store.view import poll_revision, store_view

    engine = get_engine(store)
    _age(store)
    view = store_view(engine)
    first = poll_revision(engine)
    assert view.stamp is not None and poll_revision(engine, first) == first
    subprocess.run([sys.executable, "-c", f"import duckdb; c = duckdb.connect({str(store)!r}); "
                    "c.execute(\"INSERT INTO fb_uploads (upload_id, source, loaded_at, rows_read, rows_added, "
                    "rows_skipped, model_version) VALUES ('u1', 'other.csv', now(), 0, 0, 0, 'm')\"); c.close()"],
                   check=True, timeout=60)
    assert poll_revision(engine, first) != first
    view.checked_at = 0
    assert store_view(engine) is not view


def _other_process_opens(path: Path) -> bool:
    out = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).close(); print('ok')"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() == "ok"


def test_serve_keeps_the_store_open_for_a_moment_then_lets_other_processes_in(store: Path) -> None:
    """``carelens serve``'s linger (db/linger.py): a burst of queries opens the file once, and the
    file is let go once the store has been idle for the linger time."""
    from carelens.db.engine import _lingers, linger, release

    engine = get_engine(store)
    linger(engine, 0.4)
    try:
        times = []
        for _ in range(6):
            started = time.perf_counter()
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            times.append(time.perf_counter() - started)
        assert _lingers[engine].holding
        assert not _other_process_opens(store)  # held: the file is still this process's
        deadline = time.monotonic() + 10
        while _lingers[engine].holding and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _lingers[engine].holding
        assert _other_process_opens(store)
        # the connections after the first reused the open database (DuckDB's instance cache)
        assert sorted(times)[len(times) // 2] < times[0]
        # release() lets it go at once, without waiting for the linger
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert _lingers[engine].holding
        release(engine)
        assert not _lingers[engine].holding and _other_process_opens(store)
    finally:
        linger(engine, 0)


def test_a_busy_server_still_lets_the_store_go_after_its_longest_hold(store: Path) -> None:
    """Queries one after another for longer than the longest hold: the keeper is closed all the
    same (another process then gets in between two queries) and rests before keeping it again."""
    from carelens.db.engine import _lingers, linger

    engine = get_engine(store)
    linger(engine, 0.3)
    _lingers[engine].max_hold = 0.6
    try:
        closed_once = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            closed_once |= not _lingers[engine].holding
            time.sleep(0.05)
        assert closed_once
    finally:
        linger(engine, 0)
        from carelens.db.linger import MAX_HOLD_SECONDS

        _lingers[engine].max_hold = MAX_HOLD_SECONDS


def test_without_linger_a_same_process_read_only_open_still_works(store: Path) -> None:
    """Commands other than serve keep the default (no linger): code in the same process may open
    the file another way right after (DuckDB refuses a second configuration while one is open)."""
    engine = get_engine(store)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    with duckdb.connect(str(store), read_only=True) as ro:
        assert ro.execute("SELECT 1").fetchone() == (1,)
