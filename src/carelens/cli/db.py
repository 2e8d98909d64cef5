"""`carelens db ...`: the store's schema (migrations run automatically on first use too), backup and restore."""

from __future__ import annotations

from pathlib import Path

import typer

from carelens.cli import options as opt
from carelens.errors import CarelensError

app = opt.typer_app()


@app.command()
def upgrade(db: str | None = opt.store("to upgrade")) -> None:
    """Bring the store's schema up to the latest Alembic revision.

    Example:

    ```
    carelens db upgrade --db postgresql+psycopg://carelens@dbhost/carelens
    ```
    """
    import typer

    from carelens.db import current_revision, database_url, get_engine

    engine = get_engine(db)
    typer.echo(f"{database_url(db).split('@')[-1]}: schema at revision {current_revision(engine)}")


@app.command()
def current(db: str | None = opt.store()) -> None:
    """Show the store's schema revision without changing anything.

    Example:

    ```
    carelens db current --db store.duckdb
    ```
    """
    import typer

    from carelens.db import current_revision, get_engine

    typer.echo(current_revision(get_engine(db, migrate=False)) or "empty (no schema yet)")


@app.command()
def backup(
    output: Path = opt.output("New DuckDB file for the backup (never overwritten; readable by its owner only)."),
    db: str | None = opt.store("to back up"),
) -> None:
    """Copy a DuckDB store into a new DuckDB file: a consistent snapshot, even while `carelens serve`
    runs (any DuckDB, or `carelens serve --db FILE`, opens it). A PostgreSQL store is backed up with
    pg_dump: the command says what to run.

    Example:

    ```
    carelens db backup -o /var/backups/carelens/carelens-2025-01-31.duckdb
    ```
    """
    from carelens.cli.access import record
    from carelens.db.backup import backup_store

    try:
        summary = backup_store(db, output)
    except CarelensError as exc:
        _try_record(db, "db_backup", Path(output).name, {"error": exc.message}, "failed")
        raise
    record(db, "db_backup", str(Path(output).expanduser().resolve()), {"rows": sum(summary.rows.values())})
    typer.echo(f"backed up to {Path(output).expanduser().resolve()}: {summary.describe()}")


def _try_record(db: str | None, action: str, target: str, detail: dict, outcome: str) -> None:
    """Record a failed command in the audit log when the store can take it (it may be what failed).

    A DuckDB store that does not exist is not made just to hold the failure (a mistyped ``--db``
    would otherwise leave a new, empty store behind)."""
    from carelens.cli.access import record
    from carelens.db.engine import database_url, duckdb_path

    try:
        path = duckdb_path(database_url(db))
        if path is not None and not path.is_file():
            return
        record(db, action, target, detail, outcome=outcome)
    except Exception:  # noqa: BLE001 - the command's own error is the one to show
        pass


@app.command()
def restore(
    backup: Path = typer.Argument(..., help="A backup written by `carelens db backup`."),
    db: str | None = opt.store("to restore into"),
    yes: bool = typer.Option(False, "--yes", help="Replace a store that holds data without asking."),
) -> None:
    """Replace everything in a DuckDB store with a backup, in one transaction (a failure leaves the
    store as it was; an older backup is then migrated). A running `carelens serve` shows the
    restored data within seconds.

    Example:

    ```
    carelens db restore /var/backups/carelens/carelens-2025-01-31.duckdb --yes
    ```
    """
    import sys

    from carelens.db.backup import restore_store, store_summary
    from carelens.errors import StoreError

    before = store_summary(db)
    if before is not None and any(before.rows.values()) and not yes:
        asked = sys.stdin.isatty() and typer.confirm(
            f"The store holds {before.describe()}. Replace it with {backup}?", err=True)
        if not asked:
            raise StoreError(f"not restored: the store holds {before.describe()}; add --yes to replace it")
    from carelens.access.audit import keep_through, recent_events

    # the audit log outlives a restore: its events are put back (only a DuckDB store is restored here)
    kept = recent_events(_engine(db)) if before is not None else []
    try:
        _, after = restore_store(db, backup)
    except CarelensError as exc:
        _try_record(db, "db_restore", Path(backup).name, {"error": exc.message}, "failed")
        raise
    put_back = keep_through(_engine(db), kept)
    from carelens.cli.access import record

    record(db, "db_restore", str(Path(backup).expanduser().resolve()),
           {"rows": sum(after.rows.values()), "audit_events_kept": put_back})
    typer.echo(f"restored from {Path(backup).expanduser().resolve()}: {after.describe()}")


def _engine(db: str | None):
    from carelens.db import get_engine

    return get_engine(db)
