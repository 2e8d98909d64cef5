"""Engines: the only place that turns settings, a URL or a DuckDB path into a SQLAlchemy engine.

Two kinds of database are opened, and only here:

- **the store** (:func:`get_engine`): carelens's own tables, one engine per URL per process,
  migrated on first use. Why migrate on first use: a patient-experience lead runs
  ``carelens serve`` on a laptop with no set-up, so the embedded DuckDB file must create itself;
  a trust warehouse gets the same schema through the same Alembic history (``carelens db
  upgrade`` when a DBA wants to run it explicitly).
- **a warehouse** (:func:`open_engine`): a database carelens reads appointments from or writes
  scores to. Not migrated (carelens does not own it) and not cached (the caller disposes it), so a
  one-off read leaves nothing open.

How a DuckDB store is held. A DuckDB file admits one process at a time (the first to open it
locks it, even for reading). So that a nightly ``carelens feedback load``, ``carelens demo``, the
``db`` commands and a second ``carelens serve`` all work while ``carelens serve`` runs, no process
holds the file between operations: every connection opens the file and closes it when handed
back (``NullPool``); ``carelens serve`` alone keeps the database open for ``store_linger_seconds``
(0.5 s) after its last use, so a page view's burst of queries opens it once (:func:`linger`). The dashboard does not feel it: it filters an in-memory copy of the store
(``feedback/store/view.py``), checks for other processes' writes with a ``stat`` of the file
(:func:`store_stamp`) and opens it only when that changed (opening a DuckDB file costs 25-120 ms
on a busy machine, measured in BENCHMARKS.md). When the file is locked by another process, a
connection waits for it, up to the ``store_wait_seconds`` setting (loads hold it for seconds at
most), then fails with one line naming that process
(:class:`~carelens.errors.StoreBusyError`); :func:`store_wait` lets a caller that has something
better to do (the dashboard's poll) not wait at all. Every connection checkpoints as it is handed
back, so the ``.duckdb`` file alone holds every committed write (a copy of it is a whole store)
and nothing is left only in the ``.wal`` when a process stops. Several people or processes
*writing* at once belong on PostgreSQL (``docs/deploy.md``).
"""

from __future__ import annotations

import contextvars
import copy
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from carelens.db.linger import StoreLinger
from carelens.errors import StoreBusyError, StoreError

_migrated: set[str] = set()
_lingers: weakref.WeakKeyDictionary[sa.Engine, StoreLinger] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_wait_override: contextvars.ContextVar[float | None] = contextvars.ContextVar("carelens_store_wait", default=None)
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def database_url(target: str | Path | None = None) -> str:
    """A SQLAlchemy URL from ``target``: a URL, a ``.duckdb`` path, or None for the settings' URL."""
    if target is None or str(target) == "":
        from carelens.config import load_settings

        return load_settings().database_url
    text = str(target)
    if "://" in text:
        return text
    return f"duckdb:///{Path(text).expanduser().resolve().as_posix()}"


def _parse(url: str) -> sa.URL:
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}", field="database_url") from exc


