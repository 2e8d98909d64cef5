"""Back up and restore a DuckDB store (``carelens db backup`` / ``carelens db restore``).

Why SQL rather than copying the file: ``COPY FROM DATABASE`` runs inside one DuckDB transaction,
so a backup is a consistent snapshot even while ``carelens serve`` or a load is using the store
(they take turns on the file; see :mod:`carelens.db.engine`), and a restore replaces every table in
one transaction, so a restore that fails leaves the store as it was. A backup is itself a DuckDB
store file: ``carelens serve --db backup.duckdb`` shows what it holds, and any DuckDB can open it.

A PostgreSQL or SQL Server store is backed up with the database's own tools (``pg_dump``,
SQL Server's ``BACKUP DATABASE``): :func:`backup_store` says what to run instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from carelens.db.engine import check_duckdb_file, database_url, get_engine
from carelens.errors import StoreError


@dataclass(frozen=True)
class StoreSummary:
    """What a store (or a backup) holds: schema revision and rows per table."""

    revision: str | None
    rows: dict[str, int]

    def describe(self) -> str:
        comments = self.rows.get("fb_comments", 0)
        scored = self.rows.get("dna_scored_appointments", 0)
        runs = self.rows.get("demand_scenario_runs", 0)
        return (f"{len(self.rows)} tables, schema at revision {self.revision or 'none'}; {comments:,} comments, "
                f"{scored:,} scored appointments, {runs:,} demand runs")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _not_duckdb(url: str, doing: str) -> StoreError:
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        libpq = sa.URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                              database=parsed.database).render_as_string()  # no password, no driver
        how = ("back it up with PostgreSQL's own tools: pg_dump --format=custom --file carelens.dump "
               f"'{libpq}' and restore with pg_restore --clean --if-exists --no-owner --dbname '{libpq}' "
               "carelens.dump (the password from PGPASSWORD or ~/.pgpass; docs/deploy.md)")
    elif backend == "mssql":
        how = "back it up with SQL Server's own BACKUP DATABASE / RESTORE DATABASE (your DBA's routine)"
    else:
        how = f"back it up with {backend}'s own tools"
    return StoreError(f"carelens {doing} works on a DuckDB store; this store is {backend}: {how}", field="--db")


def _tables(conn, database: str) -> list[str]:
    """The database's tables, each after every table that references it (safe to drop in order)."""
    names = [r[0] for r in conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name", [database]).fetchall()]
    refs = {}
    for table, referenced in conn.execute(
            "SELECT table_name, referenced_table FROM duckdb_constraints() "
            "WHERE database_name = ? AND constraint_type = 'FOREIGN KEY'", [database]).fetchall():
        refs.setdefault(referenced, set()).add(table)
    ordered: list[str] = []
    while names:
        ready = [n for n in names if not (refs.get(n, set()) - set(ordered) - {n})]
        ready = ready or names[:1]
        ordered += ready
        names = [n for n in names if n not in ready]
    return ordered


def _summary(conn, database: str) -> StoreSummary:
    rows = {t: conn.execute(f"SELECT count(*) FROM {_quote(database)}.{_quote(t)}").fetchone()[0]
            for t in _tables(conn, database)}
    revision = None
    if "alembic_version" in rows:
        found = conn.execute(f"SELECT version_num FROM {_quote(database)}.alembic_version").fetchone()
        revision = found[0] if found else None
    return StoreSummary(revision=revision, rows={t: n for t, n in sorted(rows.items()) if t != "alembic_version"})


def store_summary(target: str | Path | None) -> StoreSummary | None:
    """What the DuckDB store at ``target`` holds (None for another kind of database)."""
    url = database_url(target)
    if sa.make_url(url).get_backend_name() != "duckdb":
        return None
    engine = get_engine(url)
    with engine.connect() as conn:
        duck = conn.connection.driver_connection
        return _summary(duck, duck.execute("SELECT current_database()").fetchone()[0])


def backup_store(target: str | Path | None, output: Path) -> StoreSummary:
    """Copy the store at ``target`` (default: the settings' store) into a new DuckDB file ``output``.

    Refuses an existing ``output`` (a backup never overwrites anything); writes a temporary file
    beside it and renames it into place, so a failed backup leaves no half-written file. The file
    is readable by its owner only (mode 600).
    """
    url = database_url(target)
    if sa.make_url(url).get_backend_name() != "duckdb":
        raise _not_duckdb(url, "db backup")
    engine = get_engine(url)
    output = Path(output).expanduser().resolve()
    if output.exists():
        raise StoreError("already exists; a backup never overwrites a file: choose a new name", file=str(output))
    if not output.parent.is_dir():
        raise StoreError("the folder does not exist", file=str(output.parent))
    partial = output.with_name(f".{output.name}.partial")
    for stale in (partial, Path(f"{partial}.wal")):
        stale.unlink(missing_ok=True)
    try:
        with engine.connect() as conn:
            duck = conn.connection.driver_connection
            source = duck.execute("SELECT current_database()").fetchone()[0]
            duck.execute(f"ATTACH {_sql_string(partial)} AS carelens_backup")
            try:
                duck.execute(f"COPY FROM DATABASE {_quote(source)} TO carelens_backup")
                summary = _summary(duck, "carelens_backup")
                duck.execute("CHECKPOINT carelens_backup")
            finally:
                duck.execute("DETACH carelens_backup")
        os.chmod(partial, 0o600)  # it holds the comments' original text: its owner's eyes only
        os.replace(partial, output)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        Path(f"{partial}.wal").unlink(missing_ok=True)
        if isinstance(exc, StoreError):
            raise
        import duckdb

        if isinstance(exc, (duckdb.Error, sa.exc.DBAPIError, OSError)):
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"backup failed, nothing was written: {reason}", file=str(output)) from exc
        raise
    return summary


