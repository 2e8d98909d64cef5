"""`carelens db ...`: the store's schema (migrations run automatically on first use too), backup and restore."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)

DB_HELP = "SQLAlchemy URL or DuckDB file (default: settings)."


@app.command()
def upgrade(db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Bring the store's schema up to the latest Alembic revision."""
    from carelens.db import current_revision, database_url, get_engine

    engine = get_engine(db)
    typer.echo(f"{database_url(db).split('@')[-1]}: schema at revision {current_revision(engine)}")


@app.command()
def current(db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Show the store's schema revision without changing anything."""
    from carelens.db import current_revision, get_engine

    typer.echo(current_revision(get_engine(db, migrate=False)) or "empty (no schema yet)")


@app.command()
def backup(
    output: Path = typer.Option(..., "-o", "--output", help="New DuckDB file for the backup (never overwritten)."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Copy a DuckDB store into a new DuckDB file: a consistent snapshot, even while `carelens serve`
    runs. A PostgreSQL store is backed up with pg_dump (the command says what to run).

    Example:

    ```
    carelens db backup -o /var/backups/carelens/carelens-2025-01-31.duckdb
    ```
    """
    from carelens.db.backup import backup_store

    summary = backup_store(db, output)
    typer.echo(f"backed up to {Path(output).expanduser().resolve()}: {summary.describe()}")


@app.command()
def restore(
    backup: Path = typer.Argument(..., help="A backup written by `carelens db backup`."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    yes: bool = typer.Option(False, "--yes", help="Replace a store that holds data without asking."),
) -> None:
    """Replace everything in a DuckDB store with a backup, in one transaction (a failure leaves the
    store as it was). A running `carelens serve` shows the restored data within seconds.

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
    _, after = restore_store(db, backup)
    typer.echo(f"restored from {Path(backup).expanduser().resolve()}: {after.describe()}")
