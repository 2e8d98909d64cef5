"""The default DuckDB store works while ``carelens serve`` runs (issue 14 item 2, issue 17 items 4-5).

Real processes throughout: ``carelens serve`` on a temporary ``CARELENS_HOME`` (its default
store), and the commands a trust runs beside it (a nightly ``feedback load``, ``demo``, the ``db``
commands, a second ``serve``), each as its own process against the same file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.e2e.dashboard_server import ServeProcess, carelens_command

pytestmark = pytest.mark.xdist_group("serve-store")
KEY = "test-key-shared-store"


def carelens(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return carelens_command(home, *args, api_key=KEY, **env)


def start_server(home: Path, *args: str) -> ServeProcess:
    return ServeProcess(home, *args, api_key=KEY)
EXPORT = (
    "Comment ID,Date,FFT answer,Ward,Comment\n"
    "1,2024-03-01,1,Ward A,The staff were kind and the ward was clean\n"
    "2,2024-03-02,5,Ward B,Waited four hours and nobody told me why\n"
    "3,2024-03-03,2,Ward A,Good food and friendly nurses\n"
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")
    return tmp_path / "home"


def test_a_nightly_load_demo_and_db_commands_work_while_serve_runs(home: Path, tmp_path: Path) -> None:
    server = start_server(home)
    try:
        assert server.request("/api/comments/query", {"limit": 10})["total"] == 0  # the dashboard has read the store
        load = carelens(home, "feedback", "load", str(tmp_path / "export.csv"))
        assert load.returncode == 0, load.stderr
        assert "added 3" in load.stdout
        # the running server sees the CLI's load (its revision check notices another process's write)
        deadline = time.monotonic() + 30
        while server.request("/api/comments/query", {"limit": 10})["total"] != 3:
            assert time.monotonic() < deadline, "the server never saw the CLI's load"
            time.sleep(0.5)

        current = carelens(home, "db", "current")
        assert current.returncode == 0 and current.stdout.strip(), current.stderr
        assert "Traceback" not in current.stderr
        upgrade = carelens(home, "db", "upgrade")
        assert upgrade.returncode == 0 and "schema at revision" in upgrade.stdout, upgrade.stderr

        demo = carelens(home, "demo", "-o", str(tmp_path / "demo"), "--comments", "200", "--patients", "400",
                        "--spells", "1500", "--runs", "4")
        assert demo.returncode == 0, demo.stderr[-2000:]
        assert server.request("/api/comments/query", {"limit": 1})["total"] >= 203

        backup = carelens(home, "db", "backup", "-o", str(tmp_path / "backup.duckdb"))
        assert backup.returncode == 0 and "comments" in backup.stdout, backup.stderr

        second = start_server(home)  # a second dashboard on the same store
        try:
            assert second.request("/api/comments/query", {"limit": 1})["total"] >= 203
            assert server.request("/api/comments/query", {"limit": 1})["total"] >= 203
        finally:
            assert second.stop()
    finally:
        assert server.stop(), server.log_path.read_text()[-2000:]
    assert "Traceback" not in server.log_path.read_text()


def test_after_sigterm_a_copy_of_the_duckdb_file_alone_holds_the_servers_loads(home: Path, tmp_path: Path) -> None:
    server = start_server(home)
    try:
        rows = [{"Comment ID": str(i), "Date": "2024-05-0" + str(1 + i % 9), "Comment": f"Comment number {i} about parking"}
                for i in range(40)]
        assert server.request("/api/comments", {"rows": rows, "source": "api-test"})["rows_added"] == 40
    finally:
        assert server.stop(), server.log_path.read_text()[-2000:]
    store = home / "carelens.duckdb"
    copy = tmp_path / "naive-backup.duckdb"
    shutil.copyfile(store, copy)  # the file alone, as a naive backup would copy it (no .wal)
    assert not Path(str(copy) + ".wal").exists()
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM fb_comments").fetchone()[0] == 40
    finally:
        con.close()


def test_a_true_conflict_is_one_line_naming_the_process_and_what_to_do(home: Path) -> None:
    assert carelens(home, "db", "upgrade").returncode == 0
    store = home / "carelens.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(store)!r}); "
                               "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        out = carelens(home, "db", "current", CARELENS_STORE_WAIT_SECONDS="1")
        waited = time.monotonic() - started
        load = carelens(home, "feedback", "load", str(home.parent / "export.csv"), CARELENS_STORE_WAIT_SECONDS="1")
    finally:
        holder.kill()
        holder.wait()
    for result in (out, load):
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f"PID {holder.pid}: python -c import duckdb" in lines[0]
        assert "in use by another process" in lines[0] and "run this again when it has finished" in lines[0]
        assert str(store) in lines[0]
    assert waited >= 1.0  # it waited before giving up
    # once the other process has gone, the same command works
    assert carelens(home, "db", "current").returncode == 0


def test_a_store_path_that_is_not_a_store_is_refused_and_left_alone(home: Path, tmp_path: Path) -> None:
    not_a_store = tmp_path / "mystore.json"
    not_a_store.write_text('{"wards": ["A", "B"]}\n')
    before = not_a_store.read_bytes()
    for args in (("feedback", "load", str(tmp_path / "export.csv"), "--db", str(not_a_store)),
                 ("db", "current", "--db", str(not_a_store))):
        result = carelens(home, *args)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"error: {not_a_store}: exists but is not a DuckDB store; give the path of a carelens store, "
            "a new path to create one, or a database URL"]
        assert "added" not in result.stdout
    assert not_a_store.read_bytes() == before
    folder = carelens(home, "db", "current", "--db", str(tmp_path))
    assert folder.returncode == 2 and "is a folder" in folder.stderr