def restore_store(target: str | Path | None, backup: Path) -> tuple[StoreSummary, StoreSummary]:
    """Replace every table of the store at ``target`` with the backup's, in one transaction.

    Returns (what the store held before, what it holds now). The backup must be a carelens store
    whose schema this version knows; an older one is brought up to date after the restore.
    """
    from carelens.db.migrate import head_revision, known_revisions, upgrade

    url = database_url(target)
    if sa.make_url(url).get_backend_name() != "duckdb":
        raise _not_duckdb(url, "db restore")
    engine = get_engine(url)
    backup = Path(backup).expanduser().resolve()
    if not backup.is_file():
        raise StoreError("no such backup file", file=str(backup))
    check_duckdb_file(backup)
    store_file = Path(engine.url.database).resolve()
    if backup == store_file:
        raise StoreError("is the store itself; give a backup file", file=str(backup))
    known = known_revisions()
    with engine.connect() as conn:
        duck = conn.connection.driver_connection
        store = duck.execute("SELECT current_database()").fetchone()[0]
        duck.execute(f"ATTACH {_sql_string(backup)} AS carelens_restore (READ_ONLY)")
        try:
            incoming = _summary(duck, "carelens_restore")
            if incoming.revision is None:
                raise StoreError("is not a carelens store backup (no schema revision in it)", file=str(backup))
            if incoming.revision not in known:
                raise StoreError(f"was made by a newer carelens (schema revision {incoming.revision}; this version "
                                 f"knows up to {head_revision()}): upgrade carelens first", file=str(backup))
            before = _summary(duck, store)
            duck.execute("BEGIN TRANSACTION")
            try:
                for table in _tables(duck, store):
                    duck.execute(f"DROP TABLE {_quote(store)}.{_quote(table)}")
                duck.execute(f"COPY FROM DATABASE carelens_restore TO {_quote(store)}")
                duck.execute("COMMIT")
            except Exception as exc:
                duck.execute("ROLLBACK")
                reason = str(exc).strip().splitlines()[0]
                raise StoreError(f"restore failed, the store is as it was: {reason}", file=str(backup)) from exc
        finally:
            duck.execute("DETACH carelens_restore")
    if incoming.revision != head_revision():
        upgrade(engine)
    with engine.connect() as conn:
        after = _summary(conn.connection.driver_connection, store)
    return before, after


def _sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
