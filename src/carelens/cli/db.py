"""`carelens db ...`: the store's schema (migrations run automatically on first use too)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def upgrade(db: str = typer.Option(None, "--db", help="SQLAlchemy URL or DuckDB file (default: settings).")) -> None:
    """Bring the store's schema up to the latest Alembic revision."""
    from carelens.db import current_revision, database_url, get_engine

    engine = get_engine(db)
    typer.echo(f"{database_url(db).split('@')[-1]}: schema at revision {current_revision(engine)}")


@app.command()
def current(db: str = typer.Option(None, "--db", help="SQLAlchemy URL or DuckDB file (default: settings).")) -> None:
    """Show the store's schema revision without changing anything."""
    from carelens.db import current_revision, get_engine

    typer.echo(current_revision(get_engine(db, migrate=False)) or "empty (no schema yet)")