def duckdb_path(url: str | sa.URL) -> Path | None:
    """The file of a DuckDB URL (None for another database or an in-memory DuckDB)."""
    parsed = _parse(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "duckdb" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_duckdb_file(path: Path) -> None:
    """Refuse a path that exists but is not a DuckDB database.

    Why: DuckDB opens an existing CSV, JSON or parquet file given as a database as an in-memory
    database that reads that file, so ``--db mystore.json`` once "added 3" comments and kept none.
    A new path is fine: it becomes a new store.
    """
    if path.is_dir():
        raise StoreError("is a folder; give a DuckDB store file (e.g. carelens.duckdb) or a database URL",
                         file=str(path))
    if not path.exists():
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise StoreError(f"cannot read the store file: {exc.strerror or exc}", file=str(path)) from exc
    if head[8:12] != DUCKDB_MAGIC:
        raise StoreError("exists but is not a DuckDB store; give the path of a carelens store, a new path "
                         "to create one, or a database URL", file=str(path))


def _create(url: str, **kwargs) -> sa.Engine:
    """``create_engine`` with the DuckDB file checked and its folder made first; driver problems in one line."""
    parsed = _parse(url)
    path = duckdb_path(parsed)
    if path is not None:
        check_duckdb_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(url, **kwargs)
    except Exception as exc:  # missing driver (NoSuchModuleError, ImportError), bad options
        where = parsed.render_as_string(hide_password=True)
        hint = DRIVER_HINTS.get(parsed.get_driver_name(), "") if isinstance(exc, ImportError) else ""
        raise StoreError(f"cannot open database {where}: {exc}".splitlines()[0] + hint) from exc
    if parsed.get_backend_name() == "mssql":
        _explain_odbc_errors(engine)
    return engine


DRIVER_HINTS = {
    "pyodbc": " (pip install 'carelens[mssql]', and Microsoft's ODBC Driver 18 for SQL Server: docs/deploy.md)",
    "psycopg": " (pip install 'carelens[postgres]')",
}


def _explain_odbc_errors(engine: sa.Engine) -> None:
    """SQL Server through ODBC: say what to install when the ODBC driver named in the URL is missing
    (unixODBC's "Can't open lib ..." / "Data source name not found", state IM002)."""

    @sa.event.listens_for(engine, "handle_error")
    def _missing_driver(context) -> None:
        text = str(context.original_exception)
        if "Can't open lib" in text or "IM002" in text:
            driver = engine.url.query.get("driver", "the ODBC driver")
            raise StoreError(
                f"cannot connect to SQL Server: {driver!s} is not installed on this machine (unixODBC: "
                f"{text.splitlines()[0][:160]}); install Microsoft's ODBC Driver 18 for SQL Server (msodbcsql18) and "
                "name it in the URL: ?driver=ODBC+Driver+18+for+SQL+Server (docs/deploy.md)") from None


# --------------------------------------------------------------------------- DuckDB: short-lived, waiting
@contextmanager
def store_wait(seconds: float) -> Iterator[None]:
    """Connections to a DuckDB store opened inside this block wait at most ``seconds`` for the file.

    ``store_wait(0)``: fail at once with :class:`StoreBusyError` if another process holds it (the
    dashboard's poll keeps what it has and asks again on its next tick).
    """
    token = _wait_override.set(seconds)
    try:
        yield
    finally:
        _wait_override.reset(token)


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB refusing a file another process has locked."""
    return "Could not set lock on file" in str(exc)


def _holder(message: str) -> str:
    """'PID 123: carelens serve --port 8000' from DuckDB's lock message ("... (PID 123) ...")."""
    found = re.search(r"\(PID (\d+)\)", message)
    if not found:
        return "another process"
    pid = found.group(1)
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return f"PID {pid}"
    argv = [a for a in argv if a]
    # "python .../bin/carelens serve ...": show from the carelens script on, as the user typed it
    start = next((i for i, a in enumerate(argv) if Path(a).name == "carelens"), None)
    words = ["carelens", *argv[start + 1:]] if start is not None else [Path(argv[0]).name, *argv[1:]] if argv else []
    command = " ".join(words)
    command = command if len(command) <= 80 else command[:77] + "..."
    return f"PID {pid}: {command}" if command else f"PID {pid}"


def _busy_error(path: Path, exc: BaseException, waited: float) -> StoreBusyError:
    held = f"and did not let it go within {waited:g} s " if waited else ""
    return StoreBusyError(
        f"the store is in use by another process ({_holder(str(exc))}) {held}(a DuckDB store admits one "
        "process at a time); run this again when it has finished, or stop it. carelens serve and other "
        "carelens commands share the file by taking turns; for many users writing at once use PostgreSQL "
        "(docs/deploy.md)", file=str(path))


def _install_duckdb_store_events(engine: sa.Engine, path: Path, wait_seconds: float) -> None:
    import duckdb

    linger = _lingers[engine] = StoreLinger(0.0)  # off until linger() turns it on (carelens serve)

    @sa.event.listens_for(engine, "do_connect")
    def _connect_waiting(dialect, conn_rec, cargs, cparams):
        wait = _wait_override.get()
        wait = wait_seconds if wait is None else wait
        deadline = time.monotonic() + wait
        pause = 0.02
        asked = copy.deepcopy(cparams)  # the keeper of linger.py opens the file exactly so
        while True:
            try:
                connection = dialect.connect(*cargs, **copy.deepcopy(asked))
            except duckdb.Error as exc:
                if not is_lock_conflict(exc):
                    raise
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _busy_error(path, exc, wait) from None
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.25)
                continue
            linger.opened(lambda: dialect.connect(*cargs, **copy.deepcopy(asked)))
            return connection

    @sa.event.listens_for(engine, "checkin")
    def _checkpoint(dbapi_connection, connection_record):
        """Write the WAL into the file before the connection closes (a no-op costing ~0.2 ms if
        nothing was written). Closing the process's last connection checkpoints too; this also
        covers a write made while another thread of the server has the file open."""
        linger.used()
        if dbapi_connection is None:
            return
        try:
            dbapi_connection.execute("CHECKPOINT")
        except Exception:  # noqa: BLE001 - a failed connection is being discarded: nothing to keep
            pass


@lru_cache(maxsize=16)
def _store_engine(url: str) -> sa.Engine:
    path = duckdb_path(url)
    if path is None:
        return _create(url)
    from carelens.config import load_settings

    engine = _create(url, poolclass=sa.pool.NullPool)
    _install_duckdb_store_events(engine, path, load_settings().store_wait_seconds)
    return engine


def get_engine(target: str | Path | None = None, *, migrate: bool = True) -> sa.Engine:
    """The process-wide engine of the store at ``target`` (see :func:`database_url`), schema up to date."""
    url = database_url(target)
    engine = _store_engine(url)
    if migrate and url not in _migrated:
        with _lock:
            if url not in _migrated:
                from carelens.db.migrate import upgrade

                upgrade(engine)
                _migrated.add(url)
    return engine


def open_engine(url: str) -> sa.Engine:
    """An engine on a database carelens does not own (a warehouse table to read or write scores to).

    Not migrated and not shared: dispose it when done (``engine.dispose()``).
    """
    return _create(url)


def store_stamp(engine: sa.Engine) -> tuple | None:
    """A DuckDB store's file stamp (size and modification time of the file and its WAL), or None.

    Every committed write changes it (it lands in the WAL, then in the file at the checkpoint each
    connection makes as it is handed back); reading does not. So a reader that remembers the
    stamp can skip opening the file (30-100 ms) while it is unchanged: the dashboard's revision
    checks cost a ``stat`` instead. None (ask the database) for other databases, and while the
    file changed within the last second, since the file system's clock may not tell two writes in
    the same tick apart.
    """
    path = duckdb_path(engine.url)
    if path is None:
        return None
    stamp = []
    for file in (path, Path(f"{path}.wal")):
        try:
            info = file.stat()
        except FileNotFoundError:
            stamp += [None, None]
            continue
        if time.time_ns() - info.st_mtime_ns < 1_000_000_000:
            return None
        stamp += [info.st_mtime_ns, info.st_size]
    return tuple(stamp)


def checkpoint(engine: sa.Engine, *, wait: float = 0.0) -> bool:
    """Write a DuckDB store's WAL into its file now (``carelens serve`` does on shutdown).

    Other databases: nothing to do. Returns False when another process holds the file for longer
    than ``wait`` seconds (that process checkpoints as it lets go).
    """
    if engine.dialect.name != "duckdb":
        return True
    try:
        with store_wait(wait), engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")
    except StoreBusyError:
        return False
    return True


def linger(engine: sa.Engine, seconds: float) -> None:
    """Keep a DuckDB store open for ``seconds`` after its last use in this process (``linger.py``).

    Turned on by ``carelens serve`` (the ``store_linger_seconds`` setting), whose page views make
    bursts of short queries; other commands open the store for one job and keep the default (let it
    go at once), so code in the same process can still open the file another way (read-only, say).
    Nothing to do for other databases (their pools keep connections anyway).
    """
    keeper = _lingers.get(engine)
    if keeper is not None:
        keeper.seconds = seconds
        if seconds <= 0:
            keeper.close()


def release(engine: sa.Engine) -> None:
    """Close this process's idle connections to ``engine``'s database.

    A DuckDB store's lingering connection closes (see the module's docstring), so another process
    can open the file at once; other databases' pools are emptied. The engine stays usable and
    reconnects on its next use.
    """
    linger = _lingers.get(engine)
    if linger is not None:
        linger.close()
    engine.dispose()
